"""The minimal appointment book behind "appointments past and upcoming" (SPEC §6.1)."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import appointment_cancel, appointment_create

pytestmark = pytest.mark.django_db


def tomorrow_at_nine():
    return (timezone.now() + dt.timedelta(days=1)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )


def test_staff_book_an_appointment_and_it_is_audited(staff, patient, provider):
    start = tomorrow_at_nine()
    appointment = appointment_create(
        staff,
        patient=patient,
        provider=provider,
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        visit_type="Annual physical",
    )

    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.get_status_display() == "Confirmed"
    event = AuditEvent.objects.get(action="appointment.create")
    assert event.patient == patient and event.actor == staff
    assert event.details == {"appointment": str(appointment.public_id)}


def test_an_appointment_must_end_after_it_starts(staff, patient):
    start = tomorrow_at_nine()
    with pytest.raises(ValidationError) as caught:
        appointment_create(staff, patient=patient, start_at=start, end_at=start)
    assert "end_at" in caught.value.message_dict
    assert not Appointment.objects.exists()


def test_the_provider_must_be_a_provider_of_the_practice(staff, patient, outsider):
    start = tomorrow_at_nine()
    with pytest.raises(ValidationError) as caught:
        appointment_create(
            staff,
            patient=patient,
            provider=outsider,
            start_at=start,
            end_at=start + dt.timedelta(minutes=15),
        )
    assert "provider" in caught.value.message_dict


def test_staff_of_another_practice_cannot_book(outsider, patient):
    start = tomorrow_at_nine()
    with pytest.raises(PermissionDenied):
        appointment_create(
            outsider, patient=patient, start_at=start, end_at=start + dt.timedelta(minutes=15)
        )


def test_cancelling_twice_changes_and_audits_once(staff, patient):
    start = tomorrow_at_nine()
    appointment = appointment_create(
        staff, patient=patient, start_at=start, end_at=start + dt.timedelta(minutes=15)
    )

    appointment_cancel(staff, appointment=appointment)
    appointment_cancel(staff, appointment=appointment)

    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert AuditEvent.objects.filter(action="appointment.cancel").count() == 1
