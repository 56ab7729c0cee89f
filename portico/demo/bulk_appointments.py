"""A fast bulk generator of appointment books, for benchmarks (bench/scheduling.py).

It writes straight to the tables (`core.bulk.insert_rows` for the appointments, bulk_create
for the few users, memberships, hours and blocked times): no audit events, no emails. A page
or a test never uses it; the demo's appointments go through the services
(portico.demo.appointments). Deterministic for a given seed and day.

What a generated book looks like, per practice:
* visit types as a primary-care practice has them (new patient 40 min, follow-up 20, annual
  physical 30, sick visit 20, telehealth 15, procedure 30, vaccination 10) and two locations;
* each provider works Monday to Friday in one of a few regular weeks (8–12 and 13–17, 9–12:30
  and 13:30–17:30, a short Friday, a half-day Wednesday), at one location or two;
* practice holidays (New Year's Day, Memorial Day, July 4, Labor Day, Thanksgiving and the day
  after, Christmas Day) and two vacation weeks a year per provider, as blocked times, with no
  appointment in them;
* appointments packed into the working hours with gaps between them, never across a break and
  never overlapping another of the provider's appointments that holds time (PostgreSQL's
  exclusion constraint `appointment_no_overlap` would refuse the batch); the days ahead fill
  less the further they are (a week out ~90% of a past day, three months out ~10%); past
  visits completed or missed, upcoming ones confirmed, some pending or tentative; a share of
  cancelled appointments whose time was booked again by another patient.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
import zoneinfo
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from portico.core.bulk import insert_rows
from portico.practices.models import Membership, Role
from portico.scheduling import calendar
from portico.scheduling.models import (
    Appointment,
    AppointmentStatus,
    BlockedTime,
    Location,
    VisitType,
    WorkingHours,
)

# (name, minutes, how often it is booked)
VISIT_TYPES = (
    ("New patient", 40, 10),
    ("Follow-up", 20, 35),
    ("Annual physical", 30, 12),
    ("Sick visit", 20, 18),
    ("Telehealth", 15, 12),
    ("Procedure", 30, 5),
    ("Vaccination", 10, 8),
)
LOCATIONS = (
    ("Downtown clinic", "100 Main Street", "Springfield", "IL", "62701"),
    ("Northside clinic", "2400 North Grand Avenue", "Springfield", "IL", "62702"),
)
# Regular weeks: weekday -> local (start, end) stretches. Monday is 0.
_FULL = (((8, 0), (12, 0)), ((13, 0), (17, 0)))
_LATE = (((9, 0), (12, 30)), ((13, 30), (17, 30)))
_EARLY = (((7, 30), (11, 30)), ((12, 30), (16, 30)))
WEEKS = (
    {day: _FULL for day in range(5)},
    {day: _LATE for day in range(5)},
    {**{day: _EARLY for day in range(4)}, 4: (((7, 30), (12, 0)),)},
    {**{day: _FULL for day in (0, 1, 3, 4)}, 2: (((8, 0), (12, 0)),)},
)
REASONS = (
    "",
    "",
    "Blood pressure check",
    "Follow-up on lab results",
    "Cough for two weeks",
    "Yearly check-up",
    "Medication review",
    "Knee pain",
    "Flu shot",
    "Diabetes follow-up",
    "Rash",
)
CANCEL_REASONS = ("Patient asked to reschedule", "Patient is ill", "Provider unavailable")
# How full a day ahead is, relative to a past day, by whole weeks ahead (week 0 is this week).
UPCOMING_FILL = (0.97, 0.9, 0.8, 0.68, 0.56, 0.45, 0.36, 0.28, 0.22, 0.17, 0.13, 0.1, 0.08)
MAX_FILL = 0.93  # of a day's working minutes: what a packed day of real visits comes to
GRID = 5  # minutes: appointments start on a 5-minute grid


@dataclass
class ProviderBook:
    """What the generator knows of one provider: their working week and their days off."""

    user_id: int
    week: dict[int, list[calendar.Stretch]]
    days_off: set[dt.date] = field(default_factory=set)


@dataclass
class Book:
    """A practice's schedule set-up, as bulk_schedule made or found it."""

    practice_id: int
    zone: zoneinfo.ZoneInfo
    visit_types: list[tuple[int, str, int, int]]  # (id, name, minutes, weight)
    providers: list[ProviderBook]
    holidays: set[dt.date]


