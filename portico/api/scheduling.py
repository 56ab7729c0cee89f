"""The appointment book through the API (SPEC §8.4 schedule part, §8.7, §8.8): providers,
visit types, locations, working hours, blocked times, open times and appointments. Each
handler calls the same service or selector as the schedule pages; who may change what is the
services' rule (an administrator, or a provider for their own hours and blocked times), else
403.

Ids are public ids. An id in the path is looked up in the token's practice: a miss, or another
practice's id, is a 404. An id in a body or a query names a choice, so a miss there is a 422
naming the field (as the messages API does). Times are ISO 8601 with a UTC offset going in and
UTC coming out; working hours are local times of the practice's time zone. A time that is
already booked is a 409 that carries the provider's next open times for that visit type.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal, TypeVar
from uuid import UUID

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status
from pydantic import AfterValidator, BeforeValidator, StrictBool, StrictInt, WithJsonSchema

from portico.api.patients import PageIn
from portico.api.schemas import (
    CleanStr,
    ErrorOut,
    InputSchema,
    IsoDate,
    text_field,
)
from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.scheduling import calendar, selectors, services
from portico.scheduling.calendar import Stretch
from portico.scheduling.models import (
    Appointment,
    AppointmentStatus,
    BlockedTime,
    Location,
    VisitType,
    Weekday,
    WorkingHours,
)

router = Router(tags=["schedule"])

ERRORS = {400: ErrorOut, 401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}

# How many open times a refused double booking offers instead, from the day asked for.
NEXT_OPEN_TIMES = 10
NEXT_OPEN_DAYS = 14
# Dates and times the API takes: wide enough for any schedule, narrow enough that no
# arithmetic on them (a day's bounds, a visit's end) leaves the calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2999
MAX_STRETCHES = 100

T = TypeVar("T")


# --- Input types ---------------------------------------------------------------------------

_DATETIME = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?"
    r"(?P<offset>Z|[+-][0-9]{2}:[0-9]{2})?"
)
DATETIME_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})$"
)
DATETIME_EXAMPLE = "2026-12-08T09:00:00-05:00"
TIME_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


def _in_range(value: dt.date) -> bool:
    return FIRST_YEAR <= value.year <= LAST_YEAR


def _aware_datetime(value):
    """ISO 8601 text with a UTC offset ("Z" or ±HH:MM), as an aware datetime in UTC. A time
    without an offset is refused: it would be read in some zone the client did not choose."""
    if not isinstance(value, str):
        raise ValueError(f"Enter a date and time as ISO 8601 text, e.g. {DATETIME_EXAMPLE}.")
    match = _DATETIME.fullmatch(value)
    if match is None:
        raise ValueError(f"Enter a date and time in ISO 8601, e.g. {DATETIME_EXAMPLE}.")
    if match["offset"] is None:
        raise ValueError(
            f"Add the UTC offset (e.g. {DATETIME_EXAMPLE} or …Z): a time without one is ambiguous."
        )
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if not _in_range(parsed):
            raise ValueError
        return parsed.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        raise ValueError(
            f"Enter a real date and time from {FIRST_YEAR} to {LAST_YEAR}, e.g. {DATETIME_EXAMPLE}."
        ) from None


def _date_in_range(value: dt.date) -> dt.date:
    if not _in_range(value):
        raise ValueError(f"Enter a date from {FIRST_YEAR} to {LAST_YEAR}.")
    return value


def _local_time(value):
    if not isinstance(value, str) or not re.fullmatch(TIME_PATTERN, value):
        raise ValueError("Enter a time as HH:MM, from 00:00 to 23:59.")
    return dt.time.fromisoformat(value)


def _weekday(value: int) -> int:
    if not 0 <= value <= 6:
        raise ValueError("Choose a day of the week: 0 (Monday) to 6 (Sunday).")
    return value


AwareDateTime = Annotated[
    dt.datetime,
    BeforeValidator(_aware_datetime),
    WithJsonSchema(
        {
            "type": "string",
            "format": "date-time",
            "pattern": DATETIME_PATTERN,
            "description": f"ISO 8601 with a UTC offset (e.g. {DATETIME_EXAMPLE}, or Z for UTC), "
            f"from {FIRST_YEAR} to {LAST_YEAR}.",
        }
    ),
]
ScheduleDate = Annotated[IsoDate, AfterValidator(_date_in_range)]
LocalTime = Annotated[
    dt.time,
    BeforeValidator(_local_time),
    WithJsonSchema({"type": "string", "pattern": TIME_PATTERN, "examples": ["09:00"]}),
]
WeekdayNumber = Annotated[
    StrictInt,
    AfterValidator(_weekday),
    WithJsonSchema({"type": "integer", "minimum": 0, "maximum": 6}),
]


# --- Shapes --------------------------------------------------------------------------------


class PersonOut(Schema):
    id: UUID
    name: str


class ProviderOut(PersonOut):
    credential: str = Field(description="MD, DO, NP or PA.")


class VisitTypeOut(Schema):
    id: UUID
    name: str
    duration_minutes: int
    is_active: bool = Field(description="Inactive visit types can no longer be booked.")

    @staticmethod
    def resolve_id(visit_type: VisitType) -> UUID:
        return visit_type.public_id


class VisitTypeIn(InputSchema):
    """The whole visit type (PUT replaces it). Appointments already booked keep their length."""

    name: CleanStr = text_field(
        VisitType, "name", required=True, description="Unique in the practice."
    )
    duration_minutes: StrictInt = Field(
        ...,
        description=f"From {VisitType.MIN_MINUTES} to {VisitType.MAX_MINUTES} minutes.",
        json_schema_extra={"minimum": VisitType.MIN_MINUTES, "maximum": VisitType.MAX_MINUTES},
    )
    is_active: StrictBool = Field(True, description="false: no longer offered for booking.")


class LocationOut(Schema):
    id: UUID
    name: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    phone: str
    is_active: bool

    @staticmethod
    def resolve_id(location: Location) -> UUID:
        return location.public_id


class LocationIn(InputSchema):
    """The whole location (PUT replaces it: fields left out become empty)."""

    name: CleanStr = text_field(
        Location, "name", required=True, description="Unique in the practice."
    )
    address_line1: CleanStr = text_field(Location, "address_line1", "")
    address_line2: CleanStr = text_field(Location, "address_line2", "")
    city: CleanStr = text_field(Location, "city", "")
    state: CleanStr = text_field(Location, "state", "")
    postal_code: CleanStr = text_field(Location, "postal_code", "")
    phone: CleanStr = text_field(Location, "phone", "")
    is_active: StrictBool = Field(True, description="false: working hours can no longer use it.")


class HoursIn(InputSchema):
    weekday: WeekdayNumber = Field(..., description="0 Monday … 6 Sunday.")
    start: LocalTime = Field(..., description="Local time in the practice's time zone, HH:MM.")
    end: LocalTime = Field(..., description="Local time, HH:MM, after the start.")
    location_id: UUID | None = Field(
        None, description="A location of the practice; null: the practice's own address."
    )


class HoursOut(Schema):
    weekday: int = Field(description="0 Monday … 6 Sunday.")
    day: str = Field(description="The weekday's name.")
    start: str = Field(description="Local time in the practice's time zone, HH:MM.")
    end: str
    location_id: UUID | None

    @staticmethod
    def resolve_day(hours: WorkingHours) -> str:
        return str(Weekday(hours.weekday).label)

    @staticmethod
    def resolve_start(hours: WorkingHours) -> str:
        return hours.start_time.strftime("%H:%M")

    @staticmethod
    def resolve_end(hours: WorkingHours) -> str:
        return hours.end_time.strftime("%H:%M")

    @staticmethod
    def resolve_location_id(hours: WorkingHours) -> UUID | None:
        return hours.location.public_id if hours.location is not None else None


class ProviderHoursOut(Schema):
    provider: PersonOut
    time_zone: str = Field(description="The practice's time zone (IANA name).")
    hours: list[HoursOut] = Field(description="By weekday and start.")


class BlockedTimeOut(Schema):
    id: UUID
    start_at: dt.datetime
    end_at: dt.datetime
    provider: PersonOut | None = Field(description="null: the whole practice (a holiday).")
    label: str

    @staticmethod
    def resolve_id(blocked: BlockedTime) -> UUID:
        return blocked.public_id

    @staticmethod
    def resolve_provider(blocked: BlockedTime) -> dict | None:
        return _person(blocked.provider)


class BlockedTimeIn(InputSchema):
    start_at: AwareDateTime
    end_at: AwareDateTime = Field(..., description="After the start, at most a year later.")
    provider_id: UUID | None = Field(
        None, description="A provider of the practice; null or omitted: the whole practice."
    )
    label: CleanStr = text_field(BlockedTime, "label", "", description="e.g. Staff meeting.")


class RangeFilter(InputSchema):
    """Local days of the practice's time zone, both included."""

    from_: ScheduleDate | None = Field(None, alias="from", description="First day, YYYY-MM-DD.")
    to: ScheduleDate | None = Field(None, description="Last day, YYYY-MM-DD.")
    provider: UUID | None = Field(None, description="A provider of the practice.")


