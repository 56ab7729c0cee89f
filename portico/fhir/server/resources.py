"""The server's one table: each resource type, the rows it is read from, its search
parameters and its `_include`s. The routes (portico.fhir.urls), the searches
(portico.fhir.server.search) and the CapabilityStatement (portico.fhir.server.capability) all
read it, so what the server says it does and what it does cannot drift apart.

Every source reads the patient's record through `records.selectors` (shared items only, and for
a representative nothing confidential from representatives), so a search, a read, a `total` and
`$everything` can only ever hold what the portal would show the same person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import DateTimeField, F, Model, Q, QuerySet

from portico.accounts.models import User
from portico.charts.models import (
    CODE_SYSTEM_URIS,
    Allergy,
    Assessment,
    CarePlan,
    Encounter,
    Immunization,
    LabResult,
    Medication,
    Patient,
    Problem,
    Procedure,
    Vital,
)
from portico.fhir.server.params import (
    Condition,
    DateParam,
    IdParam,
    Param,
    PatientParam,
    ReferenceParam,
    Token,
    TokenParam,
    as_uuid,
    constant_token,
    field_token,
)
from portico.practices.models import Membership, Practice, Role
from portico.records import fhir as builders
from portico.records import selectors
from portico.scheduling.models import Appointment, AppointmentStatus

# -- sources ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Rows one kind of resource is built from (Observation has three: labs, vitals and
    assessments). `rows(reader)` is every row the reader may see; pages are read newest first
    by `date_field` then by key (by key alone without a date)."""

    key: str
    resource_type: str
    model: type[Model]
    rows: Callable[[Any], QuerySet]
    build: Callable[[Any, Any], dict]
    date_field: str | None = None
    id_field: str = "public_id"
    # What `prepare` reads for a page of rows: whether rows are items recorded at a visit, and
    # the users they name (by role: "provider", "signed_by").
    visits: bool = False
    people: tuple[str, ...] = ()

    def is_instant(self, field_name: str) -> bool:
        return isinstance(self.model._meta.get_field(field_name), DateTimeField)


def is_provider(reader, membership: str = "") -> Q:
    """The one rule of who is a Practitioner the reader may read: a provider of the patient's
    practice (whether or not still working there: old visits name them). `membership` is the
    path to the membership ("memberships__" from a user)."""
    return Q(**{f"{membership}practice_id": reader.practice.pk, f"{membership}role": Role.PROVIDER})


def provider_ids(reader) -> QuerySet:
    """The users who are Practitioners the reader may read (is_provider)."""
    return Membership.objects.filter(is_provider(reader)).values("user_id")


def visible_visits(reader) -> QuerySet:
    """The patient's visits the reader sees (records.selectors.shared_encounters)."""
    return selectors.shared_encounters(
        reader.patient, confidential=reader.confidential
    ).prefetch_related(None)


def prepare(pairs: list[tuple[Source, Any]], reader) -> None:
    """Mark a page's rows with what their resources may name, in at most two queries for the
    whole page: an item's visit (`visible_encounter_id`, only when the reader sees that
    visit), and whether each user a row names is a Practitioner the reader may read
    (`<role>_is_practitioner`). portico.fhir.server.context.ServerRefs reads the marks; a row
    without them names neither."""
    visits = {row.encounter_id for source, row in pairs if source.visits and row.encounter_id}
    if visits:
        seen = dict(visible_visits(reader).filter(pk__in=visits).values_list("pk", "public_id"))
        for source, row in pairs:
            if source.visits:
                row.visible_encounter_id = seen.get(row.encounter_id)
    users = {
        getattr(row, f"{role}_id")
        for source, row in pairs
        for role in source.people
        if getattr(row, f"{role}_id")
    }
    if users:
        practitioners = set(
            provider_ids(reader).filter(user_id__in=users).values_list("user_id", flat=True)
        )
        for source, row in pairs:
            for role in source.people:
                setattr(row, f"{role}_is_practitioner", getattr(row, f"{role}_id") in practitioners)


# What no resource shows: not read (each costs a conversion per row).
UNWRITTEN = ("created_at", "updated_at", "created_by", "updated_by")


