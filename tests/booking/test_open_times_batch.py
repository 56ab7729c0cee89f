"""The public pages' batch open times (portico.booking.open_times) are exactly the appointment
book's open times (scheduling.selectors.open_times) — the same working hours, blocked times of
the provider and the practice, appointments holding time at any practice — read with three
queries whatever the number of visit types or profiles."""

import datetime as dt

from django.db import connection
from django.test.utils import CaptureQueriesContext

from portico.booking import open_times, selectors, services
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.calendar import Stretch
from portico.scheduling.services import (
    appointment_book,
    appointment_cancel,
    blocked_time_add,
    visit_type_save,
    working_hours_set,
)
from tests import factories
from tests.booking.conftest import VALID_NPI, at
from tests.scheduling.conftest import NEW_YORK, NOW


def _book(admin, patient, provider, visit_type, start):
    return appointment_book(
        admin,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=start,
        notify=False,
    )


def _busy_week(admin, practice, provider, patient, follow_up, new_patient_visit):
    """Appointments (one cancelled), a blocked hour of the provider's and a practice holiday."""
    monday = NOW.date()
    _book(admin, patient, provider, follow_up, at(monday, 9, 0))
    _book(admin, patient, provider, new_patient_visit, at(monday, 10, 20))
    cancelled = _book(admin, patient, provider, follow_up, at(monday, 13, 0))
    appointment_cancel(admin, appointment=cancelled, reason="Patient is ill")
    _book(admin, patient, provider, follow_up, at(monday + dt.timedelta(days=1), 16, 40))
    blocked_time_add(
        admin,
        practice=practice,
        provider=provider,
        start_at=at(monday, 14, 0),
        end_at=at(monday, 15, 0),
        label="Meeting",
    )
    blocked_time_add(
        admin,
        practice=practice,
        start_at=at(monday + dt.timedelta(days=3), 0, 0),
        end_at=at(monday + dt.timedelta(days=4), 0, 0),
        label="Practice closed",
    )


def test_open_times_by_type_are_the_books_open_times_of_each_type_from_three_queries(
    now, admin, practice, provider, patient, hours, profile, follow_up, new_patient_visit
):
    _busy_week(admin, practice, provider, patient, follow_up, new_patient_visit)
    types = [follow_up, new_patient_visit]
    with CaptureQueriesContext(connection) as queries:
        found = open_times.open_times_by_type(practice, provider, types, days=28)
    assert len(queries) == 3
    for visit_type in types:
        expected = scheduling_selectors.open_times(practice, provider, visit_type, days=28)
        assert found[visit_type.pk] == expected
        assert expected  # the comparison is about something
    # The 9:00 follow-up is taken, the cancelled 13:00 is open again, the meeting is not.
    starts = {t.start for t in found[follow_up.pk]}
    monday = NOW.date()
    assert at(monday, 9, 0) not in starts
    assert at(monday, 13, 0) in starts
    assert at(monday, 14, 0) not in starts
    holiday = monday + dt.timedelta(days=3)  # the practice is closed that Thursday
    days = {t.start.astimezone(NEW_YORK).date() for t in found[follow_up.pk]}
    assert holiday not in days and holiday + dt.timedelta(days=7) in days


def test_open_times_of_profiles_match_each_profile_from_three_queries_whatever_their_number(
    now, admin, practice, provider, patient, hours, profile, follow_up, new_patient_visit
):
    _busy_week(admin, practice, provider, patient, follow_up, new_patient_visit)
    # A second provider at another practice in another time zone, also booked at the first.
    other = factories.make_practice("Desert Clinic", time_zone="America/Phoenix")
    other_admin = factories.make_admin(other)
    second = factories.make_staff(other, role="provider", credential="NP", full_name="Nia Nurse")
    working_hours_set(
        other_admin,
        practice=other,
        provider=second,
        stretches=[Stretch(day, dt.time(8), dt.time(12)) for day in range(5)],
    )
    telehealth = visit_type_save(
        other_admin, practice=other, name="Telehealth", duration_minutes=15
    )
    second_profile = services.profile_ensure(other_admin, practice=other, provider=second)
    services.profile_save(
        other_admin, profile=second_profile, online_visit_types=[telehealth], npi=VALID_NPI
    )
    services.npi_attest(other_admin, profile=second_profile, attested=True)
    services.profile_status_set(other_admin, profile=second_profile, on=True)
    profiles = list(selectors.public_profiles().order_by("id"))
    assert len(profiles) == 2
    chosen = {profile.pk: new_patient_visit, second_profile.pk: telehealth}
    with CaptureQueriesContext(connection) as queries:
        found = open_times.open_times_of_profiles(profiles, lambda p: chosen[p.pk], days=28)
    assert len(queries) == 3
    assert found[profile.pk] == scheduling_selectors.open_times(
        practice, provider, new_patient_visit, days=28
    )
    assert found[second_profile.pk] == scheduling_selectors.open_times(
        other, second, telehealth, days=28
    )
    assert found[second_profile.pk]
    # None: no visit type, no times (and still three queries).
    with CaptureQueriesContext(connection) as queries:
        nothing = open_times.open_times_of_profiles(profiles, lambda p: None, days=28)
    assert len(queries) == 3
    assert nothing == {profile.pk: [], second_profile.pk: []}


def test_next_open_times_by_type_are_the_first_days_of_the_books_open_times(
    now, admin, practice, provider, patient, hours, profile, follow_up, new_patient_visit
):
    _busy_week(admin, practice, provider, patient, follow_up, new_patient_visit)
    types = [follow_up, new_patient_visit]
    monday = NOW.date()

    def expected(visit_type, count):
        times = scheduling_selectors.open_times(
            practice, provider, visit_type, first_day=monday, days=28
        )
        return open_times.first_days(times, NEW_YORK, count)

    with CaptureQueriesContext(connection) as queries:
        found = open_times.next_open_times_by_type(
            practice, provider, types, count=3, first_day=monday, days=28
        )
    assert len(queries) == 3  # the first week has three days with times for both
    for visit_type in types:
        assert found[visit_type.pk] == expected(visit_type, 3)
        assert len({t.start.astimezone(NEW_YORK).date() for t in found[visit_type.pk]}) == 3
    # The provider is away the rest of this week and most of the next: the window beyond the
    # first week is read once more, for both visit types together.
    blocked_time_add(
        admin,
        practice=practice,
        provider=provider,
        start_at=at(monday + dt.timedelta(days=1), 0, 0),
        end_at=at(monday + dt.timedelta(days=10), 0, 0),
        label="Vacation",
    )
    with CaptureQueriesContext(connection) as queries:
        found = open_times.next_open_times_by_type(
            practice, provider, types, count=3, first_day=monday, days=28
        )
    assert len(queries) == 6
    for visit_type in types:
        assert found[visit_type.pk] == expected(visit_type, 3)
        days = sorted({t.start.astimezone(NEW_YORK).date() for t in found[visit_type.pk]})
        assert days == [monday, monday + dt.timedelta(days=10), monday + dt.timedelta(days=11)]
