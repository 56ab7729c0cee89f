"""State changes of online profiles and appointment requests (SPEC §8.1–8.6). Pages, the API
and tests call these; each checks who acts, validates (a clear message per field, nothing
changed on error), changes state, audits and queues the emails, in one transaction.

Requests hold no time. Staff's approval or proposal books through the appointment book
(scheduling.services.appointment_book), so of two requests approved for one time exactly one
becomes an appointment; the other is refused with the book's "already booked" message.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from portico.audit.services import audit_read, audit_record
from portico.booking import selectors
from portico.booking.models import (
    AppointmentRequest,
    PatientKind,
    ProfileLanguage,
    ProfileSpecialty,
    ProviderProfile,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from portico.booking.npi import npi_problem
from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.charts import services as chart_services
from portico.charts.validation import has_control_characters, normalize_phone
from portico.core.validation import max_length_of
from portico.notifications.services import email_enqueue
from portico.portal.models import AccessState
from portico.portal.services import NO_ACCESS_MESSAGE
from portico.practices import permissions
from portico.practices import selectors as practice_selectors
from portico.scheduling import selectors as scheduling_selectors
from portico.scheduling import services as scheduling
from portico.scheduling.models import UPCOMING_STATUSES, Appointment, AppointmentStatus, VisitType

RECEIVED = "booking.received"
DENIED = "booking.denied"
PROPOSED = "booking.proposed"

# How far ahead the booking pages offer times, and a request may ask for one.
BOOKING_DAYS = 28


def _text_errors(model, values: dict[str, str], errors: dict[str, list[str]]) -> None:
    for field, value in values.items():
        if has_control_characters(value):
            errors.setdefault(field, []).append(
                _("Remove control characters (such as NUL) from this value.")
            )
        elif len(value) > (max_length_of(model, field) or 0):
            errors.setdefault(field, []).append(_("This is too long."))


# --- Online profiles ---------------------------------------------------------------------------


def _new_number() -> str:
    return f"{secrets.randbelow(90000) + 10000}"


def _require_profile_editor(actor, profile: ProviderProfile):
    """Any user edits their own profile; an administrator edits every profile of the practice."""
    membership = permissions.require_member(actor, profile.practice)
    permissions.require(
        membership.is_administrator or actor.pk == profile.provider_id,
        _("Only an administrator or the provider can change this online profile."),
    )
    return membership


@transaction.atomic
def profile_ensure(actor, *, practice, provider) -> ProviderProfile:
    """The provider's online profile at the practice, created (Off, with its stable random
    number) the first time it is asked for. Only for a provider working at the practice."""
    permissions.require_member(actor, practice)
    if scheduling.schedulable_provider(practice, provider) is None:
        raise ValidationError({"provider": [_("Choose a provider of this practice.")]})
    existing = selectors.profile_of(practice, provider)
    if existing is not None:
        return existing
    for _attempt in range(20):
        try:
            with transaction.atomic():
                return ProviderProfile.objects.create(
                    practice=practice, provider=provider, number=_new_number()
                )
        except IntegrityError:
            existing = selectors.profile_of(practice, provider)
            if existing is not None:
                return existing
    raise RuntimeError("no free profile number")  # 90,000 numbers: not reached in practice


def _choices(values: Iterable[str], choices, field: str, errors) -> list[str]:
    values = list(dict.fromkeys(v for v in values if v))
    known = set(choices.values)
    if not set(values) <= known:
        errors[field] = [_("Choose from the listed values.")]
    return values


@transaction.atomic
def profile_save(
    actor,
    *,
    profile: ProviderProfile,
    specialties: Iterable[str] = (),
    languages: Iterable[str] = (),
    locations: Iterable = (),
    insurance_accepted: str = "",
    biography: str = "",
    accepts_new_patients: bool = True,
    online_visit_types: Iterable[VisitType] = (),
    npi: str = "",
) -> list[str]:
    """Save the "Online profile and appointment booking" section. A changed NPI must be valid
    and needs an administrator's attestation again. Returns the names of the fields changed."""
    _require_profile_editor(actor, profile)
    practice = profile.practice
    errors: dict[str, list[str]] = {}
    specialties = _choices(specialties, Specialty, "specialties", errors)
    languages = _choices(languages, SpokenLanguage, "languages", errors)
    locations = list(locations)
    if any(loc.practice_id != practice.pk or not loc.is_active for loc in locations):
        errors["locations"] = [_("Choose locations of this practice.")]
    online_visit_types = list(online_visit_types)
    if any(v.practice_id != practice.pk or not v.is_active for v in online_visit_types):
        errors["online_visit_types"] = [_("Choose visit types of this practice.")]
    insurance_accepted = (insurance_accepted or "").strip()
    biography = (biography or "").strip()
    npi = (npi or "").strip().replace(" ", "").replace("-", "")
    if npi:
        problem = npi_problem(npi)
        if problem == "length" or problem == "digits":
            errors["npi"] = [_("An NPI is 10 digits.")]
        elif problem == "check":
            errors["npi"] = [_("This is not a valid NPI: check the digits.")]
    _text_errors(
        ProviderProfile,
        {"insurance_accepted": insurance_accepted, "biography": biography},
        errors,
    )
    if errors:
        raise ValidationError(errors)
    changed = []
    for field, value in (
        ("insurance_accepted", insurance_accepted),
        ("biography", biography),
        ("accepts_new_patients", bool(accepts_new_patients)),
    ):
        if getattr(profile, field) != value:
            setattr(profile, field, value)
            changed.append(field)
    if profile.npi != npi:
        profile.npi = npi
        profile.npi_attested_by = None
        profile.npi_attested_at = None
        changed.append("npi")
    if changed:
        profile.save()
    old_specialties = list(profile.specialties.values_list("code", flat=True))
    if sorted(old_specialties) != sorted(specialties):
        profile.specialties.all().delete()
        ProfileSpecialty.objects.bulk_create(
            ProfileSpecialty(profile=profile, code=code) for code in specialties
        )
        changed.append("specialties")
    old_languages = list(profile.languages.values_list("code", flat=True))
    if sorted(old_languages) != sorted(languages):
        profile.languages.all().delete()
        ProfileLanguage.objects.bulk_create(
            ProfileLanguage(profile=profile, code=code) for code in languages
        )
        changed.append("languages")
    if set(profile.locations.values_list("pk", flat=True)) != {loc.pk for loc in locations}:
        profile.locations.set(locations)
        changed.append("locations")
    if set(profile.online_visit_types.values_list("pk", flat=True)) != {
        v.pk for v in online_visit_types
    }:
        profile.online_visit_types.set(online_visit_types)
        changed.append("online_visit_types")
    if changed:
        audit_record(
            actor,
            action="online_profile.update",
            practice=practice,
            details={"profile": str(profile.public_id), "fields": sorted(changed)},
        )
    return changed


