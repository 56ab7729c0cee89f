"""Practice administration: who may do what (SPEC §1)."""

from __future__ import annotations

from django.db import transaction

from portico.audit.services import audit_record
from portico.practices import permissions
from portico.practices.models import Membership


@transaction.atomic
def invite_permissions_set(actor, *, practice, allowed_member_ids: set[int]) -> list[Membership]:
    """EHR Settings > PHR invite: exactly the ticked members may invite patients.

    Returns the memberships whose right changed; each change is audited.
    """
    permissions.require(
        permissions.can_manage_settings(permissions.membership_for(actor, practice)),
        "Only administrators can change EHR Settings.",
    )
    changed = []
    for membership in Membership.objects.select_for_update().filter(practice=practice):
        allowed = membership.pk in allowed_member_ids
        if membership.may_invite_patients != allowed:
            membership.may_invite_patients = allowed
            membership.save(update_fields=["may_invite_patients"])
            changed.append(membership)
            audit_record(
                actor,
                action="settings.phr_invite_permission",
                practice=practice,
                details={"user": str(membership.user.public_id), "may_invite": allowed},
            )
    return changed


def practice_switch(actor, *, session, practice_public_id) -> Membership | None:
    """Make another of the actor's practices the current one."""
    from portico.practices.middleware import SESSION_KEY

    membership = (
        permissions.active_memberships(actor).filter(practice__public_id=practice_public_id).first()
    )
    if membership is not None:
        session[SESSION_KEY] = membership.practice_id
    return membership
