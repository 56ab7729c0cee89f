"""The one permission policy: may this user do X at this practice, to this patient?

Pages, the JSON API and services all ask here; nothing else decides.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.functional import Promise
from django.utils.translation import gettext

from portico.practices.models import Membership, Role
from portico.practices.selectors import membership_for


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


def can_answer_messages(membership: Membership | None) -> bool:
    """SPEC §1.3, §7.4: the practice's providers, and the staff an administrator chose, read and
    answer the practice's patient messages."""
    return can_work_in_charts(membership) and (
        membership.receives_messages or membership.may_answer_messages
    )


def can_edit_schedule(membership: Membership | None, provider) -> bool:
    """SPEC §8.4: an administrator sets every provider's working hours and blocked times; a
    provider sets their own."""
    if not can_work_in_charts(membership):
        return False
    return membership.is_administrator or (
        membership.role == Role.PROVIDER
        and provider is not None
        and membership.user_id == provider.pk
    )


def require(allowed: bool, message: str | Promise | None = None) -> None:
    """Raise PermissionDenied with `message` (translated text) unless `allowed`."""
    if not allowed:
        raise PermissionDenied(message or gettext("You do not have permission to do that."))


def require_member(user, practice) -> Membership:
    """The acting user's membership, or PermissionDenied."""
    membership = membership_for(user, practice)
    require(can_work_in_charts(membership), gettext("You are not a member of this practice."))
    return membership