@transaction.atomic
def npi_attest(actor, *, profile: ProviderProfile, attested: bool) -> bool:
    """An administrator attests (or withdraws the attestation of) the provider's NPI (SPEC
    §8.2). Only a valid NPI can be attested: the one stored now, read under a lock, not the
    caller's copy (which is updated to match). Returns whether anything changed."""
    membership = permissions.require_member(actor, profile.practice)
    permissions.require(membership.is_administrator, _("Only an administrator can attest an NPI."))
    stored = ProviderProfile.objects.select_for_update().get(pk=profile.pk)
    if attested == stored.npi_attested:
        return False
    if attested:
        if not stored.npi or npi_problem(stored.npi) is not None:
            raise ValidationError({"npi": [_("Enter a valid NPI before attesting it.")]})
        stored.npi_attested_by = actor
        stored.npi_attested_at = timezone.now()
    else:
        stored.npi_attested_by = None
        stored.npi_attested_at = None
    stored.save(update_fields=["npi_attested_by", "npi_attested_at", "updated_at"])
    profile.npi = stored.npi
    profile.npi_attested_by, profile.npi_attested_at = (
        stored.npi_attested_by,
        stored.npi_attested_at,
    )
    audit_record(
        actor,
        action="online_profile.npi_attest" if attested else "online_profile.npi_unattest",
        practice=profile.practice,
        details={"profile": str(profile.public_id)},
    )
    return True


