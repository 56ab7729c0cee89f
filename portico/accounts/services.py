"""Account operations: staff API tokens."""

from __future__ import annotations

import hashlib
import secrets

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from portico.accounts.models import ApiToken
from portico.audit.services import audit_record
from portico.practices import permissions

TOKEN_PREFIX = "pt_"  # noqa: S105 (a prefix, not a secret)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(actor, *, practice, name: str) -> tuple[ApiToken, str]:
    """Create an API token for the actor at one of their practices; the key is shown only once."""
    permissions.require(actor.is_active, "A deactivated user cannot have API tokens.")
    permissions.require_member(actor, practice)
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the token a name, such as the system that uses it."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Use at most 100 characters."]})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=actor, practice=practice, name=name, prefix=key[:10], key_hash=_hash(key)
    )
    audit_record(
        actor, action="api_token.create", practice=practice, details={"token": str(token.public_id)}
    )
    return token, key


@transaction.atomic
def api_token_revoke(actor, *, token: ApiToken) -> ApiToken:
    """Revoke one of the actor's own tokens; it stops working at once."""
    if token.user_id != actor.pk:
        raise ValidationError("You can only revoke your own tokens.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
        audit_record(
            actor,
            action="api_token.revoke",
            practice=token.practice,
            details={"token": str(token.public_id)},
        )
    return token


def api_token_authenticate(key: str) -> ApiToken | None:
    """The live token for a presented key, if any (its user active and still a member).

    The token comes back with `membership`: the user's active membership at its practice.
    """
    if not key or not key.startswith(TOKEN_PREFIX):
        return None
    token = (
        ApiToken.objects.select_related("user", "practice")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if token is None:
        return None
    # Kept on the token so the API knows the caller's role and rights without asking again.
    token.membership = permissions.membership_for(token.user, token.practice)
    if token.membership is None:
        return None
    # One write per minute at most, so busy integrations do not hammer the row.
    now = timezone.now()
    if token.last_used_at is None or (now - token.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def password_change(actor, *, current_password: str, new_password: str):
    """Change one's own password: the current one must be right and the new one pass the rules."""
    from django.contrib.auth.password_validation import validate_password

    errors: dict[str, list[str]] = {}
    if not actor.check_password(current_password or ""):
        errors["current_password"] = ["Your current password is not right."]
    try:
        validate_password(new_password or "", user=actor)
    except ValidationError as exc:
        errors["new_password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    actor.set_password(new_password)
    actor.save(update_fields=["password"])
    audit_record(actor, action="account.password_change")
    return actor
