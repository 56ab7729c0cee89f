"""What the patient's record shows: only what the practice shared (SPEC §6.1).

`shared_record(patient)` reads every section with one query each (plus one for amendments),
so a record costs the same number of queries whatever the size of its lists. Nothing that is
not shared is ever read into the result, so no page can leak it, not even as a count.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.utils import timezone

from portico.charts.models import (
    Allergy,
    Assessment,
    AssessmentKind,
    CarePlan,
    Encounter,
    EncounterAmendment,
    Immunization,
    LabResult,
    Medication,
    Problem,
    Procedure,
    Vital,
)
from portico.scheduling.models import Appointment

# (key, heading, model) of each list section, in the order the record shows them.
LIST_SECTIONS = (
    ("problems", "Health issues", Problem),
    ("medications", "Medications", Medication),
    ("allergies", "Allergies", Allergy),
    ("immunizations", "Immunizations", Immunization),
    ("procedures", "Procedures", Procedure),
    ("care_plans", "Care plans", CarePlan),
    ("labs", "Lab results", LabResult),
    ("vitals", "Vital signs", Vital),
    ("assessments", "Screenings, interventions and assessments", Assessment),
)


@dataclass
class SharedRecord:
    patient: object
    practice: object
    problems: list = field(default_factory=list)
    medications: list = field(default_factory=list)
    allergies: list = field(default_factory=list)
    immunizations: list = field(default_factory=list)
    procedures: list = field(default_factory=list)
    care_plans: list = field(default_factory=list)
    labs: list = field(default_factory=list)
    vitals: list = field(default_factory=list)
    assessments: list = field(default_factory=list)
    encounters: list = field(default_factory=list)
    appointments: list = field(default_factory=list)

    @property
    def upcoming_appointments(self) -> list:
        now = timezone.now()
        # Soonest first for what is ahead; the list itself is newest first.
        return sorted((a for a in self.appointments if a.end_at >= now), key=lambda a: a.start_at)

    @property
    def past_appointments(self) -> list:
        now = timezone.now()
        return [a for a in self.appointments if a.end_at < now]

    @property
    def assessments_by_kind(self) -> list[tuple[str, list]]:
        return [
            (label, [a for a in self.assessments if a.kind == kind])
            for kind, label in AssessmentKind.choices
        ]

    def sections(self) -> list[tuple[str, str, list]]:
        return [(key, heading, getattr(self, key)) for key, heading, _ in LIST_SECTIONS]


def shared_items(model, patient):
    """One list section's shared items of a chart, newest first."""
    return model.objects.filter(patient=patient, shared_with_patient=True).order_by(
        "-recorded_on", "-id"
    )


def shared_encounters(patient):
    """Signed encounters whose summary the provider shared, newest first, with amendments."""
    return (
        Encounter.objects.filter(patient=patient)
        .visible_to_patient()
        .select_related("provider", "signed_by")
        .prefetch_related(
            Prefetch(
                "amendments",
                queryset=EncounterAmendment.objects.select_related("author").order_by(
                    "created_at", "id"
                ),
            )
        )
        .order_by("-visit_date", "-id")
    )


def patient_appointments(patient):
    return (
        Appointment.objects.filter(patient=patient)
        .select_related("provider")
        .order_by("-start_at", "-id")
    )


def shared_record(patient) -> SharedRecord:
    """Everything the practice shared on this chart (12 queries, whatever the list sizes)."""
    record = SharedRecord(patient=patient, practice=patient.practice)
    for key, _heading, model in LIST_SECTIONS:
        setattr(record, key, list(shared_items(model, patient)))
    record.encounters = list(shared_encounters(patient))
    record.appointments = list(patient_appointments(patient))
    return record