class AppointmentFilter(RangeFilter):
    patient: UUID | None = Field(None, description="A chart of the practice.")


class OpenTimesQuery(InputSchema):
    visit_type: UUID = Field(..., description="An active visit type of the practice.")
    from_: ScheduleDate | None = Field(
        None, alias="from", description="First day, YYYY-MM-DD (default: today)."
    )
    days: int = Field(14, ge=1, le=selectors.MAX_DAYS, description="How many days from it.")


class OpenTimeOut(Schema):
    start_at: dt.datetime = Field(description="UTC.")
    end_at: dt.datetime = Field(description="UTC.")
    location_id: UUID | None = Field(description="null: the practice's own address.")


class OpenTimesOut(Schema):
    provider: PersonOut
    visit_type: VisitTypeOut
    time_zone: str = Field(description="The practice's time zone (IANA name).")
    open_times: list[OpenTimeOut]


class LocationRefOut(Schema):
    id: UUID
    name: str


class AppointmentOut(Schema):
    id: UUID
    patient: PersonOut
    provider: PersonOut | None
    visit_type_id: UUID | None = Field(description="The visit type chosen when booked.")
    visit_type: str = Field(description="Its name as it was when booked.")
    start_at: dt.datetime = Field(description="UTC.")
    end_at: dt.datetime = Field(description="UTC.")
    status: AppointmentStatus
    status_label: str = Field(description="Pending, Tentative, Confirmed, Arrived, …")
    location: LocationRefOut | None = Field(description="null: the practice's own address.")
    reason: str = Field(description="The reason for visit.")
    cancel_reason: str

    @staticmethod
    def resolve_id(appointment: Appointment) -> UUID:
        return appointment.public_id

    @staticmethod
    def resolve_patient(appointment: Appointment) -> dict:
        return {"id": appointment.patient.public_id, "name": appointment.patient.full_name}

    @staticmethod
    def resolve_provider(appointment: Appointment) -> dict | None:
        return _person(appointment.provider)

    @staticmethod
    def resolve_visit_type_id(appointment: Appointment) -> UUID | None:
        kind = appointment.appointment_type
        return kind.public_id if kind is not None else None

    @staticmethod
    def resolve_status_label(appointment: Appointment) -> str:
        return str(appointment.get_status_display())

    @staticmethod
    def resolve_location(appointment: Appointment) -> dict | None:
        where = appointment.location
        return {"id": where.public_id, "name": where.name} if where is not None else None


