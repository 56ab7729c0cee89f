"""Online profiles and appointment requests through the API (SPEC §8.1–8.5): the practice's
providers' online profiles (with the checklist, the public address and the embed snippet), and
the requests patients sent, with what staff do with them (approve, deny, propose another time).
Each handler calls the same service or selector as the pages; who may change what is the
services' rule (any member works on requests; the provider or an administrator edits a profile;
only an administrator attests an NPI), else 403.

Ids are public ids: a provider's profile is named by the provider's account id, a request by
its own. An id in the path is looked up in the token's practice (a miss, or another practice's
id, is a 404); an id in a body or a query names a choice, so a miss there is a 422 naming the
field. Approving or proposing a time that is no longer free is a 409 with the provider's next
open times, as booking is: of two requests approved for one time, exactly one becomes an
appointment. Every read of a request (a list or one) is audited: what a request carries — a
name, a date of birth, a reason for visit — is health information once the practice reads it.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from uuid import UUID

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from pydantic import AfterValidator, StrictBool, StringConstraints, WithJsonSchema

from portico.api.patients import PageIn
from portico.api.scheduling import (
    BOOKING_ERRORS,
    ERRORS,
    AwareDateTime,
    PersonOut,
    ProviderOut,
    _conflict,
)
from portico.api.schemas import (
    EMAIL_ALSO,
    EMAIL_MAX_LENGTH,
    NAME_PATTERN,
    PHONE_ALSO,
    PHONE_MAX_LENGTH,
    TEXT_PATTERN,
    CleanStr,
    EmailOrBlank,
    InputSchema,
    IsoDate,
    PhoneOrBlank,
)
from portico.booking import selectors, services
from portico.booking.models import (
    AppointmentRequest,
    PatientKind,
    ProviderProfile,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.charts import selectors as chart_selectors
from portico.charts.models import Language, Patient, Sex
from portico.practices.models import Membership
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling import services as scheduling_services
from portico.scheduling.models import AppointmentStatus, Location, VisitType

router = Router(tags=["booking"])

# How many values a list field of a profile takes: more than any real profile needs.
MAX_CHOICES = 50
PLAN_MAX_LENGTH = 200

_CONTROL_OR_LINE_BREAK = r"\u0000-\u001f\u007f-\u009f"
PLAN_PATTERN = rf"^[^{_CONTROL_OR_LINE_BREAK}]*$"


# --- Input types ---------------------------------------------------------------------------


def _one_line(value: str) -> str:
    if any(ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F for c in value):
        raise ValueError("Remove control characters and line breaks: give one plan per item.")
    return value


InsurancePlan = Annotated[
    str,
    StringConstraints(max_length=PLAN_MAX_LENGTH),
    AfterValidator(_one_line),
    WithJsonSchema({"type": "string", "maxLength": PLAN_MAX_LENGTH, "pattern": PLAN_PATTERN}),
]


def _text(model, field: str, default=..., *, required: bool = False, **extra) -> Any:
    """A text field with the column's length as its limit; the JSON Schema states the
    services' rules (no control characters and, when `required`, not blank)."""
    schema: dict[str, Any] = (
        {"pattern": NAME_PATTERN, "minLength": 1} if required else {"pattern": TEXT_PATTERN}
    )
    return Field(
        default,
        max_length=model._meta.get_field(field).max_length,
        json_schema_extra=schema,
        **extra,
    )


# --- Shapes: online profiles ---------------------------------------------------------------


class ChecklistItemOut(Schema):
    code: str = Field(description="credential, npi, attested or visit_types.")
    label: str = Field(description="The condition, as the profile page says it.")
    done: bool


class ProfileOut(Schema):
    provider: ProviderOut
    number: str = Field(description="The five digits that end the public address; never change.")
    is_on: bool = Field(description="Online profile status: On (true) or Off.")
    is_public: bool = Field(
        description="The public sees it: On, and every item of the checklist is done."
    )
    npi: str
    npi_attested: bool
    npi_attested_at: dt.datetime | None
    npi_attested_by: PersonOut | None
    specialties: list[Specialty]
    languages: list[SpokenLanguage]
    location_ids: list[UUID]
    insurance_accepted: list[str] = Field(description="One plan per item.")
    biography: str
    accepts_new_patients: bool
    online_visit_type_ids: list[UUID] = Field(description="The visit types offered online.")
    checklist: list[ChecklistItemOut] = Field(
        description="What the profile needs before it can be On (\"Why don't I appear in "
        'search results?").'
    )
    public_url: str = Field(description="The public profile page (answers only while public).")
    embed_url: str = Field(
        description="The booking page to frame on the practice's own website (the origins "
        "listed in the practice's online booking settings may frame it)."
    )
    embed_snippet: str = Field(description="The HTML to paste into the practice's website.")
    updated_at: dt.datetime


