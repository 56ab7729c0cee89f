"""Reads for the staff "Patient portal access" window."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

from portico.audit.models import AuditEvent
from portico.portal.models import (
    TIMELINE_LABELS,
    AccessState,
    PortalAccess,
    Representative,
    allowed_actions,
)
from portico.practices import permissions


@dataclass
class PortalWindow:
    access: PortalAccess | None
    state: str
    state_label: str
    invitation: object
    actions: tuple[str, ...]
    may_invite: bool
    timeline: list[AuditEvent] = field(default_factory=list)
    # The "Portal access troubleshooter" (portal.troubleshoot), on the chart page only.
    troubleshooter: object = None

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


def portal_timeline(patient, limit: int = 100) -> list[AuditEvent]:
    return list(
        AuditEvent.objects.filter(patient=patient, action__in=TIMELINE_LABELS)
        .select_related("actor")
        .order_by("-created_at", "-id")[:limit]
    )


def portal_window(
    patient, membership, *, with_timeline: bool = True, with_troubleshooter: bool = False
) -> PortalWindow:
    access = portal_access_of(patient)
    state = access.effective_state if access else AccessState.NOT_INVITED
    invitation = access.current_invitation if access else None
    may_invite = permissions.can_invite_patients(membership)
    return PortalWindow(
        access=access,
        state=state,
        state_label=str(AccessState(state).label),
        invitation=invitation if state == AccessState.INVITED else None,
        actions=allowed_actions(access) if may_invite else (),
        may_invite=may_invite,
        timeline=portal_timeline(patient) if with_timeline else [],
        troubleshooter=_troubleshooter(patient, access) if with_troubleshooter else None,
    )


def _troubleshooter(patient, access):
    from portico.portal.troubleshoot import troubleshooter

    return troubleshooter(patient, access)
