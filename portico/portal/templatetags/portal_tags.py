"""Filters of the staff "Patient portal access" window."""

from django import template

from portico.charts.validation import format_phone
from portico.portal.models import TIMELINE_LABELS

register = template.Library()


@register.filter
def timeline_label(action: str) -> str:
    """What the window's timeline calls an audited action (SPEC §3.9)."""
    return TIMELINE_LABELS.get(action, action)


@register.filter
def phone(e164: str) -> str:
    """A stored E.164 number the way people read it: (202) 555-0123."""
    return format_phone(e164 or "")
