"""What the patient's record shows: only what the practice shared (SPEC §6.1).

`shared_record(patient)` reads every section with one query each (plus one for amendments),
so a record costs the same number of queries whatever the size of its lists. Nothing that is
not shared is ever read into the result, so no page can leak it, not even as a count.
"""

from __future__ import annotations

import functools

from django.db.models import Prefetch
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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
    ("problems", _("Health issues"), Problem),
    ("medications", _("Medications"), Medication),
    ("allergies", _("Allergies"), Allergy),
    ("immunizations", _("Immunizations"), Immunization),
    ("procedures", _("Procedures"), Procedure),
    ("care_plans", _("Care plans"), CarePlan),
    ("labs", _("Lab results"), LabResult),
    ("vitals", _("Vital signs"), Vital),
    ("assessments", _("Screenings, interventions and assessments"), Assessment),
)


def _shared_section(read) -> functools.cached_property:
    """A section of SharedRecord, read by `read(patient)` on first use and kept."""

    def section(self) -> list:
        return read(self.patient)

    return functools.cached_property(section)


def _shared_list(model):
    return _shared_section(lambda patient: list(shared_items(model, patient)))


class SharedRecord:
    """The shared record of one chart, section by section.

    Each section is read with one query the first time it is used, so a page whose sections
    come from the rendering cache reads none of them, and a page that shows everything reads
    each once (12 queries whatever the list sizes).
    """

    def __init__(self, patient):
        self.patient = patient

    @functools.cached_property
    def practice(self):
        return self.patient.practice

    problems = _shared_list(Problem)
    medications = _shared_list(Medication)
    allergies = _shared_list(Allergy)
    immunizations = _shared_list(Immunization)
    procedures = _shared_list(Procedure)
    care_plans = _shared_list(CarePlan)
    labs = _shared_list(LabResult)
    vitals = _shared_list(Vital)
    assessments = _shared_list(Assessment)
    encounters = _shared_section(lambda patient: list(shared_encounters(patient)))
    appointments = _shared_section(lambda patient: list(patient_appointments(patient)))

    @property
    def upcoming_appointments(self) -> list:
        now = timezone.now()
        # Soonest first for what is ahead; the list itself is newest first.
        return sorted((a for a in self.appointments if a.end_at >= now), key=lambda a: a.start_at)

    @property
    def past_appointments(self) -> list:
        now = timezone.now()
        return [a for a in self.appointments if a.end_at < now]

    def true_until(self):
        """When this record stops being true by itself: the next end of an appointment (it
        moves from upcoming to past then), or None."""
        now = timezone.now()
        return min((a.end_at for a in self.appointments if a.end_at >= now), default=None)

    @property
    def assessments_by_kind(self) -> list[tuple[str, list]]:
        return [
            (str(label), [a for a in self.assessments if a.kind == kind])
            for kind, label in AssessmentKind.choices
        ]

    def sections(self) -> list[tuple[str, str, list]]:
        return [(key, str(heading), getattr(self, key)) for key, heading, _model in LIST_SECTIONS]


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
    # With the location and practice: upcoming appointments show where they are (place_lines).
    return (
        Appointment.objects.filter(patient=patient)
        .select_related("provider", "location", "practice")
        .order_by("-start_at", "-id")
    )


def shared_record(patient) -> SharedRecord:
    """Everything the practice shared on this chart, each section read when first used."""
    return SharedRecord(patient)
