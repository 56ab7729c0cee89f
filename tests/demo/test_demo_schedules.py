"""The demo's appointment book (demo.schedules, demo.appointments): believable schedules and a
week of appointments per provider that keep the book's rules (inside working hours, outside
blocked times, no two appointments of a provider at once)."""

import datetime as dt
import random
import zoneinfo
from collections import Counter, defaultdict

import pytest
import time_machine
from django.core.management import call_command

from portico.accounts.models import User
from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from portico.demo import schedules
from portico.demo import seed as demo
from portico.demo.appointments import USUAL_WEEK, give_demo_appointments, stretches_of
from portico.practices.models import Practice, Role
from portico.scheduling import calendar
from portico.scheduling.models import (
    HOLDS_TIME,
    Appointment,
    AppointmentStatus,
    BlockedTime,
    Location,
    VisitType,
)
from tests import factories

CHICAGO = zoneinfo.ZoneInfo("America/Chicago")
# A Wednesday mid-morning: two working days behind in the week, appointments earlier today.
NOW = dt.datetime(2026, 12, 9, 11, 5, tzinfo=CHICAGO)


def _provider(practice, name, credential="MD"):
    return factories.make_staff(practice, role=Role.PROVIDER, credential=credential, full_name=name)


def _demo_book(practice, *, now=NOW, seed_patients=40):
    """The demo's schedules on a practice of the tests: two providers, a demo patient, a few
    charts with a record and `seed_patients` scheduled ones."""
    admin = factories.make_admin(practice, full_name="Ada Admin")
    first = _provider(practice, "Dr. Priya Shah")
    second = _provider(practice, "Maya Collins", "NP")
    jordan = factories.make_patient(practice, legal_first_name="Jordan")
    returning = [factories.make_patient(practice) for _ in range(10)]
    scheduled = [factories.make_patient(practice) for _ in range(seed_patients)]
    with time_machine.travel(now, tick=False):
        week = schedules.give_demo_schedules(
            admin,
            practice=practice,
            providers=[first, second],
            jordan=jordan,
            returning=returning,
            scheduled=scheduled,
        )
    return admin, first, second, jordan, week


