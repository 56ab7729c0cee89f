"""Forms that go out by themselves (issue 18): when an appointment of a visit type with an intake
rule (EHR Settings > Intake) is booked, its template is sent for it.

`scheduling.services` sends `scheduling.signals.appointment_booked` inside the booking's
transaction; the form is made in that same transaction (so a booking that rolls back sends
nothing) and its email goes once it commits, like every email. A booking that already has the
form (a pending request confirmed after staff sent it by hand) is not sent it again.
"""

from __future__ import annotations

import logging

from django.core.exceptions import ValidationError

from portico.intake.models import VisitTypeIntake
from portico.intake.selectors import live_form

logger = logging.getLogger(__name__)


def appointment_booked(sender, *, appointment, actor=None, **kwargs) -> None:
    if appointment.appointment_type_id is None:
        return
    rule = (
        VisitTypeIntake.objects.filter(
            visit_type_id=appointment.appointment_type_id, template__is_active=True
        )
        .select_related("template__current_version")
        .first()
    )
    if rule is None:
        return
    if live_form(appointment, rule.template) is not None:
        return
    from portico.intake.services import form_send

    try:
        form_send(actor, appointment=appointment, template=rule.template, how="booking")
    except ValidationError:
        # A template without questions yet, or a booking already over: the booking stands,
        # staff can send a form by hand once there is one to send.
        logger.info("No intake form sent with appointment %s", appointment.public_id)
