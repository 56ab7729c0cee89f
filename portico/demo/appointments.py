"""Demo appointments: the visit types, how one is booked with the status its time calls for,
and a chart's history (a few past visits and one or two ahead). Each is at an open time of the
provider (inside working hours, outside blocked times, never over another appointment of the
provider) and booked through portico.scheduling.services, without emails. demo.schedules sets
the practice's schedules up and fills each provider's week with these."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo
from collections.abc import Iterable, Sequence

from django.db.models import Q
from django.utils import timezone

from portico.scheduling import calendar
from portico.scheduling import services as scheduling
from portico.scheduling.calendar import Interval, Stretch
from portico.scheduling.models import (
    HOLDS_TIME,
    Appointment,
    AppointmentStatus,
    BlockedTime,
    VisitType,
    WorkingHours,
)

# The practice's visit types and their length in minutes.
VISIT_TYPES = {
    "New patient": 40,
    "Follow-up": 20,
    "Annual physical": 40,
    "Sick visit": 20,
    "Telehealth": 15,
}
# What a patient comes for, per visit type (never sent anywhere: the reason stays in the book).
REASONS = {
    "New patient": ("Establish care", "New patient: transferring care", "New patient visit"),
    "Follow-up": (
        "Blood pressure follow-up",
        "Review lab results",
        "Diabetes check",
        "Medication review",
        "Thyroid follow-up",
    ),
    "Annual physical": ("Yearly check-up", "Annual wellness visit"),
    "Sick visit": ("Cough and sore throat", "Ear pain", "Rash on arm", "Low back pain", "Fever"),
    "Telehealth": ("Medication question", "Lab results by video", "Follow-up by video"),
}
# Why a past visit was cancelled (kept in the book, never emailed).
CANCEL_REASONS = ("Patient called to reschedule", "Patient is feeling better", "Work conflict")

# The visit types of a returning patient's past and upcoming visits.
HISTORY_MIX = ("Annual physical", "Follow-up", "Follow-up", "Sick visit", "Telehealth")
# A provider with no working hours yet (a practice that has not set its schedule up) is given
# appointments in a usual week, Monday to Friday 9–12 and 13–17, booked outside the book's
# hours check (the only case the demo turns it off).
USUAL_WEEK = [
    Stretch(day, dt.time(start), dt.time(end))
    for day in range(5)
    for start, end in ((9, 12), (13, 17))
]
# Days tried to find an open time for one visit before it is left out.
TRIES = 6


def visit_types(actor, practice) -> dict[str, VisitType]:
    """The practice's demo visit types by name (made when missing)."""
    found = {v.name: v for v in VisitType.objects.filter(practice=practice)}
    for name, minutes in VISIT_TYPES.items():
        if name not in found:
            found[name] = scheduling.visit_type_save(
                actor, practice=practice, name=name, duration_minutes=minutes
            )
    return found