@transaction.atomic
def profile_status_set(actor, *, profile: ProviderProfile, on: bool) -> bool:
    """Turn the online profile On or Off. On needs every item of the checklist; the message
    names what is missing. Returns whether anything changed."""
    _require_profile_editor(actor, profile)
    if profile.is_on == on:
        return False
    if on:
        membership = practice_selectors.membership_for(profile.provider, profile.practice)
        missing = [item.label for item in selectors.checklist(profile, membership) if not item.done]
        if missing:
            raise ValidationError(
                {"is_on": [_("The profile cannot be turned on yet:") + " " + " ".join(missing)]}
            )
        if profile.first_public_at is None:
            profile.first_public_at = timezone.now()
    profile.is_on = on
    profile.save(update_fields=["is_on", "first_public_at", "updated_at"])
    audit_record(
        actor,
        action="online_profile.on" if on else "online_profile.off",
        practice=profile.practice,
        details={"profile": str(profile.public_id)},
    )
    return True


# --- Requests from the public ------------------------------------------------------------------


def is_open_time(profile: ProviderProfile, visit_type: VisitType, start_at, *, ignore=None) -> bool:
    """Whether `start_at` is one of the open times the booking page offers now."""
    zone = scheduling.zone_of(profile.practice)
    day = start_at.astimezone(zone).date()
    times = scheduling_selectors.open_times(
        profile.practice, profile.provider, visit_type, first_day=day, days=1, ignore=ignore
    )
    return any(t.start == start_at for t in times)


def _offered_type(profile: ProviderProfile, visit_type, errors) -> VisitType | None:
    if (
        not isinstance(visit_type, VisitType)
        or not profile.online_visit_types.filter(pk=visit_type.pk, is_active=True).exists()
    ):
        errors["visit_type"] = [_("Choose one of the visit types offered online.")]
        return None
    return visit_type


def _check_asked_time(profile, visit_type, start_at, errors, *, ignore=None) -> None:
    if not isinstance(start_at, dt.datetime) or timezone.is_naive(start_at):
        errors["start_at"] = [_("Choose one of the open times.")]
        return
    now = timezone.now()
    zone = scheduling.zone_of(profile.practice)
    days_ahead = (start_at.astimezone(zone).date() - now.astimezone(zone).date()).days
    if start_at < now:
        errors["start_at"] = [_("Choose a time that has not passed.")]
    elif days_ahead >= BOOKING_DAYS:  # the pages show today and the next BOOKING_DAYS - 1 days
        errors["start_at"] = [_("Choose one of the open times.")]
    elif visit_type is not None and not is_open_time(profile, visit_type, start_at, ignore=ignore):
        errors["start_at"] = [_("That time is no longer open. Choose one of the open times.")]


