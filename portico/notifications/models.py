"""Every outgoing email is a stored message with a delivery state."""

from __future__ import annotations

import uuid

from django.db import models


class EmailState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    # The message no longer applied when its turn came (e.g. a newer invitation replaced it).
    SKIPPED = "skipped", "Not sent (replaced)"


class OutboundEmail(models.Model):
    """One email to one recipient. The body is rendered when it is sent, never stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    kind = models.CharField(max_length=50)
    # The object the email is about (e.g. an invitation's public_id), for the renderer.
    subject_id = models.UUIDField()
    practice = models.ForeignKey(
        "practices.Practice", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    patient = models.ForeignKey(
        "charts.Patient",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="outbound_emails",
    )
    to_address = models.EmailField()
    message_id = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "subject_id"])]

    def __str__(self) -> str:
        return f"{self.kind} email {self.public_id} ({self.state})"
