"""The appointment's calendar file (SPEC §8.7): one stable UID, so a moved appointment updates
the calendar entry (higher SEQUENCE) and a cancelled one removes it (METHOD:CANCEL); what it
says is when, with whom and where, never the reason for visit or the patient's name."""

import datetime as dt

import pytest
from django.conf import settings
from icalendar import Calendar

from portico.scheduling import ics
from portico.scheduling.models import Appointment
from portico.scheduling.services import appointment_cancel, appointment_move, location_save
from tests.scheduling.conftest import NOW, at
from tests.scheduling.mail import SECRETS, book, clinical_visit_type, give_address, make_chart

pytestmark = pytest.mark.django_db
NEXT_MONDAY = NOW.date() + dt.timedelta(days=7)


def parsed(appointment) -> tuple[Calendar, object]:
    appointment.refresh_from_db()
    calendar = Calendar.from_ical(ics.appointment_ics(appointment))
    (event,) = calendar.walk("VEVENT")
    return calendar, event


@pytest.fixture
def chart(practice):
    give_address(practice)
    return make_chart(practice)


@pytest.fixture
def booked(now, staff, chart, provider, admin, practice, hours):
    return book(staff, chart, provider, clinical_visit_type(admin, practice), at(NEXT_MONDAY, 9))


def test_a_booked_appointment_is_a_calendar_request_with_when_who_and_where(booked, practice):
    calendar, event = parsed(booked)

    assert str(calendar["method"]) == "REQUEST" and str(calendar["version"]) == "2.0"
    assert str(calendar["prodid"]) == ics.PRODID
    assert str(event["uid"]) == f"{booked.public_id}@{settings.PORTICO_MAIL_DOMAIN}"
    assert event["sequence"] == 0
    # In UTC: 9:00 in New York in December is 14:00 UTC.
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 14, 14, 0, tzinfo=dt.UTC)
    assert event.decoded("dtend") == dt.datetime(2026, 12, 14, 14, 20, tzinfo=dt.UTC)
    assert event.decoded("dtstamp") == NOW.astimezone(dt.UTC)
    assert str(event["summary"]) == "Appointment with Dr. Paula Provider at Riverside Clinic"
    assert str(event["location"]) == ("12 Elm Street, Suite 3, Springfield, IL 62701")
    assert "(217) 555-0100" in str(event["description"])
    assert str(event["organizer"].params["cn"]) == "Riverside Clinic"
    assert str(event["status"]) == "CONFIRMED"


def test_a_moved_appointment_keeps_its_uid_with_a_higher_sequence_and_the_new_time(booked, staff):
    _calendar, before = parsed(booked)
    appointment_move(staff, appointment=booked, start_at=at(NEXT_MONDAY + dt.timedelta(days=1), 13))

    calendar, after = parsed(booked)
    assert str(calendar["method"]) == "REQUEST"
    assert str(after["uid"]) == str(before["uid"])
    assert after["sequence"] == before["sequence"] + 1 == 1
    assert after.decoded("dtstart") == dt.datetime(2026, 12, 15, 18, 0, tzinfo=dt.UTC)


def test_a_cancelled_appointment_is_a_calendar_cancel_of_the_same_uid(booked, staff):
    _calendar, before = parsed(booked)
    appointment_move(staff, appointment=booked, start_at=at(NEXT_MONDAY, 10))
    appointment_cancel(staff, appointment=booked, reason="Patient is travelling")

    calendar, after = parsed(booked)
    assert str(calendar["method"]) == "CANCEL"
    assert str(after["status"]) == "CANCELLED"
    assert str(after["uid"]) == str(before["uid"])
    assert after["sequence"] == 2
    assert ics.mimetype(booked) == "text/calendar; method=CANCEL"
    assert "Patient is travelling" not in ics.appointment_ics(booked).decode()


def test_the_calendar_file_has_no_reason_for_visit_no_visit_type_and_no_patient_name(booked):
    text = ics.appointment_ics(booked).decode()
    for secret in SECRETS:
        assert secret.lower() not in text.lower(), secret


def test_an_appointment_at_a_location_is_placed_at_that_address(booked, admin, practice):
    place = location_save(
        admin,
        practice=practice,
        name="North campus",
        address_line1="400 North Road",
        city="Springfield",
        state="IL",
        postal_code="62702",
    )
    Appointment.objects.filter(pk=booked.pk).update(location=place)

    _calendar, event = parsed(booked)
    assert str(event["location"]) == "North campus, 400 North Road, Springfield, IL 62702"