class ProfileIn(InputSchema):
    """The "Online profile and appointment booking" section. Only the fields given change
    (omitted or null: as they are). A list replaces the whole list."""

    specialties: list[Specialty] | None = Field(None, max_length=MAX_CHOICES)
    languages: list[SpokenLanguage] | None = Field(
        None, max_length=MAX_CHOICES, description="Languages spoken (ISO 639-1; sgn: ASL)."
    )
    location_ids: list[UUID] | None = Field(
        None, max_length=MAX_CHOICES, description="Active locations of the practice."
    )
    insurance_accepted: list[InsurancePlan] | None = Field(
        None,
        max_length=MAX_CHOICES,
        description="One plan per item; at most 2,000 characters in all.",
    )
    biography: CleanStr | None = _text(ProviderProfile, "biography", None)
    accepts_new_patients: StrictBool | None = None
    online_visit_type_ids: list[UUID] | None = Field(
        None,
        max_length=MAX_CHOICES,
        description="Active visit types of the practice the public may ask for.",
    )
    npi: CleanStr | None = Field(
        None,
        max_length=20,
        description="The provider's 10-digit NPI (spaces and dashes ignored), or empty for "
        "none. A changed NPI must be valid, and an administrator must attest it again.",
    )


class ProfileStatusIn(InputSchema):
    is_on: StrictBool = Field(
        ..., description="true: On (every item of the checklist must be done); false: Off."
    )


class AttestationIn(InputSchema):
    attested: StrictBool = Field(
        ..., description="true: attest the (valid) NPI; false: withdraw the attestation."
    )


# --- Shapes: requests ----------------------------------------------------------------------


class VisitTypeRefOut(Schema):
    id: UUID
    name: str


class RequestAppointmentOut(Schema):
    id: UUID
    status: AppointmentStatus
    status_label: str = Field(description="Tentative (proposed), Confirmed, Cancelled, …")
    start_at: dt.datetime
    end_at: dt.datetime


class AppointmentRequestOut(Schema):
    id: UUID
    kind: RequestKind = Field(
        description="new: an appointment; reschedule or cancel: about `original_appointment_id`."
    )
    kind_label: str
    source: RequestSource
    source_label: str
    status: RequestStatus
    status_label: str
    provider: PersonOut | None
    visit_type: VisitTypeRefOut | None
    start_at: dt.datetime | None = Field(description="The time asked for (UTC); none to cancel.")
    end_at: dt.datetime | None
    patient_kind: PatientKind = Field(description="What the requester said they are.")
    first_name: str
    last_name: str
    date_of_birth: dt.date | None
    email: str = Field(description="Where the emails about the request go.")
    phone: str
    reason: str = Field(description="The reason for visit (or for cancelling).")
    note: str = Field(description="The patient's notes with a reschedule request.")
    patient: PersonOut | None = Field(
        description="The chart: known for a portal request, chosen by staff on approval."
    )
    original_appointment_id: UUID | None = Field(
        description="The appointment a reschedule or cancellation is about."
    )
    appointment: RequestAppointmentOut | None = Field(
        description="What staff's decision made: confirmed, or tentative at a proposed time."
    )
    decision_reason: str
    decision_message: str
    decided_by: PersonOut | None
    decided_at: dt.datetime | None
    created_at: dt.datetime

    @staticmethod
    def resolve_id(asked: AppointmentRequest) -> UUID:
        return asked.public_id

    @staticmethod
    def resolve_kind_label(asked: AppointmentRequest) -> str:
        return str(asked.get_kind_display())

    @staticmethod
    def resolve_source_label(asked: AppointmentRequest) -> str:
        return str(asked.get_source_display())

    @staticmethod
    def resolve_status_label(asked: AppointmentRequest) -> str:
        return str(asked.get_status_display())

    @staticmethod
    def resolve_provider(asked: AppointmentRequest) -> dict | None:
        return _person(asked.provider)

    @staticmethod
    def resolve_visit_type(asked: AppointmentRequest) -> dict | None:
        kind = asked.visit_type
        return {"id": kind.public_id, "name": kind.name} if kind is not None else None

    @staticmethod
    def resolve_patient(asked: AppointmentRequest) -> dict | None:
        chart = asked.patient
        return {"id": chart.public_id, "name": chart.full_name} if chart is not None else None

    @staticmethod
    def resolve_original_appointment_id(asked: AppointmentRequest) -> UUID | None:
        return asked.original.public_id if asked.original is not None else None

    @staticmethod
    def resolve_appointment(asked: AppointmentRequest) -> dict | None:
        made = asked.appointment
        if made is None:
            return None
        return {
            "id": made.public_id,
            "status": made.status,
            "status_label": str(made.get_status_display()),
            "start_at": made.start_at,
            "end_at": made.end_at,
        }

    @staticmethod
    def resolve_decided_by(asked: AppointmentRequest) -> dict | None:
        return _person(asked.decided_by)


