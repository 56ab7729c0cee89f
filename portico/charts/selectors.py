"""Reads of patient charts, always scoped to one practice."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import F, Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _

from portico.charts.models import CLINICAL_LISTS, ClinicalItem, Encounter, Patient


def patients_of(practice) -> QuerySet[Patient]:
    """Every lookup of a chart starts here: only the practice's own charts."""
    return Patient.objects.filter(practice=practice)


def charts_with_portal(practice) -> QuerySet[Patient]:
    """The practice's charts with their portal access and current invitation joined, so a
    chart's effective portal state (an invite past its expiry is "expired") costs no query."""
    return patients_of(practice).select_related("practice", "portal_access__current_invitation")


def chart_of(practice, public_id) -> Patient:
    """The one scoped lookup of a chart by its public id, for the pages and the API alike: the
    practice's chart as `charts_with_portal(practice)` gives it, or Http404 (a chart of another
    practice is "not found", never "forbidden")."""
    return get_object_or_404(charts_with_portal(practice), public_id=public_id)


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
        return str(SECTION_TITLES[self.slug])


SECTION_TITLES = {
    "problems": _("Diagnoses and problems"),
    "medications": _("Medications"),
    "allergies": _("Allergies"),
    "immunizations": _("Immunizations"),
    "procedures": _("Procedures"),
    "care-plans": _("Care plans"),
    "vitals": _("Vitals"),
    "labs": _("Lab results"),
    "assessments": _("Screenings, interventions and assessments"),
}


def items_of(patient: Patient, model) -> QuerySet:
    """One chart's items of one list, newest first, with their encounter joined (so whether
    an item is locked by a signed encounter costs no query)."""
    return model.objects.filter(patient=patient).select_related("encounter").newest_first()


def as_table_rows(items: QuerySet) -> QuerySet:
    """Items as the item tables show them (charts/jinja2/charts/item_table.html): each with its
    encounter's public id and signature time read in the same query (`encounter_public_id`,
    `encounter_signed_at`), since a row of a signed visit links to the visit, not to an edit
    form. Lighter than joining whole encounters, which a table does not show. Likewise
    `encounter_confidential`: the row's visit is confidential from representatives (and so,
    whatever its own flag, is the row)."""
    return items.annotate(
        encounter_public_id=F("encounter__public_id"),
        encounter_signed_at=F("encounter__signed_at"),
        encounter_confidential=F("encounter__confidential_from_representatives"),
    )


def item_rows_of(patient: Patient, model) -> QuerySet:
    """One chart's items of one list, newest first, as the item tables show them."""
    return as_table_rows(model.objects.filter(patient=patient).newest_first())


def record_sections(patient: Patient, *, limit: int | None = SUMMARY_ROWS) -> list[RecordSection]:
    """Every clinical list of the chart, `limit` newest items each: one query a list,
    whatever the lists' sizes."""
    sections = []
    for slug, model in CLINICAL_LISTS.items():
        newest = item_rows_of(patient, model)
        rows = list(newest[: limit + 1]) if limit is not None else list(newest)
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
        rows = list(as_table_rows(model.objects.filter(encounter=encounter).newest_first()))
        sections.append(RecordSection(slug, model, rows, False))
    return sections
