"""Practices, staff membership and roles (SPEC §1)."""

from __future__ import annotations

import uuid
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(f"{value!r} is not a known time zone.")


class PostalAddress(models.Model):
    """A place's postal address and phone (the practice's own, or one of its locations)."""

    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    phone = models.CharField(max_length=20, blank=True)

    class Meta:
        abstract = True

    @property
    def address_lines(self) -> list[str]:
        """The address as the lines it is written on ("Springfield, IL 62701" last)."""
        parts = [f"{self.city}," if self.city else "", self.state, self.postal_code]
        city_line = " ".join(p for p in parts if p).strip().rstrip(",")
        return [line for line in [self.address_line1, self.address_line2, city_line] if line]


class CancellationApproval(models.TextChoices):
    NONE = "none", _("Do not require approval for any cancellation requests")
    ALL = "all", _("Require approval for all cancellation requests")
    WITHIN = "within", _("Require approval for requests that fall within N calendar days")


class Practice(PostalAddress):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    time_zone = models.CharField(
        max_length=64, default="America/New_York", validators=[validate_time_zone]
    )
    # SPEC §5.1: invite eligible patients automatically after an encounter (off by default).
    auto_invite_enabled = models.BooleanField(default=False)
    # SPEC §7.1, §1.3: patient messaging is off until an administrator turns it on; with
    # `messaging_auto_file` on, every patient thread is filed into the chart when it starts.
    messaging_enabled = models.BooleanField(default=False)
    messaging_auto_file = models.BooleanField(default=False)
    # SPEC §8.7, §1.3: appointment reminder emails, off until an administrator turns them on;
    # then sent for the providers ticked on the tab (Membership.sends_reminders).
    reminders_enabled = models.BooleanField(default=False)
    # SPEC §8.6: when a patient's cancellation of a confirmed appointment needs the practice's
    # approval (CancellationApproval), and from how many calendar days before the visit patients
    # are told they may be charged (None: the practice has no such policy).
    cancellation_approval = models.CharField(
        max_length=8, choices=CancellationApproval.choices, default=CancellationApproval.NONE
    )
    cancellation_approval_days = models.PositiveSmallIntegerField(null=True, blank=True)
    cancellation_notice_days = models.PositiveSmallIntegerField(null=True, blank=True)
    # SPEC §8.4: the origins (https://www.example-clinic.com) whose pages may frame the
    # practice's booking pages, one per line. Every other page of Portico denies framing.
    booking_embed_origins = models.TextField(blank=True)
    # SPEC §9.3: from this birthday a parent's or guardian's access to the patient's record
    # narrows (no messages, nothing marked confidential from representatives), and from the
    # second it ends unless the adult patient renews it. Counted in the practice's time zone.
    representative_narrow_age = models.PositiveSmallIntegerField(default=12)
    representative_end_age = models.PositiveSmallIntegerField(default=18)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @property
    def embed_origins(self) -> list[str]:
        return [line.strip() for line in self.booking_embed_origins.splitlines() if line.strip()]


class Role(models.TextChoices):
    ADMINISTRATOR = "admin", _("Administrator")
    PROVIDER = "provider", _("Provider")
    STAFF = "staff", _("Staff")


class ProviderCredential(models.TextChoices):
    NONE = "", "—"
    MD = "MD", "MD"
    DO = "DO", "DO"
    NP = "NP", "NP"
    PA = "PA", "PA"


# SPEC §7.2: patients write to providers with one of these credentials.
MESSAGING_CREDENTIALS = frozenset(
    {ProviderCredential.MD, ProviderCredential.DO, ProviderCredential.NP, ProviderCredential.PA}
)


class Membership(models.Model):
    """A user working at a practice, with a role and per-user permissions."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.STAFF)
    credential = models.CharField(
        max_length=4, choices=ProviderCredential.choices, blank=True, default=""
    )
    # SPEC §1.4: every user may invite patients until an administrator says otherwise.
    may_invite_patients = models.BooleanField(default=True)
    # SPEC §1.3: staff (besides the providers) an administrator lets read and answer the
    # practice's patient messages.
    may_answer_messages = models.BooleanField(default=False)
    # SPEC §1.3: with the practice's reminders on, a provider's appointments get reminders
    # while this is ticked.
    sends_reminders = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="membership_unique")
        ]
        ordering = ["practice__name", "user__full_name"]

    def __str__(self) -> str:
        return f"{self.user} at {self.practice} ({self.get_role_display()})"

    @property
    def is_administrator(self) -> bool:
        return self.role == Role.ADMINISTRATOR

    @property
    def receives_messages(self) -> bool:
        """A provider patients may write to (SPEC §7.2): MD/DO, NP or PA, still working here."""
        return (
            self.is_active
            and self.role == Role.PROVIDER
            and self.credential in MESSAGING_CREDENTIALS
        )
