from django import template

from portico.charts.validation import format_phone
from portico.portal.selectors import TIMELINE_LABELS

register = template.Library()


@register.filter
def timeline_label(action: str) -> str:
    return TIMELINE_LABELS.get(action, action)


@register.filter
def phone(e164: str) -> str:
    """A stored E.164 number the way people read it: (202) 555-0123."""
    return format_phone(e164 or "")