class PagedAppointmentRequestOut(Schema):
    items: list[AppointmentRequestOut]
    count: int


class RequestFilter(InputSchema):
    status: RequestStatus | None = Field(None, description="Only requests in this state.")
    kind: RequestKind | None = Field(None, description="Only requests of this type.")
    provider: UUID | None = Field(None, description="Only requests to this provider.")


def _patient_text(field: str) -> Any:
    return _text(Patient, field, None, description="Omitted or null: what the requester typed.")


class NewPatientIn(InputSchema):
    """A new chart made from the request: each field omitted or null is what the requester
    typed (names, date of birth, email, phone) or empty."""

    legal_first_name: CleanStr | None = _text(Patient, "legal_first_name", None, required=True)
    legal_last_name: CleanStr | None = _text(Patient, "legal_last_name", None, required=True)
    preferred_name: CleanStr | None = _text(Patient, "preferred_name", None)
    date_of_birth: IsoDate | None = Field(None, description="YYYY-MM-DD, from 1900 to today.")
    sex: Sex | None = None
    email: EmailOrBlank | None = Field(
        None, max_length=EMAIL_MAX_LENGTH, description="Empty for none. " + EMAIL_ALSO
    )
    mobile_phone: PhoneOrBlank | None = Field(
        None, max_length=PHONE_MAX_LENGTH, description="Empty for none. " + PHONE_ALSO
    )
    address_line1: CleanStr | None = _patient_text("address_line1")
    address_line2: CleanStr | None = _patient_text("address_line2")
    city: CleanStr | None = _patient_text("city")
    state: CleanStr | None = _patient_text("state")
    postal_code: CleanStr | None = _patient_text("postal_code")
    preferred_language: Language | None = None


CHART_CHOICE = (
    "Give `patient_id` (an existing chart of the practice), or `new_patient` (a new chart; {} "
    "takes what the requester typed), not both. Neither: the chart the request already names "
    "(a portal request), else a new chart from what the requester typed."
)


class ApproveIn(InputSchema):
    patient_id: UUID | None = Field(None, description="A chart of the practice. " + CHART_CHOICE)
    new_patient: NewPatientIn | None = None


class DenyIn(InputSchema):
    reason: CleanStr = Field(
        ...,
        max_length=AppointmentRequest._meta.get_field("decision_reason").max_length,
        description="Why (kept for the practice).",
        json_schema_extra={"pattern": NAME_PATTERN, "minLength": 1},
    )
    message: CleanStr = Field(
        "",
        max_length=AppointmentRequest._meta.get_field("decision_message").max_length,
        description="Optional; what the email to the requester says.",
        json_schema_extra={"pattern": TEXT_PATTERN},
    )


class ProposeIn(DenyIn):
    """ "Propose Changes": another time; the appointment is Tentative until the patient
    accepts it in the portal."""

    start_at: AwareDateTime
    patient_id: UUID | None = Field(
        None, description="A new-appointment request's chart. " + CHART_CHOICE
    )
    new_patient: NewPatientIn | None = None


# --- Lookups and helpers -------------------------------------------------------------------