def free_intervals(
    practice, provider, stretches: Iterable[Stretch], day: dt.date
) -> list[Interval]:
    """The provider's time on `day` that is neither blocked nor held by an appointment: the
    same arithmetic as the book's open times, for any day (past ones too). Two queries."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    hours = calendar.working_intervals(stretches, day, 1, zone)
    if not hours:
        return []
    start, end = calendar.day_bounds(day, zone)
    busy = list(
        BlockedTime.objects.filter(practice=practice, start_at__lt=end, end_at__gt=start)
        .filter(Q(provider=provider) | Q(provider__isnull=True))
        .values_list("start_at", "end_at")
    )
    busy.extend(
        Appointment.objects.filter(
            HOLDS_TIME,
            provider=provider,
            start_at__lt=end,
            start_at__gte=start - dt.timedelta(hours=Appointment.MAX_LENGTH_HOURS),
            end_at__gt=start,
        ).values_list("start_at", "end_at")
    )
    return calendar.subtract(hours, busy)


def stretches_of(practice, provider) -> list[Stretch]:
    return [
        Stretch(w.weekday, w.start_time, w.end_time, w.location_id)
        for w in WorkingHours.objects.filter(practice=practice, provider=provider)
    ]


def book_at(
    actor,
    *,
    patient,
    provider,
    visit_type: VisitType,
    start_at: dt.datetime,
    reason: str,
    rng: random.Random,
    now: dt.datetime,
    check_hours: bool = True,
) -> Appointment:
    """Book one demo appointment with the status its time calls for: ahead of `now` Confirmed;
    started earlier today Arrived; on an earlier day Completed, or now and then a no-show or
    a cancellation (booked, then cancelled with a reason, as the front desk would). No emails:
    the demo's mailbox is for what people do in it."""
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    # A margin, so a time that passes while the seed runs still books as upcoming.
    upcoming = start_at > now + dt.timedelta(minutes=2)
    cancel = False
    if upcoming:
        status = AppointmentStatus.BOOKED
    elif start_at.astimezone(zone).date() == now.astimezone(zone).date():
        status = AppointmentStatus.ARRIVED
    else:
        roll = rng.random()
        status = AppointmentStatus.NOSHOW if roll < 0.08 else AppointmentStatus.FULFILLED
        if roll > 0.93:
            status, cancel = AppointmentStatus.BOOKED, True
    appointment = scheduling.appointment_book(
        actor,
        patient=patient,
        provider=provider,
        appointment_type=visit_type,
        start_at=start_at,
        reason=reason,
        status=status,
        check_hours=check_hours,
        allow_past=not upcoming,
        notify=False,
    )
    if cancel:
        appointment = scheduling.appointment_cancel(
            actor, appointment=appointment, reason=rng.choice(CANCEL_REASONS)
        )
    return appointment


def give_demo_appointments(
    actor,
    *,
    patient,
    provider,
    rng: random.Random,
    past: tuple[int, int] = (2, 4),
    upcoming: tuple[int, int] = (1, 2),
    ahead: tuple[int, int] = (3, 90),
    mix: Sequence[str] = HISTORY_MIX,
    now: dt.datetime | None = None,
) -> None:
    """Between `past` past visits 20 to 700 days back (now and then a no-show or a
    cancellation) and `upcoming` Confirmed ones `ahead` days ahead, of visit types drawn from
    `mix`, each at an open time of the provider (a visit with no open time on its day moves a
    day further off, a few times, then is left out)."""
    practice = patient.practice
    now = now or timezone.now()
    today = now.astimezone(zoneinfo.ZoneInfo(practice.time_zone)).date()
    types = visit_types(actor, practice)
    stretches = stretches_of(practice, provider)
    check_hours = bool(stretches)
    stretches = stretches or USUAL_WEEK
    wanted = [-rng.randint(20, 700) for _ in range(rng.randint(*past))]
    wanted += [rng.randint(*ahead) for _ in range(rng.randint(*upcoming))]
    for offset in wanted:
        name = rng.choice(mix)
        length = dt.timedelta(minutes=types[name].duration_minutes)
        for attempt in range(TRIES):
            day = today + dt.timedelta(days=offset + (attempt if offset > 0 else -attempt))
            times = calendar.slots(free_intervals(practice, provider, stretches, day), length)
            if times:
                book_at(
                    actor,
                    patient=patient,
                    provider=provider,
                    visit_type=types[name],
                    start_at=rng.choice(times).start,
                    reason=rng.choice(REASONS[name]),
                    rng=rng,
                    now=now,
                    check_hours=check_hours,
                )
                break


def book_first_open(
    actor,
    *,
    patient,
    provider,
    visit_type: VisitType,
    first_day: dt.date,
    not_before: dt.time,
    reason: str,
    rng: random.Random,
    now: dt.datetime | None = None,
) -> Appointment | None:
    """Book the first open time of the provider from `first_day` on (up to four weeks), at
    `not_before` o'clock or later in the day."""
    practice = patient.practice
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    now = now or timezone.now()
    stretches = stretches_of(practice, provider)
    length = dt.timedelta(minutes=visit_type.duration_minutes)
    for offset in range(28):
        day = first_day + dt.timedelta(days=offset)
        free = free_intervals(practice, provider, stretches, day)
        earliest = calendar.local_datetime(day, not_before, zone)
        times = calendar.slots(free, length, not_before=max(earliest, now))
        if times:
            return book_at(
                actor,
                patient=patient,
                provider=provider,
                visit_type=visit_type,
                start_at=times[0].start,
                reason=reason,
                rng=rng,
                now=now,
            )
    return None