@transaction.atomic
def request_submit(
    *,
    profile: ProviderProfile,
    visit_type,
    start_at,
    patient_kind: str,
    first_name: str,
    last_name: str,
    date_of_birth,
    email: str,
    phone: str = "",
    reason: str = "",
    source: str = RequestSource.PUBLIC,
    language: str = "",
) -> AppointmentRequest:
    """A visitor asks for an appointment at one of the open times of a public profile (SPEC
    §8.4–8.5). It holds no time and touches no chart; the practice decides. The requester is
    emailed that the request was received, at the address they typed."""
    if not selectors.is_public(profile):
        raise ValidationError({"profile": [_("This provider does not take online requests.")]})
    errors: dict[str, list[str]] = {}
    visit_type = _offered_type(profile, visit_type, errors)
    if patient_kind not in PatientKind.values:
        errors["patient_kind"] = [_("Say whether you are a new or an existing patient.")]
    elif patient_kind == PatientKind.NEW and not profile.accepts_new_patients:
        errors["patient_kind"] = [_("This provider is not taking new patients.")]
    values = {
        "first_name": (first_name or "").strip(),
        "last_name": (last_name or "").strip(),
        "email": (email or "").strip().lower(),  # as every address Portico keeps
        "phone": (phone or "").strip(),
        "reason": (reason or "").strip(),
    }
    for field in ("first_name", "last_name", "email", "reason"):
        if not values[field]:
            errors[field] = [_("This field is required.")]
    if values["phone"] and not has_control_characters(values["phone"]):
        # Kept as a chart keeps it (E.164): approving the request may make a chart from it.
        try:
            values["phone"] = normalize_phone(values["phone"])
        except ValidationError as exc:
            errors["phone"] = list(exc.messages)
    _text_errors(AppointmentRequest, values, errors)
    if values["email"] and "email" not in errors:
        try:
            validate_email(values["email"])
        except ValidationError:
            errors["email"] = [_("Enter a valid email address.")]
    if not isinstance(date_of_birth, dt.date):
        errors["date_of_birth"] = [_("Enter your date of birth.")]
    elif date_of_birth > timezone.localdate() or date_of_birth.year < 1900:
        errors["date_of_birth"] = [_("Enter a real date of birth.")]
    _check_asked_time(profile, visit_type, start_at, errors)
    if errors or visit_type is None:
        raise ValidationError(errors)
    if source not in (RequestSource.PUBLIC, RequestSource.EMBED, RequestSource.API):
        source = RequestSource.PUBLIC
    if language not in dict(settings.LANGUAGES):  # the emails are written in one Portico speaks
        language = ""
    request = AppointmentRequest.objects.create(
        practice=profile.practice,
        provider=profile.provider,
        kind=RequestKind.NEW,
        source=source,
        visit_type=visit_type,
        start_at=start_at,
        end_at=start_at + dt.timedelta(minutes=visit_type.duration_minutes),
        patient_kind=patient_kind,
        date_of_birth=date_of_birth,
        language=language,
        **values,
    )
    audit_record(
        None,
        action="booking.request_received",
        practice=profile.practice,
        details={"request": str(request.public_id), "source": source},
        actor_label="public booking page",
    )
    _email(request, RECEIVED)
    return request


def _email(request: AppointmentRequest, kind: str) -> None:
    email_enqueue(
        kind=kind,
        subject_id=request.public_id,
        to_address=request.email,
        practice=request.practice,
        patient=request.patient,
        language=request.language,
    )


# --- Staff: processing requests (SPEC §8.5) ------------------------------------------------------


def request_opened(actor, *, request: AppointmentRequest) -> None:
    """Audit that staff opened a request: what it carries (name, date of birth, reason) is
    health information once it is read at the practice."""
    permissions.require_member(actor, request.practice)
    audit_record(
        actor,
        action="booking.request_view",
        practice=request.practice,
        patient=request.patient,
        details={"request": str(request.public_id)},
    )


def requests_listed(actor, *, practice, requests: Iterable[AppointmentRequest], what: str) -> None:
    """Audit that staff were shown a list of the practice's requests (each carries a name, a
    date of birth and a reason for visit): which list, and the public ids of those shown."""
    permissions.require_member(actor, practice)
    audit_read(
        actor,
        action="booking.request_list",
        practice=practice,
        details={"page": what, "requests": [str(r.public_id) for r in requests]},
    )


