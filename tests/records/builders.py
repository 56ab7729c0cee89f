"""Clinical items for record tests, written straight to the chart's tables.

Each builder takes the chart and overrides; `shared` sets `shared_with_patient`. Like every
writer of a chart's record, each raises the chart's record version (charts.record_cache), so a
page cached before shows the new row on its next view.
"""

from __future__ import annotations

import datetime as dt
import itertools
import uuid
from decimal import Decimal

from django.utils import timezone

from portico.charts import models as charts
from portico.charts.record_cache import record_changed
from portico.scheduling.models import Appointment

_seq = itertools.count(1)


def _create(model, **values):
    row = model.objects.create(**values)
    record_changed(row.patient_id)
    return row


def _base(patient, shared, recorded_on):
    return {
        "practice": patient.practice,
        "patient": patient,
        "shared_with_patient": shared,
        "recorded_on": recorded_on or dt.date(2024, 1, 1) + dt.timedelta(days=next(_seq)),
    }


def problem(patient, shared=True, recorded_on=None, **kw):
    values = {"code_system": "icd10cm", "code": "E11.9", "display": "Type 2 diabetes mellitus"}
    return _create(charts.Problem, **_base(patient, shared, recorded_on), **values | kw)


def medication(patient, shared=True, recorded_on=None, **kw):
    values = {
        "code_system": "rxnorm",
        "code": "860975",
        "display": "Metformin 500 mg tablet",
        "instructions": "1 tablet twice a day",
    }
    return _create(charts.Medication, **_base(patient, shared, recorded_on), **values | kw)


def allergy(patient, shared=True, recorded_on=None, **kw):
    values = {
        "code_system": "rxnorm",
        "code": "7980",
        "display": "Penicillin G",
        "reaction": "Hives",
        "severity": "moderate",
    }
    return _create(charts.Allergy, **_base(patient, shared, recorded_on), **values | kw)


def immunization(patient, shared=True, recorded_on=None, **kw):
    values = {"code_system": "cvx", "code": "140", "display": "Influenza, seasonal, injectable"}
    return _create(charts.Immunization, **_base(patient, shared, recorded_on), **values | kw)


def procedure(patient, shared=True, recorded_on=None, **kw):
    values = {"code_system": "cpt", "code": "45378", "display": "Colonoscopy"}
    return _create(charts.Procedure, **_base(patient, shared, recorded_on), **values | kw)


def care_plan(patient, shared=True, recorded_on=None, **kw):
    values = {"title": "Blood sugar plan", "text": "Walk 30 minutes a day."}
    return _create(charts.CarePlan, **_base(patient, shared, recorded_on), **values | kw)


def vital(patient, shared=True, recorded_on=None, **kw):
    values = {"kind": "heart_rate", "code": "8867-4", "value": Decimal("72"), "unit": "/min"}
    return _create(charts.Vital, **_base(patient, shared, recorded_on), **values | kw)


def lab(patient, shared=True, recorded_on=None, **kw):
    values = {
        "code_system": "loinc",
        "code": "4548-4",
        "display": "Hemoglobin A1c",
        "value": "8.1",
        "value_number": Decimal("8.1"),
        "unit": "%",
        "reference_low": Decimal("4.0"),
        "reference_high": Decimal("5.6"),
        "flag": "H",
    }
    return _create(charts.LabResult, **_base(patient, shared, recorded_on), **values | kw)


def assessment(patient, shared=True, recorded_on=None, **kw):
    values = {
        "code_system": "loinc",
        "code": "44249-1",
        "display": "PHQ-9 depression screening",
        "kind": "screening",
        "result": "Score 4 (minimal)",
    }
    return _create(charts.Assessment, **_base(patient, shared, recorded_on), **values | kw)


# Each list section: key in the shared record, builder, and the text the patient reads.
SECTIONS = {
    "problems": (problem, "Type 2 diabetes mellitus"),
    "medications": (medication, "Metformin 500 mg tablet"),
    "allergies": (allergy, "Penicillin G"),
    "immunizations": (immunization, "Influenza, seasonal, injectable"),
    "procedures": (procedure, "Colonoscopy"),
    "care_plans": (care_plan, "Blood sugar plan"),
    "labs": (lab, "Hemoglobin A1c"),
    "vitals": (vital, "Heart rate"),
    "assessments": (assessment, "PHQ-9 depression screening"),
}


def encounter(patient, provider, *, signed=True, shared=True, note="Doing well.", **kw):
    return _create(
        charts.Encounter,
        practice=patient.practice,
        patient=patient,
        provider=provider,
        visit_date=kw.pop("visit_date", dt.date(2024, 5, 1)),
        note=note,
        signed_at=timezone.now() if signed else None,
        signed_by=provider if signed else None,
        note_shared_with_patient=shared,
        **kw,
    )


def appointment(patient, provider=None, *, days_from_now=7, **kw):
    # Each chart at its own time of day: one provider's appointments never overlap (the
    # PostgreSQL exclusion constraint refuses that).
    start = timezone.now().replace(microsecond=0) + dt.timedelta(
        days=days_from_now, minutes=31 * (patient.pk % 46)
    )
    return _create(
        Appointment,
        practice=patient.practice,
        patient=patient,
        provider=provider,
        start_at=start,
        end_at=start + dt.timedelta(minutes=30),
        visit_type=kw.pop("visit_type", "Follow-up visit"),
        **kw,
    )


def _copies(obj, n: int, **vary):
    """n-1 more rows like obj (bulk-inserted), each with its own public id."""
    rows = []
    for i in range(1, n):
        copy = type(obj).objects.get(pk=obj.pk)
        copy.pk = None
        copy.public_id = uuid.uuid4()
        for field, step in vary.items():
            setattr(copy, field, getattr(obj, field) + step * i)
        rows.append(copy)
    return type(obj).objects.bulk_create(rows)


def full_record(patient, provider, n: int = 1):
    """n shared items in every section, n shared encounters with an amendment each, and n
    appointments around today."""
    day = dt.timedelta(days=1)
    for build, _text in SECTIONS.values():
        _copies(build(patient), n, recorded_on=day)
    first = encounter(patient, provider, visit_date=dt.date(2023, 1, 1))
    encounters = [first, *_copies(first, n, visit_date=day)]
    charts.EncounterAmendment.objects.bulk_create(
        charts.EncounterAmendment(encounter=e, text="Added later.", author=provider)
        for e in encounters
    )
    _copies(appointment(patient, provider, days_from_now=-n // 2), n, start_at=day, end_at=day)
    record_changed(patient.pk)
