"""State changes of patient charts. Each checks permission, changes, and audits."""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portico.audit.services import audit_read, audit_record
from portico.charts import clinical_rules, signals
from portico.charts.models import (
    CLINICAL_LISTS,
    ClinicalItem,
    Encounter,
    EncounterAmendment,
    LabResult,
    Language,
    Patient,
    Sex,
)
from portico.charts.record_cache import record_changed
from portico.charts.selectors import parse_date_query
from portico.charts.validation import has_control_characters, normalize_phone
from portico.core.validation import clean_email, max_length_of
from portico.practices import permissions
from portico.practices import selectors as practice_selectors

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
                    gettext("Remove control characters (such as NUL) from this value.")
                )
        cleaned[field] = value
    for field in ("legal_first_name", "legal_last_name"):
        if field in cleaned and not cleaned[field]:
            errors.setdefault(field, []).append(gettext("This field is required."))
    if "date_of_birth" in cleaned:
        dob = cleaned["date_of_birth"]
        if not isinstance(dob, dt.date):
            errors.setdefault("date_of_birth", []).append(gettext("Enter a valid date."))
        elif dob > timezone.localdate() or dob.year < 1900:
            errors.setdefault("date_of_birth", []).append(
                gettext("Enter a date of birth between 1900 and today.")
            )
    if "sex" in cleaned and cleaned["sex"] not in Sex.values:
        errors.setdefault("sex", []).append(gettext("Choose one of the listed values."))
    language = cleaned.get("preferred_language")
    if language and language not in Language.values:
        errors.setdefault("preferred_language", []).append(
            gettext("Choose one of the listed languages.")
        )
    if cleaned.get("email"):
        cleaned["email"] = clean_email(cleaned["email"], errors)
    if "mobile_phone" in cleaned:
        try:
            cleaned["mobile_phone"] = normalize_phone(cleaned["mobile_phone"])
        except ValidationError as exc:
            errors.setdefault("mobile_phone", []).extend(exc.messages)
    for field in DEMOGRAPHIC_FIELDS:
        limit = max_length_of(Patient, field)
        if limit and isinstance(cleaned.get(field), str) and len(cleaned[field]) > limit:
            errors.setdefault(field, []).append(
                gettext("Use at most %(limit)s characters.") % {"limit": limit}
            )
    if errors:
        raise ValidationError(errors)
    return cleaned


