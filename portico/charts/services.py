"""State changes of patient charts. Each checks permission, changes, and audits."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portico.audit.services import audit_record
from portico.charts.models import Patient, Sex
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
