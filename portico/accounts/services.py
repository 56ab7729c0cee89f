"""Account operations: sign-in checks and throttling, password reset, username reminder,
unlocking, password change and staff API tokens."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from typing import NoReturn

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.contrib.auth.hashers import check_password
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from portico.accounts.mfa import devices_forget_all
from portico.accounts.models import ApiToken
from portico.accounts.sessions import sessions_end_all
from portico.audit.services import audit_record
from portico.core import ratelimit
from portico.core.languages import spoken
from portico.core.validation import clean_email
from portico.notifications.services import email_enqueue
from portico.practices import permissions
from portico.practices import selectors as practice_selectors

User = get_user_model()

TOKEN_PREFIX = "pt_"  # noqa: S105 (a prefix, not a secret)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_create(actor, *, practice, name: str) -> tuple[ApiToken, str]:
    """Create an API token for the actor at one of their practices; the key is shown only once."""
    permissions.require(actor.is_active, gettext("A deactivated user cannot have API tokens."))
    permissions.require_member(actor, practice)
    name = (name or "").strip()
    if not name:
        raise ValidationError(
            {"name": [gettext("Give the token a name, such as the system that uses it.")]}
        )
    if len(name) > 100:
        raise ValidationError({"name": [gettext("Use at most 100 characters.")]})
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
        raise ValidationError(gettext("You can only revoke your own tokens."))
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
    token.membership = practice_selectors.membership_for(token.user, token.practice)
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
    errors: dict[str, list[str]] = {}
    if not actor.check_password(current_password or ""):
        errors["current_password"] = [gettext("Your current password is not right.")]
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


# ---------------------------------------------------------------------------
# Signing in: the password step (SPEC §4.1, §4.2)

SIGN_IN_FAILED = _(
    "The email or password is not right. After several wrong tries, signing in to an account "
    "is paused for a while: wait a little and try again, or use “Forgot password?”."
)


def too_many_attempts_message(minutes: int) -> str:
    """The answer when this network address has failed to sign in too often."""
    return ngettext(
        "There have been too many attempts from your network. Please wait %(minutes)s minute "
        "and try again.",
        "There have been too many attempts from your network. Please wait %(minutes)s minutes "
        "and try again.",
        minutes,
    ) % {"minutes": minutes}


# The longest wait between two tries before the lock.
_MAX_DELAY_SECONDS = 15 * 60


class SignInFailed(Exception):
    """The password step did not let the person in. The message and status are the same whether
    or not the account exists, is paused or is locked; only the per-address limit differs."""

    def __init__(self, message: str | Promise = SIGN_IN_FAILED, *, status: int = 200):
        super().__init__(message)
        self.message = message
        self.status = status


def sign_in_delay(failures: int) -> dt.timedelta:
    """How long an account waits after `failures` wrong passwords in a row: 1, 2, 4 … seconds."""
    if failures <= 0:
        return dt.timedelta(0)
    return dt.timedelta(seconds=min(2 ** (failures - 1), _MAX_DELAY_SECONDS))


def sign_in_check(request, *, login: str, password: str):
    """The account behind `login` (an email address) if `password` is right and it may try now.

    Raises SignInFailed otherwise. Per address, failed tries are limited (settings
    PORTICO_RATE_LIMITS["sign_in"]). Per account, each wrong password makes the next try wait
    (sign_in_delay) and PORTICO_SIGN_IN_LOCK_AFTER in a row lock it for
    PORTICO_SIGN_IN_LOCK_SECONDS (ended sooner by a password reset or by staff). A try while
    the account waits is refused unjudged. Unknown accounts cost the same password hash, so
    neither the answer nor its timing tells whether an account exists. The second factor, if
    any, comes after this (see sign_in_complete).
    """
    address = ratelimit.client_address(request)
    try:
        ratelimit.limit_check("sign_in", address)
    except ratelimit.RateLimited as exc:
        raise SignInFailed(too_many_attempts_message(exc.minutes), status=429) from exc
    password = password or ""
    email = (login or "").strip().lower()
    user = User.objects.filter(email=email).first() if email else None
    if user is None or not user.is_active:
        User().set_password(password)  # the work a real check does
        _sign_in_failed(None, address, reason="unknown")
    if not _claim_sign_in_try(user):
        check_password(password, user.password)  # the same work; the answer is not used
        _sign_in_failed(user, address, reason="waiting")
    if not user.check_password(password):
        _record_wrong_password(user)
        _sign_in_failed(user, address, reason="wrong_password")
    if user.failed_sign_ins or user.sign_in_blocked_until:
        User.objects.filter(pk=user.pk).update(failed_sign_ins=0, sign_in_blocked_until=None)
        user.failed_sign_ins, user.sign_in_blocked_until = 0, None
    return user


def sign_in_complete(request, user) -> None:
    """Sign `user` in to this request's session (new session key) and audit it; called once
    every sign-in step (password, then any second factor) has passed."""
    login(request, user)
    audit_record(user, action="account.sign_in")


def _claim_sign_in_try(user) -> bool:
    """Take the account's next try if it is not waiting; the wait for a failure starts now, so
    parallel requests cannot each get a free guess. A lock whose time ran out is lifted here."""
    with transaction.atomic():
        row = User.objects.select_for_update().get(pk=user.pk)
        now = timezone.now()
        if row.sign_in_blocked_until is not None and row.sign_in_blocked_until > now:
            return False
        if row.locked_at is not None:
            row.locked_at, row.failed_sign_ins = None, 0
        row.sign_in_blocked_until = now + sign_in_delay(row.failed_sign_ins + 1)
        row.save(update_fields=["locked_at", "failed_sign_ins", "sign_in_blocked_until"])
    user.locked_at, user.failed_sign_ins = row.locked_at, row.failed_sign_ins
    user.sign_in_blocked_until = row.sign_in_blocked_until
    return True


@transaction.atomic
def _record_wrong_password(user) -> None:
    row = User.objects.select_for_update().get(pk=user.pk)
    now = timezone.now()
    row.failed_sign_ins += 1
    if row.failed_sign_ins >= settings.PORTICO_SIGN_IN_LOCK_AFTER:
        row.locked_at = now
        row.sign_in_blocked_until = now + dt.timedelta(
            seconds=settings.PORTICO_SIGN_IN_LOCK_SECONDS
        )
    else:
        row.sign_in_blocked_until = now + sign_in_delay(row.failed_sign_ins)
    row.save(update_fields=["failed_sign_ins", "locked_at", "sign_in_blocked_until"])
    if row.locked_at == now:
        audit_record(
            row,
            action="account.locked",
            details={"account": str(row.public_id), "failures": row.failed_sign_ins},
        )
        sessions_end_all(row, reason="locked")


def _sign_in_failed(user, address: str, *, reason: str) -> NoReturn:
    """Audit a failed try, count it against the address and raise the one generic answer."""
    audit_record(
        user,
        action="account.sign_in_failed",
        actor_label="" if user is not None else "unknown account",
        details={"account": str(user.public_id) if user else None, "reason": reason},
    )
    ratelimit.limit_record("sign_in", address)
    raise SignInFailed()


def _reset_throttle(user) -> bool:
    """Clear failures, wait and lock on a row locked by the caller; True if it was locked."""
    was_locked = user.is_locked
    user.failed_sign_ins, user.sign_in_blocked_until, user.locked_at = 0, None, None
    user.save(update_fields=["failed_sign_ins", "sign_in_blocked_until", "locked_at"])
    return was_locked


@transaction.atomic
def sign_in_throttle_clear(user) -> bool:
    """Clear an account's wrong-password count, wait and lock (the practice unlocking an
    enrolled patient's account: portal.services.portal_account_unlock checks who may, and
    audits it). Returns whether the account was locked."""
    row = User.objects.select_for_update().get(pk=user.pk)
    was_locked = _reset_throttle(row)
    user.refresh_from_db(fields=["failed_sign_ins", "sign_in_blocked_until", "locked_at"])
    return was_locked


# ---------------------------------------------------------------------------
# Recovery: "Forgot password?" and "Forgot username?" (SPEC §4.2)

PASSWORD_RESET_EMAIL = "account.password_reset"  # noqa: S105 (an email kind)
USERNAME_EMAIL = "account.username"
RESET_LINK_BROKEN = _(
    "This reset link has expired or was already used. Ask for a new one below; "
    "it works for one hour."
)


def too_many_requests_message(minutes: int) -> str:
    """The answer when this network address has asked for recovery emails too often."""
    return ngettext(
        "There have been too many requests from your network. Please wait %(minutes)s minute "
        "and try again.",
        "There have been too many requests from your network. Please wait %(minutes)s minutes "
        "and try again.",
        minutes,
    ) % {"minutes": minutes}


# At most one recovery email of each kind per account in this time.
RECOVERY_EMAIL_INTERVAL = dt.timedelta(minutes=1)


def password_reset_request(request, *, email: str) -> None:
    """Email a single-use reset link (valid PASSWORD_RESET_TIMEOUT seconds) if an active
    account uses `email`; the same answer either way. At most one per account per minute.

    Raises ValidationError for a malformed address and ratelimit.RateLimited when the
    address has asked too often (settings PORTICO_RATE_LIMITS["password_reset"]).
    """
    _recovery_request(request, email=email, scope="password_reset", kind=PASSWORD_RESET_EMAIL)


def username_reminder_request(request, *, email: str) -> None:
    """Email the username (the account's email address) to that address if an account uses
    it; the same answer either way. At most one per account per minute."""
    _recovery_request(request, email=email, scope="username_reminder", kind=USERNAME_EMAIL)


_RECOVERY_AUDIT = {
    PASSWORD_RESET_EMAIL: "account.password_reset_requested",
    USERNAME_EMAIL: "account.username_requested",
}


def _recovery_request(request, *, email: str, scope: str, kind: str) -> None:
    from portico.notifications.models import OutboundEmail

    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors)
    if errors:
        raise ValidationError(errors)
    ratelimit.limit_hit(scope, ratelimit.client_address(request))
    with transaction.atomic():
        user = User.objects.select_for_update().filter(email=email, is_active=True).first()
        if user is None:
            audit_record(
                None, action=_RECOVERY_AUDIT[kind], actor_label="unknown account", details={}
            )
            return
        recent = OutboundEmail.objects.filter(
            kind=kind,
            subject_id=user.public_id,
            created_at__gt=timezone.now() - RECOVERY_EMAIL_INTERVAL,
        ).exists()
        if not recent:
            email_enqueue(kind=kind, subject_id=user.public_id, to_address=user.email)
        audit_record(
            user,
            action=_RECOVERY_AUDIT[kind],
            details={"account": str(user.public_id), "email_sent": not recent},
        )


def password_reset_key(user) -> str:
    """The secret part of a reset link: the account's public id and a token from Django's
    generator. The token depends on the password hash and last sign-in, so it works once."""
    return f"{user.public_id.hex}.{default_token_generator.make_token(user)}"


def password_reset_user(key: str):
    """The active account a reset link's key is good for, or None (expired, used or forged)."""
    public_hex, _dot, token = (key or "").partition(".")
    try:
        public_id = uuid.UUID(hex=public_hex)
    except ValueError:
        return None
    user = User.objects.filter(public_id=public_id, is_active=True).first()
    if user is None or not default_token_generator.check_token(user, token):
        return None
    return user


@transaction.atomic
def password_reset_complete(*, key: str, new_password: str):
    """Set a new password through a reset link. The link then stops working; the account is
    unlocked; every session and remembered device of the account ends. The person signs in
    again afterwards, second factor included."""
    user = password_reset_user(key)
    if user is not None:
        # Judge the token again on the locked row, so two uses at once cannot both pass.
        user = User.objects.select_for_update().get(pk=user.pk)
        if not default_token_generator.check_token(user, key.partition(".")[2]):
            user = None
    if user is None:
        raise ValidationError(RESET_LINK_BROKEN, code="reset_link")
    try:
        validate_password(new_password or "", user=user)
    except ValidationError as exc:
        raise ValidationError({"new_password": exc.messages}) from exc
    user.set_password(new_password)
    user.save(update_fields=["password"])
    if _reset_throttle(user):
        audit_record(
            user, action="account.unlocked", details={"account": str(user.public_id), "by": "reset"}
        )
    audit_record(user, action="account.password_reset", details={"account": str(user.public_id)})
    sessions_end_all(user, reason="password_reset")
    # Remembered devices ("remember this device" at the second-factor step) end with a reset.
    devices_forget_all(user)
    return user


def account_language_set(actor, language: str) -> None:
    """Remember the language the account chose with the switcher (pages and emails); audited.
    A language the portal does not speak is refused and changes nothing."""
    if not spoken(language):
        raise ValidationError({"language": [gettext("That language is not available.")]})
    if actor.language == language:
        return
    actor.language = language
    actor.save(update_fields=["language"])
    audit_record(actor, action="account.language", details={"language": language})
