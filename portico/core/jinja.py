"""The Jinja2 environment of the templates under an app's `jinja2/` folder.

Jinja2 renders the record renderings (the patient's shared sections, the staff chart summary
and its tables), which show many rows; every other page is a Django template. The filters
here write values the way the Django templates do: dates with Django's `date` formats in the
active time zone, line breaks as Django's `linebreaks`, `default` for any empty value.
Strings are translated with Django's gettext (the active language), like the Django templates.
"""

from __future__ import annotations

import functools

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


@functools.cache
def _choice_labels(field, language: str) -> dict:
    return {value: str(label) for value, label in field.flatchoices}


def choice_label(obj, field_name: str):
    """`obj.get_<field_name>_display()`, with the field's labels translated once per language
    and process: Django's own method translates every label of the field on each call (it
    hashes the lazy labels), which a table of many rows pays for each row."""
    field = obj._meta.get_field(field_name)
    value = getattr(obj, field.attname)
    return _choice_labels(field, translation.get_language()).get(value, value)


def default(value, fallback):
    """Django's `default`: the fallback for any empty value (None, "", 0, an empty list)."""
    return value or fallback


def environment(**options) -> Environment:
    # Strings are marked `{{ _("…") }}` (or `{{ _("… %(name)s") % {"name": …} }}`): the one
    # form Django's makemessages reads in these files too, so one catalogue holds them all.
    # `_` is Django's gettext itself (a plain global; jinja2.ext.i18n's alias would add a
    # context lookup to every call, and its {% trans %} blocks are not used here).
    env = Environment(**options)  # noqa: S701 (Django's backend turns autoescape on)
    env.globals.update(
        url=url,
        static=static,
        choice_label=choice_label,
        _=translation.gettext,
        gettext=translation.gettext,
        ngettext=translation.ngettext,
    )
    env.filters.update(
        date=date,
        default=default,
        datetime_attr=lambda value: datetime_attr(template_localtime(value)),
        linebreaks=lambda value: defaultfilters.linebreaks_filter(value, autoescape=True),
        linebreaksbr=lambda value: defaultfilters.linebreaksbr(value, autoescape=True),
    )
    return env
