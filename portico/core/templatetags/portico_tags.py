from django import template

from portico.portal.selectors import TIMELINE_LABELS

register = template.Library()


@register.filter
def timeline_label(action: str) -> str:
    return TIMELINE_LABELS.get(action, action)
