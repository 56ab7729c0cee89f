"""Tags of the staff chart pages."""

from django import template
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


@register.simple_tag
def item_table(patient, section) -> SafeString:
    """One clinical list as a table (the Jinja2 template the chart summary's rendering uses
    too: charts/jinja2/charts/item_table.html)."""
    html = render_to_string(
        "charts/item_table.html", {"patient": patient, "section": section}, using="jinja2"
    )
    return mark_safe(html)  # noqa: S308 (our autoescaped template)
