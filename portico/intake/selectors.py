"""Reads of intake templates and forms, always scoped: a practice's for staff, a chart's for the
patient (and their representatives). A miss is None (the page answers 404)."""

from __future__ import annotations

import datetime as dt
import uuid
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Prefetch, QuerySet

from portico.intake.models import (
    OPEN_STATUSES,
    FormStatus,
    IntakeForm,
    IntakeTemplate,
    VisitTypeIntake,
)
from portico.scheduling.models import HOLDS_TIME, Appointment


def _uuid(value) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def templates_of(practice, *, active_only: bool = False) -> QuerySet[IntakeTemplate]:
    templates = IntakeTemplate.objects.filter(practice=practice).select_related("current_version")
    return templates.filter(is_active=True) if active_only else templates


def template_of(practice, public_id) -> IntakeTemplate | None:
    public_id = _uuid(public_id)
    if public_id is None:
        return None
    return templates_of(practice).filter(public_id=public_id).first()


def visit_type_rules(practice) -> dict[int, VisitTypeIntake]:
    """The practice's automatic forms, by visit type id."""
    rules = VisitTypeIntake.objects.filter(practice=practice).select_related("template")
    return {rule.visit_type_id: rule for rule in rules}


_FORM_RELATED = (
    "practice",
    "patient",
    "appointment",
    "appointment__provider",
    "version",
    "template",
)


def form_at(practice, public_id) -> IntakeForm | None:
    """A form of the practice (staff)."""
    public_id = _uuid(public_id)
    if public_id is None:
        return None
    return (
        IntakeForm.objects.select_related(*_FORM_RELATED)
        .filter(practice=practice, public_id=public_id)
        .first()
    )


def forms_of_patient(patient) -> QuerySet[IntakeForm]:
    """A chart's forms (withdrawn ones aside), newest first (the chart and the portal)."""
    return (
        IntakeForm.objects.filter(patient=patient)
        .exclude(status=FormStatus.CANCELLED)
        .select_related(*_FORM_RELATED)
        .order_by("-appointment__start_at", "-id")
    )


def form_of_patient(patient, public_id) -> IntakeForm | None:
    """One of the chart's forms (the portal: through an access to that chart)."""
    public_id = _uuid(public_id)
    if public_id is None:
        return None
    return forms_of_patient(patient).filter(public_id=public_id).first()


def live_form(appointment, template) -> IntakeForm | None:
    """The appointment's form of `template` that is not withdrawn (there is at most one)."""
    return (
        IntakeForm.objects.filter(appointment=appointment, template=template)
        .exclude(status=FormStatus.CANCELLED)
        .first()
    )


def open_form_counts(accesses: Iterable) -> dict[int, int]:
    """How many forms wait for each chart of `accesses` (patient id → count), in one query."""
    from django.db.models import Count

    patient_ids = {a.patient_id for a in accesses}
    if not patient_ids:
        return {}
    rows = (
        IntakeForm.objects.filter(patient_id__in=patient_ids, status__in=OPEN_STATUSES)
        .values("patient_id")
        .annotate(n=Count("id"))
    )
    return {row["patient_id"]: row["n"] for row in rows}


# ---------------------------------------------------------------------------
# The staff's intake list: a day of appointments and their forms

BUCKET_TO_SEND = "to_send"
BUCKET_WAITING = "waiting"
BUCKET_SUBMITTED = "submitted"
BUCKET_PROCESSED = "processed"
BUCKETS = (BUCKET_TO_SEND, BUCKET_WAITING, BUCKET_SUBMITTED, BUCKET_PROCESSED)


@dataclass
class IntakeRow:
    appointment: Appointment
    forms: list[IntakeForm] = field(default_factory=list)

    @property
    def bucket(self) -> str:
        """The row's place in the list: no form yet; one still with the patient; submitted
        (waiting for staff); every form processed."""
        statuses = {f.status for f in self.forms}
        if not statuses:
            return BUCKET_TO_SEND
        if FormStatus.SUBMITTED in statuses:
            return BUCKET_SUBMITTED
        if statuses & set(OPEN_STATUSES):
            return BUCKET_WAITING
        return BUCKET_PROCESSED


def intake_day(practice, day: dt.date, *, provider=None) -> list[IntakeRow]:
    """The practice's appointments on `day` (its time zone), cancelled ones aside, each with
    its live forms; optionally one provider's. Two queries whatever the number of
    appointments."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    start = dt.datetime.combine(day, dt.time.min, tzinfo=zone)
    end = start + dt.timedelta(days=1)
    appointments = (
        Appointment.objects.filter(practice=practice, start_at__gte=start, start_at__lt=end)
        .filter(HOLDS_TIME)
        .select_related("patient", "provider", "appointment_type")
        .prefetch_related(
            Prefetch(
                "intake_forms",
                queryset=IntakeForm.objects.exclude(status=FormStatus.CANCELLED)
                .select_related("template")
                .order_by("id"),
                to_attr="live_forms",
            )
        )
        .order_by("start_at", "id")
    )
    if provider is not None:
        appointments = appointments.filter(provider=provider)
    return [IntakeRow(a, list(a.live_forms)) for a in appointments]


# ---------------------------------------------------------------------------
# Staff: a chart's and an appointment's forms


def forms_of_chart(patient) -> QuerySet[IntakeForm]:
    """Every form of a chart, withdrawn ones too (the chart's Intake tab), newest
    appointment first."""
    return (
        IntakeForm.objects.filter(patient=patient)
        .select_related(*_FORM_RELATED)
        .order_by("-appointment__start_at", "-sent_at", "-id")
    )


def forms_of_appointment(appointment) -> QuerySet[IntakeForm]:
    """An appointment's forms, withdrawn ones too, oldest first (the appointment page)."""
    return (
        IntakeForm.objects.filter(appointment=appointment)
        .select_related("template", "version")
        .order_by("sent_at", "id")
    )


def sendable_appointments(patient) -> QuerySet[Appointment]:
    """The chart's appointments a form can still be sent for (upcoming, not over), soonest
    first."""
    from django.utils import timezone

    from portico.scheduling.models import UPCOMING_STATUSES

    return (
        Appointment.objects.filter(
            patient=patient, status__in=UPCOMING_STATUSES, end_at__gt=timezone.now()
        )
        .select_related("provider", "appointment_type")
        .order_by("start_at", "id")
    )
