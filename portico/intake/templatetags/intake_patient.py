"""Check-in prompts on the portal's pages that cannot import intake (the portal home's record
cards, the booking appointments page): "Check in for your appointment" beside a record or an
appointment with a form waiting. One query for the whole page, whatever the number of records
or appointments."""

from django import template

from portico.intake import selectors
from portico.intake.models import OPEN_STATUSES
from portico.portal import representation

register = template.Library()


def _may_fill(access) -> bool:
    """An active access whose scope includes filling in forms (not a narrowed parent's)."""
    return representation.is_active(access) and representation.scope_of(access).messages


@register.simple_tag
def open_check_ins(accesses) -> dict:
    """Forms waiting per chart of `accesses` (patient id → count), in one query."""
    return selectors.open_form_counts([a for a in accesses or [] if _may_fill(a)])


@register.inclusion_tag("intake/patient/_prompt.html")
def check_in_prompt(access, counts) -> dict:
    """The record card's prompt, when its chart has forms waiting."""
    count = (counts or {}).get(access.patient_id, 0) if _may_fill(access) else 0
    return {"access": access, "count": count}


@register.simple_tag
def open_form_appointments(access) -> set:
    """The ids of the chart's appointments with a form waiting, in one query."""
    if not _may_fill(access):
        return set()
    return set(
        selectors.forms_of_patient(access.patient)
        .filter(status__in=OPEN_STATUSES)
        .values_list("appointment_id", flat=True)
    )


@register.inclusion_tag("intake/patient/_prompt.html")
def check_in_for(access, appointment, appointment_ids) -> dict:
    """The appointment's prompt, when it has a form waiting."""
    pk = getattr(appointment, "pk", None)
    count = 1 if pk is not None and pk in (appointment_ids or ()) else 0
    return {"access": access, "count": count}
