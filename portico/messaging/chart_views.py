"""The chart's timeline (SPEC §7.4): the chart's story, newest first: signed visits, message
threads filed into the chart, and the answers to prescription renewal requests (every renewal
request, filed or not). A chart page like the others: any member of the practice, audited as a
chart read, a fixed number of queries."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from dataclasses import dataclass
from typing import Any

from django.shortcuts import render

from portico.charts import selectors as chart_selectors
from portico.charts import services as chart_services
from portico.messaging import selectors
from portico.practices import permissions
from portico.practices.decorators import staff_required

ENCOUNTER, THREAD, RENEWAL = "encounter", "thread", "renewal"


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: what (`kind`), when (a date and time, or a visit's date) and
    the object it is about."""

    kind: str
    at: dt.datetime
    item: Any

    @property
    def is_date_only(self) -> bool:
        return self.kind == ENCOUNTER


def timeline_entries(patient, time_zone: str) -> list[Entry]:
    """The chart's timeline, newest first (a visit counts from the start of its day in the
    practice's time zone)."""
    zone = zoneinfo.ZoneInfo(time_zone)
    entries = [
        Entry(ENCOUNTER, dt.datetime.combine(e.visit_date, dt.time.min, tzinfo=zone), e)
        for e in chart_selectors.encounters_of(patient).filter(signed_at__isnull=False)
    ]
    for thread in selectors.timeline_threads(patient):
        if thread.filed_at is not None:
            entries.append(Entry(THREAD, thread.last_message_at, thread))
        renewal = getattr(thread, "renewal", None)
        if renewal is not None:
            entries.append(Entry(RENEWAL, renewal.decided_at or thread.created_at, thread))
    entries.sort(key=lambda entry: entry.at, reverse=True)
    return entries


@staff_required
def timeline(request, patient_id):
    patient = chart_selectors.chart_of(request.practice, patient_id)
    entries = timeline_entries(patient, request.practice.time_zone)
    chart_services.chart_viewed(request.user, patient=patient, what="timeline")
    return render(
        request,
        "messaging/timeline.html",
        {
            "patient": patient,
            "practice": request.practice,
            "entries": entries,
            "may_open_threads": permissions.can_answer_messages(request.membership),
        },
    )