def _locked(request: AppointmentRequest) -> AppointmentRequest:
    return (
        AppointmentRequest.objects.select_for_update(of=("self",))
        .select_related("practice", "provider", "visit_type", "patient", "original")
        .get(pk=request.pk)
    )


def _asked_time(request: AppointmentRequest) -> dt.datetime:
    """The time a new-appointment or reschedule request asks for (every such request has one)."""
    if request.start_at is None:
        raise ValidationError({"start_at": [_("This request asks for no time.")]})
    return request.start_at


def _original(request: AppointmentRequest) -> Appointment:
    """The appointment a reschedule or cancellation request is about."""
    if request.original is None:
        raise ValidationError({"kind": [_("This request is about no appointment.")]})
    return request.original


def _require_pending(request: AppointmentRequest) -> None:
    if request.status != RequestStatus.PENDING:
        raise ValidationError(
            {
                "status": [
                    _("This request was already answered (%(status)s).")
                    % {"status": request.get_status_display().lower()}
                ]
            }
        )


def _decided(actor, request: AppointmentRequest, status: str, action: str, **details) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.save()
    audit_record(
        actor,
        action=action,
        practice=request.practice,
        patient=request.patient,
        details={"request": str(request.public_id), **details},
    )


def _chart_for(actor, request: AppointmentRequest, patient, new_patient: dict | None):
    """The chart a new-appointment request is booked on: the one staff matched (of this
    practice), or a new chart from what the requester typed (`new_patient` may correct it)."""
    if patient is not None:
        if patient.practice_id != request.practice_id:
            raise ValidationError({"patient": [_("Choose a chart of this practice.")]})
        return patient
    if request.patient is not None and new_patient is None:
        return request.patient
    values = {
        "legal_first_name": request.first_name,
        "legal_last_name": request.last_name,
        "date_of_birth": request.date_of_birth,
        "email": request.email,
        "mobile_phone": request.phone,
        **(new_patient or {}),
    }
    return chart_services.patient_create(actor, practice=request.practice, **values)


@transaction.atomic
def request_approve(
    actor, *, request: AppointmentRequest, patient=None, new_patient: dict | None = None
) -> Appointment | None:
    """Approve a pending request. A new appointment is booked on the matched chart (or a new
    one) at the time asked, with the reason for visit, and the requester is emailed the
    confirmation at the address they typed; a reschedule moves the appointment; a cancellation
    cancels it. Refused with the book's message when the time is no longer free."""
    permissions.require_member(actor, request.practice)
    request = _locked(request)
    _require_pending(request)
    appointment: Appointment | None
    if request.kind == RequestKind.NEW:
        chart = _chart_for(actor, request, patient, new_patient)
        appointment = scheduling.appointment_book(
            actor,
            patient=chart,
            provider=request.provider,
            appointment_type=request.visit_type,
            start_at=_asked_time(request),
            reason=request.reason,
            status=AppointmentStatus.BOOKED,
            email_to=request.email,
        )
        request.patient = chart
        request.appointment = appointment
    elif request.kind == RequestKind.RESCHEDULE:
        appointment = scheduling.appointment_move(
            actor,
            appointment=_original(request),
            start_at=_asked_time(request),
            email_to=request.email,
        )
        request.appointment = appointment
    else:
        appointment = scheduling.appointment_cancel(
            actor,
            appointment=_original(request),
            reason=request.reason or _("Cancelled at the patient's request"),
            email_to=request.email,
        )
        request.appointment = appointment
    _decided(actor, request, RequestStatus.APPROVED, "booking.request_approve")
    return appointment


def _decision_texts(reason: str, message: str, missing_reason: str) -> tuple[str, str]:
    """Staff's reason (required: `missing_reason` says so) and optional message, trimmed; a
    ValidationError on the `reason` and `message` fields when they are not acceptable."""
    reason, message = (reason or "").strip(), (message or "").strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = [missing_reason]
    _text_errors(
        AppointmentRequest, {"decision_reason": reason, "decision_message": message}, errors
    )
    if errors:
        if "decision_reason" in errors:
            errors["reason"] = errors.pop("decision_reason")
        if "decision_message" in errors:
            errors["message"] = errors.pop("decision_message")
        raise ValidationError(errors)
    return reason, message


