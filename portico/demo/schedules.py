"""Demo schedules (SPEC §8.4 schedule part): the demo practice's visit types, a second
location, each provider's working week, the practice's holidays and a provider's weekly team
meeting as blocked times, and a week of appointments for each provider around today, filling
about two thirds of their open time. Everything goes through portico.scheduling.services, so
the book's rules hold for the demo as they do for staff: inside working hours, never in a
blocked time, never two appointments of one provider at once.

Deterministic for a given day: the random choices come from a seeded random.Random, and the
week is walked in time order.
"""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone

from portico.demo.appointments import (
    REASONS,
    book_at,
    book_first_open,
    free_intervals,
    give_demo_appointments,
    visit_types,
)
from portico.practices import services as practice_services
from portico.practices.models import Membership, Role
from portico.scheduling import calendar
from portico.scheduling import services as scheduling
from portico.scheduling.calendar import Stretch
from portico.scheduling.models import Appointment, BlockedTime, VisitType

# How often each visit type is booked in a busy week (new patients only while some are left).
WEEK_MIX = (
    ("Follow-up", 40),
    ("Sick visit", 18),
    ("Annual physical", 14),
    ("Telehealth", 16),
    ("New patient", 12),
)

WESTSIDE = {
    "name": "Westside Clinic",
    "address_line1": "2200 Wabash Avenue",
    "address_line2": "Suite 4",
    "city": "Springfield",
    "state": "IL",
    "postal_code": "62704",
    "phone": "(217) 555-0160",
}

# Local (start, end) stretches.
MORNING = (dt.time(8, 30), dt.time(12, 0))
AFTERNOON = (dt.time(13, 0), dt.time(17, 0))
EARLY_MORNING = (dt.time(8, 0), dt.time(12, 0))
EARLY_AFTERNOON = (dt.time(13, 0), dt.time(16, 30))
LATE_MORNING = (dt.time(9, 0), dt.time(13, 0))
EVENING = (dt.time(14, 0), dt.time(18, 0))


def full_days_short_friday() -> list[Stretch]:
    """Monday to Thursday 8:30–12:00 and 13:00–17:00, Friday mornings only."""
    days = [Stretch(day, *part) for day in range(4) for part in (MORNING, AFTERNOON)]
    return [*days, Stretch(4, *MORNING)]


def two_locations(westside_id: int) -> list[Stretch]:
    """Monday, Wednesday and Friday 8:00–12:00 and 13:00–16:30 at the practice; Tuesday and
    Thursday 9:00–13:00 and 14:00–18:00 (an evening clinic) at Westside."""
    main = [Stretch(day, *part) for day in (0, 2, 4) for part in (EARLY_MORNING, EARLY_AFTERNOON)]
    westside = [
        Stretch(day, *part, location_id=westside_id)
        for day in (1, 3)
        for part in (LATE_MORNING, EVENING)
    ]
    return sorted([*main, *westside], key=lambda s: (s.weekday, s.start_time))


# A provider's weekly team meeting: Wednesday 16:00–17:00, from this many weeks back to ahead.
MEETING_WEEKDAY, MEETING = 2, (dt.time(16, 0), dt.time(17, 0))
MEETING_WEEKS = (-4, 12)
# Holidays are blocked from this many days back (the length of the demo's history) to a year on.
HOLIDAY_DAYS_BACK = 730

# The week of appointments: from this many days before today to this many after (two to four
# working days back, whatever the weekday).
DAYS_BEFORE, DAYS_AFTER = 4, 4
# The share of open time the week's appointments fill, roughly.
FILL = 2 / 3


@dataclass(frozen=True)
class DemoProvider:
    """A demo provider and their regular week."""

    user: object
    stretches: Sequence[Stretch]


def westside(actor, practice):
    """The practice's second location."""
    return scheduling.location_save(actor, practice=practice, **WESTSIDE)


