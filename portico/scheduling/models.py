"""Appointments (SPEC §8). For now only what the patient's record shows: visits past and upcoming.
Online booking (requests, schedules, reminders) grows this app later."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppointmentStatus(models.TextChoices):
    # Values follow FHIR Appointment.status; labels are what patients and staff read.
    PENDING = "pending", _("Pending")
    PROPOSED = "proposed", _("Tentative")
    BOOKED = "booked", _("Confirmed")
    ARRIVED = "arrived", _("Checked in")
    FULFILLED = "fulfilled", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NOSHOW = "noshow", _("Missed")


class Appointment(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="appointments"
    )
    patient = models.ForeignKey(
        "charts.Patient", on_delete=models.CASCADE, related_name="appointments"
    )
    provider = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    visit_type = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-start_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "start_at"]),
            models.Index(fields=["practice", "provider", "start_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")),
                name="appointment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"appointment {self.public_id}"
