"""The second factor (SPEC §4.1): authenticator apps (TOTP), email codes, recovery codes and
remembered devices. Staff must use an authenticator app, and set up their first one only after
a code emailed to them; patients get a code by email unless they switched to an app. Everything
a person types is stored only as a keyed hash; an app's secret is stored encrypted.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
from dataclasses import dataclass, field

import pyotp
import segno
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext, gettext_lazy

from portico.accounts.models import (
    Authenticator,
    EmailCode,
    RecoveryCode,
    RememberedDevice,
    User,
)
from portico.audit.services import audit_record
from portico.core import crypto
from portico.practices import selectors as practice_selectors

logger = logging.getLogger(__name__)

# Session keys: which account passed its second factor, and when the session began.
SESSION_VERIFIED = "mfa_verified"
SESSION_NEXT = "mfa_next"
DEVICE_COOKIE = "portico_device"

METHOD_TOTP = "totp"
METHOD_EMAIL = "email"
METHOD_ENROLL = "enroll"

TOTP_ISSUER = "Portico"
RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
EMAIL_CODE_KIND = "account.mfa_code"
# A new email code at most this often; asking again sooner keeps the newest one.
EMAIL_CODE_RESEND_SECONDS = 30

WRONG_CODE = gettext_lazy("That code is not right, or it has expired.")
APP_UNREADABLE = gettext_lazy(
    "Codes from your authenticator app cannot be checked right now. Type one of your recovery "
    "codes instead, or ask your practice administrator for help."
)


class AuthenticatorUnreadable(ValidationError):
    """The account's authenticator secret cannot be decrypted (altered, or its key is no longer
    listed): no app code can pass, only a recovery code."""

    def __init__(self):
        super().__init__(APP_UNREADABLE, code="authenticator_unreadable")


def _keyed_hash(purpose: str, value: str) -> str:
    return salted_hmac(f"portico.accounts.mfa.{purpose}", value, algorithm="sha256").hexdigest()


# Session state ---------------------------------------------------------------------------


def is_staff_account(user) -> bool:
    """Staff are people with a practice membership; they must use an authenticator app."""
    return practice_selectors.active_memberships(user).exists()


def method_for(user) -> str:
    """How this account proves its second factor now."""
    if Authenticator.objects.filter(user=user).exists():
        return METHOD_TOTP
    if is_staff_account(user):
        return METHOD_ENROLL
    return METHOD_EMAIL


def session_is_verified(request) -> bool:
    user = request.user
    return user.is_authenticated and request.session.get(SESSION_VERIFIED) == user.pk


def session_mark_verified(request, user) -> None:
    """This session has passed the second factor (or needs none, as right after registering)."""
    request.session[SESSION_VERIFIED] = user.pk
    request.session.pop("mfa_failures", None)


# Authenticator apps (TOTP, RFC 6238) ------------------------------------------------------


def totp_new_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=TOTP_ISSUER)


def totp_qr_svg(uri: str) -> str:
    """The provisioning link as an inline SVG QR code (no image from anywhere else)."""
    return segno.make(uri, error="m").svg_inline(
        scale=4, dark="#111", light="#fff", title=gettext("QR code for your authenticator app")
    )


def _digits(code: str) -> str:
    return "".join(ch for ch in (code or "") if ch.isdigit())


def _totp_step(secret: str, code: str, *, after_step: int = 0) -> int | None:
    """The 30-second step the code belongs to (now, or one step either side), if newer."""
    code = _digits(code)
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now_step = int(timezone.now().timestamp()) // totp.interval
    for step in (now_step - 1, now_step, now_step + 1):
        if step > after_step and hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


@transaction.atomic
def authenticator_enroll(user: User, *, secret: str, code: str) -> list[str]:
    """Confirm an authenticator app with a code from it; returns new recovery codes (shown
    once). Replaces an earlier app and earlier recovery codes."""
    step = _totp_step(secret, code)
    if step is None:
        raise ValidationError(
            {"code": [gettext("That code does not match. Type the 6 digits your app shows now.")]}
        )
    Authenticator.objects.update_or_create(
        user=user,
        defaults={"secret": secret, "confirmed_at": timezone.now(), "last_step": step},
    )
    codes = _recovery_codes_replace(user)
    audit_record(user, action="account.mfa_enrolled", details={"method": METHOD_TOTP})
    return codes


@transaction.atomic
def authenticator_remove(user: User) -> None:
    """A patient goes back to email codes. Staff must keep an authenticator app."""
    if is_staff_account(user):
        raise ValidationError(gettext("Practice staff must use an authenticator app."))
    Authenticator.objects.filter(user=user).delete()
    RecoveryCode.objects.filter(user=user).delete()
    audit_record(user, action="account.mfa_enrolled", details={"method": METHOD_EMAIL})


def _totp_verify(user: User, code: str) -> bool:
    """Raises crypto.DecryptionError when the stored secret cannot be decrypted."""
    authenticator = Authenticator.objects.select_for_update().filter(user=user).first()
    if authenticator is None:
        return False
    try:
        secret = authenticator.secret
    except crypto.DecryptionError:
        _log_unreadable(user.public_id)
        raise
    step = _totp_step(secret, code, after_step=authenticator.last_step)
    if step is None:
        return False
    authenticator.last_step = step
    authenticator.save(update_fields=["last_step"])
    return True


# Recovery codes -----------------------------------------------------------------------------


def _normalize_recovery(code: str) -> str:
    return "".join(ch for ch in (code or "").lower() if ch.isalnum())


def _recovery_codes_replace(user: User) -> list[str]:
    RecoveryCode.objects.filter(user=user).delete()
    codes = []
    for _ in range(RECOVERY_CODE_COUNT):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    RecoveryCode.objects.bulk_create(
        RecoveryCode(user=user, code_hash=_keyed_hash("recovery", _normalize_recovery(c)))
        for c in codes
    )
    return codes


@transaction.atomic
def recovery_codes_regenerate(user: User) -> list[str]:
    """New recovery codes for an authenticator user; the old ones stop working."""
    if not Authenticator.objects.filter(user=user).exists():
        raise ValidationError(gettext("Recovery codes come with an authenticator app."))
    codes = _recovery_codes_replace(user)
    audit_record(user, action="account.mfa_enrolled", details={"recovery_codes": "renewed"})
    return codes


def recovery_codes_left(user: User) -> int:
    return RecoveryCode.objects.filter(user=user, used_at__isnull=True).count()


def _recovery_code_use(user: User, code: str) -> bool:
    normalized = _normalize_recovery(code)
    if len(normalized) != 10:
        return False
    updated = RecoveryCode.objects.filter(
        user=user, used_at__isnull=True, code_hash=_keyed_hash("recovery", normalized)
    ).update(used_at=timezone.now())
    if updated:
        audit_record(
            user, action="account.recovery_code_used", details={"left": recovery_codes_left(user)}
        )
    return bool(updated)


# Email codes ----------------------------------------------------------------------------------


def _email_code_from_nonce(nonce: str) -> str:
    digest = salted_hmac("portico.accounts.mfa.email-code", nonce, algorithm="sha256").digest()
    return f"{int.from_bytes(digest[:8], 'big') % 1_000_000:06d}"


def _email_code_hash(email_code: EmailCode, code: str) -> str:
    return _keyed_hash("email-code-hash", f"{email_code.public_id}:{code}")


def email_code_newest(user: User) -> EmailCode | None:
    return EmailCode.objects.filter(user=user).order_by("-created_at", "-id").first()


def _email_code_usable(email_code: EmailCode | None) -> bool:
    return (
        email_code is not None
        and email_code.used_at is None
        and email_code.expires_at > timezone.now()
        and email_code.attempts < settings.PORTICO_MFA_MAX_CODE_ATTEMPTS
    )


@transaction.atomic
def email_code_send(user: User, *, force: bool = False) -> EmailCode:
    """Email a new 6-digit sign-in code; earlier codes stop working. Unless `force`d (the
    person asked for a new one), a usable code is kept; a new one at most every 30 seconds."""
    from portico.notifications.services import email_enqueue

    newest = email_code_newest(user)
    if _email_code_usable(newest):
        recent = (timezone.now() - newest.created_at).total_seconds() < EMAIL_CODE_RESEND_SECONDS
        if not force or recent:
            return newest
    nonce = secrets.token_hex(16)
    email_code = EmailCode(
        user=user,
        nonce=nonce,
        expires_at=timezone.now() + dt.timedelta(minutes=settings.PORTICO_MFA_EMAIL_CODE_MINUTES),
    )
    email_code.code_hash = _email_code_hash(email_code, _email_code_from_nonce(nonce))
    email_code.save()
    email_enqueue(kind=EMAIL_CODE_KIND, subject_id=email_code.public_id, to_address=user.email)
    audit_record(user, action="account.mfa_code_sent", details={"channel": "email"})
    return email_code


def _email_code_verify(user: User, code: str) -> bool:
    """Only the newest code works, once, for 10 minutes, with a few tries."""
    newest = EmailCode.objects.select_for_update().filter(user=user).order_by("-created_at", "-id")
    email_code = newest.first()
    if not _email_code_usable(email_code):
        return False
    email_code.attempts += 1
    ok = hmac.compare_digest(email_code.code_hash, _email_code_hash(email_code, _digits(code)))
    if ok:
        email_code.used_at = timezone.now()
    email_code.save(update_fields=["attempts", "used_at"])
    return ok


def render_email_code(email):
    """Render at send time: the code only, no health data; skipped once it no longer works."""
    from email.utils import formataddr

    from django.template.loader import render_to_string

    from portico.notifications.rendering import RenderedEmail

    email_code = EmailCode.objects.filter(public_id=email.subject_id).first()
    if email_code is None or email_code != email_code_newest(email_code.user):
        return None
    if not _email_code_usable(email_code):
        return None
    context = {
        "code": _email_code_from_nonce(email_code.nonce),
        "minutes": settings.PORTICO_MFA_EMAIL_CODE_MINUTES,
    }
    return RenderedEmail(
        subject=gettext("Your Portico sign-in code"),
        text=render_to_string("accounts/email/mfa_code.txt", context),
        html=render_to_string("accounts/email/mfa_code.html", context),
        from_email=formataddr(("Portico", settings.PORTICO_NOTIFICATIONS_FROM)),
    )


# The second-factor step -------------------------------------------------------------------


def second_factor_verify(user: User, *, code: str) -> bool:
    """Check a code at the second-factor step: the authenticator app's code or a recovery code
    for app users, the newest email code for the others. A failure is audited. When the app's
    stored secret cannot be decrypted, no app code passes (a recovery code still does) and
    AuthenticatorUnreadable is raised, after the failure was recorded."""
    ok, unreadable = _second_factor_check(user, code)
    if unreadable and not ok:
        raise AuthenticatorUnreadable()
    return ok


@transaction.atomic
def _second_factor_check(user: User, code: str) -> tuple[bool, bool]:
    method = method_for(user)
    ok = unreadable = False
    if method == METHOD_TOTP:
        try:
            ok = _totp_verify(user, code)
        except crypto.DecryptionError:
            unreadable = True
        ok = ok or _recovery_code_use(user, code)
    elif method == METHOD_EMAIL:
        ok = _email_code_verify(user, code)
    if not ok:
        details = {"method": method, **({"reason": "app_unreadable"} if unreadable else {})}
        audit_record(user, action="account.mfa_failed", details=details)
    return ok, unreadable


@transaction.atomic
def enroll_email_code_verify(user: User, *, code: str) -> bool:
    """Before an account without a second factor (staff at their first sign-in) sets up an
    authenticator app, the newest code emailed to it, as at sign-in: the password alone must
    not be enough to tie an app to the account. Audited either way."""
    ok = _email_code_verify(user, code)
    action = "account.mfa_enroll_email_confirmed" if ok else "account.mfa_failed"
    audit_record(user, action=action, details={"method": METHOD_EMAIL, "step": "enroll"})
    return ok


# Encryption keys -------------------------------------------------------------------------------


@dataclass
class Reencrypted:
    """What `authenticator_secrets_reencrypt` did."""

    reencrypted: int = 0
    current: int = 0
    # Public ids of the accounts whose secret no listed key opens.
    unreadable: list[str] = field(default_factory=list)
    forgotten: bool = False


def authenticator_secrets_reencrypt(*, forget_unreadable: bool = False) -> Reencrypted:
    """Re-encrypt every stored authenticator secret under the newest key (after a new key was
    put first in PORTICO_FIELD_ENCRYPTION_KEYS). Idempotent: a secret already under the newest
    key is left as it is; one that no listed key opens is left too and reported, or with
    `forget_unreadable` removed with its recovery codes, so that the account sets up an app
    again at its next sign-in (staff after an emailed code) or goes back to email codes. Audited."""
    done = Reencrypted(forgotten=forget_unreadable)
    pks = list(Authenticator.objects.order_by("pk").values_list("pk", flat=True))
    for pk in pks:
        with transaction.atomic():
            row = Authenticator.objects.select_for_update().filter(pk=pk).first()
            if row is None:
                continue
            if crypto.is_current(row.secret_encrypted):
                done.current += 1
                continue
            try:
                row.secret_encrypted = crypto.reencrypt(row.secret_encrypted)
            except crypto.DecryptionError:
                account = str(User.objects.values_list("public_id", flat=True).get(pk=row.user_id))
                _log_unreadable(account)
                done.unreadable.append(account)
                if forget_unreadable:
                    _authenticator_forget_unreadable(row, account)
                continue
            row.save(update_fields=["secret_encrypted"])
            done.reencrypted += 1
    audit_record(
        None,
        action="account.encryption_keys_rotated",
        actor_label="key rotation",
        details={
            "reencrypted": done.reencrypted,
            "current": done.current,
            "unreadable": len(done.unreadable),
        },
    )
    return done


def _authenticator_forget_unreadable(row: Authenticator, account: str) -> None:
    RecoveryCode.objects.filter(user_id=row.user_id).delete()
    row.delete()
    audit_record(
        None,
        action="account.mfa_removed",
        actor_label="key rotation",
        details={"account": account, "method": METHOD_TOTP, "reason": "app_unreadable"},
    )


def _log_unreadable(account_public_id) -> None:
    # The account's opaque id only: an operator can look it up; no secret in the log.
    logger.error("Authenticator secret of account %s cannot be decrypted", account_public_id)


# Remembered devices -------------------------------------------------------------------------


def _password_tag(user: User) -> str:
    return _keyed_hash("device-password", user.password or "")


@transaction.atomic
def device_remember(user: User, *, label: str = "") -> str:
    """Remember this browser for 30 days; returns the cookie's token (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    RememberedDevice.objects.create(
        user=user,
        token_hash=_keyed_hash("device", token),
        password_tag=_password_tag(user),
        label=(label or "")[:120],
        expires_at=timezone.now() + dt.timedelta(days=settings.PORTICO_REMEMBER_DEVICE_DAYS),
    )
    audit_record(user, action="account.device_remembered")
    return token


