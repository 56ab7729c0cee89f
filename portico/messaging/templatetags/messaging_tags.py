"""The "Messages" link of the staff header, with its unread count (base_staff.html loads this
library, so the lower apps whose pages extend it never import messaging)."""

from django import template

from portico.messaging import selectors
from portico.practices.permissions import can_answer_messages

register = template.Library()


@register.inclusion_tag("messaging/_nav_link.html", takes_context=True)
def messages_nav_link(context):
    """For members who may answer patient messages: the link to the inbox and the number of
    unread threads in the inbox it opens on (a provider's own, else the practice's); one
    query. Nothing for anyone else."""
    membership = context.get("current_membership")
    practice = context.get("current_practice")
    if practice is None or not can_answer_messages(membership):
        return {"show": False}
    counts = selectors.unread_counts(practice, context["request"].user)
    return {
        "show": True,
        "count": counts.mine if membership.receives_messages else counts.practice,
        "current": context.get("messaging_section", False),
    }
