"""Reads of the portal's Appointments tab (SPEC §8.6): the chart's upcoming appointments with the
requests still waiting for the practice, the past ones a page at a time, the open times a
reschedule may ask for, and the audit of each of these reads.

The tab reads a fixed number of queries whatever the number of appointments: the upcoming
appointments, the chart's open requests, and one page of the past ones (with its count)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.paginator import Page, Paginator
from django.db.models import Q, QuerySet
from django.utils import formats, timezone

from portico.audit.services import audit_read
from portico.booking import selectors
from portico.booking.models import AppointmentRequest, RequestKind, RequestStatus
from portico.booking.services import BOOKING_DAYS
from portico.portal.models import PortalAccess
from portico.records.services import require_active_access
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling.book_page import Clock
from portico.scheduling.models import UPCOMING_STATUSES, Appointment, AppointmentStatus
from portico.scheduling.services import zone_of

PAST_PAGE_SIZE = 20

# Still to come: an appointment that may still be moved or cancelled and has not ended.
_UPCOMING = Q(status__in=UPCOMING_STATUSES)


def appointments_viewed(
    account,
    *,
    access: PortalAccess,
    page: str,
    appointment: Appointment | None = None,
    request: AppointmentRequest | None = None,
) -> None:
    """Audit the patient's read of their appointments (the tab, or one appointment's
    reschedule, cancel or withdraw page) as a read of their record (phr.view). The access log
    the patient sees lists the practice's reads only, so their own reads do not crowd it."""
    require_active_access(account, access)
    details: dict[str, str] = {"page": page}
    if appointment is not None:
        details["appointment"] = str(appointment.public_id)
    if request is not None:
        details["request"] = str(request.public_id)
    audit_read(account, action="phr.view", patient=access.patient, details=details)


def _appointments(patient) -> QuerySet[Appointment]:
    # With the practice: an appointment without a location is at the practice's address.
    return scheduling_selectors.patient_appointments(patient).select_related("practice")


def appointment_of(access: PortalAccess, public_id) -> Appointment | None:
    """One of the chart's appointments by its public id (another chart's is None: a 404)."""
    return _appointments(access.patient).filter(public_id=public_id).first()


def request_of(access: PortalAccess, public_id) -> AppointmentRequest | None:
    """One of the chart's requests by its public id (another chart's is None: a 404)."""
    return selectors.patient_requests(access.patient).filter(public_id=public_id).first()


def pending_change(appointment: Appointment) -> AppointmentRequest | None:
    """The reschedule or cancellation request about `appointment` still waiting, if any."""
    return (
        AppointmentRequest.objects.filter(original=appointment, status=RequestStatus.PENDING)
        .select_related("appointment")
        .first()
    )


@dataclass
class UpcomingRow:
    """One line of the Upcoming list: an appointment (pending, tentative or confirmed), or a
    request for a new appointment the practice has not answered yet (Pending)."""

    start_at: dt.datetime
    end_at: dt.datetime | None
    status: str  # an AppointmentStatus value ("pending" for a waiting request)
    status_label: str
    visit_type: str
    provider_name: str
    appointment: Appointment | None = None
    # A new-appointment request still waiting (the row is that request).
    request: AppointmentRequest | None = None
    # A reschedule or cancellation of this (confirmed) appointment waiting for the practice.
    change: AppointmentRequest | None = None
    # The request whose answer is this tentative appointment (the practice proposed its time).
    proposal: AppointmentRequest | None = None
    place: list[str] = field(default_factory=list)

    @property
    def is_confirmed(self) -> bool:
        return self.appointment is not None and self.status == AppointmentStatus.BOOKED

    @property
    def is_tentative(self) -> bool:
        return self.appointment is not None and self.status == AppointmentStatus.PROPOSED

    @property
    def change_is_reschedule(self) -> bool:
        return self.change is not None and self.change.kind == RequestKind.RESCHEDULE


def upcoming(access: PortalAccess, *, now: dt.datetime | None = None) -> list[UpcomingRow]:
    """The chart's upcoming appointments and waiting requests, soonest first. Two queries."""
    now = now or timezone.now()
    patient = access.patient
    appointments = list(
        _appointments(patient).filter(_UPCOMING, end_at__gte=now).order_by("start_at", "id")
    )
    open_requests = list(
        selectors.patient_requests(patient).filter(
            status__in=(RequestStatus.PENDING, RequestStatus.PROPOSED)
        )
    )
    changes: dict[int, AppointmentRequest] = {}
    proposals: dict[int, AppointmentRequest] = {}
    rows: list[UpcomingRow] = []
    pending = str(AppointmentStatus.PENDING.label)
    for r in open_requests:
        if r.status == RequestStatus.PROPOSED:
            if r.appointment_id is not None:
                proposals.setdefault(r.appointment_id, r)
        elif r.kind == RequestKind.NEW:
            if r.start_at is not None and (r.end_at or r.start_at) >= now:
                rows.append(
                    UpcomingRow(
                        start_at=r.start_at,
                        end_at=r.end_at,
                        status=AppointmentStatus.PENDING,
                        status_label=pending,
                        visit_type=r.visit_type.name if r.visit_type else "",
                        provider_name=r.provider.display_name if r.provider else "",
                        request=r,
                    )
                )
        elif r.original_id is not None:
            changes.setdefault(r.original_id, r)
    for a in appointments:
        rows.append(
            UpcomingRow(
                start_at=a.start_at,
                end_at=a.end_at,
                status=a.status,
                status_label=a.get_status_display(),
                visit_type=a.visit_type,
                provider_name=a.provider.display_name if a.provider else "",
                appointment=a,
                change=changes.get(a.pk) if a.status == AppointmentStatus.BOOKED else None,
                proposal=proposals.get(a.pk),
                place=a.place_lines,
            )
        )
    rows.sort(key=lambda row: row.start_at)
    return rows


def past_page(access: PortalAccess, page_number, *, now: dt.datetime | None = None) -> Page:
    """One page of the chart's past appointments (completed, cancelled, no-show, arrived, or
    whose time has gone by), newest first. Two queries: the count and the page."""
    now = now or timezone.now()
    past = _appointments(access.patient).exclude(_UPCOMING & Q(end_at__gte=now))
    return Paginator(past.order_by("-start_at", "-id"), PAST_PAGE_SIZE).get_page(page_number)


@dataclass
class OpenTime:
    value: str  # the local date and time with its offset: 2026-12-07T09:40:00-05:00
    text: str  # "9:40 AM"
    checked: bool = False


@dataclass
class OpenDay:
    label: str
    times: list[OpenTime]


def reschedule_times(appointment: Appointment, chosen: str = "") -> list[OpenDay]:
    """The open times of the appointment's provider for its visit type in the next
    BOOKING_DAYS days (its own time counts as free, and is left out: it is the time it has),
    grouped by the practice's local day; `chosen` is the value checked."""
    if appointment.provider is None or appointment.appointment_type is None:
        return []
    practice = appointment.practice
    intervals = scheduling_selectors.open_times(
        practice,
        appointment.provider,
        appointment.appointment_type,
        days=BOOKING_DAYS,
        ignore=appointment,
    )
    clock = Clock(zone_of(practice))
    days: dict[dt.date, OpenDay] = {}
    for interval in intervals:
        if interval.start == appointment.start_at:
            continue
        local = clock.local(interval.start)
        day = days.get(local.date())
        if day is None:
            day = days[local.date()] = OpenDay(formats.date_format(local.date(), "l, F j, Y"), [])
        value = local.isoformat()
        day.times.append(OpenTime(value, clock(interval.start), checked=value == chosen))
    return list(days.values())