def _violations(practice) -> list[str]:
    """Every way the practice's appointments break the book's rules."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    found = []
    by_provider = defaultdict(list)
    for appointment in Appointment.objects.filter(practice=practice).order_by("start_at"):
        by_provider[appointment.provider_id].append(appointment)
    blocked = list(BlockedTime.objects.filter(practice=practice))
    for provider_id, appointments in by_provider.items():
        provider = User.objects.get(pk=provider_id)
        stretches = stretches_of(practice, provider) or USUAL_WEEK
        holding = [a for a in appointments if a.status != AppointmentStatus.CANCELLED]
        for before, after in zip(holding, holding[1:], strict=False):
            if after.start_at < before.end_at:
                found.append(f"{provider}: {before.start_at} overlaps {after.start_at}")
        for a in appointments:
            day = a.start_at.astimezone(zone).date()
            hours = calendar.working_intervals(stretches, day, 1, zone)
            if calendar.containing(hours, a.start_at, a.end_at) is None:
                found.append(f"{provider}: {a.start_at.astimezone(zone)} outside working hours")
            for b in blocked:
                if b.provider_id in (None, provider_id) and calendar.overlaps(
                    a.start_at, a.end_at, b.start_at, b.end_at
                ):
                    found.append(f"{provider}: {a.start_at.astimezone(zone)} in {b.label}")
    return found


@pytest.fixture
def chicago_practice(db):
    return factories.make_practice("Demo Family Practice", time_zone="America/Chicago")


def test_each_demo_provider_has_visit_types_a_working_week_a_holiday_and_a_weekly_meeting(
    chicago_practice,
):
    _, first, second, _, _ = _demo_book(chicago_practice)

    assert dict(VisitType.objects.values_list("name", "duration_minutes")) == {
        "New patient": 40,
        "Follow-up": 20,
        "Annual physical": 40,
        "Sick visit": 20,
        "Telehealth": 15,
    }
    [westside] = Location.objects.filter(practice=chicago_practice)
    first_week = stretches_of(chicago_practice, first)
    assert {s.weekday for s in first_week} == {0, 1, 2, 3, 4}
    friday = [s for s in first_week if s.weekday == 4]
    assert [(s.start_time, s.end_time) for s in friday] == [(dt.time(8, 30), dt.time(12, 0))]
    second_week = stretches_of(chicago_practice, second)
    assert {s.location_id for s in second_week} == {None, westside.pk}

    holidays = BlockedTime.objects.filter(practice=chicago_practice, provider__isnull=True)
    christmas = calendar.day_bounds(dt.date(2026, 12, 25), CHICAGO)
    assert holidays.filter(start_at=christmas[0], end_at=christmas[1]).exists()
    assert holidays.filter(label__startswith="Christmas").count() >= 3  # two years back, this
    meetings = BlockedTime.objects.filter(practice=chicago_practice, provider=first)
    assert meetings.count() >= 10
    assert {m.start_at.astimezone(CHICAGO).strftime("%a %H:%M") for m in meetings} == {"Wed 16:00"}
    assert not BlockedTime.objects.filter(provider=second).exists()
    assert Practice.objects.get(pk=chicago_practice.pk).reminders_enabled
    assert set(
        chicago_practice.memberships.filter(sends_reminders=True).values_list("user", flat=True)
    ) >= {first.pk, second.pk}
    assert AuditEvent.objects.filter(
        practice=chicago_practice, action__startswith="settings.reminders"
    ).exists()


def test_the_demo_week_fills_about_two_thirds_of_each_providers_open_time(chicago_practice):
    _, first, second, _, week = _demo_book(chicago_practice)

    today = NOW.date()
    first_day = today - dt.timedelta(days=schedules.DAYS_BEFORE)
    days = schedules.DAYS_BEFORE + schedules.DAYS_AFTER + 1
    start, _ = calendar.day_bounds(first_day, CHICAGO)
    _, end = calendar.day_bounds(first_day + dt.timedelta(days=days - 1), CHICAGO)
    for provider in (first, second):
        hours = calendar.working_intervals(
            stretches_of(chicago_practice, provider), first_day, days, CHICAGO
        )
        blocked = BlockedTime.objects.filter(practice=chicago_practice, start_at__lt=end)
        blocked = [(b.start_at, b.end_at) for b in blocked if b.provider_id in (None, provider.pk)]
        open_minutes = sum(
            (i.end - i.start).total_seconds() / 60 for i in calendar.subtract(hours, blocked)
        )
        mine = [a for a in week if a.provider_id == provider.pk]
        booked = sum(
            (a.end_at - a.start_at).total_seconds() / 60
            for a in mine
            if a.status != AppointmentStatus.CANCELLED
        )
        assert 0.55 <= booked / open_minutes <= 0.8, (provider, booked, open_minutes)
        assert all(start <= a.start_at < end for a in mine)
        assert len({a.start_at.astimezone(CHICAGO).date() for a in mine}) >= 5
        assert len(Counter(a.visit_type for a in mine)) == 5  # every visit type comes up
    assert _violations(chicago_practice) == []


def test_the_demo_weeks_statuses_follow_the_clock(chicago_practice):
    _, _, _, _, week = _demo_book(chicago_practice)

    today = NOW.date()
    statuses = defaultdict(Counter)
    for appointment in week:
        day = appointment.start_at.astimezone(CHICAGO).date()
        if day < today:
            when = "earlier day"
        elif appointment.start_at <= NOW:
            when = "earlier today"
        else:
            when = "ahead"
        statuses[when][appointment.status] += 1
    assert set(statuses["earlier day"]) <= {"fulfilled", "noshow", "cancelled"}
    assert statuses["earlier day"]["fulfilled"] > 10
    assert set(statuses["earlier today"]) == {"arrived"}
    assert set(statuses["ahead"]) == {"booked"}
    assert statuses["ahead"]["booked"] > 50
    cancelled = [a for a in week if a.status == AppointmentStatus.CANCELLED]
    assert all(a.cancel_reason for a in cancelled)


def test_the_demo_patient_gets_a_confirmed_follow_up_in_the_coming_days(chicago_practice):
    _, first, _, jordan, _ = _demo_book(chicago_practice)

    [upcoming] = Appointment.objects.filter(patient=jordan)
    assert upcoming.provider == first
    assert upcoming.status == AppointmentStatus.BOOKED
    assert upcoming.visit_type == "Follow-up"
    assert (
        NOW.date()
        < upcoming.start_at.astimezone(CHICAGO).date()
        <= NOW.date() + dt.timedelta(days=7)
    )


def test_new_patients_have_a_new_patient_visit_and_no_earlier_one(chicago_practice):
    _demo_book(chicago_practice)

    new_visits = Appointment.objects.filter(practice=chicago_practice, visit_type="New patient")
    assert new_visits.exists()
    for visit in new_visits:
        assert not Appointment.objects.filter(
            patient=visit.patient, start_at__lt=visit.start_at
        ).exists()
    assert (
        not Patient.objects.filter(practice=chicago_practice)
        .exclude(appointments__isnull=False)
        .exists()
    )


def test_the_demo_book_is_the_same_for_the_same_day(chicago_practice, other_practice):
    other_practice.time_zone = "America/Chicago"
    other_practice.save()

    def book(practice):
        _demo_book(practice)
        providers = {
            u: i for i, u in enumerate(practice.memberships.values_list("user", flat=True))
        }
        patients = {
            p: i
            for i, p in enumerate(practice.patients.order_by("pk").values_list("pk", flat=True))
        }
        return [
            (providers[a.provider_id], patients[a.patient_id], a.start_at, a.visit_type, a.status)
            for a in Appointment.objects.filter(practice=practice).order_by("start_at", "provider")
        ]

    assert book(chicago_practice) == book(other_practice)


def test_a_charts_history_with_a_provider_without_hours_falls_in_a_usual_week(chicago_practice):
    admin = factories.make_admin(chicago_practice)
    provider = _provider(chicago_practice, "Dr. No Hours")
    rng = random.Random(5)
    with time_machine.travel(NOW, tick=False):
        for _ in range(15):
            give_demo_appointments(
                admin, patient=factories.make_patient(chicago_practice), provider=provider, rng=rng
            )
    appointments = Appointment.objects.filter(provider=provider)
    assert appointments.count() >= 15 * 3
    assert appointments.filter(start_at__gt=NOW, status=AppointmentStatus.BOOKED).exists()
    assert appointments.filter(start_at__lt=NOW, status=AppointmentStatus.FULFILLED).exists()
    assert _violations(chicago_practice) == []


def test_the_demo_keeps_the_books_rules_for_every_appointment(db):
    """The seeded demo, history included: no provider is ever booked twice at once, and every
    appointment is inside working hours and outside blocked times."""
    call_command("seed_demo")
    practice = Practice.objects.get(slug=demo.DEMO_SLUG)

    assert _violations(practice) == []
    providers = practice.memberships.filter(role=Role.PROVIDER)
    assert providers.count() == 2
    for membership in providers:
        assert Appointment.objects.filter(HOLDS_TIME, provider=membership.user).count() > 60
    jordan = Patient.objects.get(email=demo.PATIENT_EMAIL)
    assert jordan.appointments.filter(
        status=AppointmentStatus.BOOKED, start_at__gt=dt.datetime.now(dt.UTC)
    ).exists()
    assert practice.reminders_enabled
