"""Reads of patient charts, always scoped to one practice."""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass

from django.apps import apps
from django.db.models import Q, QuerySet

from portico.charts.models import CLINICAL_LISTS, ClinicalItem, Encounter, Patient
from portico.core import prepared


def patients_of(practice) -> QuerySet[Patient]:
    """Every lookup of a chart starts here: only the practice's own charts."""
    return Patient.objects.filter(practice=practice)


def charts_with_portal(practice) -> QuerySet[Patient]:
    """The practice's charts with their portal access and current invitation joined, so a
    chart's effective portal state (an invite past its expiry is "expired") costs no query."""
    return patients_of(practice).select_related("practice", "portal_access__current_invitation")


@functools.cache
def _charts_with_portal_select(condition: str, param_fields: tuple) -> prepared.Select:
    access_model = apps.get_model("portal", "PortalAccess")
    invitation_model = apps.get_model("portal", "Invitation")
    practice_model = Patient._meta.get_field("practice").related_model
    return prepared.Select(
        [
            prepared.ModelColumns(Patient, "c"),
            prepared.ModelColumns(practice_model, "p"),
            prepared.ModelColumns(access_model, "a"),
            prepared.ModelColumns(invitation_model, "i"),
        ],
        lambda q, columns: (
            f"SELECT {columns} FROM {q(Patient._meta.db_table)} c "  # noqa: S608
            f"JOIN {q(practice_model._meta.db_table)} p ON p.id = c.practice_id "
            f"LEFT JOIN {q(access_model._meta.db_table)} a ON a.patient_id = c.id "
            f"LEFT JOIN {q(invitation_model._meta.db_table)} i ON i.id = a.current_invitation_id "
            f"WHERE {condition}"
        ),
        param_fields=param_fields,
    )


def charts_with_portal_where(condition: str, params, *, param_fields=()) -> list[Patient]:
    """Charts as `charts_with_portal` gives them (practice, portal access and its current
    invitation joined), chosen by an SQL condition on the aliases c (chart), p (practice) and
    a (portal access), with SQL built once per condition (core.prepared): every chart page
    and every portal page starts with one of these reads. The caller scopes the condition."""
    select = _charts_with_portal_select(condition, tuple(param_fields))
    charts = []
    for patient, practice, access, invitation in select.rows(params):
        patient.practice = practice
        if access is None:
            # As select_related leaves it: "no portal access" is known without another query.
            Patient.portal_access.related.set_cached_value(patient, None)
        else:
            access.current_invitation = invitation
            access.practice = practice
            patient.portal_access = access  # also sets access.patient
        charts.append(patient)
    return charts


def chart_with_portal(practice, public_id) -> Patient | None:
    """The practice's chart with this public id, as `charts_with_portal(practice)` gives it,
    or None."""
    found = charts_with_portal_where(
        "c.public_id = %s AND c.practice_id = %s",
        [public_id, practice.pk],
        param_fields=[Patient._meta.get_field("public_id")],
    )
    return found[0] if found else None


def parse_date_query(text: str) -> dt.date | None:
    """Dates as staff type them: 1980-04-21, 04/21/1980 or 4/21/1980."""
    for fmt in ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y"):
        try:
            return dt.datetime.strptime(text, fmt).date()  # noqa: DTZ007 (a date, no time)
        except ValueError:
            continue
    return None


def patient_search(*, practice, query: str = "") -> QuerySet[Patient]:
    """Charts of the practice matching a name (any part) or an exact date of birth."""
    patients = charts_with_portal(practice)
    query = (query or "").strip()
    if not query:
        return patients
    date = parse_date_query(query)
    if date is not None:
        return patients.filter(date_of_birth=date)
    for word in query.split():
        patients = patients.filter(
            Q(legal_first_name__icontains=word)
            | Q(legal_last_name__icontains=word)
            | Q(preferred_name__icontains=word)
        )
    return patients


# ---------------------------------------------------------------------------------------------
# Clinical record (SPEC §2.2)
# ---------------------------------------------------------------------------------------------

SUMMARY_ROWS = 10  # newest items a section of the chart summary shows


@dataclass
class RecordSection:
    slug: str
    model: type[ClinicalItem]
    items: list
    has_more: bool

    @property
    def title(self) -> str:
        return SECTION_TITLES[self.slug]


SECTION_TITLES = {
    "problems": "Diagnoses and problems",
    "medications": "Medications",
    "allergies": "Allergies",
    "immunizations": "Immunizations",
    "procedures": "Procedures",
    "care-plans": "Care plans",
    "vitals": "Vitals",
    "labs": "Lab results",
    "assessments": "Screenings, interventions and assessments",
}


def items_of(patient: Patient, model) -> QuerySet:
    """One chart's items of one list, newest first, with their encounter joined (so whether
    an item is locked by a signed encounter costs no query)."""
    return model.objects.filter(patient=patient).select_related("encounter").newest_first()


def record_sections(patient: Patient, *, limit: int | None = SUMMARY_ROWS) -> list[RecordSection]:
    """Every clinical list of the chart, `limit` newest items each: one query a list,
    whatever the lists' sizes."""
    sections = []
    for slug, model in CLINICAL_LISTS.items():
        rows = items_of(patient, model)
        rows = list(rows[: limit + 1]) if limit is not None else list(rows)
        has_more = limit is not None and len(rows) > limit
        sections.append(RecordSection(slug, model, rows[:limit] if has_more else rows, has_more))
    return sections


def encounters_of(patient: Patient) -> QuerySet[Encounter]:
    """A chart's encounters, newest visit first, with provider and signer joined."""
    return Encounter.objects.filter(patient=patient).select_related("provider", "signed_by")


def encounter_items(encounter: Encounter) -> list[RecordSection]:
    """The items attached to one encounter, by list (one query a list)."""
    sections = []
    for slug, model in CLINICAL_LISTS.items():
        rows = list(model.objects.filter(encounter=encounter).newest_first())
        sections.append(RecordSection(slug, model, rows, False))
    return sections