class PagedAppointmentOut(Schema):
    items: list[AppointmentOut]
    count: int


class AppointmentIn(InputSchema):
    patient_id: UUID = Field(..., description="A chart of the practice.")
    provider_id: UUID = Field(..., description="A provider of the practice.")
    visit_type_id: UUID = Field(..., description="An active visit type; it sets the length.")
    start_at: AwareDateTime
    reason: CleanStr = text_field(Appointment, "reason", "", description="The reason for visit.")


class MoveIn(InputSchema):
    start_at: AwareDateTime
    provider_id: UUID | None = Field(None, description="Omitted or null: the same provider.")
    visit_type_id: UUID | None = Field(None, description="Omitted or null: the same visit type.")


class CancelIn(InputSchema):
    reason: CleanStr = text_field(
        Appointment,
        "cancel_reason",
        required=True,
        description="Why (kept for the practice, never emailed).",
    )


class MarkIn(InputSchema):
    status: Literal["arrived", "fulfilled", "noshow"] = Field(
        ..., description="arrived, fulfilled (Completed) or noshow; from the appointment's day on."
    )


class ConflictOut(ErrorOut):
    open_times: list[OpenTimeOut] = Field(
        description="The provider's next open times for this visit type, from the day asked for."
    )


BOOKING_ERRORS = {**ERRORS, 409: ConflictOut}
# The booking services' field names, and the body's.
BOOKING_FIELDS = {"provider": "provider_id", "appointment_type": "visit_type_id"}


