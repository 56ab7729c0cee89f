"""What the patient's record shows: only what the practice shared (SPEC §6.1), and to a
representative only what is not confidential from representatives (SPEC §9.3).

`shared_record(patient, confidential=...)` reads every section with one query each (plus one
for amendments), so a record costs the same number of queries whatever the size of its lists.
Nothing that is not shared, and with `confidential=False` nothing marked confidential from
representatives (nor any item of a visit so marked), is ever read into the result, so no page,
download, FHIR bundle or link made from it can leak it, not even as a count, an empty-section
message or a date. `record_of(access)` is the one place that chooses the variant for a portal
access: from `portal.representation.scope_of(access)`.
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
from portico.portal import representation
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
    """A section of SharedRecord, read by `read(record)` on first use and kept."""

    def section(self) -> list:
        return read(self)

    return functools.cached_property(section)


def _shared_list(model):
    return _shared_section(
        lambda record: list(shared_items(model, record.patient, confidential=record.confidential))
    )


class SharedRecord:
    """The shared record of one chart, section by section.

    Each section is read with one query the first time it is used, so a page whose sections
    come from the rendering cache reads none of them, and a page that shows everything reads
    each once (12 queries whatever the list sizes).

    `confidential` says whether the items and visits marked confidential from representatives
    are in it (the patient's own record) or not (what a representative sees); `variant` names
    that choice for the keys of cached renderings, so one is never served for the other.
    """

    def __init__(self, patient, *, confidential: bool = True):
        if not isinstance(confidential, bool):
            raise TypeError("confidential must be True or False")
        self.patient = patient
        self.confidential = confidential

    @property
    def variant(self) -> str:
        """ "patient" with the confidential items, "representative" without them."""
        return "patient" if self.confidential else "representative"

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
    encounters = _shared_section(
        lambda record: list(shared_encounters(record.patient, confidential=record.confidential))
    )
    # Appointments are not clinical items: nobody marks them confidential (SPEC §9.3 names
    # items and encounters); a representative sees them as the patient does.
    appointments = _shared_section(lambda record: list(patient_appointments(record.patient)))

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


def shared_items(model, patient, *, confidential: bool = True):
    """One list section's shared items of a chart, newest first; with `confidential=False`
    without those confidential from representatives (charts.models.ClinicalItem)."""
    return (
        model.objects.filter(patient=patient)
        .shared(confidential=confidential)
        .order_by("-recorded_on", "-id")
    )


def shared_encounters(patient, *, confidential: bool = True):
    """Signed encounters whose summary the provider shared, newest first, with amendments;
    with `confidential=False` without those confidential from representatives."""
    return (
        Encounter.objects.filter(patient=patient)
        .visible_to_patient(confidential=confidential)
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


def shared_record(patient, *, confidential: bool = True) -> SharedRecord:
    """Everything the practice shared on this chart, each section read when first used;
    `confidential=False` leaves out what is confidential from representatives."""
    return SharedRecord(patient, confidential=confidential)


def record_of(access) -> SharedRecord:
    """The record as a portal access may see it: the patient's own access sees everything
    shared; a representative's (any relationship, any age of the patient) not what is
    confidential from representatives. The one place that reads the scope for a record."""
    return shared_record(access.patient, confidential=representation.scope_of(access).confidential)