def holidays(year: int) -> list[tuple[dt.date, str]]:
    """The days the practice closes in `year` (a holiday on a Saturday is kept the Friday
    before, on a Sunday the Monday after, as US employers observe them)."""

    def nth(weekday: int, month: int, n: int) -> dt.date:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def last(weekday: int, month: int) -> dt.date:
        end = dt.date(year, month + 1, 1) - dt.timedelta(days=1)
        return end - dt.timedelta(days=(end.weekday() - weekday) % 7)

    def observed(day: dt.date) -> dt.date:
        shift = {5: -1, 6: 1}.get(day.weekday(), 0)
        return day + dt.timedelta(days=shift)

    return [
        (observed(dt.date(year, 1, 1)), "New Year's Day: practice closed"),
        (last(0, 5), "Memorial Day: practice closed"),
        (observed(dt.date(year, 7, 4)), "Independence Day: practice closed"),
        (nth(0, 9, 1), "Labor Day: practice closed"),
        (nth(3, 11, 4), "Thanksgiving: practice closed"),
        (observed(dt.date(year, 12, 25)), "Christmas Day: practice closed"),
    ]


def block_holidays(actor, practice, today: dt.date) -> list[BlockedTime]:
    """Block the whole practice on its holidays, over the demo's history and the year ahead."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    first, last_day = today - dt.timedelta(days=HOLIDAY_DAYS_BACK), today + dt.timedelta(days=366)
    blocked = []
    for year in range(first.year, last_day.year + 1):
        for day, label in holidays(year):
            if first <= day <= last_day:
                start, end = calendar.day_bounds(day, zone)
                blocked.append(
                    scheduling.blocked_time_add(
                        actor, practice=practice, start_at=start, end_at=end, label=label
                    )
                )
    return blocked


def block_team_meetings(actor, practice, provider, today: dt.date) -> list[BlockedTime]:
    """The provider's weekly team meeting, from a few weeks back to a few months ahead."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    monday = today - dt.timedelta(days=today.weekday())
    blocked = []
    for week in range(MEETING_WEEKS[0], MEETING_WEEKS[1] + 1):
        day = monday + dt.timedelta(weeks=week, days=MEETING_WEEKDAY)
        blocked.append(
            scheduling.blocked_time_add(
                actor,
                practice=practice,
                provider=provider,
                start_at=calendar.local_datetime(day, MEETING[0], zone),
                end_at=calendar.local_datetime(day, MEETING[1], zone),
                label="Weekly team meeting",
            )
        )
    return blocked


class PatientPools:
    """Who comes in during the week: new patients (for "New patient" visits) and returning
    ones, each drawn once before anyone comes a second time."""

    def __init__(self, rng: random.Random, returning: Sequence, new: Sequence = ()):
        self.rng = rng
        self.returning = list(returning)
        self.new = list(new)
        self._queue: list = []

    def take_new(self):
        return self.new.pop(0) if self.new else None

    def take_returning(self):
        if not self._queue:
            self._queue = list(self.returning)
            self.rng.shuffle(self._queue)
        return self._queue.pop()


