"""The patient's "Access log" (SPEC §6.3, §9): who opened the record, and when — the practice's
staff, the people who see it on the patient's behalf ("Your parent Jordan Rivera viewed your
record"), and, for a representative, the patient's own reads unless the representative's scope
leaves them out (a parent of an adolescent, portal.representation.scope_of).

Reads by the apps the patient or a representative connected (SPEC §11.1) are listed with the
app's name, under the name of whoever connected it ("Read your record through the app “Health
Tracker”").

The log is read through one of the chart's portal accesses, whose holder reads it: what the
reader did themselves is not listed (the patient's own reads on their own log, a
representative's on theirs), except what their apps read."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.audit.models import AuditEvent
from portico.portal import representation
from portico.portal.models import PortalAccess, Representative
from portico.practices.models import Membership

# Staff reads of a chart. Writes are not "opening" the record and are left out.
STAFF_READ_ACTIONS = ("chart.view",)
# Reads of the record in the portal, by the patient or a representative.
PORTAL_READ_ACTIONS = (
    "phr.view",
    "phr.download",
    "message.list",
    "message.read",
    "message.attachment_download",
)
# Reads by an app the patient or a representative connected (SPEC §11.1; fhir.services.
# app_read): the details name the app. Listed on the log of whoever connected it too: an app
# reading is not the reader reading.
APP_READ_ACTIONS = ("phr.app_read",)
PAGE_SIZE = 25

# What a portal read was, as the patient reads it on their own log, and as a representative
# reads it on the log of the record they see.
_YOUR_RECORD = {
    "view": _("Viewed your record"),
    "download": _("Downloaded your record"),
    "messages": _("Read your messages"),
}
_THE_RECORD = {
    "view": _("Viewed the record"),
    "download": _("Downloaded the record"),
    "messages": _("Read the messages"),
}
_YOUR_RECORD_BY_APP = _("Read your record through the app “%(app)s”")
_THE_RECORD_BY_APP = _("Read the record through the app “%(app)s”")


@dataclass(frozen=True)
class AccessEntry:
    when: object
    name: str
    role: str
    what: str


def _staff_what(details: dict, patients_log: bool) -> str:
    page = (details or {}).get("page") or "chart"
    if page.startswith("api"):
        return gettext("Through the practice's software (API)")
    return gettext("Opened your chart") if patients_log else gettext("Opened the chart")


def _portal_what(event: AuditEvent, patients_log: bool) -> str:
    if event.action in APP_READ_ACTIONS:
        wording = _YOUR_RECORD_BY_APP if patients_log else _THE_RECORD_BY_APP
        return str(wording) % {"app": (event.details or {}).get("app", "")}
    if event.action == "phr.download":
        kind = "download"
    elif event.action.startswith("message."):
        kind = "messages"
    else:
        kind = "view"
    return str((_YOUR_RECORD if patients_log else _THE_RECORD)[kind])


def _events(access):
    """The chart's reads this access's holder may see in its log, newest first."""
    patient = access.patient
    app_reads = Q(action__in=APP_READ_ACTIONS)
    portal_reads = (Q(action__in=PORTAL_READ_ACTIONS) & ~Q(actor_id=access.account_id)) | app_reads
    # Representatives' reads (they act as the patient's parent, caregiver, ...).
    shown = portal_reads & ~Q(acting_as="")
    # The patient's own reads: their own account's, not acting for anyone.
    own_account = PortalAccess.objects.filter(patient=patient).values("account_id")
    if access.is_representative and representation.scope_of(access).own_reads_in_log:
        shown |= portal_reads & Q(acting_as="", actor_id__in=own_account)
    elif not access.is_representative:
        # On the patient's own log, the reads of the apps they connected.
        shown |= app_reads & Q(acting_as="", actor_id__in=own_account)
    return (
        AuditEvent.objects.filter(patient=patient, practice=patient.practice, actor__isnull=False)
        .filter(Q(action__in=STAFF_READ_ACTIONS) | shown)
        .select_related("actor")
        .order_by("-created_at", "-id")
    )


def access_log_page(access, page_number=None):
    """One page of the log of `access`'s chart (names and roles, never ids), newest first.

    At most four queries whatever the page size: count, the page of events, the staff readers'
    roles, and the representatives' names (by the account that acted and the chart).
    """
    patient = access.patient
    patients_log = not access.is_representative
    page = Paginator(_events(access), PAGE_SIZE).get_page(page_number)
    events = list(page.object_list)
    staff_ids = {e.actor_id for e in events if e.action in STAFF_READ_ACTIONS}
    roles = {}
    if staff_ids:
        roles = {
            m.user_id: m
            for m in Membership.objects.filter(practice=patient.practice, user_id__in=staff_ids)
        }
    representative_ids = {e.actor_id for e in events if e.acting_as}
    names = {}
    if representative_ids:
        # The newest representative of this chart that the account holds names it.
        for representative in Representative.objects.filter(
            patient=patient, account_id__in=representative_ids
        ).order_by("created_at", "pk"):
            names[representative.account_id] = representative.name
    entries = []
    for event in events:
        if event.action in STAFF_READ_ACTIONS:
            membership = roles.get(event.actor_id)
            if membership is None:
                role = gettext("Former practice member")
            else:
                role = membership.get_role_display()  # in the reader's language
                if membership.credential:
                    role = f"{role} ({membership.credential})"
            name = event.actor.display_name or event.actor_label
            what = _staff_what(event.details, patients_log)
        elif event.acting_as:
            name = names.get(event.actor_id) or event.actor.display_name or event.actor_label
            if patients_log:
                role = representation.your_relationship(event.acting_as)
            else:
                role = capfirst(representation.relationship_noun(event.acting_as))
            what = _portal_what(event, patients_log)
        else:  # the patient's own read, on a representative's log
            name = patient.full_name
            role = gettext("Patient")
            what = _portal_what(event, patients_log)
        entries.append(AccessEntry(when=event.created_at, name=name, role=role, what=what))
    return page, entries
