"""What the patient's health record keeps of its own: links the patient sent (SPEC §6.2).

The record's content lives in the chart (portico.charts) and in scheduling; this app only
reads what was shared. A sent link carries a random token; only its hash is stored (and the
random nonce it is derived from, as for registration links, so the email can be rendered at
send time by the outbox worker).
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _


class SharedLink(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="shared_links"
    )
    created_by = models.ForeignKey(
        "accounts.User", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The representative who sent it on the patient's behalf (SPEC §9), or None when the
    # patient did. The link works while the access it was sent through is active and shows what
    # that access may see (records.services.link_record): a representative's link never shows
    # what is confidential from representatives.
    representative = models.ForeignKey(
        "portal.Representative",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="shared_links",
    )
    recipient_email = models.EmailField()
    link_nonce = models.CharField(max_length=32, unique=True)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    opened_count = models.PositiveIntegerField(default=0)
    last_opened_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["patient", "created_at"])]

    def __str__(self) -> str:
        return f"shared link {self.public_id}"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @property
    def is_usable(self) -> bool:
        return not self.is_revoked and not self.is_expired

    @property
    def state_label(self) -> str:
        if self.is_revoked:
            return _("Revoked")
        if self.is_expired:
            return _("Expired")
        return _("Active")