def fill_week(
    actor,
    *,
    practice,
    provider: DemoProvider,
    pools: PatientPools,
    rng: random.Random,
    types: dict[str, VisitType],
    now: dt.datetime | None = None,
) -> list[Appointment]:
    """Book the provider's days from DAYS_BEFORE days ago to DAYS_AFTER days ahead, about
    FILL of their open time: walk each free stretch of each day from its start, booking a
    visit or leaving a gap so that the share booked stays near FILL."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    today = now.astimezone(zone).date()
    names = [name for name, _ in WEEK_MIX]
    weights = [weight for _, weight in WEEK_MIX]
    booked: list[Appointment] = []
    for offset in range(-DAYS_BEFORE, DAYS_AFTER + 1):
        day = today + dt.timedelta(days=offset)
        for interval in free_intervals(practice, provider.user, provider.stretches, day):
            cursor, used, walked = interval.start, 0.0, 0.0
            while True:
                name = rng.choices(names, weights)[0]
                length = dt.timedelta(minutes=types[name].duration_minutes)
                if cursor + length > interval.end:
                    name = "Telehealth"
                    length = dt.timedelta(minutes=types[name].duration_minutes)
                    if cursor + length > interval.end:
                        break
                # Book while the share booked is under FILL (with a little chance either way).
                if used < FILL * (walked + length.total_seconds()) * rng.uniform(0.85, 1.15):
                    patient = pools.take_new() if name == "New patient" else None
                    if patient is None:
                        name = "Follow-up" if name == "New patient" else name
                        length = dt.timedelta(minutes=types[name].duration_minutes)
                        patient = pools.take_returning()
                    booked.append(
                        book_at(
                            actor,
                            patient=patient,
                            provider=provider.user,
                            visit_type=types[name],
                            start_at=cursor,
                            reason=rng.choice(REASONS[name]),
                            rng=rng,
                            now=now,
                        )
                    )
                    used += length.total_seconds()
                else:
                    length = dt.timedelta(minutes=rng.choice((15, 20, 20, 30)))
                    if cursor + length > interval.end:
                        break
                walked += length.total_seconds()
                cursor += length
    return booked


# Every this-many-th scheduled chart is a new patient (a "New patient" visit, no history).
NEW_EVERY = 7
# The share of scheduled charts who see the first provider (the second works more hours).
FIRST_PROVIDERS_SHARE = 0.4


def give_demo_schedules(
    admin,
    *,
    practice,
    providers: Sequence,
    jordan,
    returning: Sequence,
    scheduled: Sequence,
    now: dt.datetime | None = None,
) -> list[Appointment]:
    """The demo practice's schedules and its providers' week (see the module's docstring):
    the first provider works full days with a short Friday at the practice and has a weekly
    team meeting; the second works at the practice and, two days a week, at Westside Clinic.
    `jordan` (the README's demo patient) gets a Follow-up in the coming days with the first
    provider; `returning` (charts with a record) see the first provider; `scheduled` (charts
    with demographics only) are split between both, one in NEW_EVERY a new patient, the others
    given a past visit or two. Appointment reminders are turned on. Returns the week's
    appointments."""
    now = now or timezone.now()
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    today = now.astimezone(zone).date()
    rng = random.Random(2029)  # noqa: S311 (demo data, not security)
    types = visit_types(admin, practice)
    location = westside(admin, practice)
    first, second = providers
    week = [
        DemoProvider(first, full_days_short_friday()),
        DemoProvider(second, two_locations(location.pk)),
    ]
    for provider in week:
        scheduling.working_hours_set(
            admin, practice=practice, provider=provider.user, stretches=provider.stretches
        )
    block_holidays(admin, practice, today)
    block_team_meetings(admin, practice, first, today)
    _reminders_on(admin, practice)

    booked = []
    jordans = book_first_open(
        admin,
        patient=jordan,
        provider=first,
        visit_type=types["Follow-up"],
        first_day=today + dt.timedelta(days=1),
        not_before=dt.time(10, 0),
        reason="Review lab results",
        rng=rng,
        now=now,
    )
    if jordans is not None:
        booked.append(jordans)

    new = list(scheduled[::NEW_EVERY])
    old = [p for i, p in enumerate(scheduled) if i % NEW_EVERY]
    split_new = round(len(new) * FIRST_PROVIDERS_SHARE)
    split_old = round(len(old) * FIRST_PROVIDERS_SHARE)
    pools = {
        first: PatientPools(rng, [*returning, *old[:split_old]], new[:split_new]),
        second: PatientPools(rng, old[split_old:], new[split_new:]),
    }
    for provider in week:
        booked += fill_week(
            admin,
            practice=practice,
            provider=provider,
            pools=pools[provider.user],
            rng=rng,
            types=types,
            now=now,
        )
    # The scheduled charts' past: a visit or two for returning patients; the new patients the
    # week had no room for come in the weeks after.
    for provider, patients in ((first, old[:split_old]), (second, old[split_old:])):
        for patient in patients:
            give_demo_appointments(
                admin, patient=patient, provider=provider, rng=rng, past=(1, 1), upcoming=(0, 0)
            )
    for provider in (first, second):
        for patient in pools[provider].new:
            give_demo_appointments(
                admin,
                patient=patient,
                provider=provider,
                rng=rng,
                past=(0, 0),
                upcoming=(1, 1),
                ahead=(DAYS_AFTER + 1, 30),
                mix=("New patient",),
            )
    return booked


def _reminders_on(admin, practice) -> None:
    """Appointment reminders on for the demo practice, for every provider (EHR Settings >
    Patient communications > Appointment reminders)."""
    practice_services.reminder_settings_set(
        admin,
        practice=practice,
        enabled=True,
        sender_ids=list(
            Membership.objects.filter(practice=practice, role=Role.PROVIDER).values_list(
                "pk", flat=True
            )
        ),
    )