def device_is_remembered(user: User, token: str | None) -> bool:
    """Is this browser's token a live remembered device of the account? A password reset
    (or change) since it was remembered ends it."""
    if not token:
        return False
    device = RememberedDevice.objects.filter(
        user=user,
        token_hash=_keyed_hash("device", token),
        forgotten_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).first()
    if device is None or not hmac.compare_digest(device.password_tag, _password_tag(user)):
        return False
    RememberedDevice.objects.filter(pk=device.pk).update(last_used_at=timezone.now())
    return True


def devices_live(user: User):
    """The account's remembered devices that still skip the second factor."""
    tag = _password_tag(user)
    return RememberedDevice.objects.filter(
        user=user, forgotten_at__isnull=True, expires_at__gt=timezone.now(), password_tag=tag
    )


@transaction.atomic
def device_forget(user: User, *, device: RememberedDevice) -> None:
    """Forget one of one's own remembered devices: it asks for the second factor again."""
    if device.user_id != user.pk:
        raise ValidationError(gettext("You can only forget your own devices."))
    if device.forgotten_at is None:
        device.forgotten_at = timezone.now()
        device.save(update_fields=["forgotten_at"])
        audit_record(user, action="account.device_forgotten")


def devices_forget_all(user: User) -> int:
    """Forget every remembered device of the account (password reset, lock)."""
    return RememberedDevice.objects.filter(user=user, forgotten_at__isnull=True).update(
        forgotten_at=timezone.now()
    )
