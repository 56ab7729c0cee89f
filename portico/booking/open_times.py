"""Open times for the public pages in a fixed number of queries (SPEC §8.3–8.4, issue 16's
performance item).

`scheduling.selectors.open_times` answers for one provider and one visit type with three
queries (working hours, blocked times, the appointments holding time) and the arithmetic over
the whole window. A profile offers several visit types online, and a page of search results
shows many profiles: asking it once per visit type and profile repeats the same queries and the
same subtraction. These read the schedule once:

* `open_times_by_type(profile, visit_types, …)`: one provider's free time is computed once (three
  queries), then cut into each visit type's times;
* `open_times_of_profiles(profiles, visit_type_of, …)`: every profile of a page of results with
  three queries in all, whatever the number of profiles.

Each gives exactly what `open_times` gives for the same provider, visit type, first day and
days (tests/booking/test_open_times_batch.py): the same working hours, blocked times (the
provider's and the practice's) and appointments holding time at any practice, the same cut.
Nothing is cached: every call reads the live schedule, so a change shows at once.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable

from django.db.models import Q
from django.utils import timezone

from portico.scheduling import calendar
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.calendar import Interval, Stretch
from portico.scheduling.models import BlockedTime, VisitType, WorkingHours
from portico.scheduling.services import zone_of


def _days(days: int) -> int:
    return max(1, min(days, scheduling_selectors.MAX_DAYS))


def free_time(
    practice,
    provider,
    *,
    first_day: dt.date | None = None,
    days: int,
    now: dt.datetime | None = None,
) -> list[Interval]:
    """The provider's working hours at the practice from `first_day` (today in the practice's
    time zone) for `days` days, less blocked times and the appointments holding time: what
    `open_times` cuts into visits. Three queries."""
    found = _free_of_many([(practice, provider)], first_day=first_day, days=days, now=now)
    return found[(practice.pk, provider.pk)]


def open_times_by_type(
    practice,
    provider,
    visit_types: Iterable[VisitType],
    *,
    first_day: dt.date | None = None,
    days: int,
    now: dt.datetime | None = None,
) -> dict[int, list[Interval]]:
    """The open times of each visit type (by its id) with the provider, as `open_times` gives
    them for that visit type, from three queries in all."""
    now = now or timezone.now()
    free = free_time(practice, provider, first_day=first_day, days=days, now=now)
    return {
        visit_type.pk: calendar.slots(
            free, dt.timedelta(minutes=visit_type.duration_minutes), not_before=now
        )
        for visit_type in visit_types
    }


def next_open_times_by_type(
    practice,
    provider,
    visit_types: Iterable[VisitType],
    *,
    count: int,
    first_day: dt.date,
    days: int,
    step: int = 7,
    now: dt.datetime | None = None,
) -> dict[int, list[Interval]]:
    """For each visit type (by its id), its open times on the next `count` days that have any,
    from `first_day` within `days` days: the first `step` days read once for every visit type
    (three queries), the rest of the window only when a visit type has fewer than `count` days
    with times there (three more, once for all of those). The same times `open_times` gives."""
    now = now or timezone.now()
    visit_types = list(visit_types)
    zone = zone_of(practice)
    first = min(step, days)
    found = {
        pk: first_days(times, zone, count)
        for pk, times in open_times_by_type(
            practice, provider, visit_types, first_day=first_day, days=first, now=now
        ).items()
    }
    short = [
        v
        for v in visit_types
        if len({t.start.astimezone(zone).date() for t in found[v.pk]}) < count
    ]
    if short and days > first:
        later = open_times_by_type(
            practice,
            provider,
            short,
            first_day=first_day + dt.timedelta(days=first),
            days=days - first,
            now=now,
        )
        for visit_type in short:
            have = len({t.start.astimezone(zone).date() for t in found[visit_type.pk]})
            found[visit_type.pk] += first_days(later[visit_type.pk], zone, count - have)
    return found


def open_times_of_profiles(
    profiles: Iterable,
    visit_type_of: Callable[[object], VisitType | None],
    *,
    days: int,
    now: dt.datetime | None = None,
) -> dict[int, list[Interval]]:
    """For each profile (by its id) the open times of `visit_type_of(profile)` (none when it
    gives None) from today in its practice's time zone for `days` days: three queries for all
    the profiles. Profiles need `practice` and `provider` loaded (select_related)."""
    now = now or timezone.now()
    profiles = list(profiles)
    free = _free_of_many(
        [(profile.practice, profile.provider) for profile in profiles], days=days, now=now
    )
    found: dict[int, list[Interval]] = {}
    for profile in profiles:
        visit_type = visit_type_of(profile)
        found[profile.pk] = (
            calendar.slots(
                free[(profile.practice_id, profile.provider_id)],
                dt.timedelta(minutes=visit_type.duration_minutes),
                not_before=now,
            )
            if visit_type is not None
            else []
        )
    return found


def _free_of_many(
    pairs: list[tuple[object, object]],
    *,
    first_day: dt.date | None = None,
    days: int,
    now: dt.datetime | None = None,
) -> dict[tuple[int, int], list[Interval]]:
    """(practice id, provider id) -> free time, for every pair, with three queries: the pairs'
    working hours, the practices' blocked times in the union of the windows, and the
    providers' appointments holding time there (at any practice, as `open_times` counts them).
    Each pair's window starts on `first_day`, or on today in its practice's time zone."""
    now = now or timezone.now()
    days = _days(days)
    if not pairs:
        return {}
    windows: dict[tuple[int, int], tuple[object, dt.date, dt.datetime, dt.datetime]] = {}
    for practice, provider in pairs:
        zone = zone_of(practice)
        first = first_day or now.astimezone(zone).date()
        start, end = scheduling_selectors._window(first, days, zone)  # noqa: SLF001
        windows[(practice.pk, provider.pk)] = (zone, first, start, end)
    practice_ids = {practice_id for practice_id, _p in windows}
    provider_ids = {provider_id for _p, provider_id in windows}
    start = min(w[2] for w in windows.values())
    end = max(w[3] for w in windows.values())

    stretches: dict[tuple[int, int], list[Stretch]] = defaultdict(list)
    for practice_id, provider_id, weekday, start_time, end_time, location_id in (
        WorkingHours.objects.filter(practice_id__in=practice_ids, provider_id__in=provider_ids)
        .order_by()
        .values_list(
            "practice_id", "provider_id", "weekday", "start_time", "end_time", "location_id"
        )
    ):
        stretches[(practice_id, provider_id)].append(
            Stretch(weekday, start_time, end_time, location_id)
        )
    blocked: dict[int, list[tuple[int | None, dt.datetime, dt.datetime]]] = defaultdict(list)
    for practice_id, provider_id, b_start, b_end in (
        BlockedTime.objects.filter(practice_id__in=practice_ids, start_at__lt=end, end_at__gt=start)
        .filter(Q(provider_id__in=provider_ids) | Q(provider__isnull=True))
        .order_by()
        .values_list("practice_id", "provider_id", "start_at", "end_at")
    ):
        blocked[practice_id].append((provider_id, b_start, b_end))
    held: dict[int, list[tuple[dt.datetime, dt.datetime]]] = defaultdict(list)
    for provider_id, a_start, a_end in (
        scheduling_selectors._holding_time(provider_ids, start, end)  # noqa: SLF001
        .order_by()
        .values_list("provider_id", "start_at", "end_at")
    ):
        held[provider_id].append((a_start, a_end))

    found: dict[tuple[int, int], list[Interval]] = {}
    for (practice_id, provider_id), (zone, first, w_start, w_end) in windows.items():
        mine = stretches.get((practice_id, provider_id))
        if not mine:
            found[(practice_id, provider_id)] = []
            continue
        hours = calendar.working_intervals(mine, first, days, zone)
        busy = [
            (b_start, b_end)
            for who, b_start, b_end in blocked.get(practice_id, ())
            if who in (None, provider_id) and b_start < w_end and b_end > w_start
        ]
        busy.extend(
            (a_start, a_end)
            for a_start, a_end in held.get(provider_id, ())
            if a_start < w_end and a_end > w_start
        )
        found[(practice_id, provider_id)] = calendar.subtract(hours, busy)
    return found


def first_days(times: Iterable[Interval], zone, count: int) -> list[Interval]:
    """The times (sorted) that fall on the first `count` days having any, in `zone`: what a
    page showing a few days of times needs to format, out of four weeks of them."""
    found: list[Interval] = []
    seen = 0
    last_day = None
    for interval in times:
        day = interval.start.astimezone(zone).date()
        if day != last_day:
            seen += 1
            if seen > count:
                break
            last_day = day
        found.append(interval)
    return found
