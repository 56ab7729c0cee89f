"""Reads of patient charts, always scoped to one practice."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from portico.charts.models import Patient


def patients_of(practice) -> QuerySet[Patient]:
    """Every lookup of a chart starts here: only the practice's own charts."""
    return Patient.objects.filter(practice=practice)


def charts_with_portal(practice) -> QuerySet[Patient]:
    """The practice's charts with their portal access and current invitation joined, so a
    chart's effective portal state (an invite past its expiry is "expired") costs no query."""
    return patients_of(practice).select_related("practice", "portal_access__current_invitation")


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
