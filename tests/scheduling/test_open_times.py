"""Open times (SPEC §8.4): working hours in the practice's local time, less blocked times and
appointments, cut to the visit's length; 9:00 stays 9:00 across daylight-saving changes."""

import datetime as dt
import zoneinfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.scheduling.selectors import open_times
from portico.scheduling.services import (
    appointment_book,
    blocked_time_add,
    visit_type_save,
    working_hours_set,
)
from tests import factories
from tests.scheduling.conftest import NOW, at, weekdays

pytestmark = pytest.mark.django_db
TUESDAY = NOW.date() + dt.timedelta(days=1)
UTC = dt.UTC


def starts_on(slots, day, zone):
    return [
        s.start.astimezone(zone).strftime("%H:%M")
        for s in slots
        if s.start.astimezone(zone).date() == day
    ]


def test_open_times_fill_working_hours_back_to_back_and_skip_lunch(
    now, practice, provider, follow_up, hours
):
    slots = open_times(practice, provider, follow_up, days=2)

    tuesday = starts_on(slots, TUESDAY, zoneinfo.ZoneInfo("America/New_York"))
    assert tuesday[:4] == ["09:00", "09:20", "09:40", "10:00"]
    assert "11:40" in tuesday and "12:00" not in tuesday and "12:40" not in tuesday
    assert tuesday[9:10] == ["13:00"] and tuesday[-1] == "16:40"
    assert len(tuesday) == 9 + 12


def test_booked_and_blocked_times_are_not_open_and_the_next_time_follows_a_visit(
    now, admin, staff, practice, patient, provider, follow_up, new_patient_visit, hours
):
    appointment_book(
        staff,
        patient=patient,
        provider=provider,
        appointment_type=follow_up,
        start_at=at(TUESDAY, 9, 10),
    )
    blocked_time_add(
        admin,
        practice=practice,
        provider=provider,
        start_at=at(TUESDAY, 13),
        end_at=at(TUESDAY, 16),
    )

    tuesday = starts_on(
        open_times(practice, provider, new_patient_visit, days=2),
        TUESDAY,
        zoneinfo.ZoneInfo("America/New_York"),
    )

    # 9:00–9:10 is too short for 40 minutes; the next time starts when the visit ends.
    assert tuesday == ["09:30", "10:10", "10:50", "16:00"]


def test_no_open_time_starts_in_the_past(practice, provider, follow_up, hours):
    with time_machine.travel(at(NOW.date(), 10, 5), tick=False):
        today = starts_on(
            open_times(practice, provider, follow_up, days=1),
            NOW.date(),
            zoneinfo.ZoneInfo("America/New_York"),
        )
    assert today[0] == "10:20"


def test_the_week_of_the_spring_change_keeps_nine_oclock_local_in_new_york(
    practice, admin, provider, follow_up
):
    working_hours_set(
        admin, practice=practice, provider=provider, stretches=weekdays(((9, 0), (10, 0)))
    )
    zone = zoneinfo.ZoneInfo("America/New_York")
    friday = dt.date(2026, 3, 6)  # clocks go forward on Sunday 8 March 2026
    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=zone), tick=False):
        slots = open_times(practice, provider, follow_up, first_day=friday, days=4)

    firsts = {s.start.astimezone(zone).date(): s.start for s in reversed(slots)}
    assert firsts[friday].astimezone(UTC).hour == 14  # 9:00 EST
    assert firsts[dt.date(2026, 3, 9)].astimezone(UTC).hour == 13  # 9:00 EDT
    assert {s.start.astimezone(zone).strftime("%H:%M") for s in slots} == {
        "09:00",
        "09:20",
        "09:40",
    }


def test_a_practice_in_phoenix_has_no_change_in_march(provider):
    phoenix = factories.make_practice(time_zone="America/Phoenix")
    admin = factories.make_admin(phoenix)
    doctor = factories.make_staff(phoenix, role="provider", credential="DO")
    visit = visit_type_save(admin, practice=phoenix, name="Follow-up", duration_minutes=30)
    working_hours_set(
        admin, practice=phoenix, provider=doctor, stretches=weekdays(((9, 0), (10, 0)))
    )
    zone = zoneinfo.ZoneInfo("America/Phoenix")
    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=zone), tick=False):
        slots = open_times(phoenix, doctor, visit, first_day=dt.date(2026, 3, 6), days=4)

    assert {s.start.astimezone(UTC).strftime("%H:%M") for s in slots} == {"16:00", "16:30"}
    assert len(slots) == 4


def test_a_booking_at_nine_after_the_change_is_inside_working_hours(
    practice, admin, staff, patient, provider, follow_up
):
    working_hours_set(
        admin, practice=practice, provider=provider, stretches=weekdays(((9, 0), (10, 0)))
    )
    zone = zoneinfo.ZoneInfo("America/New_York")
    with time_machine.travel(dt.datetime(2026, 3, 5, 12, tzinfo=zone), tick=False):
        appointment = appointment_book(
            staff,
            patient=patient,
            provider=provider,
            appointment_type=follow_up,
            start_at=dt.datetime(2026, 3, 9, 13, 0, tzinfo=UTC),
        )
    assert appointment.start_at.astimezone(zone).hour == 9


def test_open_times_read_a_fixed_number_of_queries_for_90_days(
    now, staff, practice, provider, follow_up, hours
):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            open_times(practice, provider, follow_up, days=90)
        return len(queries)

    few = count()
    for day in range(1, 30):
        appointment_book(
            staff,
            patient=factories.make_patient(practice),
            provider=provider,
            appointment_type=follow_up,
            start_at=at(NOW.date() + dt.timedelta(days=day), 9),
            check_hours=False,
        )
    assert count() == few <= 4
