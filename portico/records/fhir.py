"""The shared record as a FHIR R4 Bundle, US Core-shaped (SPEC §6.2).

Each resource is built as plain FHIR JSON data; the Bundle (type "collection", entries with
`urn:uuid:` full URLs) is validated once by `fhir.resources`' R4B models, which validate every
entry as the model of its resource type (R4B shares R4's resources for everything used
here). Only what `records.selectors.shared_record` read (what the practice shared, and for a
representative nothing confidential from representatives) goes in: the Bundle is built from the
record it is given and from nothing else, so a representative's holds no entry, id or reference
of what was kept from them.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import uuid
from decimal import Decimal
from html import escape

from django.utils import timezone, translation
from fhir.resources.R4B.bundle import Bundle

from portico.core.jinja import choice_label

US_CORE = "http://hl7.org/fhir/us/core/StructureDefinition/"
UCUM = "http://unitsofmeasure.org"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
LOINC = "http://loinc.org"
PATIENT_ID_SYSTEM = "urn:portico:patient"
CARE_PLAN_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/careplan-category"
DOCUMENT_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
VISIT_NOTE_LOINC = "11506-3"


def _instant(value: dt.datetime) -> str:
    """A FHIR instant in UTC, written the way the models write it back ("...Z")."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


def _ref(obj) -> str:
    return f"urn:uuid:{obj.public_id}"


class BundleRefs:
    """How resources refer to each other inside a downloaded Bundle: by the `urn:uuid:` full
    URL of another entry, and not at all to what the Bundle does not hold (the practice, its
    practitioners, a visit from an item: those are names or nothing).

    The FHIR server (portico.fhir.server) passes its own, which names every resource by a
    relative reference ("Encounter/<id>") that the server answers."""

    def organization(self) -> str | None:
        """The reference of the chart's practice, or None."""
        return None

    def practitioner(self, row, role: str) -> str | None:
        """The reference of `row`'s user in `role` ("provider", "signed_by"), or None."""
        return None

    def item_encounter(self, item) -> str | None:
        """The reference of the visit an item was recorded at, or None."""
        return None

    def encounter(self, encounter) -> str:
        return _ref(encounter)

    def visit_note_id(self, encounter) -> str:
        """The id of an encounter's visit note (a DocumentReference)."""
        return str(uuid.uuid5(encounter.public_id, "visit-note"))


BUNDLE_REFS = BundleRefs()


def _profile(name: str) -> dict:
    return {"profile": [US_CORE + name]}


def _number(value: Decimal) -> float | int:
    value = value.normalize()
    return int(value) if value == value.to_integral_value() else float(value)


def _concept(item, text: str | None = None) -> dict:
    """A CodeableConcept: the coded value when there is a code, always the readable text."""
    concept: dict = {"text": text or item.display}
    if getattr(item, "code", "") and getattr(item, "code_system_uri", ""):
        concept["coding"] = [
            {"system": item.code_system_uri, "code": item.code, "display": item.display}
        ]
    return concept


def _narrative(text: str) -> dict:
    return {
        "status": "generated",
        "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><p>{escape(text)}</p></div>',
    }


def _category(system: str, code: str, display: str) -> list[dict]:
    return [{"coding": [{"system": system, "code": code, "display": display}]}]


def _with_encounter(data: dict, item, refs: BundleRefs) -> dict:
    """`data` with the visit the item was recorded at, when the reader may see that visit."""
    reference = refs.item_encounter(item)
    if reference:
        data["encounter"] = {"reference": reference}
    return data


def _person(row, role: str, refs: BundleRefs) -> dict | None:
    """A reference to `row`'s user in `role` ("provider", "signed_by"): a Practitioner the
    reader can read, else only the name; None without a user."""
    user = getattr(row, role)
    if user is None:
        return None
    reference = refs.practitioner(row, role)
    if reference:
        return {"reference": reference, "display": user.display_name}
    return {"display": user.display_name}


