"""The Jinja2 environment of the templates under an app's `jinja2/` folder.

Jinja2 renders the record renderings (the patient's shared sections, the staff chart summary
and its tables), which show many rows; every other page is a Django template. The filters
here write values the way the Django templates do: dates with Django's `date` formats in the
active time zone, line breaks as Django's `linebreaks`, `default` for any empty value.
Strings are translated with Django's gettext (the active language), like the Django templates.
"""

from __future__ import annotations

from django.template import defaultfilters
from django.templatetags.static import static
from django.urls import reverse
from django.utils import translation
from django.utils.timezone import template_localtime
from jinja2 import Environment

from portico.core.templatetags.html_time import datetime_attr


def url(name: str, *args) -> str:
    """`{% url name arg … %}` of the Django templates."""
    return reverse(name, args=args)


def date(value, format_string: str | None = None) -> str:
    """Django's `date` filter, in the active time zone (as the Django templates show it)."""
    return defaultfilters.date(template_localtime(value), format_string)


def default(value, fallback):
    """Django's `default`: the fallback for any empty value (None, "", 0, an empty list)."""
    return value or fallback


def environment(**options) -> Environment:
    # Strings are marked `{{ _("…") }}` (or `{{ _("… %(name)s") % {"name": …} }}`): the one
    # form Django's makemessages reads in these files too, so one catalogue holds them all.
    options.setdefault("extensions", []).append("jinja2.ext.i18n")
    env = Environment(**options)  # noqa: S701 (Django's backend turns autoescape on)
    env.install_gettext_callables(  # type: ignore[attr-defined]
        translation.gettext, translation.ngettext, newstyle=False
    )
    env.globals.update(url=url, static=static)
    env.filters.update(
        date=date,
        default=default,
        datetime_attr=lambda value: datetime_attr(template_localtime(value)),
        linebreaks=lambda value: defaultfilters.linebreaks_filter(value, autoescape=True),
        linebreaksbr=lambda value: defaultfilters.linebreaksbr(value, autoescape=True),
    )
    return env