# --- Lookups -------------------------------------------------------------------------------


def _person(user) -> dict | None:
    return {"id": user.public_id, "name": user.display_name} if user is not None else None


def _provider(request, provider_id: UUID):
    """A provider of the token's practice, named in the path (else 404)."""
    provider = selectors.provider_of(request.practice, provider_id)
    if provider is None:
        raise Http404
    return provider


def _chosen_provider(request, provider_id: UUID | None, field: str):
    """A provider of the practice named in a body or query (else 422 on `field`)."""
    if provider_id is None:
        return None
    provider = selectors.provider_of(request.practice, provider_id)
    if provider is None:
        raise ValidationError({field: [_("Choose a provider of this practice.")]})
    return provider


def _chosen_visit_type(request, visit_type_id: UUID, field: str) -> VisitType:
    """An active visit type of the practice named in a body or query (else 422 on `field`)."""
    found = selectors.visit_type_of(request.practice, visit_type_id)
    if found is None:
        raise ValidationError({field: [_("Choose a visit type of this practice.")]})
    return found


def _chosen_patient(request, patient_id: UUID | None, field: str):
    if patient_id is None:
        return None
    try:
        return chart_selectors.chart_of(request.practice, patient_id)
    except Http404:
        raise ValidationError({field: ["No chart of the practice has this id."]}) from None


def _appointment(request, appointment_id: UUID) -> Appointment:
    found = selectors.appointment_of(request.practice, appointment_id)
    if found is None:
        raise Http404
    return found


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's errors under the names the API's body uses."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(key, key): value for key, value in exc.error_dict.items()})


def _open_times_out(practice, intervals) -> list[dict]:
    """Open times with their locations' public ids (one query for the practice's locations)."""
    public_ids = dict(
        selectors.locations(practice, active_only=False).values_list("id", "public_id")
    )
    return [
        {"start_at": i.start, "end_at": i.end, "location_id": public_ids.get(i.location_id)}
        for i in intervals
    ]


def _conflict(request, exc: ValidationError, *, provider, visit_type, start_at, ignore=None):
    """409: the time is taken; here are the provider's next open times for the visit type."""
    intervals = []
    if provider is not None and visit_type is not None:
        first_day = start_at.astimezone(services.zone_of(request.practice)).date()
        intervals = selectors.open_times(
            request.practice, provider, visit_type, first_day=first_day, days=NEXT_OPEN_DAYS,
            ignore=ignore,
        )[:NEXT_OPEN_TIMES]  # fmt: skip
    errors = exc.message_dict
    return Status(
        409,
        {
            "detail": errors["start_at"][0],
            "errors": {"start_at": errors["start_at"]},
            "open_times": _open_times_out(request.practice, intervals),
        },
    )


def _day_range(request, filters: RangeFilter) -> tuple[dt.datetime | None, dt.datetime | None]:
    if filters.from_ and filters.to and filters.to < filters.from_:
        raise ValidationError({"to": ["The last day must be on or after the first day."]})
    zone = services.zone_of(request.practice)
    start = calendar.day_bounds(filters.from_, zone)[0] if filters.from_ else None
    end = calendar.day_bounds(filters.to, zone)[1] if filters.to else None
    return start, end


