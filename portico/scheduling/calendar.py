"""Time arithmetic of the appointment book, with no database: turning a provider's regular week
(local times in the practice's zone) into real intervals on real dates, taking busy time out of
them, and cutting what is left into open times for a visit of a given length.

The services (is this booking allowed?) and the selectors (what is open? what does the day
look like?) both use these functions, so a time the book offers is a time the service accepts.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

UTC = dt.UTC


@dataclass(frozen=True, order=True)
class Interval:
    """[start, end) in UTC; `location_id` is the working-hours stretch's location, if any."""

    start: dt.datetime
    end: dt.datetime
    location_id: int | None = None


@dataclass(frozen=True)
class Stretch:
    """One stretch of a regular week: weekday (Monday 0), local start and end, location."""

    weekday: int
    start_time: dt.time
    end_time: dt.time
    location_id: int | None = None


def local_datetime(day: dt.date, at: dt.time, zone: zoneinfo.ZoneInfo) -> dt.datetime:
    """`at` o'clock on `day` in `zone`, as UTC. A local time that does not exist (skipped by a
    spring-forward change) is read with the offset from before the change, as clocks do."""
    return dt.datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def day_bounds(day: dt.date, zone: zoneinfo.ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants a local calendar day starts and ends (23 or 25 hours around a change)."""
    return (
        local_datetime(day, dt.time(0), zone),
        local_datetime(day + dt.timedelta(days=1), dt.time(0), zone),
    )


def working_intervals(
    stretches: Iterable[Stretch], first_day: dt.date, days: int, zone: zoneinfo.ZoneInfo
) -> list[Interval]:
    """The real intervals a regular week gives from `first_day` for `days` days, sorted, with
    touching stretches at one location merged (9–12 and 12–17 make 9–17)."""
    by_weekday: dict[int, list[Stretch]] = {}
    for stretch in stretches:
        by_weekday.setdefault(stretch.weekday, []).append(stretch)
    intervals = []
    for offset in range(days):
        day = first_day + dt.timedelta(days=offset)
        for stretch in by_weekday.get(day.weekday(), ()):
            start = local_datetime(day, stretch.start_time, zone)
            end = local_datetime(day, stretch.end_time, zone)
            if end > start:
                intervals.append(Interval(start, end, stretch.location_id))
    return merge(intervals)


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, with overlapping or touching intervals of the same location joined."""
    merged: list[Interval] = []
    for interval in sorted(intervals):
        last = merged[-1] if merged else None
        if last and interval.start <= last.end and interval.location_id == last.location_id:
            if interval.end > last.end:
                merged[-1] = Interval(last.start, interval.end, last.location_id)
        else:
            merged.append(interval)
    return merged


def subtract(free: Sequence[Interval], busy: Iterable[tuple[dt.datetime, dt.datetime]]):
    """`free` with every busy (start, end) taken out. Both may be in any order; the result is
    sorted. Intervals that only touch a busy one are kept whole."""
    # Busy time joined into disjoint, sorted runs, so one pass over both lists does it.
    runs: list[list[dt.datetime]] = []
    for b_start, b_end in sorted(busy):
        if runs and b_start <= runs[-1][1]:
            runs[-1][1] = max(runs[-1][1], b_end)
        else:
            runs.append([b_start, b_end])
    result: list[Interval] = []
    first = 0
    for interval in sorted(free):
        while first < len(runs) and runs[first][1] <= interval.start:
            first += 1
        start = interval.start
        index = first
        while index < len(runs) and runs[index][0] < interval.end:
            b_start, b_end = runs[index]
            if b_start > start:
                result.append(Interval(start, b_start, interval.location_id))
            start = max(start, b_end)
            index += 1
        if start < interval.end:
            result.append(Interval(start, interval.end, interval.location_id))
    return result


def slots(
    free: Iterable[Interval], length: dt.timedelta, *, not_before: dt.datetime | None = None
) -> list[Interval]:
    """Open times of `length` in free intervals: back to back from each interval's start, so a
    20-minute visit type offers 9:00, 9:20, 9:40… and, after a visit that ends at 10:10, 10:10.
    Times that start before `not_before` are left out."""
    found = []
    for interval in free:
        start = interval.start
        if not_before is not None and start < not_before:
            # Keep the grid of the interval: the first step at or after not_before.
            steps = -(-(not_before - start) // length)
            start = start + steps * length
        while start + length <= interval.end:
            found.append(Interval(start, start + length, interval.location_id))
            start += length
    return found


def containing(intervals: Iterable[Interval], start: dt.datetime, end: dt.datetime):
    """The interval that holds all of [start, end), or None."""
    for interval in intervals:
        if interval.start <= start and end <= interval.end:
            return interval
    return None


def overlaps(a_start: dt.datetime, a_end: dt.datetime, b_start: dt.datetime, b_end: dt.datetime):
    """Whether two half-open intervals share time (touching ones do not)."""
    return a_start < b_end and b_start < a_end
