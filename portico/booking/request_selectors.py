"""Reads of Schedule > Appointment Requests (SPEC §8.5): the practice's requests as the list
shows them, the charts a new-appointment request may belong to, and the provider's day beside
a request. Every query is scoped to the practice; each read costs a fixed number of queries
whatever the number of requests, charts or appointments."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.booking.selectors import requests_of
from portico.charts import selectors as chart_selectors
from portico.charts.models import Patient
from portico.practices.models import Membership
from portico.scheduling import calendar
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.calendar import Interval
from portico.scheduling.models import VisitType
from portico.scheduling.selectors import ProviderDay
from portico.scheduling.services import zone_of

# "Answered" lists the requests answered (or taken back) in these last days.
RECENT_DAYS = 30
# Rows of one page of the list.
PAGE_SIZE = 50
# Charts a search for the matching chart lists.
SEARCH_ROWS = 20

PENDING, ANSWERED = "pending", "answered"


def request_list(
    practice, *, show: str = PENDING, provider=None, kind: str = ""
) -> QuerySet[AppointmentRequest]:
    """The requests waiting for the practice, oldest first; or (`show="answered"`) those
    answered or withdrawn in the last RECENT_DAYS days, most recent first. Filtered by
    provider (a User) and by kind; each row with what the list shows (one query)."""
    found = requests_of(practice)
    if provider is not None:
        found = found.filter(provider=provider)
    if kind:
        found = found.filter(kind=kind)
    if show == ANSWERED:
        since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
        return (
            found.exclude(status=RequestStatus.PENDING)
            .filter(updated_at__gte=since)
            .order_by("-updated_at", "-id")
        )
    return found.filter(status=RequestStatus.PENDING).order_by("created_at", "id")


def request_for_staff(practice, public_id) -> AppointmentRequest | None:
    """One request of the practice with everything its page shows (None: not this
    practice's)."""
    return (
        requests_of(practice)
        .select_related(
            "practice",
            "decided_by",
            "original__provider",
            "original__location",
            "original__appointment_type",
            "appointment__provider",
        )
        .filter(public_id=public_id)
        .first()
    )


def asked_time(request: AppointmentRequest) -> dt.datetime | None:
    """The time the request is about: the time asked for, or (a cancellation) the time of
    the appointment to cancel."""
    if request.start_at is not None:
        return request.start_at
    return request.original.start_at if request.original is not None else None


def visit_type_of(request: AppointmentRequest) -> VisitType | None:
    """The visit type a proposed time is booked as (a reschedule keeps the appointment's)."""
    if request.original is not None and request.original.appointment_type is not None:
        return request.original.appointment_type
    return request.visit_type


def matching_charts(practice, request: AppointmentRequest) -> list[Patient]:
    """The practice's charts with the requester's last name (any case) and date of birth."""
    if not request.last_name or request.date_of_birth is None:
        return []
    return list(
        chart_selectors.charts_with_portal(practice)
        .filter(
            legal_last_name__iexact=request.last_name.strip(),
            date_of_birth=request.date_of_birth,
        )
        .order_by("legal_last_name", "legal_first_name", "id")[:SEARCH_ROWS]
    )


def searched_charts(practice, query: str) -> list[Patient]:
    """The practice's charts matching a name or a date of birth (the "Change patient" search)."""
    query = (query or "").strip()
    if not query:
        return []
    return list(chart_selectors.patient_search(practice=practice, query=query)[:SEARCH_ROWS])


def chart_of(practice, value) -> Patient | None:
    """One chart of the practice by its public id as a form sent it (None: not this
    practice's, or not an id)."""
    try:
        public_id = uuid.UUID(str(value))
    except ValueError:
        return None
    return chart_selectors.patients_of(practice).filter(public_id=public_id).first()


@dataclass
class ProviderCalendar:
    """The provider's day beside a request: the day's appointments, blocked and open times,
    the open times a visit of the request's type could start at, and whether the time asked
    is still free."""

    membership: Membership
    day: ProviderDay
    open_times: list[Interval] = field(default_factory=list)
    asked_is_open: bool | None = None


def provider_calendar(
    practice, request: AppointmentRequest, day: dt.date
) -> ProviderCalendar | None:
    """The request's provider's `day` (None when they no longer see patients at the practice).
    The open times are those a proposed time may take (a reschedule's original appointment
    still holds its time until the patient accepts); whether the time asked is open counts
    that original as free (approving moves it). Fixed queries: the provider, the schedule's
    three and the open times' four."""
    if request.provider_id is None:
        return None
    membership = (
        scheduling_selectors.providers(practice).filter(user_id=request.provider_id).first()
    )
    if membership is None:
        return None
    book = scheduling_selectors.schedule(practice, [membership], day, 1)
    provider_day = book[0].days[0]
    visit_type = visit_type_of(request)
    times: list[Interval] = []
    if (
        visit_type is not None
        and request.status == RequestStatus.PENDING
        and request.kind != RequestKind.CANCEL
    ):
        times = scheduling_selectors.open_times(
            practice, membership.user, visit_type, first_day=day, days=1
        )
    asked_is_open = None
    start = asked_time(request)
    if request.kind != RequestKind.CANCEL and start is not None and request.end_at is not None:
        local_day = start.astimezone(zone_of(practice)).date()
        if local_day == day:
            free = [Interval(i.start, i.end) for i in provider_day.open]
            moved = request.original if request.kind == RequestKind.RESCHEDULE else None
            if moved is not None:
                # The appointment being moved does not stand in its own way.
                free.append(Interval(moved.start_at, moved.end_at))
            found = calendar.containing(calendar.merge(free), start, request.end_at)
            asked_is_open = found is not None
    return ProviderCalendar(membership, provider_day, times, asked_is_open)