@transaction.atomic
def request_deny(actor, *, request: AppointmentRequest, reason: str, message: str = "") -> None:
    """Deny a pending request with a reason; the requester is emailed (the reason is for the
    practice; the optional message is what the email says). Nothing else changes."""
    permissions.require_member(actor, request.practice)
    request = _locked(request)
    _require_pending(request)
    reason, message = _decision_texts(reason, message, _("Say why the request is denied."))
    request.decision_reason, request.decision_message = reason, message
    _decided(actor, request, RequestStatus.DENIED, "booking.request_deny")
    _email(request, DENIED)


@transaction.atomic
def request_propose(
    actor,
    *,
    request: AppointmentRequest,
    start_at: dt.datetime,
    reason: str,
    message: str = "",
    patient=None,
    new_patient: dict | None = None,
) -> Appointment:
    """Answer a pending new-appointment or reschedule request with another time ("Propose
    Changes"): a Tentative appointment holds that time on the chart until the patient accepts
    it in the portal (or declines). The reason is required; the optional message goes in the
    email. A reschedule's original appointment stays as it is until the patient accepts."""
    permissions.require_member(actor, request.practice)
    request = _locked(request)
    _require_pending(request)
    if request.kind == RequestKind.CANCEL:
        raise ValidationError({"kind": [_("A cancellation request is approved or denied.")]})
    reason, message = _decision_texts(reason, message, _("Say why another time is proposed."))
    if request.kind == RequestKind.NEW:
        chart = _chart_for(actor, request, patient, new_patient)
        visit_type = request.visit_type
    else:
        original = _original(request)
        chart = original.patient
        visit_type = original.appointment_type or request.visit_type
    appointment = scheduling.appointment_book(
        actor,
        patient=chart,
        provider=request.provider,
        appointment_type=visit_type,
        start_at=start_at,
        reason=request.reason or (request.original.reason if request.original else ""),
        status=AppointmentStatus.PROPOSED,
        notify=False,
    )
    request.patient = chart
    request.appointment = appointment
    request.decision_reason, request.decision_message = reason, message
    _decided(
        actor, request, RequestStatus.PROPOSED, "booking.request_propose", to=start_at.isoformat()
    )
    _email(request, PROPOSED)
    return appointment


# --- Patients in the portal (SPEC §8.6) ----------------------------------------------------------


def _require_patient(account, access, appointment: Appointment | None = None) -> None:
    """The signed-in account acts on its own chart while the chart's portal access is active;
    anything else is refused with the access error (a revoke acts on the next request)."""
    if (
        account is None
        or access.account_id != account.pk
        or access.effective_state != AccessState.ACTIVE
        or (appointment is not None and appointment.patient_id != access.patient_id)
    ):
        raise PermissionDenied(str(NO_ACCESS_MESSAGE))


def _own_request(access, request: AppointmentRequest) -> None:
    if request.patient_id != access.patient_id:
        raise PermissionDenied(str(NO_ACCESS_MESSAGE))


def _portal_request(
    account, access, appointment: Appointment, kind: str, action: str, **values
) -> AppointmentRequest:
    """Store the patient's request about their appointment (with the chart's details, and who
    asked when a representative did), audit it as `action` and email that it was received."""
    patient = access.patient
    values.setdefault("reason", appointment.reason)
    if access.is_representative:
        values.update(representative_name=access.name, requested_as=access.relationship)
    request = AppointmentRequest.objects.create(
        practice=appointment.practice,
        provider=appointment.provider,
        kind=kind,
        source=RequestSource.PORTAL,
        visit_type=appointment.appointment_type,
        patient_kind=PatientKind.EXISTING,
        first_name=patient.legal_first_name,
        last_name=patient.legal_last_name,
        date_of_birth=patient.date_of_birth,
        email=(access.account.email if access.account_id else "") or patient.email,
        phone=patient.mobile_phone,
        patient=patient,
        original=appointment,
        language=patient.portal_language,
        **values,
    )
    audit_record(
        account,
        action=action,
        practice=appointment.practice,
        patient=appointment.patient,
        details={"request": str(request.public_id), "appointment": str(appointment.public_id)},
    )
    _email(request, RECEIVED)
    return request