def _person(user) -> dict | None:
    return {"id": user.public_id, "name": user.display_name} if user is not None else None


def _member(request, provider_id: UUID) -> Membership:
    """A provider of the token's practice, named in the path (else 404), with their membership
    (the credential the checklist and the public address need)."""
    membership = (
        scheduling_selectors.providers(request.practice).filter(user__public_id=provider_id).first()
    )
    if membership is None:
        raise Http404
    return membership


def _profile(request, membership: Membership) -> ProviderProfile:
    """The provider's profile, made (Off) the first time it is asked for, as the page does."""
    return services.profile_ensure(
        request.user, practice=request.practice, provider=membership.user
    )


def _profile_out(profile: ProviderProfile, membership: Membership) -> dict:
    items = selectors.checklist(profile, membership)
    attested_by = profile.npi_attested_by
    links = selectors.booking_links(profile, membership.credential)
    return {
        "provider": {
            "id": membership.user.public_id,
            "name": membership.user.display_name,
            "credential": membership.credential,
        },
        "number": profile.number,
        "is_on": profile.is_on,
        "is_public": selectors.is_public(profile),
        "npi": profile.npi,
        "npi_attested": profile.npi_attested,
        "npi_attested_at": profile.npi_attested_at,
        "npi_attested_by": _person(attested_by),
        "specialties": [row.code for row in profile.specialties.all()],
        "languages": [row.code for row in profile.languages.all()],
        "location_ids": [loc.public_id for loc in profile.locations.all()],
        "insurance_accepted": profile.insurance_plans,
        "biography": profile.biography,
        "accepts_new_patients": profile.accepts_new_patients,
        "online_visit_type_ids": [v.public_id for v in profile.online_visit_types.all()],
        "checklist": [{"code": i.code, "label": i.label, "done": i.done} for i in items],
        "public_url": links["profile_url"],
        "embed_url": links["embed_url"],
        "embed_snippet": links["snippet"],
        "updated_at": profile.updated_at,
    }


def _with_related(profiles):
    return profiles.select_related("practice", "provider", "npi_attested_by").prefetch_related(
        "specialties", "languages", "locations", "online_visit_types"
    )


def _fresh(profile: ProviderProfile) -> ProviderProfile:
    return _with_related(ProviderProfile.objects.filter(pk=profile.pk)).get()


def _chosen(model, practice, ids: list[UUID], field: str, message: str) -> list:
    """Rows of the practice named by public id in a body (active or not: the service says
    why a retired one cannot be chosen); an unknown id is a 422 on `field`."""
    ids = list(dict.fromkeys(ids))
    found = list(model.objects.filter(practice=practice, public_id__in=ids))
    if len(found) != len(ids):
        raise ValidationError({field: [message]})
    return found


def _renamed(exc: ValidationError, names: dict[str, str]) -> ValidationError:
    """The service's errors under the names the API's body uses."""
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({names.get(key, key): value for key, value in exc.error_dict.items()})


def _requests(request):
    """The practice's requests with everything their representation shows."""
    return selectors.requests_of(request.practice).select_related("decided_by")


def _asked(request, request_id: UUID) -> AppointmentRequest:
    """A request of the token's practice, named in the path (else 404)."""
    found = _requests(request).filter(public_id=request_id).first()
    if found is None:
        raise Http404
    return found


def _chart_choice(request, patient_id: UUID | None, new_patient: NewPatientIn | None):
    """(chart, new-patient values) for the services, from the body."""
    if patient_id is not None and new_patient is not None:
        raise ValidationError({"new_patient": ["Give patient_id or new_patient, not both."]})
    chart = None
    if patient_id is not None:
        try:
            chart = chart_selectors.chart_of(request.practice, patient_id)
        except Http404:
            raise ValidationError(
                {"patient_id": ["No chart of the practice has this id."]}
            ) from None
    values = None
    if new_patient is not None:
        values = {k: v for k, v in new_patient.dict().items() if v is not None}
    return chart, values


# The chart services' field names, and the body's (under new_patient).
NEW_PATIENT_FIELDS = {f: f"new_patient.{f}" for f in NewPatientIn.model_fields}
DECISION_FIELDS = {**NEW_PATIENT_FIELDS, "patient": "patient_id"}


# --- Online profiles -----------------------------------------------------------------------


