"""The one permission policy: may this user do X at this practice, to this patient?

Pages, the JSON API and services all ask here; nothing else decides.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied

from portico.practices.models import Membership, Role


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


def active_memberships_list(user) -> list[Membership]:
    """`active_memberships(user)` as a list, each with its practice (every signed-in request
    asks: CurrentPracticeMiddleware)."""
    return list(active_memberships(user))


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
