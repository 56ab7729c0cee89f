"""What the schedule page (the appointment book's day and week views) shows, made in one pass
over `selectors.schedule()`: each provider's day as a list of items in time order
(appointments, open stretches, blocked times), or, for the week of every provider, a table of
counts. Times are written once each, in the practice's time zone; links are made from one
`reverse()` per kind, so a page of hundreds of items costs no more than a few of them.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import formats
from django.utils.translation import gettext as _

from portico.scheduling import calendar
from portico.scheduling.models import AppointmentStatus
from portico.scheduling.selectors import ProviderDay, ProviderSchedule

DAY, WEEK = "day", "week"
_PLACEHOLDER = "00000000-0000-4000-8000-000000000000"

# A mark beside each status, so that no status is told by colour alone (with the status's
# name as text, and a border style of its own in the stylesheet).
STATUS_MARKS = {
    AppointmentStatus.PENDING: "◔",
    AppointmentStatus.PROPOSED: "◌",
    AppointmentStatus.BOOKED: "●",
    AppointmentStatus.ARRIVED: "➜",
    AppointmentStatus.FULFILLED: "✓",
    AppointmentStatus.CANCELLED: "✕",
    AppointmentStatus.NOSHOW: "!",
}


class Clock:
    """Local times of one page as text ("9:40 AM"), each minute of the day formatted once."""

    def __init__(self, zone: zoneinfo.ZoneInfo):
        self.zone = zone
        self._seen: dict[tuple[int, int], str] = {}

    def local(self, value: dt.datetime) -> dt.datetime:
        return value.astimezone(self.zone)

    def __call__(self, value: dt.datetime) -> str:
        local = value.astimezone(self.zone)
        key = (local.hour, local.minute)
        text = self._seen.get(key)
        if text is None:
            text = self._seen[key] = formats.time_format(local.time(), "TIME_FORMAT")
        return text

    def span(self, start: dt.datetime, end: dt.datetime) -> str:
        return f"{self(start)} – {self(end)}"


class Minutes:
    """Lengths of time as text: 45 → "45 min", 160 → "2 h 40 min", 120 → "2 h" (the three
    sentences translated once for the page)."""

    def __init__(self):
        self.only_minutes = _("%(minutes)d min")
        self.only_hours = _("%(hours)d h")
        self.both = _("%(hours)d h %(minutes)d min")

    def __call__(self, minutes: int) -> str:
        hours, rest = divmod(minutes, 60)
        if not hours:
            return self.only_minutes % {"minutes": rest}
        if not rest:
            return self.only_hours % {"hours": hours}
        return self.both % {"hours": hours, "minutes": rest}


@dataclass(slots=True)
class Item:
    """One line of a provider's day: an appointment, an open stretch or a blocked time."""

    kind: str  # "appointment", "open" or "blocked"
    start: dt.datetime
    when: str
    url: str = ""
    # Appointments
    status: str = ""
    status_label: str = ""
    mark: str = ""
    patient: str = ""
    visit_type: str = ""
    # Blocked times
    label: str = ""


@dataclass(slots=True)
class Column:
    """One provider's day (the day view) or one day of a provider (the week view)."""

    heading: str
    heading_url: str
    day: dt.date
    items: list[Item] = field(default_factory=list)
    working: bool = False
    is_today: bool = False


@dataclass(slots=True)
class Cell:
    """One provider's day in the week table of every provider, in words: "3 booked", "2 h 40
    min open, first at 9:40 AM" (or "Nothing open"); `working` False and nothing booked is a
    day off."""

    url: str
    booked: str
    open: str
    working: bool


@dataclass(slots=True)
class Row:
    name: str
    url: str
    cells: list[Cell]


class Links:
    """The page's links, each kind made from one reverse()."""

    def __init__(self):
        self.schedule = reverse("scheduling:schedule")
        self.book = reverse("scheduling:book")
        self._appointment = reverse("scheduling:appointment", args=[_PLACEHOLDER])

    def appointment(self, public_id) -> str:
        return self._appointment.replace(_PLACEHOLDER, str(public_id))

    # Every value below is URL-safe as it is (a view name, an ISO date, a UUID, HH%3AMM).

    def view(self, view: str, day: dt.date, provider=None) -> str:
        url = f"{self.schedule}?view={view}&date={day.isoformat()}"
        return url if provider is None else f"{url}&provider={provider}"

    def open_time(self, provider, start_local: dt.datetime) -> str:
        return (
            f"{self.book}?provider={provider}&date={start_local.date().isoformat()}"
            f"&time={start_local.hour:02d}%3A{start_local.minute:02d}"
        )


