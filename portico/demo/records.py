"""Believable clinical records for demo patients, and a fast bulk generator for benchmarks.

`give_demo_record` goes through the same services staff use (permissions, audit), so a demo
chart looks exactly like one staff built. `bulk_generate` writes straight to the tables with
bulk_create (no audit events): it exists to fill a benchmark database with millions of rows.
Both are deterministic for a given seed (and, for the demo, a given day).
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from portico.charts import codes, services
from portico.charts.clinical_rules import lab_flag
from portico.charts.models import (
    VITAL_DEFINITIONS,
    Allergy,
    Assessment,
    AssessmentKind,
    CarePlan,
    CodeSystem,
    Immunization,
    LabResult,
    Medication,
    Patient,
    Problem,
    Procedure,
    Sex,
    Vital,
    VitalKind,
)

# Conditions a demo patient may live with: the problem, its medicines, the labs that follow
# it, and which way those labs lean when they are off.
CONDITIONS = {
    "hypertension": {
        "problem": "I10",
        "meds": [("29046", "10 mg by mouth once daily"), ("17767", "5 mg by mouth once daily")],
        "labs": {"2951-2": None, "2823-3": None, "2160-0": "high"},
        "plan": (
            "Blood pressure",
            "Goal below 130/80. Check blood pressure at home twice a week and bring the log "
            "to visits. Limit salt; walk 30 minutes most days.",
        ),
    },
    "diabetes": {
        "problem": "E11.9",
        "meds": [("6809", "500 mg by mouth twice daily with meals")],
        "labs": {"4548-4": "high", "2345-7": "high", "14959-1": None},
        "plan": (
            "Diabetes",
            "A1c goal below 7%. Check fasting sugar each morning. Yearly eye and foot exams.",
        ),
    },
    "hyperlipidemia": {
        "problem": "E78.5",
        "meds": [("83367", "20 mg by mouth at bedtime")],
        "labs": {"2093-3": "high", "13457-7": "high", "2085-9": "low", "2571-8": "high"},
        "plan": None,
    },
    "asthma": {
        "problem": "J45.909",
        "meds": [
            ("435", "2 puffs every 4 to 6 hours as needed for wheezing"),
            ("41126", "1 puff twice daily; rinse mouth after use"),
        ],
        "labs": {},
        "plan": (
            "Asthma action plan",
            "Green zone: daily inhaler. Yellow zone: add rescue "
            "inhaler and call the office if it is needed more than twice a week.",
        ),
    },
    "hypothyroidism": {
        "problem": "E03.9",
        "meds": [("10582", "50 mcg by mouth every morning before breakfast")],
        "labs": {"3016-3": "high", "3024-7": None},
        "plan": None,
    },
    "anxiety": {
        "problem": "F41.1",
        "meds": [("36437", "50 mg by mouth once daily")],
        "labs": {},
        "plan": None,
    },
    "reflux": {
        "problem": "K21.9",
        "meds": [("7646", "20 mg by mouth before breakfast")],
        "labs": {},
        "plan": None,
    },
    "anemia": {
        "problem": "D50.9",
        "meds": [],
        "labs": {"718-7": "low", "4544-3": "low", "2276-4": "low"},
        "plan": None,
    },
}
ROUTINE_LABS = ["718-7", "2345-7", "2160-0"]
ACUTE_VISITS = [
    ("J06.9", "Sore throat and congestion for three days, no fever. Supportive care advised."),
    ("M54.50", "Low back pain after lifting boxes. No red flags. Stretching and heat."),
    ("J02.0", "Sore throat with fever; rapid strep positive. Antibiotic started."),
    ("R05.9", "Cough for a week after a cold; lungs clear. Expected to resolve."),
    ("N39.0", "Burning on urination for two days. Urinalysis suggests infection."),
    ("S93.401A", "Twisted right ankle playing soccer. Swelling, able to bear weight."),
]
ALLERGIES = [
    (CodeSystem.RXNORM, "7980", "penicillin G", "Hives", "moderate"),
    (CodeSystem.RXNORM, "10831", "sulfamethoxazole / trimethoprim", "Rash", "mild"),
    ("", "", "Peanuts", "Throat swelling (anaphylaxis)", "severe"),
    ("", "", "Latex", "Itching and redness on contact", "mild"),
    (CodeSystem.RXNORM, "1191", "aspirin", "Stomach upset", "mild"),
    ("", "", "Bee stings", "Swelling at the sting site", "moderate"),
]
PROCEDURES = [
    (CodeSystem.SNOMED, "73761001", "Colonoscopy"),
    (CodeSystem.SNOMED, "24623002", "Screening mammography"),
    (CodeSystem.SNOMED, "29303009", "Electrocardiogram"),
    ("", "", "Removal of skin tag"),
    ("", "", "Ear wax removal by irrigation"),
]


def _lab_values(rng: random.Random, code: str, lean: str | None, *, abnormal: bool) -> dict:
    """A result of the listed lab, inside its range or (when abnormal) off it the way it leans."""
    listed = codes.code_lookup(CodeSystem.LOINC, code)
    low, high = listed.low, listed.high
    lo = low if low is not None else (high * Decimal("0.4") if high is not None else Decimal(0))
    hi = high if high is not None else lo * Decimal("1.8") + 1
    span = hi - lo
    if abnormal and lean == "high":
        number = hi + span * Decimal(str(rng.uniform(0.05, 0.4)))
    elif abnormal and lean == "low":
        number = lo - (lo * Decimal(str(rng.uniform(0.05, 0.25))))
    else:
        number = lo + span * Decimal(str(rng.uniform(0.1, 0.9)))
    places = 2 if hi < 10 else (1 if hi < 100 else 0)
    number = number.quantize(Decimal(1).scaleb(-places))
    return {
        "code": code,
        "display": listed.display,
        "value": f"{number:f}",
        "unit": listed.unit,
        "reference_low": low,
        "reference_high": high,
    }


def _vitals(
    rng: random.Random, *, weight: float, height: float, hypertensive: bool, full: bool
) -> dict:
    """Blood pressure, pulse and weight at every visit; the rest (full=True) at the latest."""
    systolic = rng.randint(128, 152) if hypertensive else rng.randint(106, 128)
    vitals = {
        VitalKind.BP_SYSTOLIC: systolic,
        VitalKind.BP_DIASTOLIC: systolic - rng.randint(38, 50),
        VitalKind.HEART_RATE: rng.randint(58, 92),
        VitalKind.WEIGHT: round(weight, 1),
    }
    if full:
        vitals[VitalKind.HEIGHT] = height
        vitals[VitalKind.BMI] = round(703 * weight / (height * height), 1)
        vitals[VitalKind.TEMPERATURE] = round(rng.uniform(97.6, 99.1), 1)
    return vitals


def _age(patient: Patient, on: dt.date) -> int:
    dob = patient.date_of_birth
    return on.year - dob.year - ((on.month, on.day) < (dob.month, dob.day))


def give_demo_record(patient: Patient, *, provider, staff, rng: random.Random) -> None:
    """Give one demo patient a few years of care: visits (all but the latest signed, most
    notes shared), problems, medicines, allergies, immunizations, vitals over time, and labs
    with a few abnormal values (older results shared, the latest awaiting review)."""
    today = timezone.localdate()
    add = services.item_create
    age = _age(patient, today)
    conditions = rng.sample(sorted(CONDITIONS), k=rng.choice([0, 1, 1, 2, 2, 3]))
    if age < 30:
        conditions = [c for c in conditions if c in ("asthma", "anxiety", "reflux", "anemia")]
    female = patient.sex == Sex.FEMALE
    height = float(rng.randint(60, 67) if female else rng.randint(65, 74))
    weight = float(rng.randint(125, 210) if female else rng.randint(150, 240))

    for name in conditions:
        condition = CONDITIONS[name]
        onset = today - dt.timedelta(days=rng.randint(400, 3000))
        add(staff, patient=patient, model=Problem, code=condition["problem"], recorded_on=onset)
        for rxcui, instructions in condition["meds"]:
            add(
                staff,
                patient=patient,
                model=Medication,
                code=rxcui,
                instructions=instructions,
                recorded_on=onset + dt.timedelta(days=rng.randint(0, 60)),
            )
        if condition["plan"]:
            title, text = condition["plan"]
            add(staff, patient=patient, model=CarePlan, title=title, text=text, recorded_on=onset)
    for system, code, display, reaction, severity in rng.sample(
        ALLERGIES, rng.choice([0, 1, 1, 2])
    ):
        add(
            staff,
            patient=patient,
            model=Allergy,
            code_system=system,
            code=code,
            display=display,
            reaction=reaction,
            severity=severity,
            recorded_on=today - dt.timedelta(days=rng.randint(300, 4000)),
        )
    if rng.random() < 0.2:  # a resolved problem from the past
        add(
            staff,
            patient=patient,
            model=Problem,
            code="J18.9",
            recorded_on=today - dt.timedelta(days=900),
            status="resolved",
            resolved_on=today - dt.timedelta(days=870),
        )

    # Immunizations: tetanus booster, flu shots each fall, the age-appropriate others.
    add(
        staff,
        patient=patient,
        model=Immunization,
        code="115",
        recorded_on=today - dt.timedelta(days=rng.randint(400, 3000)),
        lot_number="TD4821A",
    )
    for years_ago in range(3):
        fall = dt.date(today.year - years_ago, 10, rng.randint(1, 28))
        if fall <= today and rng.random() < 0.8:
            flu = "197" if age >= 65 else "150"
            add(
                staff,
                patient=patient,
                model=Immunization,
                code=flu,
                recorded_on=fall,
                lot_number=f"FL{fall.year % 100}{rng.randint(100, 999)}",
            )
    if age >= 50 and rng.random() < 0.6:
        add(
            staff,
            patient=patient,
            model=Immunization,
            code="187",
            recorded_on=today - dt.timedelta(days=rng.randint(200, 900)),
        )
    if age >= 65:
        add(
            staff,
            patient=patient,
            model=Immunization,
            code="216",
            recorded_on=today - dt.timedelta(days=rng.randint(200, 900)),
        )
    add(
        staff,
        patient=patient,
        model=Immunization,
        code="208",
        recorded_on=today - dt.timedelta(days=rng.randint(300, 700)),
    )

    if age >= 45 and rng.random() < 0.5:
        system, code, display = rng.choice(PROCEDURES)
        add(
            staff,
            patient=patient,
            model=Procedure,
            code_system=system,
            code=code,
            display=display,
            recorded_on=today - dt.timedelta(days=rng.randint(100, 1500)),
        )

    # Visits: a yearly check-up each of the last years, plus an acute visit or two.
    visits = [(today - dt.timedelta(days=365 * y + rng.randint(0, 40)), None) for y in (2, 1, 0)]
    for _ in range(rng.choice([0, 1, 1])):
        visits.append((today - dt.timedelta(days=rng.randint(20, 700)), rng.choice(ACUTE_VISITS)))
    visits.sort(key=lambda v: v[0])
    hypertensive = "hypertension" in conditions
    for number, (visit_date, acute) in enumerate(visits):
        latest = number == len(visits) - 1
        note = (
            acute[1]
            if acute
            else "Yearly check-up. Feeling well overall. Reviewed medicines and allergies; "
            "discussed diet, exercise and sleep. Labs ordered."
        )
        encounter = services.encounter_create(
            staff, patient=patient, visit_date=visit_date, note=note, provider=provider
        )
        weight += rng.uniform(-4, 4)
        vitals = _vitals(rng, weight=weight, height=height, hypertensive=hypertensive, full=latest)
        for kind, value in vitals.items():
            add(
                staff,
                patient=patient,
                model=Vital,
                encounter=encounter,
                kind=kind,
                value=value,
                recorded_on=visit_date,
            )
        if acute:
            add(
                staff,
                patient=patient,
                model=Problem,
                encounter=encounter,
                code=acute[0],
                recorded_on=visit_date,
                status="resolved",
                resolved_on=min(today, visit_date + dt.timedelta(days=14)),
            )
        else:
            panel = {code: None for code in ROUTINE_LABS}
            for name in conditions:
                panel.update(CONDITIONS[name]["labs"])
            for code, lean in panel.items():
                abnormal = lean is not None and rng.random() < 0.6
                add(
                    staff,
                    patient=patient,
                    model=LabResult,
                    encounter=encounter,
                    recorded_on=visit_date,
                    shared_with_patient=not latest,
                    **_lab_values(rng, code, lean, abnormal=abnormal),
                )
            add(
                staff,
                patient=patient,
                model=Assessment,
                encounter=encounter,
                kind=AssessmentKind.SCREENING,
                code="55758-7",
                display="Depression screening (PHQ-2)",
                result=f"Score {rng.choice([0, 0, 0, 1, 2, 3])} of 6",
                recorded_on=visit_date,
            )
            if rng.random() < 0.5:
                add(
                    staff,
                    patient=patient,
                    model=Assessment,
                    encounter=encounter,
                    kind=AssessmentKind.INTERVENTION,
                    display="Counseling on diet and exercise",
                    recorded_on=visit_date,
                )
        if not latest:
            services.encounter_share(provider, encounter=encounter, note_shared=rng.random() < 0.85)
            services.encounter_sign(provider, encounter=encounter)
            if rng.random() < 0.15:
                services.encounter_amend(
                    provider,
                    encounter=encounter,
                    text="Addendum: lab results reviewed with the patient by phone.",
                )
    add(
        staff,
        patient=patient,
        model=Assessment,
        kind=AssessmentKind.ASSESSMENT,
        code="72166-2",
        display="Tobacco smoking status",
        result=rng.choice(
            ["Never smoker", "Never smoker", "Former smoker", "Current every day smoker"]
        ),
        recorded_on=today - dt.timedelta(days=rng.randint(0, 300)),
    )


# ---------------------------------------------------------------------------------------------
# Bulk generation for benchmarks
# ---------------------------------------------------------------------------------------------

# How each patient's items are spread over the lists (sums to 50 items a patient).
BULK_MIX = (
    (Problem, 4),
    (Medication, 5),
    (Allergy, 2),
    (Immunization, 6),
    (Procedure, 1),
    (CarePlan, 1),
    (Vital, 14),
    (LabResult, 14),
    (Assessment, 3),
)


def _bulk_item(model, rng: random.Random, on: dt.date, lists: dict) -> dict:
    if model is Vital:
        kind = rng.choice(list(VitalKind))
        code, unit, _, (low, high) = VITAL_DEFINITIONS[kind]
        value = Decimal(rng.randint(int(low) + 1, int(min(high, low + 120))))
        return {"kind": kind, "code": code, "unit": unit, "value": value}
    if model is CarePlan:
        return {"title": "Care plan", "text": "Follow up as discussed."}
    if model is LabResult:
        listed = rng.choice(lists["labs"])
        lo, hi = listed.low or Decimal(0), listed.high or Decimal(100)
        number = (lo + (hi - lo) * Decimal(rng.randint(0, 130)) / 100).quantize(Decimal("0.1"))
        return {
            "code_system": CodeSystem.LOINC,
            "code": listed.code,
            "display": listed.display,
            "value": f"{number:f}",
            "value_number": number,
            "unit": listed.unit,
            "reference_low": listed.low,
            "reference_high": listed.high,
            "flag": lab_flag(number, listed.low, listed.high),
            "shared_with_patient": rng.random() < 0.7,
        }
    if model is Assessment:
        return {
            "kind": AssessmentKind.SCREENING,
            "display": "Depression screening (PHQ-2)",
            "result": "Score 0 of 6",
        }
    if model is Procedure:
        return {"display": "Ear wax removal by irrigation"}
    system = {
        Problem: CodeSystem.ICD10CM,
        Medication: CodeSystem.RXNORM,
        Allergy: CodeSystem.RXNORM,
        Immunization: CodeSystem.CVX,
    }[model]
    listed = rng.choice(lists[system])
    return {"code_system": system, "code": listed.code, "display": listed.display}


def bulk_generate(
    practice,
    *,
    patients: int,
    items_per_patient: int = 50,
    batch_size: int = 5000,
    seed: int = 5,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Create `patients` charts at `practice`, each with about `items_per_patient` clinical
    items spread over every list (BULK_MIX, scaled), with bulk_create in batches.

    For benchmarks only: no audit events, no encounters. 100,000 patients × 50 items gives
    the 5,000,000-item database of the performance target. `progress(patients_done,
    items_done)` is called after each batch. Returns (patients created, items created).
    """
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not security)
    scale = items_per_patient / sum(n for _, n in BULK_MIX)
    mix = [(model, max(1, round(n * scale))) for model, n in BULK_MIX]
    lists = {
        system: codes.code_list(system)
        for system in (CodeSystem.ICD10CM, CodeSystem.RXNORM, CodeSystem.CVX)
    }
    lists["labs"] = [c for c in codes.code_list(CodeSystem.LOINC) if c.category == "lab" and c.high]
    today = timezone.localdate()

    def new_uuid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    made_patients = made_items = 0
    per_batch = max(1, batch_size // max(1, items_per_patient))
    while made_patients < patients:
        count = min(per_batch, patients - made_patients)
        with transaction.atomic():
            chart_rows = Patient.objects.bulk_create(
                [
                    Patient(
                        public_id=new_uuid(),
                        practice=practice,
                        legal_first_name=f"Bench{made_patients + i}",
                        legal_last_name=f"Patient{(made_patients + i) % 997}",
                        date_of_birth=dt.date(
                            1940 + (made_patients + i) % 65, 1 + i % 12, 1 + i % 28
                        ),
                        sex=(Sex.FEMALE, Sex.MALE)[i % 2],
                    )
                    for i in range(count)
                ]
            )
            if any(p.pk is None for p in chart_rows):  # a backend that returns no ids
                chart_rows = list(
                    Patient.objects.filter(public_id__in=[p.public_id for p in chart_rows])
                )
            for model, per_patient in mix:
                rows = []
                for patient in chart_rows:
                    for _ in range(per_patient):
                        on = today - dt.timedelta(days=rng.randint(0, 3650))
                        values = {"shared_with_patient": model.SHARED_BY_DEFAULT}
                        values.update(_bulk_item(model, rng, on, lists))
                        rows.append(
                            model(
                                public_id=new_uuid(),
                                practice=practice,
                                patient=patient,
                                recorded_on=on,
                                **values,
                            )
                        )
                model.objects.bulk_create(rows, batch_size=batch_size)
                made_items += len(rows)
        made_patients += count
        if progress is not None:
            progress(made_patients, made_items)
    return made_patients, made_items