def _refuse_open_change(appointment: Appointment) -> None:
    """One open change request per appointment: one waiting for the practice, or answered
    with another time that waits for the patient (accepting it cancels this appointment) while
    that time is still tentative."""
    open_change = appointment.change_requests.filter(
        Q(status=RequestStatus.PENDING)
        | Q(status=RequestStatus.PROPOSED, appointment__status=AppointmentStatus.PROPOSED)
    ).first()
    if open_change is None:
        return
    if open_change.status == RequestStatus.PROPOSED:
        message = _(
            "The practice proposed another time for this appointment: accept or decline it first."
        )
    else:
        message = _("A request about this appointment is already waiting for the practice.")
    raise ValidationError({"status": [message]})


@transaction.atomic
def reschedule_request(
    account, *, access, appointment: Appointment, start_at, note: str = ""
) -> AppointmentRequest:
    """The patient asks to move a confirmed appointment to one of the provider's open times
    ("Request to reschedule"). The original stays Confirmed until the practice acts."""
    _require_patient(account, access, appointment)
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice", "provider", "appointment_type")
        .get(pk=appointment.pk)
    )
    errors: dict[str, list[str]] = {}
    note = (note or "").strip()
    if appointment.status != AppointmentStatus.BOOKED or appointment.start_at < timezone.now():
        raise ValidationError(
            {"status": [_("Only an upcoming confirmed appointment can be moved.")]}
        )
    _refuse_open_change(appointment)
    visit_type = appointment.appointment_type
    if visit_type is None or appointment.provider is None:
        raise ValidationError({"status": [_("Please call the practice to move this appointment.")]})
    profile = ProviderProfile(practice=appointment.practice, provider=appointment.provider)
    _check_asked_time(profile, visit_type, start_at, errors, ignore=appointment)
    _text_errors(AppointmentRequest, {"note": note}, errors)
    if errors:
        raise ValidationError(errors)
    return _portal_request(
        account,
        access,
        appointment,
        RequestKind.RESCHEDULE,
        "booking.reschedule_request",
        start_at=start_at,
        end_at=start_at + (appointment.end_at - appointment.start_at),
        note=note,
    )


@transaction.atomic
def patient_cancel(
    account, *, access, appointment: Appointment, reason: str
) -> Appointment | AppointmentRequest:
    """The patient cancels an upcoming appointment. A tentative one (a time the practice
    proposed) is declined at once. A confirmed one is cancelled at once, or becomes a
    cancellation request the practice approves, as the practice's cancellation policy says.
    Returns the cancelled appointment or the request."""
    _require_patient(account, access, appointment)
    reason = (reason or "").strip()
    errors: dict[str, list[str]] = {}
    if appointment.status not in (AppointmentStatus.BOOKED, AppointmentStatus.PROPOSED):
        errors["status"] = [_("Only an upcoming appointment can be cancelled.")]
    elif appointment.start_at < timezone.now():
        errors["status"] = [_("This appointment's time has passed.")]
    if not reason:
        errors["reason"] = [_("Say why you cancel.")]
    _text_errors(Appointment, {"cancel_reason": reason}, errors)
    if "cancel_reason" in errors:
        errors["reason"] = errors.pop("cancel_reason")
    if errors:
        raise ValidationError(errors)
    if appointment.status == AppointmentStatus.PROPOSED:
        return proposal_decline(account, access=access, appointment=appointment, reason=reason)
    _refuse_open_change(appointment)
    if not selectors.cancellation_needs_approval(appointment.practice, appointment.start_at):
        return scheduling.appointment_cancel(
            account, appointment=appointment, reason=reason, access=access
        )
    return _portal_request(
        account, access, appointment, RequestKind.CANCEL, "booking.cancel_request", reason=reason
    )


