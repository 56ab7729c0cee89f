"""Reads of the appointment book: open times, and what a day or week looks like for a set of
providers. Each reads a fixed number of queries whatever the number of providers, days or
appointments (hours, blocked times, appointments: one query each)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import NamedTuple

from django.db.models import Q, QuerySet
from django.utils import timezone

from portico.practices.models import Membership, Role
from portico.scheduling import calendar
from portico.scheduling.calendar import Interval, Stretch
from portico.scheduling.models import (
    HOLDS_TIME,
    Appointment,
    BlockedTime,
    Location,
    VisitType,
    WorkingHours,
)
from portico.scheduling.services import zone_of

MAX_DAYS = 120


def providers(practice) -> QuerySet[Membership]:
    """The practice's providers who work there now (the people with a schedule), by name."""
    return (
        Membership.objects.filter(practice=practice, is_active=True, role=Role.PROVIDER)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def visit_types(practice, *, active_only: bool = True) -> QuerySet[VisitType]:
    found = VisitType.objects.filter(practice=practice)
    return found.filter(is_active=True) if active_only else found


def locations(practice, *, active_only: bool = True) -> QuerySet[Location]:
    found = Location.objects.filter(practice=practice)
    return found.filter(is_active=True) if active_only else found


def appointment_of(practice, public_id) -> Appointment | None:
    """One appointment of the practice by its public id (None: not this practice's)."""
    return (
        Appointment.objects.select_related(
            "practice", "patient", "provider", "appointment_type", "location"
        )
        .filter(practice=practice, public_id=public_id)
        .first()
    )


def provider_of(practice, user_public_id):
    """A provider of the practice (the User) by their account's public id, else None."""
    membership = providers(practice).filter(user__public_id=user_public_id).first()
    return membership.user if membership is not None else None


def visit_type_of(practice, public_id, *, active_only: bool = True) -> VisitType | None:
    """One visit type of the practice by its public id (None: not this practice's)."""
    return visit_types(practice, active_only=active_only).filter(public_id=public_id).first()


def location_of(practice, public_id) -> Location | None:
    """One location of the practice (active or not) by its public id."""
    return locations(practice, active_only=False).filter(public_id=public_id).first()


def blocked_time_of(practice, public_id) -> BlockedTime | None:
    """One blocked time of the practice by its public id (None: not this practice's)."""
    return (
        BlockedTime.objects.select_related("practice", "provider")
        .filter(practice=practice, public_id=public_id)
        .first()
    )


def _stretches_by_provider(practice, provider_ids) -> dict[int, list[Stretch]]:
    found: dict[int, list[Stretch]] = defaultdict(list)
    rows = WorkingHours.objects.filter(practice=practice, provider_id__in=provider_ids)
    for provider_id, weekday, start_time, end_time, location_id in rows.values_list(
        "provider_id", "weekday", "start_time", "end_time", "location_id"
    ):
        found[provider_id].append(Stretch(weekday, start_time, end_time, location_id))
    return found


def _blocked(practice, provider_ids, start, end) -> list[BlockedTime]:
    return list(
        BlockedTime.objects.filter(practice=practice, start_at__lt=end, end_at__gt=start).filter(
            Q(provider_id__in=provider_ids) | Q(provider__isnull=True)
        )
    )


def _window(first_day: dt.date, days: int, zone) -> tuple[dt.datetime, dt.datetime]:
    start, _ = calendar.day_bounds(first_day, zone)
    _, end = calendar.day_bounds(first_day + dt.timedelta(days=days - 1), zone)
    return start, end


def _holding_time(provider_ids, start, end) -> QuerySet[Appointment]:
    """Appointments of these providers that hold time in [start, end). The lower bound on
    start_at (no appointment is longer than MAX_LENGTH_HOURS) lets the index do the work."""
    return Appointment.objects.filter(
        HOLDS_TIME,
        provider_id__in=provider_ids,
        start_at__lt=end,
        start_at__gte=start - dt.timedelta(hours=Appointment.MAX_LENGTH_HOURS),
        end_at__gt=start,
    )


def open_times(
    practice,
    provider,
    visit_type: VisitType,
    *,
    first_day: dt.date | None = None,
    days: int = 90,
    now: dt.datetime | None = None,
    ignore: Appointment | None = None,
) -> list[Interval]:
    """The times a visit of `visit_type` can be booked with `provider` from `first_day` (today
    in the practice's time zone) for `days` days: working hours less blocked times and the
    appointments that hold time, cut to the visit's length, none in the past. `ignore` is an
    appointment being moved (its own time counts as free). Four queries."""
    zone = zone_of(practice)
    now = now or timezone.now()
    first_day = first_day or now.astimezone(zone).date()
    days = max(1, min(days, MAX_DAYS))
    start, end = _window(first_day, days, zone)
    stretches = _stretches_by_provider(practice, [provider.pk]).get(provider.pk, [])
    if not stretches:
        return []
    hours = calendar.working_intervals(stretches, first_day, days, zone)
    busy = [(b.start_at, b.end_at) for b in _blocked(practice, [provider.pk], start, end)]
    taken = _holding_time([provider.pk], start, end)
    if ignore is not None:
        taken = taken.exclude(pk=ignore.pk)
    busy.extend(taken.values_list("start_at", "end_at"))
    free = calendar.subtract(hours, busy)
    return calendar.slots(free, dt.timedelta(minutes=visit_type.duration_minutes), not_before=now)


class BookedTime(NamedTuple):
    """An appointment's time and status, without the rest of it (the week table's counts)."""

    provider_id: int
    start_at: dt.datetime
    end_at: dt.datetime
    status: str


@dataclass
class ProviderDay:
    """One provider's day in the book: appointments in order and the open stretches."""

    day: dt.date
    appointments: list[Appointment] | list[BookedTime] = field(default_factory=list)
    open: list[Interval] = field(default_factory=list)
    blocked: list[BlockedTime] = field(default_factory=list)
    working: bool = False

    @property
    def booked_count(self) -> int:
        return sum(1 for a in self.appointments if a.status != "cancelled")

    @property
    def open_minutes(self) -> int:
        return int(sum((i.end - i.start).total_seconds() for i in self.open) // 60)


def _by_day(items: list, starts: list[dt.datetime], day_starts, end) -> list[list]:
    """`items` (in time order, starting at `starts`) on the day they start, in one sweep; those
    starting before the first day or at `end` (the last day's end) or later are left out."""
    found: list[list] = [[] for _ in day_starts]
    index, last = -1, len(day_starts) - 1
    for item, at in zip(items, starts, strict=True):
        while index < last and at >= day_starts[index + 1]:
            index += 1
        if index >= 0 and at < end:
            found[index].append(item)
    return found


@dataclass
class ProviderSchedule:
    membership: Membership
    days: list[ProviderDay]


def schedule(
    practice, memberships: list[Membership], first_day: dt.date, days: int, *, details: bool = True
) -> list[ProviderSchedule]:
    """The book for these providers over `days` days from `first_day`: per provider and day the
    appointments (cancelled ones included, for the record), blocked times and open stretches
    (working hours less blocked times and appointments that hold time). Three queries.

    `details=False` reads only the appointments that hold time, each as its time and status
    (`BookedTime`), for a view that counts them (the week of every provider) rather than
    showing who comes."""
    zone = zone_of(practice)
    days = max(1, min(days, 31))
    start, end = _window(first_day, days, zone)
    provider_ids = [m.user_id for m in memberships]
    stretches = _stretches_by_provider(practice, provider_ids)
    blocked = _blocked(practice, provider_ids, start, end)
    in_window = Appointment.objects.filter(
        practice=practice,
        provider_id__in=provider_ids,
        start_at__lt=end,
        start_at__gte=start - dt.timedelta(hours=Appointment.MAX_LENGTH_HOURS),
        end_at__gt=start,
    ).order_by("start_at", "id")
    appointments: list = (
        list(in_window.select_related("patient", "appointment_type", "location"))
        if details
        else [
            BookedTime(*row)
            for row in in_window.filter(HOLDS_TIME).values_list(
                "provider_id", "start_at", "end_at", "status"
            )
        ]
    )
    by_provider: dict[int, list] = defaultdict(list)
    for appointment in appointments:
        by_provider[appointment.provider_id].append(appointment)
    day_list = [first_day + dt.timedelta(days=i) for i in range(days)]
    bounds = [calendar.day_bounds(day, zone) for day in day_list]
    day_starts = [d_start for d_start, _ in bounds]

    result = []
    for membership in memberships:
        pid = membership.user_id
        hours = calendar.working_intervals(stretches.get(pid, []), first_day, days, zone)
        mine = by_provider.get(pid, [])
        my_blocks = [b for b in blocked if b.provider_id in (None, pid)]
        busy = [(b.start_at, b.end_at) for b in my_blocks]
        busy.extend((a.start_at, a.end_at) for a in mine if a.status != "cancelled")
        free = calendar.subtract(hours, busy)
        appointments_of = _by_day(mine, [a.start_at for a in mine], day_starts, end)
        open_of = _by_day(free, [i.start for i in free], day_starts, end)
        working_of = _by_day(hours, [i.start for i in hours], day_starts, end)
        provider_days = []
        for index, (day, (d_start, d_end)) in enumerate(zip(day_list, bounds, strict=True)):
            provider_days.append(
                ProviderDay(
                    day=day,
                    appointments=appointments_of[index],
                    open=open_of[index],
                    blocked=[
                        b
                        for b in my_blocks
                        if calendar.overlaps(b.start_at, b.end_at, d_start, d_end)
                    ],
                    working=bool(working_of[index]),
                )
            )
        result.append(ProviderSchedule(membership, provider_days))
    return result


def patient_appointments(patient) -> QuerySet[Appointment]:
    """A chart's appointments, newest first, with what the chart's list shows."""
    return Appointment.objects.filter(patient=patient).select_related(
        "provider", "appointment_type", "location"
    )
