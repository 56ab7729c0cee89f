"""Reads about a practice's people and a person's practices."""

from __future__ import annotations

from django.db.models import QuerySet

from portico.practices.models import Membership


def practice_members(practice) -> QuerySet[Membership]:
    """The people who work at the practice now, by name, with their accounts joined."""
    return (
        Membership.objects.filter(practice=practice, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "user__email")
    )


def membership_for(user, practice) -> Membership | None:
    """The user's active membership at the practice, or None."""
    if user is None or not user.is_authenticated or practice is None:
        return None
    return (
        Membership.objects.select_related("practice", "user")
        .filter(user=user, practice=practice, is_active=True)
        .first()
    )


def active_memberships(user) -> QuerySet[Membership]:
    """The user's active memberships, each with its practice, by practice name."""
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