def _item_source(key: str, resource_type: str, model, build) -> Source:
    def rows(reader) -> QuerySet:
        return selectors.shared_items(
            model, reader.patient, confidential=reader.confidential
        ).defer(*UNWRITTEN)

    return Source(
        key=key,
        resource_type=resource_type,
        model=model,
        rows=rows,
        build=lambda row, reader: build(row, reader.subject, reader.refs),
        date_field="recorded_on",
        visits=True,
    )


def _encounter_rows(reader, *, notes: bool) -> QuerySet:
    rows = selectors.shared_encounters(reader.patient, confidential=reader.confidential)
    if not notes:
        rows = rows.prefetch_related(None).select_related(None).select_related("provider")
        rows = rows.defer("note")
    return rows


def _appointment_rows(reader) -> QuerySet:
    return (
        selectors.patient_appointments(reader.patient)
        .select_related(None)
        .select_related("provider")
    )


def _practitioner_rows(reader) -> QuerySet:
    """The providers of the patient's practice, each with their credential there (one
    membership a user and practice)."""
    return (
        User.objects.filter(is_provider(reader, "memberships__"))
        .only("public_id", "full_name")
        .annotate(credential=F("memberships__credential"))
    )


def _referenced_practitioner_rows(reader) -> QuerySet:
    """The Practitioners the reader's record names (for `$everything`): the providers and
    signers of the visits the reader sees, the providers of the patient's appointments."""
    visits = visible_visits(reader)
    appointments = _appointment_rows(reader)
    return _practitioner_rows(reader).filter(
        Q(pk__in=visits.values("provider_id"))
        | Q(pk__in=visits.values("signed_by_id"))
        | Q(pk__in=appointments.values("provider_id"))
    )


NAME_PREFIXES = ("Dr.", "Dr")


def practitioner_resource(user) -> dict:
    """A provider of the practice (US Core Practitioner): the name, and the credential."""
    full_name = " ".join(user.full_name.split())
    words = full_name.split(" ") if full_name else []
    name: dict = {"text": full_name or "Provider"}
    if words and words[0] in NAME_PREFIXES:
        name["prefix"] = [words.pop(0)]
    if words:
        name["family"] = words[-1]
        if len(words) > 1:
            name["given"] = words[:-1]
    credential = getattr(user, "credential", "")
    if credential:
        name["suffix"] = [credential]
    return {
        "resourceType": "Practitioner",
        "id": str(user.public_id),
        "meta": {"profile": [builders.US_CORE + "us-core-practitioner"]},
        "name": [name],
    }


def organization_resource(practice) -> dict:
    """The patient's practice (US Core Organization)."""
    data: dict = {
        "resourceType": "Organization",
        "id": str(practice.public_id),
        "meta": {"profile": [builders.US_CORE + "us-core-organization"]},
        "active": True,
        "name": practice.name,
    }
    if practice.phone:
        data["telecom"] = [{"system": "phone", "value": practice.phone, "use": "work"}]
    lines = [line for line in (practice.address_line1, practice.address_line2) if line]
    address: dict = {"line": lines} if lines else {}
    for key, value in (
        ("city", practice.city),
        ("state", practice.state),
        ("postalCode", practice.postal_code),
    ):
        if value:
            address[key] = value
    if address:
        data["address"] = [address]
    return data


def _appointment(row, reader) -> dict:
    return builders.appointment_resource(row, reader.subject, reader.patient.full_name, reader.refs)