@transaction.atomic
def patient_create(actor, *, practice, **values) -> Patient:
    """Create a chart at the actor's practice; first and last name and date of birth required."""
    permissions.require_member(actor, practice)
    missing = {
        f: [gettext("This field is required.")]
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
    audit_read(actor, action="chart.view", patient=patient, details={"page": what})


def charts_listed(actor, *, practice, charts, what: str, search: str = "") -> None:
    """Record that a staff member was shown a list of the practice's charts (names and dates
    of birth are health information too): which page, what kind of search (never its words)
    and the public ids of the charts shown."""
    kind = "none"
    if search.strip():
        kind = "date of birth" if parse_date_query(search.strip()) else "name"
    audit_read(
        actor,
        action="chart.list",
        practice=practice,
        details={
            "page": what,
            "search": kind,
            "charts": [str(chart.public_id) for chart in charts],
        },
    )


@transaction.atomic
def encounter_create(
    actor,
    *,
    patient: Patient,
    visit_date: dt.date,
    note: str = "",
    provider=None,
    confidential_from_representatives: bool = False,
) -> Encounter:
    """Open an unsigned encounter on a chart of the actor's practice, optionally marked
    confidential from the patient's representatives (see `encounter_confidential_set`)."""
    permissions.require_member(actor, patient.practice)
    if not isinstance(visit_date, dt.date):
        raise ValidationError({"visit_date": [gettext("Enter a valid date.")]})
    _check_yes_or_no(CONFIDENTIAL, confidential_from_representatives)
    if has_control_characters(note):
        raise ValidationError(
            {"note": [gettext("Remove control characters (such as NUL) from the note.")]}
        )
    if provider is not None:
        membership = practice_selectors.membership_for(provider, patient.practice)
        if not permissions.can_sign_encounters(membership):
            raise ValidationError({"provider": [gettext("Choose a provider of this practice.")]})
    encounter = Encounter.objects.create(
        practice=patient.practice,
        patient=patient,
        provider=provider,
        visit_date=visit_date,
        note=note,
        created_by=actor,
        confidential_from_representatives=confidential_from_representatives,
    )
    record_changed(patient.pk)
    details: dict = {"encounter": str(encounter.public_id)}
    if confidential_from_representatives:
        details["confidential"] = True
    audit_record(
        actor,
        action="encounter.create",
        practice=patient.practice,
        patient=patient,
        details=details,
    )
    return encounter


@transaction.atomic
def encounter_sign(actor, *, encounter: Encounter) -> Encounter:
    """A provider signs an encounter; from then on it can only be amended, never edited."""
    membership = practice_selectors.membership_for(actor, encounter.practice)
    permissions.require(
        permissions.can_sign_encounters(membership),
        gettext("Only a provider can sign an encounter."),
    )
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if encounter.is_signed:
        raise ValidationError(gettext("This encounter is already signed."))
    encounter.signed_at = timezone.now()
    encounter.signed_by = actor
    if encounter.provider_id is None:
        encounter.provider = actor
    encounter.save(update_fields=["signed_at", "signed_by", "provider", "updated_at"])
    record_changed(encounter.patient_id)
    audit_record(
        actor,
        action="encounter.sign",
        practice=encounter.practice,
        patient=encounter.patient,
        details={"encounter": str(encounter.public_id)},
    )
    # SPEC §5.1: the portal auto-invites the chart once the signature commits, if eligible then.
    signals.encounter_signed.send(sender=Encounter, encounter=encounter)
    if encounter.note_shared_with_patient:
        _record_shared(encounter.patient, "visit_summary")
    return encounter


def _record_shared(patient: Patient, what: str) -> None:
    """Tell the apps above that the patient's record newly shows `what` (charts.signals)."""
    signals.record_shared.send(sender=Patient, patient=patient, what=what)


# ---------------------------------------------------------------------------------------------
# Encounters: edit while unsigned, amend once signed, share the note (SPEC §2.2)
# ---------------------------------------------------------------------------------------------

REQUIRED = gettext_lazy("This field is required.")
SIGNED_MESSAGE = gettext_lazy("This encounter is signed: it cannot be edited, only amended.")
AMENDMENT_MAX = 10_000
# SPEC §9.3: the flag of items and encounters kept from the patient's representatives.
CONFIDENTIAL = "confidential_from_representatives"


def _check_yes_or_no(field: str, value) -> None:
    if not isinstance(value, bool):
        raise ValidationError({field: [gettext("Choose yes or no.")]})


def _save_changes(actor, obj, values: dict, *, action: str, details) -> list[str]:
    """Store the values that differ and audit the names of the fields changed (never the
    values); `details(obj, fields=...)` shapes the audit details. Returns the fields."""
    changed = [f for f, v in values.items() if getattr(obj, f) != v]
    if not changed:
        return changed
    for field in changed:
        setattr(obj, field, values[field])
    extra = ["updated_at"]
    if hasattr(obj, "updated_by"):
        obj.updated_by = actor
        extra.append("updated_by")
    obj.save(update_fields=[*changed, *extra])
    record_changed(obj.patient_id)
    audit_record(
        actor,
        action=action,
        practice=obj.practice,
        patient=obj.patient,
        details=details(obj, fields=sorted(changed)),
    )
    return changed


def _encounter_details(encounter: Encounter, **more) -> dict:
    return {"encounter": str(encounter.public_id), **more}


@transaction.atomic
def encounter_update(
    actor,
    *,
    encounter: Encounter,
    visit_date=None,
    note=None,
    provider=None,
    confidential_from_representatives=None,
) -> Encounter:
    """Change an unsigned encounter's visit date, note, provider or its confidentiality from
    representatives; a signed one is refused (amend it instead; its confidentiality changes
    through `encounter_confidential_set`). Only the values given change; the audit names
    fields, not values."""
    permissions.require_member(actor, encounter.practice)
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if encounter.is_signed:
        raise ValidationError(SIGNED_MESSAGE)
    errors: dict[str, list[str]] = {}
    changes: dict[str, object] = {}
    if visit_date is not None:
        if not isinstance(visit_date, dt.date) or isinstance(visit_date, dt.datetime):
            errors["visit_date"] = [gettext("Enter a valid date.")]
        else:
            changes["visit_date"] = visit_date
    if note is not None:
        if has_control_characters(note):
            errors["note"] = [gettext("Remove control characters (such as NUL) from the note.")]
        else:
            changes["note"] = note.strip()
    if provider is not None:
        membership = practice_selectors.membership_for(provider, encounter.practice)
        if not permissions.can_sign_encounters(membership):
            errors["provider"] = [gettext("Choose a provider of this practice.")]
        else:
            changes["provider"] = provider
    if confidential_from_representatives is not None:
        if not isinstance(confidential_from_representatives, bool):
            errors[CONFIDENTIAL] = [gettext("Choose yes or no.")]
        else:
            changes[CONFIDENTIAL] = confidential_from_representatives
    if errors:
        raise ValidationError(errors)
    _save_changes(actor, encounter, changes, action="encounter.update", details=_encounter_details)
    return encounter


@transaction.atomic
def encounter_amend(actor, *, encounter: Encounter, text: str) -> EncounterAmendment:
    """Add an amendment to a signed encounter (the only change a signed note admits).
    Any member of the practice may amend; the author and time are kept."""
    permissions.require_member(actor, encounter.practice)
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if not encounter.is_signed:
        raise ValidationError(gettext("Edit the note instead: this encounter is not signed yet."))
    text = (text or "").strip() if isinstance(text, str) else None
    if text is None or not text:
        raise ValidationError({"text": [REQUIRED]})
    if has_control_characters(text):
        raise ValidationError(
            {"text": [gettext("Remove control characters (such as NUL) from the text.")]}
        )
    if len(text) > AMENDMENT_MAX:
        raise ValidationError(
            {"text": [gettext("Use at most %(limit)s characters.") % {"limit": AMENDMENT_MAX}]}
        )
    amendment = EncounterAmendment.objects.create(encounter=encounter, text=text, author=actor)
    record_changed(encounter.patient_id)
    audit_record(
        actor,
        action="encounter.amend",
        practice=encounter.practice,
        patient=encounter.patient,
        details=_encounter_details(encounter, amendment=str(amendment.public_id)),
    )
    return amendment


@transaction.atomic
def encounter_share(actor, *, encounter: Encounter, note_shared: bool) -> Encounter:
    """A provider chooses whether the patient's record shows this visit's summary (note and
    amendments). The patient sees it only once the encounter is also signed; items attached
    to the encounter keep their own flags (see `item_share`)."""
    membership = practice_selectors.membership_for(actor, encounter.practice)
    permissions.require(
        permissions.can_sign_encounters(membership),
        gettext("Only a provider chooses what of an encounter is shared."),
    )
    if not isinstance(note_shared, bool):
        raise ValidationError({"note_shared_with_patient": [gettext("Choose yes or no.")]})
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if encounter.note_shared_with_patient == note_shared:
        return encounter
    encounter.note_shared_with_patient = note_shared
    encounter.save(update_fields=["note_shared_with_patient", "updated_at"])
    record_changed(encounter.patient_id)
    audit_record(
        actor,
        action="encounter.share",
        practice=encounter.practice,
        patient=encounter.patient,
        details=_encounter_details(encounter, shared=note_shared),
    )
    if note_shared and encounter.is_signed:
        _record_shared(encounter.patient, "visit_summary")
    return encounter


def _require_provider_once_signed(membership, encounter: Encounter | None) -> None:
    """Who may choose what of a visit reaches the record (sharing, confidentiality): any member
    while the visit is unsigned (or for an item of no visit), only a provider once signed."""
    if encounter is not None and encounter.is_signed:
        permissions.require(
            permissions.can_sign_encounters(membership),
            gettext("Only a provider chooses what of a signed encounter is shared."),
        )


@transaction.atomic
def encounter_confidential_set(actor, *, encounter: Encounter, confidential: bool) -> Encounter:
    """Mark a visit confidential from the patient's representatives (SPEC §9.3), or clear it.

    A confidential visit's summary, and every item attached to it, are kept from everyone who
    sees the record on the patient's behalf (charts.models.ClinicalItem); the patient still
    sees what is shared with them. Any member may while the visit is unsigned, only a provider
    once it is signed. Audited ("encounter.confidential") and raises the record version.
    """
    membership = permissions.require_member(actor, encounter.practice)
    _check_yes_or_no(CONFIDENTIAL, confidential)
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    _require_provider_once_signed(membership, encounter)
    if encounter.confidential_from_representatives == confidential:
        return encounter
    encounter.confidential_from_representatives = confidential
    encounter.save(update_fields=[CONFIDENTIAL, "updated_at"])
    record_changed(encounter.patient_id)
    audit_record(
        actor,
        action="encounter.confidential",
        practice=encounter.practice,
        patient=encounter.patient,
        details=_encounter_details(encounter, confidential=confidential),
    )
    return encounter


# ---------------------------------------------------------------------------------------------
# Clinical-list items (problems, medications, ..., lab results): one set of services for all
# ---------------------------------------------------------------------------------------------


def list_slug(model) -> str:
    """The URL slug of an item kind ("labs" for LabResult ...)."""
    return next(slug for slug, m in CLINICAL_LISTS.items() if m is model)


def _item_details(item: ClinicalItem, **more) -> dict:
    return {"list": list_slug(type(item)), "item": str(item.public_id), **more}


def _check_encounter(encounter, patient: Patient) -> None:
    """An item may join an unsigned encounter of its own chart (read under lock: a signature
    that lands meanwhile wins)."""
    if encounter is None:
        return
    if not isinstance(encounter, Encounter) or encounter.patient_id != patient.pk:
        raise ValidationError({"encounter": [gettext("Choose an encounter of this chart.")]})
    encounter = Encounter.objects.select_for_update().get(pk=encounter.pk)
    if encounter.is_signed:
        raise ValidationError({"encounter": [SIGNED_MESSAGE]})


def _refuse_if_signed(item: ClinicalItem) -> None:
    if item.encounter is not None and item.encounter.is_signed:
        raise ValidationError(
            gettext(
                "This item belongs to a signed encounter: it cannot be edited; amend the "
                "encounter instead."
            )
        )


@transaction.atomic
def item_create(actor, *, patient: Patient, model, encounter=None, **values) -> ClinicalItem:
    """Add an item of one clinical list (`model`, e.g. LabResult) to a chart.

    Any member of the practice may. `shared_with_patient` defaults to the kind's
    `SHARED_BY_DEFAULT` (lab results unshared, the rest shared);
    `confidential_from_representatives` to False (see `item_confidential_set`). An item may be
    attached to an unsigned encounter of the same chart, never to a signed one.
    """
    permissions.require_member(actor, patient.practice)
    if model not in CLINICAL_LISTS.values():
        raise ValueError(f"not a clinical list: {model!r}")
    _check_encounter(encounter, patient)
    confidential = _pop_confidential(values)
    cleaned = clinical_rules.clean_item_values(model, values)
    cleaned.setdefault(clinical_rules.SHARED, model.SHARED_BY_DEFAULT)
    cleaned[CONFIDENTIAL] = bool(confidential)
    item = model.objects.create(
        practice=patient.practice,
        patient=patient,
        encounter=encounter,
        created_by=actor,
        updated_by=actor,
        **cleaned,
    )
    record_changed(patient.pk)
    audit_record(
        actor,
        action="clinical.create",
        practice=patient.practice,
        patient=patient,
        details=_item_details(item, confidential=True) if confidential else _item_details(item),
    )
    if model is LabResult and item.shared_with_patient:
        _record_shared(patient, "results")
    return item


def _pop_confidential(values: dict) -> bool | None:
    """Take `confidential_from_representatives` out of an item's values (the value rules of
    charts.clinical_rules do not know it): None when not given; a non-boolean is refused."""
    if CONFIDENTIAL not in values:
        return None
    value = values.pop(CONFIDENTIAL)
    _check_yes_or_no(CONFIDENTIAL, value)
    return value


@transaction.atomic
def item_update(actor, *, item: ClinicalItem, **values) -> ClinicalItem:
    """Change an item's values (only those given), `confidential_from_representatives`
    included. Refused when the item belongs to a signed encounter (amend the encounter instead;
    its sharing and confidentiality change through `item_share` and `item_confidential_set`).
    The audit names the fields, never the values."""
    permissions.require_member(actor, item.practice)
    model = type(item)
    # Lock the item's row only: PostgreSQL refuses FOR UPDATE across the nullable join.
    item = model.objects.select_for_update(of=("self",)).select_related("encounter").get(pk=item.pk)
    _refuse_if_signed(item)
    encounter_given = "encounter" in values
    encounter = values.pop("encounter", None)
    if encounter_given:
        _check_encounter(encounter, item.patient)
    confidential = _pop_confidential(values)
    cleaned = clinical_rules.clean_item_values(model, values, item=item)
    if encounter_given:
        cleaned["encounter"] = encounter
    if confidential is not None:
        cleaned[CONFIDENTIAL] = confidential
    _save_changes(actor, item, cleaned, action="clinical.update", details=_item_details)
    return item


@transaction.atomic
def item_share(actor, *, item: ClinicalItem, shared: bool) -> ClinicalItem:
    """Show the item in the patient's record (shared=True) or take it away (False).

    Any member may for an item of its own or of an unsigned encounter; for an item of a
    signed encounter only a provider may (the provider chooses what of a visit is shared).
    """
    membership = permissions.require_member(actor, item.practice)
    model = type(item)
    item = model.objects.select_for_update(of=("self",)).select_related("encounter").get(pk=item.pk)
    _require_provider_once_signed(membership, item.encounter)
    if not isinstance(shared, bool):
        raise ValidationError({clinical_rules.SHARED: [gettext("Choose yes or no.")]})
    if item.shared_with_patient == shared:
        return item
    item.shared_with_patient = shared
    item.updated_by = actor
    item.save(update_fields=["shared_with_patient", "updated_by", "updated_at"])
    record_changed(item.patient_id)
    audit_record(
        actor,
        action="clinical.share",
        practice=item.practice,
        patient=item.patient,
        details=_item_details(item, shared=shared),
    )
    if shared and model is LabResult:
        _record_shared(item.patient, "results")
    return item


@transaction.atomic
def item_confidential_set(actor, *, item: ClinicalItem, confidential: bool) -> ClinicalItem:
    """Mark an item confidential from the patient's representatives (SPEC §9.3), or clear it.

    The patient still sees it when it is shared; nobody who sees the record on the patient's
    behalf does (an item of a confidential encounter is kept from them whatever this flag
    says). Who may is as for `item_share`: any member for an item of its own or of an unsigned
    encounter, only a provider for an item of a signed one. Audited ("clinical.confidential")
    and raises the record version, so no cached rendering shows the old choice.
    """
    membership = permissions.require_member(actor, item.practice)
    model = type(item)
    item = model.objects.select_for_update(of=("self",)).select_related("encounter").get(pk=item.pk)
    _require_provider_once_signed(membership, item.encounter)
    _check_yes_or_no(CONFIDENTIAL, confidential)
    if item.confidential_from_representatives == confidential:
        return item
    item.confidential_from_representatives = confidential
    item.updated_by = actor
    item.save(update_fields=[CONFIDENTIAL, "updated_by", "updated_at"])
    record_changed(item.patient_id)
    audit_record(
        actor,
        action="clinical.confidential",
        practice=item.practice,
        patient=item.patient,
        details=_item_details(item, confidential=confidential),
    )
    return item
