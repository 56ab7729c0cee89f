"""SPEC §1.2, §1.4: who may invite patients, and only administrators may change that."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied

from portico.audit.models import AuditEvent
from portico.portal import services as portal
from portico.portal.selectors import portal_window
from portico.practices import permissions
from portico.practices.models import Membership
from portico.practices.services import invite_permissions_set
from tests.factories import invite, make_staff


def membership(user, practice) -> Membership:
    return Membership.objects.get(user=user, practice=practice)


def rights(practice) -> dict[int, bool]:
    return dict(
        Membership.objects.filter(practice=practice).values_list("pk", "may_invite_patients")
    )


def everyone_but(practice, *users) -> set[int]:
    return {m.pk for m in Membership.objects.filter(practice=practice) if m.user not in users}


# ---------------------------------------------------------------------------
# Refusals first


@pytest.mark.parametrize("who", ["staff", "provider", "non_inviter"])
def test_only_administrators_change_invite_permissions(who, request, admin, practice):
    actor = request.getfixturevalue(who)
    before = rights(practice)

    with pytest.raises(PermissionDenied):
        invite_permissions_set(actor, practice=practice, allowed_member_ids=set())

    assert rights(practice) == before
    assert not AuditEvent.objects.filter(action="settings.phr_invite_permission").exists()


def test_administrator_of_another_practice_cannot_change_them(outsider, staff, practice):
    before = rights(practice)

    with pytest.raises(PermissionDenied):
        invite_permissions_set(outsider, practice=practice, allowed_member_ids=set())

    assert rights(practice) == before


def test_administrator_whose_membership_ended_cannot_change_them(admin, staff, practice):
    Membership.objects.filter(user=admin, practice=practice).update(is_active=False)
    before = rights(practice)

    with pytest.raises(PermissionDenied):
        invite_permissions_set(admin, practice=practice, allowed_member_ids=set())

    assert rights(practice) == before


def test_member_without_the_right_sees_no_invite_actions(non_inviter, practice, patient):
    window = portal_window(patient, membership(non_inviter, practice), with_timeline=False)

    assert window.may_invite is False
    assert window.actions == ()


# ---------------------------------------------------------------------------
# The rule


def test_every_member_may_invite_by_default(practice):
    user = make_staff(practice)

    assert membership(user, practice).may_invite_patients is True
    assert permissions.can_invite_patients(membership(user, practice))


def test_nobody_outside_the_practice_may_invite():
    assert permissions.can_invite_patients(None) is False


def test_administrator_takes_the_right_away_and_the_services_refuse_at_once(
    admin, staff, practice, patient
):
    changed = invite_permissions_set(
        admin, practice=practice, allowed_member_ids=everyone_but(practice, staff)
    )

    assert [m.user for m in changed] == [staff]
    assert membership(staff, practice).may_invite_patients is False
    with pytest.raises(PermissionDenied):
        portal.invitation_issue(staff, patient=patient)
    window = portal_window(patient, membership(staff, practice), with_timeline=False)
    assert window.actions == ()


def test_taking_the_right_away_covers_resend_cancel_and_revoke(admin, staff, practice, patient):
    invite(admin, patient)
    invite_permissions_set(
        admin, practice=practice, allowed_member_ids=everyone_but(practice, staff)
    )

    for action in (portal.invitation_resend, portal.invitation_cancel, portal.access_revoke):
        with pytest.raises(PermissionDenied):
            action(staff, patient=patient)


def test_administrator_gives_the_right_back(admin, non_inviter, practice, patient):
    changed = invite_permissions_set(
        admin, practice=practice, allowed_member_ids=set(rights(practice))
    )

    assert [m.user for m in changed] == [non_inviter]
    assert invite(non_inviter, patient).created_by == non_inviter


def test_each_change_is_audited_and_unchanged_members_are_not(
    admin, staff, provider, non_inviter, practice
):
    invite_permissions_set(
        admin,
        practice=practice,
        allowed_member_ids=everyone_but(practice, staff) | {membership(non_inviter, practice).pk},
    )

    events = AuditEvent.objects.filter(action="settings.phr_invite_permission")
    assert sorted((e.details["user"], e.details["may_invite"]) for e in events) == sorted(
        [(str(staff.public_id), False), (str(non_inviter.public_id), True)]
    )
    for event in events:
        assert (event.actor, event.practice, event.patient) == (admin, practice, None)


def test_members_of_another_practice_are_never_touched(admin, practice, other_practice):
    elsewhere = make_staff(other_practice, may_invite=False)
    their = membership(elsewhere, other_practice)

    invite_permissions_set(
        admin, practice=practice, allowed_member_ids=set(rights(practice)) | {their.pk}
    )

    their.refresh_from_db()
    assert their.may_invite_patients is False


def test_same_user_keeps_separate_rights_at_each_practice(admin, practice, other_practice):
    user = make_staff(practice)
    Membership.objects.create(user=user, practice=other_practice, may_invite_patients=True)

    invite_permissions_set(
        admin, practice=practice, allowed_member_ids=everyone_but(practice, user)
    )

    assert membership(user, practice).may_invite_patients is False
    assert membership(user, other_practice).may_invite_patients is True