SOURCES: dict[str, Source] = {
    source.key: source
    for source in (
        Source(
            key="patient",
            resource_type="Patient",
            model=Patient,
            rows=lambda reader: Patient.objects.filter(pk=reader.patient.pk),
            build=lambda row, reader: builders.patient_resource(row, reader.refs),
        ),
        Source(
            key="organization",
            resource_type="Organization",
            model=Practice,
            rows=lambda reader: Practice.objects.filter(pk=reader.practice.pk),
            build=lambda row, reader: organization_resource(row),
        ),
        Source(
            key="practitioners",
            resource_type="Practitioner",
            model=User,
            rows=_practitioner_rows,
            build=lambda row, reader: practitioner_resource(row),
        ),
        Source(
            key="practitioners_named",
            resource_type="Practitioner",
            model=User,
            rows=_referenced_practitioner_rows,
            build=lambda row, reader: practitioner_resource(row),
        ),
        _item_source("allergies", "AllergyIntolerance", Allergy, builders.allergy_resource),
        _item_source("problems", "Condition", Problem, builders.condition_resource),
        _item_source("medications", "MedicationRequest", Medication, builders.medication_resource),
        _item_source("immunizations", "Immunization", Immunization, builders.immunization_resource),
        _item_source("procedures", "Procedure", Procedure, builders.procedure_resource),
        _item_source("care_plans", "CarePlan", CarePlan, builders.care_plan_resource),
        _item_source("labs", "Observation", LabResult, builders.lab_resource),
        _item_source("vitals", "Observation", Vital, builders.vital_resource),
        _item_source("assessments", "Observation", Assessment, builders.assessment_resource),
        Source(
            key="encounters",
            resource_type="Encounter",
            model=Encounter,
            rows=lambda reader: _encounter_rows(reader, notes=False),
            build=lambda row, reader: builders.encounter_resource(row, reader.subject, reader.refs),
            date_field="visit_date",
            people=("provider",),
        ),
        Source(
            key="visit_notes",
            resource_type="DocumentReference",
            model=Encounter,
            rows=lambda reader: _encounter_rows(reader, notes=True),
            build=lambda row, reader: builders.visit_note_resource(
                row, reader.subject, reader.refs
            ),
            date_field="visit_date",
            people=("provider", "signed_by"),
        ),
        Source(
            key="appointments",
            resource_type="Appointment",
            model=Appointment,
            rows=_appointment_rows,
            build=_appointment,
            date_field="start_at",
            people=("provider",),
        ),
    )
}

# What `Patient/$everything` returns, in this order: the patient, the practice, the
# practitioners the record names, then the record section by section.
EVERYTHING = (
    "patient",
    "organization",
    "practitioners_named",
    "allergies",
    "problems",
    "medications",
    "immunizations",
    "procedures",
    "care_plans",
    "labs",
    "vitals",
    "assessments",
    "encounters",
    "visit_notes",
    "appointments",
)

# -- tokens -------------------------------------------------------------------------------------

HL7 = "http://hl7.org/fhir/"
SYSTEM_KEYS = {uri: str(key) for key, uri in CODE_SYSTEM_URIS.items()}
OBSERVATION_CATEGORIES = {"labs": "laboratory", "vitals": "vital-signs", "assessments": "survey"}


def _coded(token: Token, source, reader) -> Condition:
    """A code as the resource writes it: a coding needs both a code and a known system."""
    if source.key == "vitals":  # always LOINC
        if token.system not in (None, builders.LOINC):
            return False
        return True if token.code == "" else Q(code=token.code)
    if token.system == "":  # "|code": the server never writes a code without its system
        return False
    condition = Q(code__gt="", code_system__in=list(SYSTEM_KEYS.values()))
    if token.system is not None:
        key = SYSTEM_KEYS.get(token.system)
        if key is None:
            return False
        condition &= Q(code_system=key)
    if token.code:
        condition &= Q(code=token.code)
    return condition


def _condition_category(token: Token, source, reader) -> Condition:
    if token.system not in (None, builders.CONDITION_CATEGORY):
        return False
    if token.code in ("", "problem-list-item"):
        return True
    if token.code == "encounter-diagnosis":
        return Q(encounter__in=visible_visits(reader).values("pk"))
    return False


def _care_plan_status(token: Token, source, reader) -> Condition:
    if token.system not in (None, HL7 + "request-status"):
        return False
    from django.utils import timezone

    today = timezone.localdate()  # as the resource's status is written
    if token.code == "":
        return True
    if token.code == "completed":
        return Q(end_date__lt=today)
    if token.code == "active":
        return Q(end_date__isnull=True) | Q(end_date__gte=today)
    return False


def _patient_identifier(token: Token, source, reader) -> Condition:
    if token.system not in (None, builders.PATIENT_ID_SYSTEM):
        return False
    if token.code == "":
        return True
    value = as_uuid(token.code)
    return False if value is None else Q(public_id=value)