# --- Providers, visit types, locations -------------------------------------------------------


@router.get("/providers", response={200: list[ProviderOut], **ERRORS})
def list_schedule_providers(request):
    """The practice's providers (the people with a schedule), by name."""
    return [
        {"id": m.user.public_id, "name": m.user.display_name, "credential": m.credential}
        for m in selectors.providers(request.practice)
    ]


@router.get("/visit-types", response={200: list[VisitTypeOut], **ERRORS})
def list_visit_types(request, include_inactive: bool = False):
    """The practice's visit types by name (active ones unless `include_inactive`)."""
    return list(selectors.visit_types(request.practice, active_only=not include_inactive))


@router.post("/visit-types", response={201: VisitTypeOut, **ERRORS})
def create_visit_type(request, payload: VisitTypeIn):
    """Add a visit type ("Follow-up", 20 minutes); administrators only."""
    visit_type = services.visit_type_save(request.user, practice=request.practice, **payload.dict())
    return Status(201, visit_type)


@router.put("/visit-types/{visit_type_id}", response={200: VisitTypeOut, **ERRORS})
def update_visit_type(request, visit_type_id: UUID, payload: VisitTypeIn):
    """Rename a visit type, change its length or retire it; administrators only."""
    visit_type = selectors.visit_type_of(request.practice, visit_type_id, active_only=False)
    if visit_type is None:
        raise Http404
    return services.visit_type_save(
        request.user, practice=request.practice, visit_type=visit_type, **payload.dict()
    )


@router.get("/locations", response={200: list[LocationOut], **ERRORS})
def list_locations(request, include_inactive: bool = False):
    """Where the practice sees patients, by name (active ones unless `include_inactive`)."""
    return list(selectors.locations(request.practice, active_only=not include_inactive))


@router.post("/locations", response={201: LocationOut, **ERRORS})
def create_location(request, payload: LocationIn):
    """Add a location; administrators only."""
    location = services.location_save(request.user, practice=request.practice, **payload.dict())
    return Status(201, location)


@router.put("/locations/{location_id}", response={200: LocationOut, **ERRORS})
def update_location(request, location_id: UUID, payload: LocationIn):
    """Change a location's name and address, or retire it; administrators only."""
    location = selectors.location_of(request.practice, location_id)
    if location is None:
        raise Http404
    return services.location_save(
        request.user, practice=request.practice, location=location, **payload.dict()
    )


# --- Working hours ---------------------------------------------------------------------------


def _hours_out(request, provider) -> dict:
    hours = WorkingHours.objects.filter(practice=request.practice, provider=provider)
    return {
        "provider": _person(provider),
        "time_zone": request.practice.time_zone,
        "hours": list(hours.select_related("location")),
    }


@router.get("/providers/{provider_id}/hours", response={200: ProviderHoursOut, **ERRORS})
def get_working_hours(request, provider_id: UUID):
    """A provider's regular week: stretches of local time per weekday and location."""
    return _hours_out(request, _provider(request, provider_id))


@router.put("/providers/{provider_id}/hours", response={200: ProviderHoursOut, **ERRORS})
def set_working_hours(request, provider_id: UUID, payload: list[HoursIn]):
    """Replace a provider's regular week with these stretches (an empty list: no hours).
    Stretches of one weekday may not overlap. Administrators, or the provider themselves.
    Appointments already booked stay where they are."""
    provider = _provider(request, provider_id)
    if len(payload) > MAX_STRETCHES:
        raise ValidationError({"body": [f"Send at most {MAX_STRETCHES} stretches."]})
    locations = dict(
        selectors.locations(request.practice, active_only=False).values_list("public_id", "id")
    )
    unknown = {
        f"{index}.location_id": [_("Choose a location of this practice.")]
        for index, item in enumerate(payload)
        if item.location_id is not None and item.location_id not in locations
    }
    if unknown:
        raise ValidationError(unknown)
    stretches = [
        Stretch(
            item.weekday,
            item.start,
            item.end,
            locations[item.location_id] if item.location_id is not None else None,
        )
        for item in payload
    ]
    try:
        services.working_hours_set(
            request.user, practice=request.practice, provider=provider, stretches=stretches
        )
    except ValidationError as exc:
        # The service names a stretch "stretches.<n>"; here it is item <n> of the body.
        names = {f"stretches.{n}": str(n) for n in range(len(stretches))}
        raise _renamed(exc, names) from exc
    return _hours_out(request, provider)


