"""The core rules of online requests (SPEC §8.5, §8.8): a request holds no time and touches no
chart; approving books it; of two requests approved for one time exactly one wins."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestStatus
from portico.notifications.models import OutboundEmail
from portico.scheduling.models import Appointment, AppointmentStatus
from tests.booking.conftest import at

pytestmark = pytest.mark.django_db

MONDAY = dt.date(2026, 12, 7)


def _ask(profile, follow_up, start, **more):
    values = {
        "profile": profile,
        "visit_type": follow_up,
        "start_at": start,
        "patient_kind": "existing",
        "first_name": "Rosa",
        "last_name": "Rivera",
        "date_of_birth": dt.date(1980, 4, 2),
        "email": "rosa@example.org",
        "reason": "Knee pain",
    }
    values.update(more)
    return services.request_submit(**values)


def test_a_request_holds_no_time_and_writes_no_chart(profile, follow_up, patient):
    request = _ask(profile, follow_up, at(MONDAY, 9))
    assert request.status == RequestStatus.PENDING and request.patient is None
    assert not Appointment.objects.exists()
    # The same time can still be asked for again: nothing holds it.
    assert _ask(profile, follow_up, at(MONDAY, 9)).pk != request.pk
    assert OutboundEmail.objects.filter(kind="booking.received", to_address="rosa@example.org")


def test_approving_books_the_matched_chart_with_the_reason(profile, follow_up, patient, admin):
    request = _ask(profile, follow_up, at(MONDAY, 9))
    appointment = services.request_approve(admin, request=request, patient=patient)
    assert appointment.patient == patient
    assert appointment.status == AppointmentStatus.BOOKED
    assert appointment.reason == "Knee pain"
    request.refresh_from_db()
    assert request.status == RequestStatus.APPROVED and request.appointment == appointment
    assert OutboundEmail.objects.filter(kind="scheduling.booked", to_address="rosa@example.org")


def test_of_two_requests_approved_for_one_time_exactly_one_wins(profile, follow_up, patient, admin):
    first = _ask(profile, follow_up, at(MONDAY, 9))
    second = _ask(profile, follow_up, at(MONDAY, 9), first_name="Sam")
    services.request_approve(admin, request=first, patient=patient)
    with pytest.raises(ValidationError) as refused:
        services.request_approve(admin, request=second)
    assert "already booked" in str(refused.value)
    assert Appointment.objects.count() == 1
    assert AppointmentRequest.objects.get(pk=second.pk).status == RequestStatus.PENDING


def test_a_time_that_is_not_open_is_refused(profile, follow_up):
    with pytest.raises(ValidationError) as refused:
        _ask(profile, follow_up, at(MONDAY, 12, 30))  # lunch
    assert "start_at" in refused.value.message_dict
    assert not AppointmentRequest.objects.exists()