def patient_resource(patient, refs: BundleRefs = BUNDLE_REFS) -> dict:
    data = {
        "resourceType": "Patient",
        "id": str(patient.public_id),
        "meta": _profile("us-core-patient"),
        "identifier": [{"system": PATIENT_ID_SYSTEM, "value": str(patient.public_id)}],
        "name": [
            {
                "use": "official",
                "family": patient.legal_last_name,
                "given": [patient.legal_first_name],
            }
        ],
        "gender": patient.sex,
        "birthDate": patient.date_of_birth.isoformat(),
    }
    if patient.preferred_name:
        data["name"].append({"use": "usual", "given": [patient.preferred_name]})
    telecom = []
    if patient.mobile_phone:
        telecom.append({"system": "phone", "value": patient.mobile_phone, "use": "mobile"})
    if patient.email:
        telecom.append({"system": "email", "value": patient.email})
    if telecom:
        data["telecom"] = telecom
    if patient.address_line1:
        lines = [patient.address_line1] + ([patient.address_line2] if patient.address_line2 else [])
        address = {"line": lines}
        for key, value in (
            ("city", patient.city),
            ("state", patient.state),
            ("postalCode", patient.postal_code),
        ):
            if value:
                address[key] = value
        data["address"] = [address]
    if patient.preferred_language:
        coding = {"system": "urn:ietf:bcp:47", "code": patient.preferred_language}
        data["communication"] = [{"language": {"coding": [coding]}, "preferred": True}]
    organization = refs.organization()
    if organization:
        data["managingOrganization"] = {"reference": organization}
    return data