# --- Blocked times ---------------------------------------------------------------------------


@router.get("/blocked-times", response={200: list[BlockedTimeOut], **ERRORS})
def list_blocked_times(request, filters: Query[RangeFilter]):
    """Blocked times that reach into the days asked for, in order; with `provider`, that
    provider's and the whole practice's."""
    start, end = _day_range(request, filters)
    provider = _chosen_provider(request, filters.provider, "provider")
    blocked = BlockedTime.objects.filter(practice=request.practice).select_related("provider")
    if start is not None:
        blocked = blocked.filter(end_at__gt=start)
    if end is not None:
        blocked = blocked.filter(start_at__lt=end)
    if provider is not None:
        blocked = blocked.filter(Q(provider=provider) | Q(provider__isnull=True))
    return list(blocked.order_by("start_at", "id"))


@router.post("/blocked-times", response={201: BlockedTimeOut, **ERRORS})
def create_blocked_time(request, payload: BlockedTimeIn):
    """Block time nobody can book: one provider's (administrators, or the provider) or, with
    no provider, the whole practice's (administrators). Appointments already in it stay."""
    provider = _chosen_provider(request, payload.provider_id, "provider_id")
    try:
        blocked = services.blocked_time_add(
            request.user,
            practice=request.practice,
            provider=provider,
            start_at=payload.start_at,
            end_at=payload.end_at,
            label=payload.label,
        )
    except ValidationError as exc:
        raise _renamed(exc, {"provider": "provider_id"}) from exc
    return Status(201, blocked)


@router.delete("/blocked-times/{blocked_time_id}", response={204: None, **ERRORS})
def delete_blocked_time(request, blocked_time_id: UUID):
    """Free a blocked time again (who may: as for adding it)."""
    blocked = selectors.blocked_time_of(request.practice, blocked_time_id)
    if blocked is None:
        raise Http404
    services.blocked_time_remove(request.user, blocked_time=blocked)
    return Status(204, None)


# --- Open times ------------------------------------------------------------------------------


@router.get("/providers/{provider_id}/open-times", response={200: OpenTimesOut, **ERRORS})
def list_open_times(request, provider_id: UUID, query: Query[OpenTimesQuery]):
    """The times a visit of this type can be booked with the provider: working hours less
    blocked times and booked appointments, cut to the visit's length, none in the past; from
    `from` (today in the practice's time zone) for `days` days."""
    provider = _provider(request, provider_id)
    visit_type = _chosen_visit_type(request, query.visit_type, "visit_type")
    intervals = selectors.open_times(
        request.practice, provider, visit_type, first_day=query.from_, days=query.days
    )
    return {
        "provider": _person(provider),
        "visit_type": visit_type,
        "time_zone": request.practice.time_zone,
        "open_times": _open_times_out(request.practice, intervals),
    }


# --- Appointments ----------------------------------------------------------------------------


@router.get("/appointments", response={200: PagedAppointmentOut, **ERRORS})
def list_appointments(request, filters: Query[AppointmentFilter], page: Query[PageIn]):
    """The practice's appointments in time order (cancelled ones included), by days, provider
    and chart. Patients' names are health information: the charts shown are audited as the
    patient list is."""
    start, end = _day_range(request, filters)
    provider = _chosen_provider(request, filters.provider, "provider")
    patient = _chosen_patient(request, filters.patient, "patient")
    found = Appointment.objects.filter(practice=request.practice)
    if start is not None:
        found = found.filter(start_at__gte=start)
    if end is not None:
        found = found.filter(start_at__lt=end)
    if provider is not None:
        found = found.filter(provider=provider)
    if patient is not None:
        found = found.filter(patient=patient)
    shown = list(
        found.select_related("patient", "provider", "appointment_type", "location").order_by(
            "start_at", "id"
        )[page.offset : page.offset + page.limit]
    )
    charts = list({a.patient_id: a.patient for a in shown}.values())
    chart_services.charts_listed(
        request.user,
        practice=request.practice,
        charts=charts,
        what=f"api appointment list, offset {page.offset}",
    )
    return {"items": shown, "count": found.count()}


