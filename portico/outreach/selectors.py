"""Which charts a bulk invite covers: the filters of the bulk invite page (SPEC §5.3)."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import asdict, dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from portico.charts.models import Encounter, Patient
from portico.charts.selectors import charts_with_portal, patients_of
from portico.outreach.models import BulkInviteRun
from portico.portal.models import AccessState


@dataclass(frozen=True)
class BulkFilter:
    """The filters staff set. Stored with a run as JSON (no PHI: flags, ages and a date)."""

    not_invited: bool = True
    has_email: bool = True
    age_min: int | None = None
    age_max: int | None = None
    seen_since: dt.date | None = None

    def as_json(self) -> dict:
        data = asdict(self)
        data["seen_since"] = self.seen_since.isoformat() if self.seen_since else None
        return data

    @classmethod
    def from_json(cls, data: dict) -> BulkFilter:
        seen = data.get("seen_since")
        return cls(
            not_invited=bool(data.get("not_invited", True)),
            has_email=bool(data.get("has_email", True)),
            age_min=data.get("age_min"),
            age_max=data.get("age_max"),
            seen_since=dt.date.fromisoformat(seen) if seen else None,
        )


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def practice_today(practice, now: dt.datetime | None = None) -> dt.date:
    """Today's date where the practice is: ages are counted in the practice's time zone."""
    return timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(practice.time_zone)).date()


def matching_charts(practice, criteria: BulkFilter, *, today: dt.date) -> QuerySet[Patient]:
    """The practice's charts that match the filters, ages counted on `today`."""
    patients = patients_of(practice)
    if criteria.not_invited:
        patients = patients.filter(
            Q(portal_access__isnull=True) | Q(portal_access__state=AccessState.NOT_INVITED)
        )
    if criteria.has_email:
        patients = patients.exclude(email="")
    if criteria.age_min is not None:
        # Aged at least N: born on or before today's date N years ago.
        patients = patients.filter(date_of_birth__lte=_years_before(today, criteria.age_min))
    if criteria.age_max is not None:
        # Aged at most N: not yet N+1, i.e. born after today's date N+1 years ago.
        patients = patients.filter(date_of_birth__gt=_years_before(today, criteria.age_max + 1))
    if criteria.seen_since is not None:
        seen = Encounter.objects.filter(patient=OuterRef("pk"), visit_date__gte=criteria.seen_since)
        patients = patients.filter(Exists(seen))
    return patients


def matching_preview(practice, criteria: BulkFilter, *, today: dt.date, limit: int = 50):
    """The first charts of the list (portal state joined, so the page costs a fixed count)."""
    ids = matching_charts(practice, criteria, today=today).values("pk")
    return (
        charts_with_portal(practice)
        .filter(pk__in=ids)
        .order_by(*(Patient._meta.ordering or ()))[:limit]
    )


def run_charts(run: BulkInviteRun) -> QuerySet[Patient]:
    """The charts of a run: the filters as of the day it started, up to the last id it saw."""
    criteria = BulkFilter.from_json(run.criteria)
    today = practice_today(run.practice, run.created_at)
    return matching_charts(run.practice, criteria, today=today).filter(pk__lte=run.last_patient_id)


def runs_of(practice) -> QuerySet[BulkInviteRun]:
    return BulkInviteRun.objects.filter(practice=practice).select_related("created_by")