def condition_resource(problem, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    """A problem of the list (US Core's problems profile); recorded at a visit the reader sees,
    it is that visit's diagnosis too (and its encounter-diagnosis profile)."""
    profiles = [US_CORE + "us-core-condition-problems-health-concerns"]
    categories = _category(CONDITION_CATEGORY, "problem-list-item", "Problem List Item")
    encounter = refs.item_encounter(problem)
    if encounter:
        profiles.append(US_CORE + "us-core-condition-encounter-diagnosis")
        categories += _category(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")
    data = {
        "resourceType": "Condition",
        "id": str(problem.public_id),
        "meta": {"profile": profiles},
        "clinicalStatus": {
            "coding": [{"system": CONDITION_CLINICAL, "code": problem.status}],
        },
        "verificationStatus": {
            "coding": [{"system": CONDITION_VERIFICATION, "code": "confirmed"}],
        },
        "category": categories,
        "code": _concept(problem),
        "subject": {"reference": subject},
        "onsetDateTime": problem.recorded_on.isoformat(),
    }
    if encounter:
        data["encounter"] = {"reference": encounter}
    if problem.resolved_on:
        data["abatementDateTime"] = problem.resolved_on.isoformat()
    return data


def medication_resource(medication, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    data = {
        "resourceType": "MedicationRequest",
        "id": str(medication.public_id),
        "meta": _profile("us-core-medicationrequest"),
        "status": "active" if medication.status == "active" else "stopped",
        "intent": "order",
        "medicationCodeableConcept": _concept(medication),
        "subject": {"reference": subject},
        "authoredOn": medication.recorded_on.isoformat(),
    }
    _with_encounter(data, medication, refs)
    if medication.instructions:
        data["dosageInstruction"] = [{"text": medication.instructions}]
    if medication.stop_date:
        data["dispenseRequest"] = {
            "validityPeriod": {
                "start": medication.recorded_on.isoformat(),
                "end": medication.stop_date.isoformat(),
            }
        }
    return data


def allergy_resource(allergy, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    data = {
        "resourceType": "AllergyIntolerance",
        "id": str(allergy.public_id),
        "meta": _profile("us-core-allergyintolerance"),
        "clinicalStatus": {"coding": [{"system": ALLERGY_CLINICAL, "code": "active"}]},
        "verificationStatus": {"coding": [{"system": ALLERGY_VERIFICATION, "code": "confirmed"}]},
        "code": _concept(allergy),
        "patient": {"reference": subject},
        "recordedDate": allergy.recorded_on.isoformat(),
    }
    _with_encounter(data, allergy, refs)
    if allergy.reaction:
        reaction = {"manifestation": [{"text": allergy.reaction}]}
        if allergy.severity in ("mild", "moderate", "severe"):
            reaction["severity"] = allergy.severity
        data["reaction"] = [reaction]
    return data


def immunization_resource(immunization, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    data = {
        "resourceType": "Immunization",
        "id": str(immunization.public_id),
        "meta": _profile("us-core-immunization"),
        "status": "completed",
        "vaccineCode": _concept(immunization),
        "patient": {"reference": subject},
        "occurrenceDateTime": immunization.recorded_on.isoformat(),
        "primarySource": True,
    }
    _with_encounter(data, immunization, refs)
    if immunization.lot_number:
        data["lotNumber"] = immunization.lot_number
    return data


def procedure_resource(procedure, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    data = {
        "resourceType": "Procedure",
        "id": str(procedure.public_id),
        "meta": _profile("us-core-procedure"),
        "status": "completed",
        "code": _concept(procedure),
        "subject": {"reference": subject},
        "performedDateTime": procedure.recorded_on.isoformat(),
    }
    return _with_encounter(data, procedure, refs)


def care_plan_status(plan, today: dt.date) -> str:
    """Completed once its end date has passed, else active."""
    return "completed" if plan.end_date and plan.end_date < today else "active"


def care_plan_resource(plan, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    period = {"start": plan.recorded_on.isoformat()}
    if plan.end_date:
        period["end"] = plan.end_date.isoformat()
    data = {
        "resourceType": "CarePlan",
        "id": str(plan.public_id),
        "meta": _profile("us-core-careplan"),
        "text": _narrative(f"{plan.title}. {plan.text}".strip()),
        "status": care_plan_status(plan, timezone.localdate()),
        "intent": "plan",
        "category": _category(
            CARE_PLAN_CATEGORY, "assess-plan", "Assessment and Plan of Treatment"
        ),
        "title": plan.title,
        "description": plan.text or plan.title,
        "subject": {"reference": subject},
        "period": period,
    }
    return _with_encounter(data, plan, refs)


def vital_resource(vital, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    label = choice_label(vital, "kind")
    data = {
        "resourceType": "Observation",
        "id": str(vital.public_id),
        "meta": _profile("us-core-vital-signs"),
        "status": "final",
        "category": _category(OBS_CATEGORY, "vital-signs", "Vital Signs"),
        "code": {
            "coding": [{"system": LOINC, "code": vital.code, "display": label}],
            "text": label,
        },
        "subject": {"reference": subject},
        "effectiveDateTime": vital.recorded_on.isoformat(),
        "valueQuantity": {
            "value": _number(vital.value),
            "unit": vital.unit_display,
            "system": UCUM,
            "code": vital.unit,
        },
    }
    return _with_encounter(data, vital, refs)


def lab_resource(lab, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    flag = choice_label(lab, "flag")
    data = {
        "resourceType": "Observation",
        "id": str(lab.public_id),
        "meta": _profile("us-core-observation-lab"),
        "status": "final",
        "category": _category(OBS_CATEGORY, "laboratory", "Laboratory"),
        "code": _concept(lab),
        "subject": {"reference": subject},
        "effectiveDateTime": lab.recorded_on.isoformat(),
        "interpretation": [
            {
                "coding": [{"system": INTERPRETATION, "code": lab.flag, "display": flag}],
                "text": flag,
            }
        ],
    }
    _with_encounter(data, lab, refs)
    if lab.value_number is not None:
        quantity: dict = {"value": _number(lab.value_number)}
        if lab.unit:
            quantity.update({"unit": lab.unit, "system": UCUM, "code": lab.unit})
        data["valueQuantity"] = quantity
    else:
        data["valueString"] = lab.value
    reference: dict = {}
    if lab.reference_low is not None:
        reference["low"] = {"value": _number(lab.reference_low)}
    if lab.reference_high is not None:
        reference["high"] = {"value": _number(lab.reference_high)}
    if lab.unit:
        for bound in reference.values():
            bound.update({"unit": lab.unit, "system": UCUM, "code": lab.unit})
    if lab.reference_range:
        reference["text"] = lab.reference_range
    if reference:
        data["referenceRange"] = [reference]
    return data


def assessment_resource(assessment, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    """A screening, intervention or assessment: US Core's screening and assessment profile,
    category "survey". The record's kinds (screening, intervention, assessment) say nothing of
    US Core's domains (sdoh, functional-status, ...), so the kind goes in as a second category
    by text only."""
    data = {
        "resourceType": "Observation",
        "id": str(assessment.public_id),
        "meta": _profile("us-core-observation-screening-assessment"),
        "status": "final",
        "category": _category(OBS_CATEGORY, "survey", "Survey")
        + [{"text": choice_label(assessment, "kind")}],
        "code": _concept(assessment),
        "subject": {"reference": subject},
        "effectiveDateTime": assessment.recorded_on.isoformat(),
    }
    _with_encounter(data, assessment, refs)
    if assessment.result:
        data["valueString"] = assessment.result
    return data


def encounter_resource(encounter, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    """The visit (US Core Encounter)."""
    visit = {
        "resourceType": "Encounter",
        "id": str(encounter.public_id),
        "meta": _profile("us-core-encounter"),
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB", "display": "ambulatory"},
        "type": [{"text": "Office visit"}],
        "subject": {"reference": subject},
        "period": {"start": encounter.visit_date.isoformat()},
    }
    provider = _person(encounter, "provider", refs)
    if provider:
        visit["participant"] = [{"individual": provider}]
    organization = refs.organization()
    if organization:
        visit["serviceProvider"] = {"reference": organization}
    return visit


def visit_note_resource(encounter, subject: str, refs: BundleRefs = BUNDLE_REFS) -> dict:
    """The visit's shared summary with its amendments (US Core DocumentReference, a clinical
    note). The encounter's amendments must have been read with it."""
    text = encounter.note
    for amendment in encounter.amendments.all():
        text += f"\n\nAmendment of {amendment.created_at:%Y-%m-%d}:\n{amendment.text}"
    note = {
        "resourceType": "DocumentReference",
        "id": refs.visit_note_id(encounter),
        "meta": _profile("us-core-documentreference"),
        "status": "current",
        "type": {
            "coding": [{"system": LOINC, "code": VISIT_NOTE_LOINC, "display": "Progress note"}],
            "text": "Visit summary",
        },
        "category": _category(DOCUMENT_CATEGORY, "clinical-note", "Clinical Note"),
        "subject": {"reference": subject},
        "date": _instant(encounter.signed_at),
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain; charset=utf-8",
                    "data": base64.b64encode(text.encode()).decode(),
                    "title": f"Visit on {encounter.visit_date:%Y-%m-%d}",
                }
            }
        ],
        "context": {
            "encounter": [{"reference": refs.encounter(encounter)}],
            "period": {"start": encounter.visit_date.isoformat()},
        },
    }
    author = _person(encounter, "provider", refs)
    if author and "reference" in author:
        note["author"] = [author]
    authenticator = _person(encounter, "signed_by", refs)
    if authenticator:
        note["authenticator"] = authenticator
    organization = refs.organization()
    if organization:
        note["custodian"] = {"reference": organization}
    return note


def encounter_resources(encounter, subject: str, refs: BundleRefs = BUNDLE_REFS) -> list[dict]:
    """The visit (Encounter) and its shared summary with amendments (a clinical note)."""
    return [
        encounter_resource(encounter, subject, refs),
        visit_note_resource(encounter, subject, refs),
    ]


def appointment_resource(
    appointment, subject: str, patient_name: str, refs: BundleRefs = BUNDLE_REFS
) -> dict:
    participants = [
        {"actor": {"reference": subject, "display": patient_name}, "status": "accepted"}
    ]
    provider = _person(appointment, "provider", refs)
    if provider:
        participants.append({"actor": provider, "status": "accepted"})
    data = {
        "resourceType": "Appointment",
        "id": str(appointment.public_id),
        "status": appointment.status,  # the stored values are FHIR's
        "start": _instant(appointment.start_at),
        "end": _instant(appointment.end_at),
        "participant": participants,
    }
    if appointment.visit_type:
        data["appointmentType"] = {"text": appointment.visit_type}
    if appointment.reason:
        data["reasonCode"] = [{"text": appointment.reason}]
    return data


def record_resources(record) -> list[dict]:
    """Every resource of the shared record, the Patient first."""
    patient = record.patient
    subject = _ref(patient)
    resources = [patient_resource(patient)]
    builders = (
        ("problems", condition_resource),
        ("medications", medication_resource),
        ("allergies", allergy_resource),
        ("immunizations", immunization_resource),
        ("procedures", procedure_resource),
        ("care_plans", care_plan_resource),
        ("vitals", vital_resource),
        ("labs", lab_resource),
        ("assessments", assessment_resource),
    )
    for key, build in builders:
        resources.extend(build(item, subject) for item in getattr(record, key))
    for encounter in record.encounters:
        resources.extend(encounter_resources(encounter, subject))
    resources.extend(
        appointment_resource(a, subject, patient.full_name) for a in record.appointments
    )
    return resources


def record_bundle_data(record, *, now: dt.datetime | None = None) -> dict:
    """The shared record as Bundle data (type "collection"), checked by `validate_bundle`.

    Written in English whatever language the page around the download is in: the texts here
    (a flag's display, a vital sign's name) stand beside the code systems' own English displays.
    """
    with translation.override("en"):
        resources = record_resources(record)
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "timestamp": _instant(now or timezone.now()),
        "entry": [
            {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}
            for resource in resources
        ],
    }


def validate_bundle(data: dict) -> Bundle:
    """Validate by the R4B models: the Bundle model validates every entry's resource as the
    model of its resourceType. Raises pydantic's ValidationError on anything not FHIR."""
    return Bundle.model_validate(data)


def record_bundle_json(record) -> str:
    """The validated Bundle as FHIR JSON text. The data validated is the data written (the
    models' own JSON dump is several times slower than the standard library's)."""
    data = record_bundle_data(record)
    validate_bundle(data)
    return json.dumps(data, ensure_ascii=False)
