"""Every outgoing email is a stored message with a delivery state."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class EmailState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    # The server answered 4xx or could not be reached: tried again at next_attempt_at.
    DEFERRED = "deferred", "Deferred (will retry)"
    # The server refused it for good (5xx), or a bounce report came back later.
    BOUNCED = "bounced", "Bounced"
    FAILED = "failed", "Failed"
    # The message no longer applied when its turn came (e.g. a newer invitation replaced it).
    SKIPPED = "skipped", "Not sent (replaced)"


PENDING_STATES = (EmailState.QUEUED, EmailState.SENDING, EmailState.DEFERRED)


class OutboundEmail(models.Model):
    """One email to one recipient. The body is rendered when it is sent, never stored.

    `next_attempt_at` is set exactly while the message still has to be sent, and is the
    time a sender may next pick it up: when it was queued, when a deferred message is
    retried, or, while "sending", when the sender's lease runs out (a sender that died
    leaves it there and another one takes it over). It is empty in every final state.
    """

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
    # The language the message is written in (settings.LANGUAGES), chosen when it was queued.
    language = models.CharField(max_length=8, default="en")
    message_id = models.CharField(max_length=200, unique=True)
    state = models.CharField(max_length=10, choices=EmailState.choices, default=EmailState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    # The mail server's last answer (e.g. "550 5.1.1 Mailbox does not exist"), trimmed.
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True, default=timezone.now)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    # Which sender holds the message while it is "sending" (its results only count for it).
    claim_token = models.UUIDField(null=True, blank=True, editable=False)
    sent_at = models.DateTimeField(null=True, blank=True)
    bounced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "subject_id"]),
            models.Index(
                fields=["next_attempt_at", "id"],
                name="notif_email_due_idx",
                condition=models.Q(next_attempt_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} email {self.public_id} ({self.state})"
