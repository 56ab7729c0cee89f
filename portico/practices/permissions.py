"""The one permission policy: may this user do X at this practice, to this patient?

Pages, the JSON API and services all ask here; nothing else decides.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from portico.core import prepared
from portico.practices.models import Membership, Practice, Role


def membership_for(user, practice) -> Membership | None:
    """The user's active membership at the practice, or None."""
    if user is None or not user.is_authenticated or practice is None:
        return None
    return (
        Membership.objects.select_related("practice", "user")
        .filter(user=user, practice=practice, is_active=True)
        .first()
    )


def active_memberships(user):
    if user is None or not user.is_authenticated:
        return Membership.objects.none()
    # Ordered, so a person at several practices starts in the same one every time.
    return (
        Membership.objects.select_related("practice")
        .filter(user=user, is_active=True)
        .order_by("practice__name", "pk")
    )


_memberships_with_practice = prepared.Select(
    [prepared.ModelColumns(Membership, "m"), prepared.ModelColumns(Practice, "p")],
    lambda q, columns: (
        f"SELECT {columns} FROM {q(Membership._meta.db_table)} m "  # noqa: S608
        f"JOIN {q(Practice._meta.db_table)} p ON p.id = m.practice_id "
        "WHERE m.user_id = %s AND m.is_active = %s ORDER BY p.name, m.id"
    ),
)


def active_memberships_list(user) -> list[Membership]:
    """`active_memberships(user)` as a list, each with its practice. Every signed-in request
    asks (CurrentPracticeMiddleware), so it is read with SQL built once (portico.core.prepared)."""
    if user is None or not user.is_authenticated:
        return []
    memberships = []
    for membership, practice in _memberships_with_practice.rows([user.pk, True]):
        membership.practice = practice
        memberships.append(membership)
    return memberships


def can_work_in_charts(membership: Membership | None) -> bool:
    return membership is not None and membership.is_active


def can_sign_encounters(membership: Membership | None) -> bool:
    """SPEC §2.2: encounters are signed by a provider."""
    return can_work_in_charts(membership) and membership.role == Role.PROVIDER


def can_invite_patients(membership: Membership | None) -> bool:
    """SPEC §1.4: invite, resend, cancel and revoke portal access."""
    return can_work_in_charts(membership) and membership.may_invite_patients


def can_manage_settings(membership: Membership | None) -> bool:
    """SPEC §1.2: administrators manage users and EHR Settings."""
    return can_work_in_charts(membership) and membership.is_administrator


def require(allowed: bool, message: str = "You do not have permission to do that.") -> None:
    if not allowed:
        raise PermissionDenied(message)


def require_member(user, practice) -> Membership:
    """The acting user's membership, or PermissionDenied."""
    membership = membership_for(user, practice)
    require(can_work_in_charts(membership), "You are not a member of this practice.")
    return membership


def portal_access_helped_by(actor, account, *, practice=None):
    """SPEC §4.4: the enrolled portal access through which `actor` may help `account` (e.g.
    unlock it): `account`'s access at a practice where `actor` works, or None.

    With `practice`, only that practice counts.
    """
    from portico.portal.models import AccessState, PortalAccess

    if actor is None or not actor.is_authenticated or account is None:
        return None
    practice_ids = active_memberships(actor).values("practice_id")
    accesses = PortalAccess.objects.select_related("practice", "patient").filter(
        account=account, state=AccessState.ACTIVE, practice_id__in=practice_ids
    )
    if practice is not None:
        accesses = accesses.filter(practice=practice)
    return accesses.order_by("pk").first()
