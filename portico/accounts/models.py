"""Accounts: one User model for staff and patients, signing in with an email address."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.crypto import salted_hmac

from portico.core import crypto

if TYPE_CHECKING:
    from portico.practices.models import Membership

_SESSION_HASH_SALT = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields):
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields):
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username):
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    is_active = models.BooleanField(default=True)
    # Django admin access only; practice roles live in practices.Membership.
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(auto_now_add=True)
    # Sign-in throttling (accounts.services.sign_in_check): wrong passwords in a row, the
    # earliest time the next try is judged, and when the account locked (None: not locked).
    failed_sign_ins = models.PositiveSmallIntegerField(default=0)
    sign_in_blocked_until = models.DateTimeField(null=True, blank=True)
    locked_at = models.DateTimeField(null=True, blank=True)
    # Raising it ends every session of the account (accounts.sessions.sessions_end_all).
    session_generation = models.PositiveIntegerField(default=0)
    # The language the person chose for their pages and emails ("" = not chosen: the chart's
    # preferred language or the browser's decides; see portal.language).
    language = models.CharField(max_length=8, blank=True, choices=settings.LANGUAGES)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        return self.email

    @property
    def display_name(self) -> str:
        return self.full_name or self.email

    def save(self, *args, **kwargs):
        self.email = (self.email or "").strip().lower()
        super().save(*args, **kwargs)

    @property
    def is_locked(self) -> bool:
        """Locked after too many wrong passwords, and the lock has not run out yet."""
        return (
            self.locked_at is not None
            and self.sign_in_blocked_until is not None
            and self.sign_in_blocked_until > timezone.now()
        )

    def _session_hash(self, secret=None) -> str:
        # Generation 0 gives Django's own hash, so sessions from before this field survive.
        value = (
            self.password
            if not self.session_generation
            else (f"{self.password}:{self.session_generation}")
        )
        return salted_hmac(_SESSION_HASH_SALT, value, secret=secret, algorithm="sha256").hexdigest()

    def get_session_auth_hash(self) -> str:
        """Sessions store this; it changes with the password and with the session generation."""
        return self._session_hash()

    def get_session_auth_fallback_hash(self):
        for fallback_secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=fallback_secret)


class ApiToken(models.Model):
    """A staff member's token for the JSON API, bound to one practice. Only a hash is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(max_length=100)
    # The first characters of the token, shown so people can tell tokens apart.
    prefix = models.CharField(max_length=12)
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Not stored: the holder's membership at the token's practice, which
    # accounts.services.api_token_authenticate looks up for the API.
    membership: Membership | None

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


# Second factor (SPEC §4.1). Secrets people type are stored only as keyed hashes; the one secret
# the server must read back (the authenticator app's) is stored encrypted.


class Authenticator(models.Model):
    """A confirmed authenticator app (TOTP, RFC 6238) of one account."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="authenticator")
    # The base32 secret, encrypted (portico.core.crypto): the app and the server both need it,
    # so it cannot be a hash. Read and set it through `secret`.
    secret_encrypted = models.TextField()
    confirmed_at = models.DateTimeField()
    # The newest 30-second step accepted, so a code works once.
    last_step = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"Authenticator of {self.user_id}"

    @property
    def secret(self) -> str:
        """The base32 secret; raises crypto.DecryptionError if no listed key opens it."""
        return crypto.decrypt(self.secret_encrypted)

    @secret.setter
    def secret(self, value: str) -> None:
        self.secret_encrypted = crypto.encrypt(value)


class EmailCode(models.Model):
    """A 6-digit sign-in code sent by email; single use, 10 minutes, only the newest works."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="email_codes")
    # The code is derived from the nonce with SECRET_KEY when the email is rendered.
    nonce = models.CharField(max_length=64)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Email code {self.public_id}"


class RecoveryCode(models.Model):
    """One single-use recovery code of an authenticator user."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="recovery_codes")
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Recovery code {self.pk}"


class RememberedDevice(models.Model):
    """A browser that may skip the second factor for 30 days (cookie token, stored hashed)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="remembered_devices")
    token_hash = models.CharField(max_length=64, unique=True)
    # Ties the device to the password it was remembered under: a reset forgets it.
    password_tag = models.CharField(max_length=64)
    label = models.CharField(max_length=120, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    forgotten_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Remembered device {self.public_id}"
