"""Reads for the staff "Patient portal access" window."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.formats import date_format
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.audit.models import AuditEvent
from portico.portal import representation
from portico.portal.models import (
    PARENTAL,
    TIMELINE_LABELS,
    AccessState,
    Invitation,
    PortalAccess,
    Representative,
    allowed_actions,
)
from portico.practices import permissions


@dataclass(frozen=True)
class RepresentativeRef:
    """Which representative an event of the chart is about, as the timeline names them."""

    public_id: str
    name: str
    relationship: str

    @classmethod
    def of(cls, representative: Representative) -> RepresentativeRef:
        return cls(str(representative.public_id), representative.name, representative.relationship)

    def __str__(self) -> str:
        return gettext("%(name)s (%(relationship)s)") % {
            "name": self.name,
            "relationship": representation.relationship_noun(self.relationship),
        }


@dataclass
class TimelineEvent:
    """One event of the window's timeline (SPEC §3.9): what happened, when and by whom, and the
    representative it was about (None: the patient's own access)."""

    action: str
    label: str
    created_at: dt.datetime
    actor_label: str
    representative: RepresentativeRef | None = None


@dataclass
class RepresentativeRow:
    """A representative as the window lists them (SPEC §9.1): the state as of now, the live
    access code while an invite is pending, the account's email once enrolled, what the rules
    do to their access as the patient grows up, and the actions staff may take now."""

    representative: Representative
    state: str
    state_label: str
    invitation: Invitation | None  # the pending invitation, whose access code staff read out
    email: str  # the account's once enrolled, else where the enrollment email went
    invitation_email: str  # where the last enrollment email went (the next one's default)
    phone: str  # the last invitation's, for the security code by text message
    note: str
    actions: tuple[str, ...]

    @property
    def public_id(self) -> uuid.UUID:
        return self.representative.public_id

    @property
    def name(self) -> str:
        return self.representative.name

    @property
    def relationship_label(self) -> str:
        return str(self.representative.get_relationship_display())

    @property
    def ends_on(self) -> dt.date | None:
        return self.representative.ends_on

    @property
    def ref(self) -> RepresentativeRef:
        return RepresentativeRef.of(self.representative)


@dataclass
class PortalWindow:
    access: PortalAccess | None
    state: str
    state_label: str
    invitation: object
    actions: tuple[str, ...]
    may_invite: bool
    timeline: list[TimelineEvent] = field(default_factory=list)
    # The "Portal access troubleshooter" (portal.troubleshoot), on the chart page only: the
    # patient's, or one representative's when staff asked for theirs.
    troubleshooter: object = None
    # The chart's representatives (SPEC §9.1), on the chart page.
    representatives: list[RepresentativeRow] = field(default_factory=list)

    @property
    def button_label(self) -> str:
        """SPEC §3.1: the header button invites when not invited, else shows the state."""
        if self.state == AccessState.NOT_INVITED:
            return gettext("Invite to patient portal")
        return self.state_label


def patient_access_list(account) -> list[PortalAccess | Representative]:
    """Every chart the account registered for, with its current state (revoked and ended ones
    too), its patient, practice and current invitation: the account's own records by
    practice, then the records it represents (SPEC §9.2) by the patient's name."""
    related = ("patient__practice", "practice", "current_invitation")
    own = (
        PortalAccess.objects.filter(account=account)
        .select_related(*related)
        .order_by("practice__name", "patient__legal_last_name", "pk")
    )
    represented = (
        Representative.objects.filter(account=account)
        .select_related(*related)
        .order_by("patient__legal_last_name", "patient__legal_first_name", "practice__name", "pk")
    )
    return [*own, *represented]


def representatives_of(patient) -> list[Representative]:
    """The chart's representatives, every state, with their current invitation."""
    return list(
        Representative.objects.filter(patient=patient)
        .select_related("current_invitation", "account", "patient", "practice")
        .order_by("name", "pk")
    )


def active_representatives(patient) -> list[Representative]:
    """The chart's representatives whose access is active now (end dates and the patient's
    coming of age applied), with their accounts."""
    found = Representative.objects.filter(
        patient=patient, state=AccessState.ACTIVE, account__isnull=False
    ).select_related("account", "patient", "practice", "current_invitation")
    return [r for r in found if r.effective_state == AccessState.ACTIVE]


def representative_of(patient, public_id) -> Representative | None:
    """One of the chart's representatives by its public id, else None (a 404 for the caller)."""
    try:
        return (
            Representative.objects.filter(patient=patient, public_id=public_id)
            .select_related("current_invitation", "account", "patient__practice", "practice")
            .first()
        )
    except (ValueError, ValidationError):  # not a UUID
        return None


def representative_at(practice, public_id) -> Representative | None:
    """A representative of one of the practice's charts by its public id, else None (a 404 for
    the caller: another practice's representative is not found)."""
    try:
        return (
            Representative.objects.filter(
                practice=practice, patient__practice=practice, public_id=public_id
            )
            .select_related("current_invitation", "account", "patient__practice", "practice")
            .first()
        )
    except (ValueError, ValidationError):  # not a UUID
        return None


def enrolled_access(patient) -> PortalAccess | None:
    """The chart's portal access when it is active with its account (whom to tell of something
    new for the patient), with the account and practice; else None."""
    return (
        PortalAccess.objects.filter(
            patient=patient, state=AccessState.ACTIVE, account__isnull=False
        )
        .select_related("account", "patient", "practice")
        .first()
    )


def portal_access_of(patient) -> PortalAccess | None:
    try:
        return patient.portal_access
    except PortalAccess.DoesNotExist:
        return None


def portal_timeline(patient, limit: int = 100) -> list[TimelineEvent]:
    """The chart's portal events, newest first, each representative's named (two queries)."""
    events = list(
        AuditEvent.objects.filter(patient=patient, action__in=TIMELINE_LABELS)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )
    names = representatives_named(patient, events)
    timeline = []
    for event in events:
        ref = event_representative(event, names)
        timeline.append(
            TimelineEvent(
                action=event.action,
                label=event_label(event, ref),
                created_at=event.created_at,
                actor_label=event.actor_label,
                representative=ref,
            )
        )
    return timeline


# What the registration page's events are called when the invitation was a representative's
# (TIMELINE_LABELS say "Patient" for the patient's own).
REPRESENTATIVE_EVENT_LABELS = {
    "portal.verified": _("Representative verified the patient's date of birth and their code"),
    "portal.security_code_requested": _("Representative asked for a security code by text"),
}


def event_label(event: AuditEvent, representative: RepresentativeRef | None) -> str:
    """What the window's timeline calls an event of the chart's portal access."""
    if representative is not None:
        if event.action == "portal.representative_invite" and (event.details or {}).get(
            "from_state"
        ):
            return gettext("Representative invited again")
        if event.action in REPRESENTATIVE_EVENT_LABELS:
            return str(REPRESENTATIVE_EVENT_LABELS[event.action])
    return str(TIMELINE_LABELS.get(event.action, event.action))


def _uuids(values: Iterable[object]) -> list[uuid.UUID]:
    found = []
    for value in values:
        try:
            found.append(uuid.UUID(str(value)))
        except ValueError:
            continue
    return found


def representatives_named(
    patient, events: Iterable[AuditEvent], email_subjects: Iterable[object] = ()
) -> dict[str, RepresentativeRef]:
    """The chart's representatives that `events` (and the emails of `email_subjects`) are
    about, keyed by the representative's public id and by their invitations' public ids (what
    the events' details and the emails' subject ids hold): one query for a whole timeline, none
    when nothing could be a representative's."""
    representative_ids, invitation_ids = set(), {str(s) for s in email_subjects}
    for event in events:
        details = event.details or {}
        if details.get("representative"):
            representative_ids.add(details["representative"])
        elif details.get("invitation"):
            invitation_ids.add(details["invitation"])
    wanted_representatives, wanted_invitations = _uuids(representative_ids), _uuids(invitation_ids)
    if not wanted_representatives and not wanted_invitations:
        return {}
    rows = (
        Invitation.objects.filter(patient=patient, representative__isnull=False)
        .filter(
            Q(public_id__in=wanted_invitations)
            | Q(representative__public_id__in=wanted_representatives)
        )
        .values_list(
            "public_id",
            "representative__public_id",
            "representative__name",
            "representative__relationship",
        )
    )
    names: dict[str, RepresentativeRef] = {}
    for invitation_id, representative_id, name, relationship in rows:
        ref = RepresentativeRef(str(representative_id), name, relationship)
        names[str(invitation_id)] = names[str(representative_id)] = ref
    return names


def event_representative(
    event: AuditEvent, names: dict[str, RepresentativeRef]
) -> RepresentativeRef | None:
    """The representative an event is about (from `representatives_named`), else None."""
    details = event.details or {}
    key = details.get("representative") or details.get("invitation")
    return names.get(str(key)) if key else None


def _representative_note(representative: Representative, state: str) -> str:
    """What the practice's rules of age do, or did, to a representative's access (SPEC §9.3),
    in the window's words; empty when nothing."""
    patient, practice = representative.patient, representative.practice
    end_age = practice.representative_end_age
    if state == AccessState.ENDED:
        if representative.state == AccessState.ENDED:
            return gettext("The patient ended this access.")
        if representation.came_of_age(representative):
            return gettext(
                "Ended when the patient turned %(age)s; only the patient can renew it."
            ) % {"age": end_age}
        return gettext("Ended after its end date.")
    if state not in (AccessState.ACTIVE, AccessState.INVITED):
        return ""
    notes = []
    if representation.is_narrowed(representative):
        notes.append(
            gettext(
                "Narrowed since the patient turned %(age)s: no messages, and not the patient's "
                "own reads in the access log."
            )
            % {"age": practice.representative_narrow_age}
        )
    if representative.relationship in PARENTAL and not representation.came_of_age(representative):
        of_age = representation.birthday_at_age(patient.date_of_birth, end_age)
        if representation.practice_today(practice) < of_age:
            notes.append(
                gettext("Ends when the patient turns %(age)s, on %(date)s, unless they renew it.")
                % {"age": end_age, "date": date_format(of_age, "M j, Y")}
            )
    return " ".join(notes)


def representative_row(representative: Representative, *, may_invite: bool) -> RepresentativeRow:
    """One representative as the window and the API show them."""
    state = representative.effective_state
    invitation = representative.current_invitation
    account = representative.account
    actions: tuple[str, ...] = ()
    if may_invite:
        # The patient's own actions for the same state; "invite" is inviting them again. A
        # parent's access that ended with the patient's coming of age is the adult patient's
        # to renew, not the practice's.
        actions = tuple(
            "reinvite" if action == "invite" else action
            for action in allowed_actions(representative)
            if not (action == "invite" and representation.came_of_age(representative))
        )
        actions += ("edit",)
        if state == AccessState.ACTIVE and account is not None and account.is_locked:
            actions += ("unlock",)
    return RepresentativeRow(
        representative=representative,
        state=state,
        state_label=str(AccessState(state).label),
        invitation=invitation if state == AccessState.INVITED else None,
        email=account.email if account is not None else (invitation.email if invitation else ""),
        invitation_email=invitation.email if invitation else "",
        phone=invitation.phone if invitation else "",
        note=_representative_note(representative, state),
        actions=actions,
    )


def portal_window(
    patient,
    membership,
    *,
    with_timeline: bool = True,
    with_troubleshooter: bool = False,
    with_representatives: bool = False,
    troubleshoot: Representative | None = None,
) -> PortalWindow:
    """The "Patient portal access" window of a chart (already found within the practice):
    the patient's own access, and with `with_representatives` the chart's representatives.
    The troubleshooter is the patient's, or the representative's given as `troubleshoot`."""
    access = portal_access_of(patient)
    state = access.effective_state if access else AccessState.NOT_INVITED
    invitation = access.current_invitation if access else None
    may_invite = permissions.can_invite_patients(membership)
    trouble = None
    if troubleshoot is not None:
        trouble = _representative_troubleshooter(troubleshoot)
    elif with_troubleshooter:
        trouble = _troubleshooter(patient, access)
    return PortalWindow(
        access=access,
        state=state,
        state_label=str(AccessState(state).label),
        invitation=invitation if state == AccessState.INVITED else None,
        actions=allowed_actions(access) if may_invite else (),
        may_invite=may_invite,
        timeline=portal_timeline(patient) if with_timeline else [],
        troubleshooter=trouble,
        representatives=(
            [representative_row(r, may_invite=may_invite) for r in representatives_of(patient)]
            if with_representatives
            else []
        ),
    )


def _troubleshooter(patient, access):
    from portico.portal.troubleshoot import troubleshooter

    return troubleshooter(patient, access)


def _representative_troubleshooter(representative):
    from portico.portal.troubleshoot import representative_troubleshooter

    return representative_troubleshooter(representative)
