"""Reads about a practice's people."""

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
