"""Secure messaging between patients and their practice (SPEC §7).

A patient starts a `Thread` with one of the practice's providers; the patient and the practice
add `Message`s to it until the practice marks it done. A message may carry one `Attachment`.
A prescription renewal request is a thread of its own kind with a `RenewalRequest`.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class ThreadKind(models.TextChoices):
    """The fixed list of message types a patient chooses from."""

    GENERAL = "general", _("General question")
    MEDICAL = "medical", _("Medical question")
    RENEWAL = "renewal", _("Prescription renewal")
    RESULTS = "results", _("Question about test results")
    APPOINTMENT = "appointment", _("Appointment question")
    REFERRAL = "referral", _("Referral request")
    BILLING = "billing", _("Billing or insurance")


class ThreadStatus(models.TextChoices):
    OPEN = "open", pgettext_lazy("message thread status", "Open")
    DONE = "done", pgettext_lazy("message thread status", "Done")


class RenewalDecision(models.TextChoices):
    SENT = "sent", _("Renewal sent")
    NEEDS_VISIT = "needs_visit", _("Needs a visit")
    DENIED = "denied", _("Denied")


SUBJECT_MAX = 200
BODY_MAX = 20_000
PHARMACY_MAX = 300


class Thread(models.Model):
    """One conversation of a patient with the practice, assigned to one provider.

    The flags the lists show are kept on the row by the services, so that an inbox or a
    patient's list reads one row per thread: `last_message_at` (newest first),
    `awaiting_practice` (the last message came from the patient), `practice_unread` and
    `patient_unread`. `practice_notified_at`/`patient_notified_at` are when the last "new
    message" email about this thread was queued for each side (at most one per quarter hour).
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="message_threads"
    )
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="message_threads"
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="assigned_threads"
    )
    kind = models.CharField(max_length=16, choices=ThreadKind.choices)
    subject = models.CharField(max_length=SUBJECT_MAX)
    status = models.CharField(max_length=8, choices=ThreadStatus.choices, default=ThreadStatus.OPEN)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_message_at = models.DateTimeField(default=timezone.now)
    message_count = models.PositiveIntegerField(default=0)
    awaiting_practice = models.BooleanField(default=True)
    practice_unread = models.BooleanField(default=True)
    patient_unread = models.BooleanField(default=False)
    practice_notified_at = models.DateTimeField(null=True, blank=True)
    patient_notified_at = models.DateTimeField(null=True, blank=True)
    # "File to chart" (or automatic filing): a filed thread shows in the chart's timeline.
    filed_at = models.DateTimeField(null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_message_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-last_message_at", "-id"], name="msg_practice_idx"),
            models.Index(
                fields=["practice", "provider", "-last_message_at", "-id"],
                name="msg_provider_idx",
            ),
            models.Index(fields=["patient", "-last_message_at", "-id"], name="msg_patient_idx"),
            # The inbox's default lists (open threads): counted and paged without reading a
            # provider's or the practice's whole history.
            models.Index(
                fields=["practice", "provider", "-last_message_at", "-id"],
                name="msg_provider_open_idx",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["practice", "-last_message_at", "-id"],
                name="msg_practice_open_idx",
                condition=models.Q(status="open"),
            ),
            models.Index(
                fields=["practice", "provider"],
                name="msg_practice_unread_idx",
                condition=models.Q(practice_unread=True),
            ),
        ]

    def __str__(self) -> str:
        return f"thread {self.public_id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == ThreadStatus.OPEN


class Message(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    thread = models.ForeignKey(Thread, on_delete=models.CASCADE, related_name="messages")
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Who wrote it, as a label that outlives the account.
    sender_label = models.CharField(max_length=200)
    # Written on the patient's side by one of their representatives (SPEC §9): how the writer
    # is related to the patient ("parent"); empty when the patient wrote it, or staff.
    sent_as = models.CharField(max_length=16, blank=True, default="")
    from_patient = models.BooleanField()
    body = models.TextField(blank=True)
    # Set on the provider's answer to a prescription renewal request.
    renewal_decision = models.CharField(max_length=16, choices=RenewalDecision.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["thread", "created_at", "id"], name="msg_thread_idx")]

    def __str__(self) -> str:
        return f"message {self.public_id}"


def attachments_storage():
    return storages["attachments"]


def attachment_path(instance: Attachment, filename: str) -> str:
    """Stored under a random name: the name the patient gave may say something about them."""
    now = timezone.now()
    return f"{now:%Y/%m}/{uuid.uuid4().hex}"


class Attachment(models.Model):
    """The one file of a message, checked by its content (messaging.attachments)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="attachment")
    file = models.FileField(storage=attachments_storage, upload_to=attachment_path, max_length=200)
    # The name the sender gave, with the extension of what the content is.
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"attachment {self.public_id}"


class RenewalRequest(models.Model):
    """A prescription renewal request: which of the patient's shared current medications, the
    pharmacy, and the provider's answer."""

    thread = models.OneToOneField(Thread, on_delete=models.CASCADE, related_name="renewal")
    medications = models.ManyToManyField("charts.Medication", related_name="+")
    pharmacy = models.CharField(max_length=PHARMACY_MAX)
    decision = models.CharField(max_length=16, choices=RenewalDecision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"renewal request of {self.thread}"


class RecordUpdateEmails(models.Model):
    """Whether a patient is emailed when the practice newly shares results or a visit summary
    (no content, at most one a day), and when the last one was queued. No row: emails on."""

    patient = models.OneToOneField(
        "charts.Patient", on_delete=models.CASCADE, related_name="record_update_emails"
    )
    enabled = models.BooleanField(default=True)
    last_queued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"record update emails of patient {self.patient_id}"