FIRST_NAMES = ("Ana", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Irene", "Jamal")
LAST_NAMES = (
    "Alvarez", "Brooks", "Chen", "Dubois", "Evans", "Fischer", "Garcia", "Haddad", "Ito",
    "Jensen", "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Patel", "Quinn", "Rossi",
    "Schmidt", "Tran",
)  # fmt: skip


def bulk_providers(
    practice, *, count: int, password_hash: str, email_prefix: str, credentials=("MD",)
) -> list[int]:
    """`count` providers of `practice` (their user ids), emailed <prefix><n>@bench.test,
    sharing one password hash (no key derivation per account)."""
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    emails = [f"{email_prefix}{i}@bench.test" for i in range(count)]
    user_model.objects.bulk_create(
        user_model(
            email=email,
            password=password_hash,
            full_name=f"{FIRST_NAMES[i % len(FIRST_NAMES)]} "
            f"{LAST_NAMES[(i + practice.pk) % len(LAST_NAMES)]}",
        )
        for i, email in enumerate(emails)
    )
    ids = dict(user_model.objects.filter(email__in=emails).values_list("email", "id"))
    Membership.objects.bulk_create(
        Membership(
            user_id=ids[email],
            practice=practice,
            role=Role.PROVIDER,
            credential=credentials[i % len(credentials)],
        )
        for i, email in enumerate(emails)
    )
    return [ids[email] for email in emails]


def _holidays(first: dt.date, last: dt.date) -> set[dt.date]:
    """US practice holidays between `first` and `last`."""

    def nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
        day = dt.date(year, month, 1)
        day += dt.timedelta(days=(weekday - day.weekday()) % 7)
        return day + dt.timedelta(weeks=n - 1)

    found = set()
    for year in range(first.year, last.year + 1):
        may_31 = dt.date(year, 5, 31)
        thanksgiving = nth_weekday(year, 11, 3, 4)
        found |= {
            dt.date(year, 1, 1),
            may_31 - dt.timedelta(days=(may_31.weekday() - 0) % 7),  # Memorial Day
            dt.date(year, 7, 4),
            nth_weekday(year, 9, 0, 1),  # Labor Day
            thanksgiving,
            thanksgiving + dt.timedelta(days=1),
            dt.date(year, 12, 25),
        }
    return {day for day in found if first <= day <= last}


def bulk_schedule(
    practice,
    *,
    providers: Sequence[int],
    first_day: dt.date,
    last_day: dt.date,
    seed: int = 15,
    vacation_weeks: int = 2,
) -> Book:
    """The practice's visit types, locations, each provider's working week, the practice's
    holidays and the providers' vacations between `first_day` and `last_day` (blocked times).
    What is there already is kept (a provider with working hours keeps them)."""
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not security)
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    for name, minutes, _weight in VISIT_TYPES:
        VisitType.objects.get_or_create(
            practice=practice, name=name, defaults={"duration_minutes": minutes}
        )
    location_ids = []
    for name, line1, city, state, postal_code in LOCATIONS:
        location, _ = Location.objects.get_or_create(
            practice=practice,
            name=name,
            defaults={
                "address_line1": line1,
                "city": city,
                "state": state,
                "postal_code": postal_code,
                "phone": "(217) 555-0100",
            },
        )
        location_ids.append(location.pk)
    types = {v.name: v for v in VisitType.objects.filter(practice=practice)}
    visit_types = [(types[n].pk, n, types[n].duration_minutes, w) for n, _m, w in VISIT_TYPES]
    holidays = _holidays(first_day, last_day)
    have_hours = set(
        WorkingHours.objects.filter(practice=practice).values_list("provider_id", flat=True)
    )
    new_hours, blocked = [], []
    books = []
    for index, user_id in enumerate(providers):
        week_plan = WEEKS[index % len(WEEKS)]
        # Every other provider also sees patients at the second location on Tuesdays and
        # Thursdays; the others work at the practice's first location all week.
        week: dict[int, list[calendar.Stretch]] = {}
        for weekday, stretches in week_plan.items():
            where = location_ids[1] if index % 2 and weekday in (1, 3) else location_ids[0]
            week[weekday] = [
                calendar.Stretch(weekday, dt.time(*start), dt.time(*end), where)
                for start, end in stretches
            ]
        if user_id in have_hours:
            week = {}
            for w in WorkingHours.objects.filter(practice=practice, provider_id=user_id):
                week.setdefault(w.weekday, []).append(
                    calendar.Stretch(w.weekday, w.start_time, w.end_time, w.location_id)
                )
        else:
            new_hours.extend(
                WorkingHours(
                    practice=practice,
                    provider_id=user_id,
                    weekday=s.weekday,
                    start_time=s.start_time,
                    end_time=s.end_time,
                    location_id=s.location_id,
                )
                for stretches in week.values()
                for s in stretches
            )
        book = ProviderBook(user_id, week)
        # Vacation: whole Monday-to-Friday weeks, `vacation_weeks` a year.
        mondays = []
        monday = first_day - dt.timedelta(days=first_day.weekday())
        while monday <= last_day:
            mondays.append(monday)
            monday += dt.timedelta(weeks=1)
        years = max(1, round(len(mondays) / 52))
        for monday in rng.sample(mondays, min(len(mondays), vacation_weeks * years)):
            friday = monday + dt.timedelta(days=4)
            book.days_off |= {monday + dt.timedelta(days=i) for i in range(5)}
            blocked.append((user_id, monday, friday, "Vacation"))
        books.append(book)
    for day in sorted(holidays):
        blocked.append((None, day, day, "Practice closed"))
    with transaction.atomic():
        WorkingHours.objects.bulk_create(new_hours)
        if not have_hours:  # made once, with the hours
            BlockedTime.objects.bulk_create(
                BlockedTime(
                    practice=practice,
                    provider_id=provider_id,
                    start_at=calendar.day_bounds(start, zone)[0],
                    end_at=calendar.day_bounds(end, zone)[1],
                    label=label,
                )
                for provider_id, start, end, label in blocked
            )
    return Book(practice.pk, zone, visit_types, books, holidays)