def _appointment_actor(target_type: str, target_id: str, source, reader) -> Condition:
    if target_type == "Patient":
        return target_id == str(reader.patient.public_id)
    if target_type == "Practitioner":
        value = as_uuid(target_id)
        if value is None:
            return False
        return Q(provider__public_id=value, provider__in=provider_ids(reader))
    return False


def _constant(system: str, code: str) -> Callable:
    return constant_token(system, lambda source: code)


# -- parameters ---------------------------------------------------------------------------------

STRICT = (
    "Prefixes eq, ne, gt, lt, ge, le, sa and eb (not ap); YYYY, YYYY-MM, YYYY-MM-DD or a "
    "date-time, in the practice's time zone unless one is given."
)


def _id() -> IdParam:
    return IdParam("The resource's id.")


def _patient() -> PatientParam:
    return PatientParam("The patient: Patient/<id> or <id> (only the token's patient matches).")


def _date(what: str, fields: dict[str, str] | None = None) -> DateParam:
    return DateParam(f"{what}. {STRICT}", fields)


def _code(what: str = "The code") -> TokenParam:
    return TokenParam(f"{what}: system|code, code, or system|.", _coded)


@dataclass(frozen=True)
class Include:
    """An `_include` (Type:param): what each row refers to, as (type, key) pairs: a
    Practitioner by its user's key, the Patient or Organization by None (the reader's own)."""

    targets: tuple[str, ...]
    refers_to: Callable[[Any], list[tuple[str, Any]]]


def _practitioner_named(role: str) -> Callable[[Any], list[tuple[str, Any]]]:
    def refers_to(row) -> list[tuple[str, Any]]:
        user_id = getattr(row, f"{role}_id")
        if user_id and getattr(row, f"{role}_is_practitioner", False):
            return [("Practitioner", user_id)]
        return []

    return refers_to


@dataclass(frozen=True)
class ResourceType:
    name: str
    sources: tuple[Source, ...]
    params: dict[str, Param]
    profiles: tuple[str, ...] = ()
    includes: dict[str, Include] = field(default_factory=dict)

    @property
    def keyset_dates(self) -> bool:
        return self.sources[0].date_field is not None


def _profiles(*names: str) -> tuple[str, ...]:
    return tuple(builders.US_CORE + name for name in names)