@router.post("/appointments", response={201: AppointmentOut, **BOOKING_ERRORS})
def create_appointment(request, payload: AppointmentIn):
    """Book a patient with a provider for a visit type; its length is the visit type's. The
    time must be in the provider's working hours, not blocked and not passed. A time already
    booked is a 409 with the provider's next open times. The patient is emailed."""
    patient = _chosen_patient(request, payload.patient_id, "patient_id")
    provider = _chosen_provider(request, payload.provider_id, "provider_id")
    visit_type = _chosen_visit_type(request, payload.visit_type_id, "visit_type_id")
    try:
        appointment = services.appointment_book(
            request.user,
            patient=patient,
            provider=provider,
            appointment_type=visit_type,
            start_at=payload.start_at,
            reason=payload.reason,
        )
    except ValidationError as exc:
        if services.is_taken(exc):
            return _conflict(
                request, exc, provider=provider, visit_type=visit_type, start_at=payload.start_at
            )
        raise _renamed(exc, BOOKING_FIELDS) from exc
    return Status(201, appointment)


@router.get("/appointments/{appointment_id}", response={200: AppointmentOut, **ERRORS})
def get_appointment(request, appointment_id: UUID):
    """One appointment with its reason for visit; every read is audited on the chart."""
    appointment = _appointment(request, appointment_id)
    chart_services.chart_viewed(request.user, patient=appointment.patient, what="api appointment")
    return appointment


@router.post(
    "/appointments/{appointment_id}/move", response={200: AppointmentOut, **BOOKING_ERRORS}
)
def move_appointment(request, appointment_id: UUID, payload: MoveIn):
    """Move an upcoming appointment to another time (and, optionally, provider or visit
    type), with the same checks as booking; a time already booked is a 409 with open times.
    The patient is emailed, and reminders follow the new time."""
    appointment = _appointment(request, appointment_id)
    provider = _chosen_provider(request, payload.provider_id, "provider_id")
    visit_type = (
        _chosen_visit_type(request, payload.visit_type_id, "visit_type_id")
        if payload.visit_type_id is not None
        else None
    )
    try:
        moved = services.appointment_move(
            request.user,
            appointment=appointment,
            start_at=payload.start_at,
            provider=provider,
            appointment_type=visit_type,
        )
    except ValidationError as exc:
        if services.is_taken(exc):
            return _conflict(
                request,
                exc,
                provider=provider or appointment.provider,
                visit_type=visit_type or appointment.appointment_type,
                start_at=payload.start_at,
                ignore=appointment,
            )
        raise _renamed(exc, BOOKING_FIELDS) from exc
    return _appointment(request, moved.public_id)


@router.post("/appointments/{appointment_id}/cancel", response={200: AppointmentOut, **ERRORS})
def cancel_appointment(request, appointment_id: UUID, payload: CancelIn):
    """Cancel an upcoming appointment with a reason; its time is free at once and the patient
    is emailed (without the reason). Cancelling twice changes nothing."""
    appointment = _appointment(request, appointment_id)
    services.appointment_cancel(request.user, appointment=appointment, reason=payload.reason)
    return _appointment(request, appointment_id)


@router.post("/appointments/{appointment_id}/status", response={200: AppointmentOut, **ERRORS})
def mark_appointment(request, appointment_id: UUID, payload: MarkIn):
    """Mark an appointment arrived, completed (fulfilled) or no-show, from its day on."""
    appointment = _appointment(request, appointment_id)
    services.appointment_mark(request.user, appointment=appointment, status=payload.status)
    return _appointment(request, appointment_id)