@router.get("/profiles", response={200: list[ProfileOut], **ERRORS})
def list_online_profiles(request):
    """The online profile of each provider of the practice, by name: the profile itself, its
    checklist, its public address and the booking page to embed. A provider's profile is made
    (Off) the first time it is asked for, as the settings page does."""
    memberships = list(scheduling_selectors.providers(request.practice))
    existing = set(
        ProviderProfile.objects.filter(practice=request.practice).values_list(
            "provider_id", flat=True
        )
    )
    for membership in memberships:
        if membership.user_id not in existing:
            _profile(request, membership)
    profiles = {
        p.provider_id: p
        for p in _with_related(ProviderProfile.objects.filter(practice=request.practice))
    }
    return [_profile_out(profiles[m.user_id], m) for m in memberships]


@router.get("/profiles/{provider_id}", response={200: ProfileOut, **ERRORS})
def get_online_profile(request, provider_id: UUID):
    """One provider's online profile (named by the provider's account id)."""
    membership = _member(request, provider_id)
    return _profile_out(_fresh(_profile(request, membership)), membership)


@router.put("/profiles/{provider_id}", response={200: ProfileOut, **ERRORS})
def update_online_profile(request, provider_id: UUID, payload: ProfileIn):
    """Change the "Online profile and appointment booking" section: only the fields given
    change. The provider edits their own profile, an administrator every profile. A changed
    NPI must be valid and needs an administrator's attestation again."""
    membership = _member(request, provider_id)
    profile = _fresh(_profile(request, membership))
    given = {key: value for key, value in payload.dict().items() if value is not None}
    values: dict[str, Any] = {
        "specialties": given.get("specialties", [row.code for row in profile.specialties.all()]),
        "languages": given.get("languages", [row.code for row in profile.languages.all()]),
        "insurance_accepted": "\n".join(given.get("insurance_accepted", profile.insurance_plans)),
        "biography": given.get("biography", profile.biography),
        "accepts_new_patients": given.get("accepts_new_patients", profile.accepts_new_patients),
        "npi": given.get("npi", profile.npi),
    }
    if "location_ids" in given:
        values["locations"] = _chosen(
            Location,
            request.practice,
            given["location_ids"],
            "location_ids",
            _("Choose locations of this practice."),
        )
    else:
        values["locations"] = list(profile.locations.all())
    if "online_visit_type_ids" in given:
        values["online_visit_types"] = _chosen(
            VisitType,
            request.practice,
            given["online_visit_type_ids"],
            "online_visit_type_ids",
            _("Choose visit types of this practice."),
        )
    else:
        values["online_visit_types"] = list(profile.online_visit_types.all())
    try:
        services.profile_save(request.user, profile=profile, **values)
    except ValidationError as exc:
        raise _renamed(
            exc,
            {"locations": "location_ids", "online_visit_types": "online_visit_type_ids"},
        ) from exc
    return _profile_out(_fresh(profile), membership)


@router.put("/profiles/{provider_id}/status", response={200: ProfileOut, **ERRORS})
def set_online_profile_status(request, provider_id: UUID, payload: ProfileStatusIn):
    """Online profile status On or Off (the provider or an administrator). On needs every item
    of the checklist: else a 422 whose `is_on` names what is missing, and whose `checklist`
    lists each missing item."""
    membership = _member(request, provider_id)
    profile = _fresh(_profile(request, membership))
    try:
        services.profile_status_set(request.user, profile=profile, on=payload.is_on)
    except ValidationError as exc:
        missing = [i.label for i in selectors.checklist(profile, membership) if not i.done]
        errors = dict(exc.message_dict)
        if missing:
            errors["checklist"] = missing
        raise ValidationError(errors) from exc
    return _profile_out(_fresh(profile), membership)


@router.put("/profiles/{provider_id}/npi-attestation", response={200: ProfileOut, **ERRORS})
def set_npi_attestation(request, provider_id: UUID, payload: AttestationIn):
    """An administrator attests the provider's NPI (it must be valid), or withdraws the
    attestation; anyone else is refused (403)."""
    membership = _member(request, provider_id)
    profile = _fresh(_profile(request, membership))
    services.npi_attest(request.user, profile=profile, attested=payload.attested)
    return _profile_out(_fresh(profile), membership)


# --- Requests --------------------------------------------------------------------------------