def upcoming_fill(today: dt.date) -> Callable[[dt.date], float]:
    """How full a day is relative to a past day: 1 up to today, then UPCOMING_FILL by week."""
    this_monday = today - dt.timedelta(days=today.weekday())

    def fill(day: dt.date) -> float:
        if day <= today:
            return 1.0
        week = (day - this_monday).days // 7
        return UPCOMING_FILL[week] if week < len(UPCOMING_FILL) else UPCOMING_FILL[-1] / 2

    return fill


@dataclass
class _Day:
    provider: int  # index in book.providers
    day: dt.date
    intervals: list[tuple[dt.datetime, int, int | None]]  # (UTC start, minutes, location)
    minutes: int  # working minutes
    weight: float


def _days(book: Book, first_day: dt.date, last_day: dt.date, fill) -> list[_Day]:
    found = []
    day = first_day
    while day <= last_day:
        if day not in book.holidays:
            for index, provider in enumerate(book.providers):
                stretches = provider.week.get(day.weekday())
                if not stretches or day in provider.days_off:
                    continue
                intervals = []
                for s in stretches:
                    start = calendar.local_datetime(day, s.start_time, book.zone)
                    end = calendar.local_datetime(day, s.end_time, book.zone)
                    minutes = int((end - start).total_seconds() // 60) // GRID * GRID
                    intervals.append((start, minutes, s.location_id))
                minutes = sum(m for _s, m, _l in intervals)
                found.append(_Day(index, day, intervals, minutes, fill(day) * minutes))
        day += dt.timedelta(days=1)
    return found


def _shares(total: int, weights: Sequence[float]) -> list[int]:
    """`total` split in proportion to `weights`, in whole numbers that add up to it."""
    whole = sum(weights)
    if not whole:
        return [0] * len(weights)
    shares, running, given = [], 0.0, 0
    for w in weights:
        running += w
        upto = round(total * running / whole)
        shares.append(upto - given)
        given = upto
    return shares


def _pack(rng: random.Random, lengths: list[int], intervals) -> list[tuple[int, int]] | None:
    """Place visits of `lengths` minutes in the day's intervals with random gaps between them:
    for each visit (interval index, minutes after the interval's start), or None when they do
    not all fit."""
    rooms = [minutes for _start, minutes, _loc in intervals]
    inside: list[list[int]] = [[] for _ in intervals]
    # Longest first (they are the hardest to fit), each into an interval with room for it,
    # chosen in proportion to the room left, so the slack spreads over the day.
    for i in sorted(range(len(lengths)), key=lambda i: -lengths[i]):
        fits = [j for j, room in enumerate(rooms) if room >= lengths[i]]
        if not fits:
            return None
        j = rng.choices(fits, weights=[rooms[j] for j in fits])[0] if len(fits) > 1 else fits[0]
        rooms[j] -= lengths[i]
        inside[j].append(i)
    for visits in inside:
        rng.shuffle(visits)
    placed: list[tuple[int, int]] = [(0, 0)] * len(lengths)
    for j, (_start, minutes, _loc) in enumerate(intervals):
        visits = inside[j]
        if not visits:
            continue
        gaps = [0] * (len(visits) + 1)
        for g in rng.choices(
            range(len(gaps)), k=(minutes - sum(lengths[i] for i in visits)) // GRID
        ):
            gaps[g] += 1
        at = 0
        for position, i in enumerate(visits):
            at += gaps[position] * GRID
            placed[i] = (j, at)
            at += lengths[i]
    return placed


def bulk_generate_appointments(
    book: Book,
    *,
    patients: Sequence[int],
    appointments: int,
    first_day: dt.date,
    last_day: dt.date,
    fill: Callable[[dt.date], float] | None = None,
    cancelled_share: float = 0.06,
    lead_days: tuple[int, int] = (1, 60),
    now: dt.datetime | None = None,
    seed: int = 15,
    batch_size: int = 5000,
    progress: Callable[[int], None] | None = None,
) -> int:
    """`appointments` appointments (held ones and cancelled ones) of the book's providers from
    `first_day` to `last_day`, spread over the working days in proportion to `fill(day)` (by
    default upcoming_fill: every past day alike, the days ahead emptier by the week).

    Each was booked `lead_days` (a random number of days in that range) before its start, or
    lately if that is still ahead. Patients come mostly from the provider's own panel
    (patients[i::providers]). Raises
    ValueError when the held appointments would fill a day past MAX_FILL of its working time
    (give more providers or days, or fewer appointments). Returns how many were made."""
    now = (now or timezone.now()).replace(microsecond=0)
    today = now.astimezone(book.zone).date()
    days = _days(book, first_day, last_day, fill or upcoming_fill(today))
    held_total = round(appointments * (1 - cancelled_share))
    mean = sum(m * w for _i, _n, m, w in book.visit_types) / sum(w for *_x, w in book.visit_types)
    whole = sum(d.weight for d in days)
    busiest = max((d.weight / d.minutes for d in days if d.minutes), default=0.0)
    if whole and held_total * mean / whole * busiest > MAX_FILL:
        raise ValueError(
            f"{held_total:,} appointments of {mean:.1f} minutes on average would fill the "
            f"busiest days to {held_total * mean / whole * busiest:.0%} of their working time "
            f"(at most {MAX_FILL:.0%}): give more providers or days"
        )
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not security)
    type_ids, type_names, type_minutes, type_weights = zip(*book.visit_types, strict=True)
    shortest = min(range(len(type_minutes)), key=lambda i: type_minutes[i])
    held_counts = _shares(held_total, [d.weight for d in days])
    cancelled_counts = _shares(appointments - held_total, held_counts)
    count = len(book.providers)
    panels = [patients[i::count] or patients for i in range(count)]

    def new_uuid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    rows: list[dict] = []
    made = 0
    carry = 0  # held appointments a too-full day could not take, given to the next days

    def flush() -> None:
        nonlocal made, rows
        if rows:
            with transaction.atomic():
                insert_rows(Appointment, rows)
            made += len(rows)
            rows = []
            if progress is not None:
                progress(made)

    def row(d: _Day, start: dt.datetime, kind: int, location, status: str, **extra) -> dict:
        length = type_minutes[kind]
        lead = dt.timedelta(days=rng.randint(*lead_days), minutes=rng.randint(0, 600))
        scheduled = start - lead
        if scheduled >= now:
            scheduled = now - dt.timedelta(minutes=rng.randint(1, 14 * 24 * 60))
        panel = panels[d.provider] if rng.random() < 0.85 else patients
        return {
            "public_id": new_uuid(),
            "practice_id": book.practice_id,
            "patient_id": panel[rng.randrange(len(panel))],
            "provider_id": book.providers[d.provider].user_id,
            "start_at": start,
            "end_at": start + dt.timedelta(minutes=length),
            "appointment_type_id": type_ids[kind],
            "visit_type": type_names[kind],
            "location_id": location,
            "reason": rng.choice(REASONS),
            "status": status,
            "cancel_reason": extra.get("cancel_reason", ""),
            "sequence": extra.get("sequence", 0),
            "scheduled_at": scheduled,
            "created_at": scheduled,
            "updated_at": extra.get("updated_at", scheduled),
        }

    for d, wanted, cancelled in zip(days, held_counts, cancelled_counts, strict=True):
        n = wanted + carry
        kinds = rng.choices(range(len(type_ids)), weights=type_weights, k=n)
        limit = int(d.minutes * MAX_FILL)
        # Too long for the day: shorter visits first, then fewer (carried to the next days).
        while kinds and sum(type_minutes[k] for k in kinds) > limit:
            longest = max(range(len(kinds)), key=lambda i: type_minutes[kinds[i]])
            if type_minutes[kinds[longest]] > type_minutes[shortest]:
                kinds[longest] = shortest
            else:
                kinds.pop()
        placed = _pack(rng, [type_minutes[k] for k in kinds], d.intervals)
        while placed is None:
            kinds.pop()
            placed = _pack(rng, [type_minutes[k] for k in kinds], d.intervals)
        carry = n - len(kinds)
        times = []
        for kind, (j, at) in zip(kinds, placed, strict=True):
            start = d.intervals[j][0] + dt.timedelta(minutes=at)
            location = d.intervals[j][2]
            if start + dt.timedelta(minutes=type_minutes[kind]) <= now:
                status = (
                    AppointmentStatus.NOSHOW if rng.random() < 0.06 else AppointmentStatus.FULFILLED
                )
            elif start <= now:
                status = AppointmentStatus.ARRIVED
            else:
                r = rng.random()
                status = (
                    AppointmentStatus.PENDING
                    if r < 0.04
                    else AppointmentStatus.PROPOSED
                    if r < 0.07
                    else AppointmentStatus.BOOKED
                )
            rows.append(row(d, start, kind, location, status))
            times.append((start, kind, location))
        # Cancelled ones: a time another patient then booked (so it is held again).
        for _ in range(cancelled if times else 0):
            start, kind, location = rng.choice(times)
            cancelled_row = row(d, start, kind, location, AppointmentStatus.CANCELLED)
            cancelled_row.update(
                cancel_reason=rng.choice(CANCEL_REASONS),
                sequence=1,
                updated_at=min(now, start - dt.timedelta(hours=rng.randint(2, 72))),
            )
            cancelled_row["updated_at"] = max(
                cancelled_row["updated_at"], cancelled_row["created_at"]
            )
            rows.append(cancelled_row)
        if len(rows) >= batch_size:
            flush()
    flush()
    if carry:
        raise ValueError(f"{carry:,} appointments did not fit in the last days: give more days")
    return made