def _status_labels() -> dict[str, str]:
    return {value: str(label) for value, label in AppointmentStatus.choices}


def day_items(
    provider_day: ProviderDay, provider_public_id, clock: Clock, links: Links, labels: dict
) -> list[Item]:
    """The provider's day in time order (a blocked time first, then an appointment, then
    what is open, when they start together). A blocked time longer than the day shows the
    part of it on this day ("All day" when it covers the whole day)."""
    day_start, day_end = calendar.day_bounds(provider_day.day, clock.zone)
    ordered: list[tuple[dt.datetime, int, Item]] = []
    for blocked in provider_day.blocked:
        start, end = max(blocked.start_at, day_start), min(blocked.end_at, day_end)
        whole = start <= day_start and end >= day_end
        ordered.append(
            (
                start,
                0,
                Item(
                    kind="blocked",
                    start=start,
                    when=_("All day") if whole else clock.span(start, end),
                    label=blocked.label or _("Blocked"),
                ),
            )
        )
    for a in provider_day.appointments:
        ordered.append(
            (
                a.start_at,
                1,
                Item(
                    kind="appointment",
                    start=a.start_at,
                    when=clock.span(a.start_at, a.end_at),
                    url=links.appointment(a.public_id),
                    status=a.status,
                    status_label=labels.get(a.status, a.status),
                    mark=STATUS_MARKS.get(a.status, ""),
                    patient=a.patient.display_name,
                    visit_type=a.visit_type,
                ),
            )
        )
    for interval in provider_day.open:
        ordered.append(
            (
                interval.start,
                2,
                Item(
                    kind="open",
                    start=interval.start,
                    when=clock.span(interval.start, interval.end),
                    url=links.open_time(provider_public_id, clock.local(interval.start)),
                ),
            )
        )
    ordered.sort(key=lambda entry: (entry[0], entry[1]))
    return [item for _start, _order, item in ordered]


def day_columns(book: list[ProviderSchedule], clock: Clock, links: Links) -> list[Column]:
    """The day view: one column per provider (their week is the heading's link)."""
    labels = _status_labels()
    columns = []
    for schedule in book:
        user = schedule.membership.user
        provider_day = schedule.days[0]
        columns.append(
            Column(
                heading=user.display_name,
                heading_url=links.view(WEEK, provider_day.day, user.public_id),
                day=provider_day.day,
                items=day_items(provider_day, user.public_id, clock, links, labels),
                working=provider_day.working,
            )
        )
    return columns


def week_columns(schedule: ProviderSchedule, clock: Clock, links: Links) -> list[Column]:
    """The week of one provider: one column per day (the day's view is the heading's link)."""
    labels = _status_labels()
    user = schedule.membership.user
    return [
        Column(
            heading=formats.date_format(provider_day.day, "l, F j"),
            heading_url=links.view(DAY, provider_day.day, user.public_id),
            day=provider_day.day,
            items=day_items(provider_day, user.public_id, clock, links, labels),
            working=provider_day.working,
        )
        for provider_day in schedule.days
    ]


def week_rows(book: list[ProviderSchedule], clock: Clock, links: Links) -> list[Row]:
    """The week of every provider: per provider and day the appointments booked, the open time
    left and the first open time, each cell linking to that provider's day."""
    # Each sentence translated once for the page, not once per cell.
    booked, open_ = _("%(count)d booked"), _("%(time)s open, first at %(first)s")
    nothing, minutes_text = _("Nothing open"), Minutes()
    rows = []
    for schedule in book:
        user = schedule.membership.user
        cells = []
        for provider_day in schedule.days:
            count = provider_day.booked_count
            first = provider_day.open[0].start if provider_day.open else None
            cells.append(
                Cell(
                    url=links.view(DAY, provider_day.day, user.public_id),
                    booked=booked % {"count": count},
                    open=(
                        open_
                        % {"time": minutes_text(provider_day.open_minutes), "first": clock(first)}
                        if first is not None
                        else nothing
                    ),
                    working=provider_day.working or bool(count),
                )
            )
        rows.append(
            Row(
                name=user.display_name,
                url=links.view(WEEK, schedule.days[0].day, user.public_id),
                cells=cells,
            )
        )
    return rows
