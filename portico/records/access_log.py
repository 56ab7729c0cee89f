"""The patient's "Access log" (SPEC §6.3): who at the practice opened the record, and when."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.utils.translation import gettext

from portico.audit.models import AuditEvent
from portico.practices.models import Membership

# Staff reads of a chart. Writes are not "opening" the record and are left out.
STAFF_READ_ACTIONS = ("chart.view",)
PAGE_SIZE = 25


@dataclass(frozen=True)
class AccessEntry:
    when: object
    name: str
    role: str
    what: str


def _what(details: dict) -> str:
    page = (details or {}).get("page") or "chart"
    if page.startswith("api"):
        return gettext("Through the practice's software (API)")
    return gettext("Opened your chart")


def access_log_page(patient, page_number=None):
    """One page of staff reads of the chart, newest first: names and roles, never ids.

    Three queries whatever the page size: count, the page of events, and the readers' roles.
    """
    events = (
        AuditEvent.objects.filter(
            patient=patient,
            practice=patient.practice,
            action__in=STAFF_READ_ACTIONS,
            actor__isnull=False,
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
    )
    page = Paginator(events, PAGE_SIZE).get_page(page_number)
    actor_ids = {e.actor_id for e in page.object_list}
    roles = {
        m.user_id: m
        for m in Membership.objects.filter(practice=patient.practice, user_id__in=actor_ids)
    }
    entries = []
    for event in page.object_list:
        membership = roles.get(event.actor_id)
        if membership is None:
            role = gettext("Former practice member")
        else:
            role = membership.get_role_display()  # in the reader's language
            if membership.credential:
                role = f"{role} ({membership.credential})"
        entries.append(
            AccessEntry(
                when=event.created_at,
                name=event.actor.display_name or event.actor_label,
                role=role,
                what=_what(event.details),
            )
        )
    return page, entries