@transaction.atomic
def request_withdraw(account, *, access, request: AppointmentRequest) -> bool:
    """The patient takes back a request still waiting for the practice (a pending
    appointment, a reschedule or a cancellation): at once, nothing else changes."""
    _require_patient(account, access)
    _own_request(access, request)
    request = _locked(request)
    if request.status != RequestStatus.PENDING:
        return False
    request.status = RequestStatus.WITHDRAWN
    request.save(update_fields=["status", "updated_at"])
    audit_record(
        account,
        action="booking.request_withdraw",
        practice=request.practice,
        patient=request.patient,
        details={"request": str(request.public_id)},
    )
    return True


def _proposal_of(appointment: Appointment) -> AppointmentRequest | None:
    return (
        AppointmentRequest.objects.select_for_update(of=("self",))
        .select_related("original", "practice")
        .filter(appointment=appointment, status=RequestStatus.PROPOSED)
        .first()
    )


@transaction.atomic
def proposal_accept(account, *, access, appointment: Appointment) -> Appointment:
    """The patient accepts the time the practice proposed: the tentative appointment is
    Confirmed (emailed with its calendar file); for a reschedule, the original appointment is
    cancelled in the same step."""
    _require_patient(account, access, appointment)
    if appointment.status != AppointmentStatus.PROPOSED:
        raise ValidationError({"status": [_("This appointment is not waiting for your answer.")]})
    return _confirm_proposal(account, appointment, access)


def _confirm_proposal(actor, appointment: Appointment, access) -> Appointment:
    """Confirm a tentative appointment; when it is the time proposed in answer to a request,
    the request is approved and a reschedule's original appointment cancelled with it."""
    request = _proposal_of(appointment)
    confirmed = scheduling.appointment_confirm(
        actor,
        appointment=appointment,
        access=access,
        email_to=request.email if request is not None else "",
    )
    if request is not None:
        if request.original is not None and request.original.status in UPCOMING_STATUSES:
            scheduling.appointment_cancel(
                actor,
                appointment=request.original,
                reason=_("Rescheduled to the time the practice proposed"),
                access=access,
            )
        request.status = RequestStatus.APPROVED
        request.save(update_fields=["status", "updated_at"])
    return confirmed


@transaction.atomic
def proposal_confirm(actor, *, appointment: Appointment) -> Appointment:
    """Staff confirm a tentative appointment (the patient agreed, on the phone): as if the
    patient had accepted it in the portal (SPEC §8.5). The appointment book's rules apply
    (a pending one can be confirmed too; confirming twice changes nothing)."""
    permissions.require_member(actor, appointment.practice)
    return _confirm_proposal(actor, appointment, None)


@transaction.atomic
def proposal_decline(account, *, access, appointment: Appointment, reason: str = "") -> Appointment:
    """The patient declines the proposed time: the tentative appointment is cancelled (its
    time is free again); a reschedule's original appointment stays as it was."""
    _require_patient(account, access, appointment)
    if appointment.status != AppointmentStatus.PROPOSED:
        raise ValidationError({"status": [_("This appointment is not waiting for your answer.")]})
    request = _proposal_of(appointment)
    cancelled = scheduling.appointment_cancel(
        account,
        appointment=appointment,
        reason=reason or _("The patient declined the proposed time"),
        access=access,
        notify=False,
    )
    if request is not None:
        request.status = RequestStatus.DECLINED
        request.save(update_fields=["status", "updated_at"])
    return cancelled
