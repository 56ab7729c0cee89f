"""State changes of patient charts. Each checks permission, changes, and audits."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portico.audit.services import audit_record
from portico.charts.models import Encounter, Patient, Sex
from portico.charts.validation import has_control_characters, normalize_phone
from portico.core.validation import clean_email
from portico.practices import permissions

DEMOGRAPHIC_FIELDS = (
    "legal_first_name",
    "legal_last_name",
    "preferred_name",
    "date_of_birth",
    "sex",
    "email",
    "mobile_phone",
    "address_line1",
    "address_line2",
    "city",
    "state",
    "postal_code",
    "preferred_language",
)


def _clean_demographics(values: dict) -> dict:
    """Normalise and check demographic values; raise ValidationError with per-field messages."""
    cleaned = {}
    errors: dict[str, list[str]] = {}
    for field, value in values.items():
        if field not in DEMOGRAPHIC_FIELDS:
            continue
        if isinstance(value, str):
            value = value.strip()
            if has_control_characters(value):
                errors.setdefault(field, []).append(
                    "Remove control characters (such as NUL) from this value."
                )
        cleaned[field] = value
    for field in ("legal_first_name", "legal_last_name"):
        if field in cleaned and not cleaned[field]:
            errors.setdefault(field, []).append("This field is required.")
    if "date_of_birth" in cleaned:
        dob = cleaned["date_of_birth"]
        if not isinstance(dob, dt.date):
            errors.setdefault("date_of_birth", []).append("Enter a valid date.")
        elif dob > timezone.localdate() or dob.year < 1900:
            errors.setdefault("date_of_birth", []).append(
                "Enter a date of birth between 1900 and today."
            )
    if "sex" in cleaned and cleaned["sex"] not in Sex.values:
        errors.setdefault("sex", []).append("Choose one of the listed values.")
    if cleaned.get("email"):
        cleaned["email"] = clean_email(cleaned["email"], errors)
    if "mobile_phone" in cleaned:
        try:
            cleaned["mobile_phone"] = normalize_phone(cleaned["mobile_phone"])
        except ValidationError as exc:
            errors.setdefault("mobile_phone", []).extend(exc.messages)
    for field in DEMOGRAPHIC_FIELDS:
        limit = Patient._meta.get_field(field).max_length
        if limit and isinstance(cleaned.get(field), str) and len(cleaned[field]) > limit:
            errors.setdefault(field, []).append(f"Use at most {limit} characters.")
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def patient_create(actor, *, practice, **values) -> Patient:
    """Create a chart at the actor's practice; first and last name and date of birth required."""
    permissions.require_member(actor, practice)
    missing = {
        f: ["This field is required."]
        for f in ("legal_first_name", "legal_last_name", "date_of_birth")
        if not values.get(f)
    }
    if missing:
        raise ValidationError(missing)
    cleaned = _clean_demographics(values)
    patient = Patient.objects.create(practice=practice, **cleaned)
    audit_record(actor, action="chart.create", practice=practice, patient=patient)
    return patient


@transaction.atomic
def patient_update(actor, *, patient: Patient, **values) -> Patient:
    """Change demographics; the audit event names the fields changed, never their values."""
    permissions.require_member(actor, patient.practice)
    cleaned = _clean_demographics(values)
    changed = [f for f, v in cleaned.items() if getattr(patient, f) != v]
    if not changed:
        return patient
    for field in changed:
        setattr(patient, field, cleaned[field])
    patient.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor,
        action="chart.update",
        practice=patient.practice,
        patient=patient,
        details={"fields": sorted(changed)},
    )
    return patient


def chart_viewed(actor, *, patient: Patient, what: str = "chart") -> None:
    """Record that a staff member opened a chart page (every chart read is audited)."""
    audit_record(
        actor,
        action="chart.view",
        practice=patient.practice,
        patient=patient,
        details={"page": what},
    )


@transaction.atomic
def encounter_create(
    actor, *, patient: Patient, visit_date: dt.date, note: str = "", provider=None
) -> Encounter:
    """Open an unsigned encounter on a chart of the actor's practice."""
    permissions.require_member(actor, patient.practice)
    if not isinstance(visit_date, dt.date):
        raise ValidationError({"visit_date": ["Enter a valid date."]})
    if has_control_characters(note):
        raise ValidationError({"note": ["Remove control characters (such as NUL) from the note."]})
    if provider is not None:
        membership = permissions.membership_for(provider, patient.practice)
        if not permissions.can_sign_encounters(membership):
            raise ValidationError({"provider": ["Choose a provider of this practice."]})
    encounter = Encounter.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        visit_date=visit_date,
        note=note,
        created_by=actor,
    )
    audit_record(
        actor,
        action="encounter.create",
        practice=patient.practice,
        patient=patient,
        details={"encounter": str(encounter.public_id)},
    )
    return encounter


@transaction.atomic
def encounter_sign(actor, *, encounter: Encounter) -> Encounter:
    """A provider signs an encounter; from then on it can only be amended, never edited."""
    membership = permissions.membership_for(actor, encounter.practice)
    permissions.require(
        permissions.can_sign_encounters(membership), "Only a provider can sign an encounter."
    )
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if encounter.is_signed:
        raise ValidationError("This encounter is already signed.")
    encounter.signed_at = timezone.now()
    encounter.signed_by = actor
    if encounter.provider_id is None:
        encounter.provider = actor
    encounter.save(update_fields=["signed_at", "signed_by", "provider", "updated_at"])
    audit_record(
        actor,
        action="encounter.sign",
        practice=encounter.practice,
        patient=encounter.patient,
        details={"encounter": str(encounter.public_id)},
    )
    return encounter
