"""Patient intake, online check-in (SPEC §10): templates the practice builds, in versions, and
the forms sent for appointments that patients fill in and staff process.

A template's questions live in its versions' definitions (intake.definition): a form points at
the version it was sent with, so editing a template already used makes a new version and never
changes a form. A form's answers are one JSON document (question key → answer), saved whole, so
saving a page costs the same whatever the number of questions.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class IntakeTemplate(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="intake_templates"
    )
    name = models.CharField(max_length=100)
    # The version new forms get; edited in place until a form is sent with it.
    current_version = models.ForeignKey(
        "IntakeTemplateVersion",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="intake_template_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class IntakeTemplateVersion(models.Model):
    """One immutable-once-used snapshot of a template's sections and questions."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    template = models.ForeignKey(IntakeTemplate, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    # The template's name when this version was made (what a form of it is called).
    name = models.CharField(max_length=100)
    definition = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="intake_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"


class VisitTypeIntake(models.Model):
    """The template sent by itself when an appointment of this visit type is booked."""

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    visit_type = models.OneToOneField(
        "scheduling.VisitType", on_delete=models.CASCADE, related_name="intake_rule"
    )
    template = models.ForeignKey(
        IntakeTemplate, on_delete=models.CASCADE, related_name="visit_type_rules"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"intake rule of visit type {self.visit_type_id}"


class FormStatus(models.TextChoices):
    SENT = "sent", _("Waiting for the patient")
    STARTED = "started", _("Started")
    SUBMITTED = "submitted", _("Submitted")
    PROCESSED = "processed", _("Processed")
    CANCELLED = "cancelled", _("Withdrawn")


# Forms the patient can still fill in.
OPEN_STATUSES = (FormStatus.SENT, FormStatus.STARTED)
LIVE = ~models.Q(status=FormStatus.CANCELLED)


class IntakeForm(models.Model):
    """One template version sent to one patient for one appointment."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="intake_forms"
    )
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="intake_forms"
    )
    appointment = models.ForeignKey(
        "scheduling.Appointment", on_delete=models.CASCADE, related_name="intake_forms"
    )
    template = models.ForeignKey(IntakeTemplate, on_delete=models.PROTECT, related_name="forms")
    version = models.ForeignKey(
        IntakeTemplateVersion, on_delete=models.PROTECT, related_name="forms"
    )
    status = models.CharField(max_length=10, choices=FormStatus.choices, default=FormStatus.SENT)
    answers = models.JSONField(default=dict, blank=True)
    # Staff's decision on each answer that can go into the chart (intake.review): key →
    # "accepted" | "declined".
    review = models.JSONField(default=dict, blank=True)

    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # "booking" when it went out by itself with a booking, "staff" when sent by hand.
    sent_how = models.CharField(max_length=10, default="staff")
    saved_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    # Who submitted: the account (portal), or nobody (the emailed link, after the date of birth).
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    processed_at = models.DateTimeField(null=True, blank=True)
    processed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    # The emailed link for a patient without portal access (the enrollment link's rules): the
    # token is derived from the nonce under SECRET_KEY, only its hash is looked up; it works
    # until the form is submitted or withdrawn, the link expires or a newer link replaces it,
    # and locks after too many wrong dates of birth.
    link_nonce = models.CharField(max_length=64, blank=True)
    link_token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    link_expires_at = models.DateTimeField(null=True, blank=True)
    link_failed_attempts = models.PositiveSmallIntegerField(default=0)
    link_locked_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-sent_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["patient", "status"]),
        ]
        constraints = [
            # One live form of a template per appointment: sending again is a resend.
            models.UniqueConstraint(
                fields=["appointment", "template"],
                condition=~models.Q(status="cancelled"),
                name="intake_form_once_per_appointment",
            )
        ]

    def __str__(self) -> str:
        return f"intake form {self.public_id}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def definition(self) -> dict:
        return self.version.definition

    @property
    def link_is_live(self) -> bool:
        return bool(
            self.link_token_hash
            and self.is_open
            and self.link_locked_at is None
            and self.link_expires_at is not None
            and self.link_expires_at > timezone.now()
        )