def _types() -> dict[str, ResourceType]:
    s = SOURCES
    observation_status = _constant(HL7 + "observation-status", "final")
    event_status = _constant(HL7 + "event-status", "completed")
    types = [
        ResourceType(
            "Patient",
            (s["patient"],),
            {
                "_id": _id(),
                "identifier": TokenParam(
                    f"{builders.PATIENT_ID_SYSTEM}|<id>, or <id>.", _patient_identifier
                ),
            },
            _profiles("us-core-patient"),
            {
                "Patient:organization": Include(
                    ("Organization",), lambda row: [("Organization", None)]
                )
            },
        ),
        ResourceType(
            "AllergyIntolerance",
            (s["allergies"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "clinical-status": TokenParam(
                    "active", _constant(builders.ALLERGY_CLINICAL, "active")
                ),
                "code": _code("The substance"),
                "date": _date("When it was noted (recordedDate)"),
            },
            _profiles("us-core-allergyintolerance"),
        ),
        ResourceType(
            "Condition",
            (s["problems"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "category": TokenParam(
                    "problem-list-item (every problem) or encounter-diagnosis (a problem "
                    "recorded at a visit the reader sees).",
                    _condition_category,
                ),
                "clinical-status": TokenParam(
                    "active or resolved.",
                    field_token(
                        builders.CONDITION_CLINICAL,
                        "status",
                        {"active": "active", "resolved": "resolved"},
                    ),
                ),
                "code": _code(),
                "onset-date": _date("The onset"),
            },
            _profiles(
                "us-core-condition-problems-health-concerns",
                "us-core-condition-encounter-diagnosis",
            ),
        ),
        ResourceType(
            "MedicationRequest",
            (s["medications"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "status": TokenParam(
                    "active or stopped.",
                    field_token(
                        HL7 + "CodeSystem/medicationrequest-status",
                        "status",
                        {"active": "active", "stopped": "stopped"},
                    ),
                ),
                "intent": TokenParam(
                    "order.", _constant(HL7 + "CodeSystem/medicationrequest-intent", "order")
                ),
                "code": _code("The medication"),
                "authoredon": _date("The start date (authoredOn)"),
            },
            _profiles("us-core-medicationrequest"),
        ),
        ResourceType(
            "Immunization",
            (s["immunizations"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "status": TokenParam("completed.", event_status),
                "vaccine-code": _code("The vaccine"),
                "date": _date("The date given"),
            },
            _profiles("us-core-immunization"),
        ),
        ResourceType(
            "Procedure",
            (s["procedures"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "status": TokenParam("completed.", event_status),
                "code": _code(),
                "date": _date("The date performed"),
            },
            _profiles("us-core-procedure"),
        ),
        ResourceType(
            "Observation",
            (s["labs"], s["vitals"], s["assessments"]),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "category": TokenParam(
                    "laboratory (lab results), vital-signs, or survey (screenings, "
                    "interventions and assessments).",
                    constant_token(
                        builders.OBS_CATEGORY, lambda source: OBSERVATION_CATEGORIES[source.key]
                    ),
                ),
                "code": _code(),
                "status": TokenParam("final.", observation_status),
                "date": _date("The date measured or collected (effective)"),
            },
            _profiles(
                "us-core-observation-lab",
                "us-core-vital-signs",
                "us-core-observation-screening-assessment",
            ),
        ),
        ResourceType(
            "Encounter",
            (s["encounters"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "status": TokenParam("finished.", _constant(HL7 + "encounter-status", "finished")),
                "class": TokenParam("AMB.", _constant(builders.ACT_CODE, "AMB")),
                "date": _date("The visit date (period)"),
            },
            _profiles("us-core-encounter"),
            {"Encounter:participant": Include(("Practitioner",), _practitioner_named("provider"))},
        ),
        ResourceType(
            "CarePlan",
            (s["care_plans"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "category": TokenParam(
                    "assess-plan.", _constant(builders.CARE_PLAN_CATEGORY, "assess-plan")
                ),
                "status": TokenParam("active or completed.", _care_plan_status),
                "date": _date("The start of the plan (period)"),
            },
            _profiles("us-core-careplan"),
        ),
        ResourceType(
            "Appointment",
            (s["appointments"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "actor": ReferenceParam(
                    "Patient/<id> or Practitioner/<id>.", "Patient", _appointment_actor
                ),
                "status": TokenParam(
                    "The appointment's status.",
                    field_token(
                        HL7 + "appointmentstatus",
                        "status",
                        {value: value for value in AppointmentStatus.values},
                    ),
                ),
                "date": _date("The start"),
            },
            (),
            {
                "Appointment:actor": Include(
                    ("Patient", "Practitioner"),
                    lambda row: [("Patient", None), *_practitioner_named("provider")(row)],
                ),
                "Appointment:practitioner": Include(
                    ("Practitioner",), _practitioner_named("provider")
                ),
            },
        ),
        ResourceType(
            "DocumentReference",
            (s["visit_notes"],),
            {
                "_id": _id(),
                "patient": _patient(),
                "subject": _patient(),
                "category": TokenParam(
                    "clinical-note.", _constant(builders.DOCUMENT_CATEGORY, "clinical-note")
                ),
                "type": TokenParam(
                    f"{builders.LOINC}|{builders.VISIT_NOTE_LOINC} (a visit's summary).",
                    _constant(builders.LOINC, builders.VISIT_NOTE_LOINC),
                ),
                "status": TokenParam(
                    "current.", _constant(HL7 + "document-reference-status", "current")
                ),
                "date": _date("When the note was signed", {"visit_notes": "signed_at"}),
                "period": _date("The visit date (context.period)"),
            },
            _profiles("us-core-documentreference"),
            {
                "DocumentReference:author": Include(
                    ("Practitioner",), _practitioner_named("provider")
                )
            },
        ),
        ResourceType(
            "Practitioner",
            (s["practitioners"],),
            {"_id": _id()},
            _profiles("us-core-practitioner"),
        ),
        ResourceType(
            "Organization",
            (s["organization"],),
            {"_id": _id()},
            _profiles("us-core-organization"),
        ),
    ]
    return {t.name: t for t in types}


TYPES: dict[str, ResourceType] = _types()