@router.get("/requests", response={200: PagedAppointmentRequestOut, **ERRORS})
def list_appointment_requests(request, filters: Query[RequestFilter], page: Query[PageIn]):
    """The practice's appointment requests, oldest first, by status, type and provider (all
    of them when no filter is given; `status=pending`: the ones waiting for the practice).
    What they carry is health information: the requests shown are audited."""
    found = _requests(request)
    if filters.provider is not None:
        provider = scheduling_selectors.provider_of(request.practice, filters.provider)
        if provider is None:
            raise ValidationError({"provider": [_("Choose a provider of this practice.")]})
        found = found.filter(provider=provider)
    if filters.status is not None:
        found = found.filter(status=filters.status)
    if filters.kind is not None:
        found = found.filter(kind=filters.kind)
    found = found.order_by("created_at", "id")
    shown = list(found[page.offset : page.offset + page.limit])
    services.requests_listed(
        request.user,
        practice=request.practice,
        requests=shown,
        what=f"api request list, offset {page.offset}",
    )
    return {"items": shown, "count": found.count()}


@router.get("/requests/{request_id}", response={200: AppointmentRequestOut, **ERRORS})
def get_appointment_request(request, request_id: UUID):
    """One request with everything it carries; every read is audited."""
    asked = _asked(request, request_id)
    services.request_opened(request.user, request=asked)
    return asked


@router.post(
    "/requests/{request_id}/approve", response={200: AppointmentRequestOut, **BOOKING_ERRORS}
)
def approve_appointment_request(request, request_id: UUID, payload: ApproveIn | None = None):
    """Approve a pending request. A new appointment is booked at the time asked, with the
    reason for visit, on the chart chosen (see `patient_id`); the requester is emailed the
    confirmation at the address they typed. A reschedule moves the appointment; a
    cancellation cancels it. A time no longer free is a 409 with the provider's next open
    times (of two requests approved for one time, exactly one becomes an appointment)."""
    asked = _asked(request, request_id)
    choice = payload or ApproveIn()
    chart, new_patient = _chart_choice(request, choice.patient_id, choice.new_patient)
    try:
        services.request_approve(
            request.user, request=asked, patient=chart, new_patient=new_patient
        )
    except ValidationError as exc:
        if scheduling_services.is_taken(exc):
            original = asked.original if asked.kind == RequestKind.RESCHEDULE else None
            return _conflict(
                request,
                exc,
                provider=asked.provider,
                visit_type=(original.appointment_type if original else None) or asked.visit_type,
                start_at=asked.start_at,
                ignore=original,
            )
        raise _renamed(exc, DECISION_FIELDS) from exc
    return _asked(request, request_id)


@router.post("/requests/{request_id}/deny", response={200: AppointmentRequestOut, **ERRORS})
def deny_appointment_request(request, request_id: UUID, payload: DenyIn):
    """Deny a pending request with a reason; the requester is emailed (the optional message,
    never the reason). Nothing else changes."""
    asked = _asked(request, request_id)
    services.request_deny(
        request.user, request=asked, reason=payload.reason, message=payload.message
    )
    return _asked(request, request_id)


@router.post(
    "/requests/{request_id}/propose", response={200: AppointmentRequestOut, **BOOKING_ERRORS}
)
def propose_appointment_time(request, request_id: UUID, payload: ProposeIn):
    """Answer a pending new-appointment or reschedule request with another time ("Propose
    Changes"), with a reason and an optional message: a Tentative appointment holds that time
    until the patient accepts it in the portal; the requester is emailed. The time is checked
    as a booking is; one already booked is a 409 with the provider's next open times."""
    asked = _asked(request, request_id)
    chart, new_patient = _chart_choice(request, payload.patient_id, payload.new_patient)
    try:
        services.request_propose(
            request.user,
            request=asked,
            start_at=payload.start_at,
            reason=payload.reason,
            message=payload.message,
            patient=chart,
            new_patient=new_patient,
        )
    except ValidationError as exc:
        if scheduling_services.is_taken(exc):
            original = asked.original
            return _conflict(
                request,
                exc,
                provider=asked.provider,
                visit_type=(original.appointment_type if original else None) or asked.visit_type,
                start_at=payload.start_at,
            )
        raise _renamed(exc, DECISION_FIELDS) from exc
    return _asked(request, request_id)
