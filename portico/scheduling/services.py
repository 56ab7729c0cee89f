"""State changes of appointments. Each checks permission, changes state and audits."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction

from portico.audit.services import audit_record
from portico.charts.record_cache import record_changed
from portico.charts.validation import has_control_characters
from portico.core.validation import max_length_of
from portico.practices import permissions
from portico.practices import selectors as practice_selectors
from portico.scheduling.models import Appointment, AppointmentStatus


@transaction.atomic
def appointment_create(
    actor,
    *,
    patient,
    start_at: dt.datetime,
    end_at: dt.datetime,
    provider=None,
    visit_type: str = "",
    reason: str = "",
    status: str = AppointmentStatus.BOOKED,
) -> Appointment:
    """Put an appointment for a chart of the actor's practice on the calendar."""
    permissions.require_member(actor, patient.practice)
    errors: dict[str, list[str]] = {}
    if not isinstance(start_at, dt.datetime) or start_at.tzinfo is None:
        errors["start_at"] = ["Enter a valid date and time."]
    elif not isinstance(end_at, dt.datetime) or end_at <= start_at:
        errors["end_at"] = ["The appointment must end after it starts."]
    if status not in AppointmentStatus.values:
        errors["status"] = ["Choose one of the listed values."]
    for field, value in (("visit_type", visit_type), ("reason", reason)):
        if has_control_characters(value):
            errors[field] = ["Remove control characters (such as NUL) from this value."]
        elif len(value) > (max_length_of(Appointment, field) or 0):
            errors[field] = ["This is too long."]
    if provider is not None:
        membership = practice_selectors.membership_for(provider, patient.practice)
        if not permissions.can_sign_encounters(membership):
            errors["provider"] = ["Choose a provider of this practice."]
    if errors:
        raise ValidationError(errors)
    appointment = Appointment.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        start_at=start_at,
        end_at=end_at,
        visit_type=visit_type.strip(),
        reason=reason.strip(),
        status=status,
    )
    record_changed(patient.pk)
    audit_record(
        actor,
        action="appointment.create",
        practice=patient.practice,
        patient=patient,
        details={"appointment": str(appointment.public_id)},
    )
    return appointment


@transaction.atomic
def appointment_cancel(actor, *, appointment: Appointment) -> Appointment:
    """Cancel an appointment of the actor's practice (idempotent)."""
    permissions.require_member(actor, appointment.practice)
    appointment = Appointment.objects.select_for_update().get(pk=appointment.pk)
    if appointment.status == AppointmentStatus.CANCELLED:
        return appointment
    old = appointment.status
    appointment.status = AppointmentStatus.CANCELLED
    appointment.save(update_fields=["status", "updated_at"])
    record_changed(appointment.patient_id)
    audit_record(
        actor,
        action="appointment.cancel",
        practice=appointment.practice,
        patient=appointment.patient,
        details={"appointment": str(appointment.public_id), "from": old},
    )
    return appointment
