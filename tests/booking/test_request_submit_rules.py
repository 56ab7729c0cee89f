"""What a visitor's request must carry (SPEC §8.4–8.5): each bad field is refused with its own
message and nothing is written; a good request writes no chart, is audited without a patient,
and the "received" email goes to the address typed."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestKind, RequestSource, RequestStatus
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.scheduling import services as scheduling
from portico.scheduling.models import Appointment
from tests.booking.service_helpers import MONDAY, TUESDAY, ask, at, book, counts, emails

pytestmark = pytest.mark.django_db


def _not_accepting_new_patients(profile, admin, practice, patient, provider, follow_up):
    profile.accepts_new_patients = False
    profile.save()


def _booked_at_nine(profile, admin, practice, patient, provider, follow_up):
    book(admin, patient, provider, follow_up, at(TUESDAY, 9))


def _retire_follow_up(profile, admin, practice, patient, provider, follow_up):
    """Follow-up retired while another visit type keeps the profile public."""
    another = scheduling.visit_type_save(
        admin, practice=practice, name="Visit", duration_minutes=30
    )
    profile.online_visit_types.add(another)
    scheduling.visit_type_save(
        admin,
        practice=practice,
        name=follow_up.name,
        duration_minutes=follow_up.duration_minutes,
        visit_type=follow_up,
        is_active=False,
    )
    follow_up.refresh_from_db()


def _profile_off(profile, admin, practice, patient, provider, follow_up):
    services.profile_status_set(admin, profile=profile, on=False)


def _nothing(*args):
    pass


# case: (field refused, what the visitor typed differently, what happened before)
BAD_REQUESTS = {
    "no first name": ("first_name", {"first_name": "  "}, _nothing),
    "no last name": ("last_name", {"last_name": ""}, _nothing),
    "no email": ("email", {"email": ""}, _nothing),
    "no reason": ("reason", {"reason": " "}, _nothing),
    "a bad email": ("email", {"email": "rosa@"}, _nothing),
    "an email with a space": ("email", {"email": "rosa rivera@example.org"}, _nothing),
    "a control character in the name": ("first_name", {"first_name": "Ro\x00sa"}, _nothing),
    "a name too long": ("last_name", {"last_name": "R" * 101}, _nothing),
    "a reason too long": ("reason", {"reason": "x" * 301}, _nothing),
    "no date of birth": ("date_of_birth", {"date_of_birth": None}, _nothing),
    "a date of birth as text": ("date_of_birth", {"date_of_birth": "1980-04-02"}, _nothing),
    "a date of birth in the future": (
        "date_of_birth",
        {"date_of_birth": MONDAY + dt.timedelta(days=1)},
        _nothing,
    ),
    "a date of birth before 1900": (
        "date_of_birth",
        {"date_of_birth": dt.date(1899, 12, 31)},
        _nothing,
    ),
    "no patient kind": ("patient_kind", {"patient_kind": ""}, _nothing),
    "an unknown patient kind": ("patient_kind", {"patient_kind": "maybe"}, _nothing),
    "a new patient when the provider takes none": (
        "patient_kind",
        {"patient_kind": "new"},
        _not_accepting_new_patients,
    ),
    "a visit type not offered online": (
        "visit_type",
        {"visit_type": "new_patient_visit"},
        _nothing,
    ),
    "no visit type": ("visit_type", {"visit_type": None}, _nothing),
    "a visit type offered online but retired": ("visit_type", {}, _retire_follow_up),
    "a time at lunch": ("start_at", {"start_at": at(TUESDAY, 12, 20)}, _nothing),
    "a time off the grid of open times": ("start_at", {"start_at": at(TUESDAY, 9, 5)}, _nothing),
    "a time already booked": ("start_at", {"start_at": at(TUESDAY, 9)}, _booked_at_nine),
    "a time that has passed": ("start_at", {"start_at": at(MONDAY, 7)}, _nothing),
    "a time without a time zone": (
        "start_at",
        {"start_at": dt.datetime(2026, 12, 8, 9, 0)},  # noqa: DTZ001
        _nothing,
    ),
    "no time": ("start_at", {"start_at": None}, _nothing),
    "a profile that is not public": ("profile", {}, _profile_off),
}


@pytest.mark.parametrize("case", BAD_REQUESTS, ids=list(BAD_REQUESTS))
def test_a_bad_request_is_refused_naming_its_field_and_nothing_is_written(
    case, request, profile, admin, practice, patient, provider, follow_up, new_patient_visit
):
    field, typed, before_it = BAD_REQUESTS[case]
    before_it(profile, admin, practice, patient, provider, follow_up)
    if typed.get("visit_type") == "new_patient_visit":
        typed = {**typed, "visit_type": new_patient_visit}
    before = counts()
    with pytest.raises(ValidationError) as refused:
        values = {"visit_type": follow_up, "start_at": at(TUESDAY, 9), **typed}
        ask(profile, values.pop("visit_type"), values.pop("start_at"), **values)
    assert field in refused.value.message_dict
    assert counts() == before


def test_several_bad_fields_are_all_named_at_once(profile, follow_up):
    with pytest.raises(ValidationError) as refused:
        ask(profile, follow_up, at(MONDAY, 12, 30), first_name="", email="x", patient_kind="?")
    assert {"first_name", "email", "patient_kind", "start_at"} <= set(refused.value.message_dict)
    assert not AppointmentRequest.objects.exists()


def test_an_existing_patient_may_ask_when_the_provider_takes_no_new_patients(profile, follow_up):
    profile.accepts_new_patients = False
    profile.save()
    assert ask(profile, follow_up, at(TUESDAY, 9), patient_kind="existing").pk


def test_a_request_is_stored_as_typed_its_email_in_lower_case_and_writes_no_chart(
    profile, follow_up, provider
):
    charts = Patient.objects.count()
    request = ask(
        profile,
        follow_up,
        at(TUESDAY, 9),
        first_name="  Rosa ",
        email=" Rosa@Example.ORG ",
        source=RequestSource.EMBED,
        language="es",
    )
    request.refresh_from_db()
    assert request.kind == RequestKind.NEW and request.status == RequestStatus.PENDING
    assert request.source == RequestSource.EMBED and request.language == "es"
    assert (request.first_name, request.last_name) == ("Rosa", "Rivera")
    assert request.email == "rosa@example.org" and request.reason == "Knee pain"
    assert request.provider == provider and request.visit_type == follow_up
    assert (request.start_at, request.end_at) == (at(TUESDAY, 9), at(TUESDAY, 9, 20))
    assert request.patient is None and request.appointment is None
    assert Patient.objects.count() == charts
    assert not Appointment.objects.exists()


def test_a_request_is_audited_without_a_patient_or_anything_it_carries(profile, follow_up):
    request = ask(profile, follow_up, at(TUESDAY, 9))
    event = AuditEvent.objects.get(action="booking.request_received")
    assert event.patient is None and event.actor is None
    assert event.practice == profile.practice
    assert event.details == {"request": str(request.public_id), "source": "public"}
    for typed in ("Rosa", "Rivera", "rosa@example.org", "Knee pain", "1980"):
        assert typed not in str(event.details)


def test_the_received_email_goes_to_the_typed_address_and_names_no_chart(profile, follow_up):
    request = ask(profile, follow_up, at(TUESDAY, 9), email="someone@else.example")
    assert emails("booking.received", "someone@else.example") == 1
    email = OutboundEmail.objects.get(kind="booking.received", subject_id=request.public_id)
    assert email.patient is None and email.practice == profile.practice


def test_an_unknown_source_is_taken_as_the_public_page(profile, follow_up):
    assert ask(profile, follow_up, at(TUESDAY, 9), source="portal").source == RequestSource.PUBLIC


def test_the_last_day_the_booking_pages_show_can_be_asked_for(profile, follow_up):
    # Today is Monday 7 December; 28 days of times end on Sunday 3 January (the provider
    # works neither that weekend nor, in this schedule, any weekend): Friday 1 January is the
    # last working day offered.
    last = MONDAY + dt.timedelta(days=services.BOOKING_DAYS - 3)
    assert last.weekday() == 4
    assert ask(profile, follow_up, at(last, 9)).pk


@pytest.mark.parametrize("phone", ["555-0100", "12345", "call me after 5", "+1 (000) 555-0134"])
def test_a_phone_a_chart_would_refuse_is_refused_with_the_request(phone, profile, follow_up):
    # Staff approving the request make the chart from it: the phone must be one it takes.
    with pytest.raises(ValidationError) as refused:
        ask(profile, follow_up, at(TUESDAY, 9), phone=phone)
    assert list(refused.value.message_dict) == ["phone"]
    assert not AppointmentRequest.objects.exists()


@pytest.mark.parametrize("phone", ["", "217.555.0134", "+1 217 555 0134", "(217) 555-0134 x12"])
def test_a_phone_is_kept_as_the_chart_keeps_it(phone, profile, follow_up, admin):
    request = ask(profile, follow_up, at(TUESDAY, 9), phone=phone)
    assert request.phone == ("+12175550134" if phone else "")
    chart = services.request_approve(admin, request=request).patient
    assert chart.mobile_phone == request.phone


def test_a_time_after_the_days_the_booking_pages_show_is_refused(profile, follow_up):
    # Monday 4 January is the 29th day from today: the pages show 28 (today included).
    beyond = MONDAY + dt.timedelta(days=services.BOOKING_DAYS)
    assert services.is_open_time(profile, follow_up, at(beyond, 9))  # the schedule has it
    with pytest.raises(ValidationError) as refused:
        ask(profile, follow_up, at(beyond, 9))
    assert "start_at" in refused.value.message_dict
    assert not AppointmentRequest.objects.exists()


def test_a_time_is_free_again_for_requests_while_another_request_waits(profile, follow_up):
    first = ask(profile, follow_up, at(TUESDAY, 9))
    second = ask(profile, follow_up, at(TUESDAY, 9), email="sam@example.org")
    assert first.pk != second.pk
    assert services.is_open_time(profile, follow_up, at(TUESDAY, 9))


@pytest.mark.parametrize("language", ["fr", "english-language", "es\x00"])
def test_a_page_language_the_site_does_not_speak_is_not_kept(language, profile, follow_up):
    request = ask(profile, follow_up, at(TUESDAY, 9), language=language)
    request.refresh_from_db()
    assert request.language == ""
    assert emails("booking.received", request.email) == 1
