"""The patient chart (SPEC §2.1). Clinical lists arrive with their own issue."""

from __future__ import annotations

import uuid

from django.db import models


class Sex(models.TextChoices):
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="patients"
    )
    legal_first_name = models.CharField(max_length=100)
    legal_last_name = models.CharField(max_length=100)
    preferred_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=10, choices=Sex.choices, default=Sex.UNKNOWN)
    email = models.EmailField(blank=True)
    # Stored in E.164 (+15551234567); see charts.validation.normalize_phone.
    mobile_phone = models.CharField(max_length=20, blank=True)
    address_line1 = models.CharField(max_length=200, blank=True)
    address_line2 = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=50, blank=True)
    postal_code = models.CharField(max_length=20, blank=True)
    preferred_language = models.CharField(max_length=50, blank=True, default="English")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["legal_last_name", "legal_first_name", "id"]
        indexes = [
            models.Index(fields=["practice", "legal_last_name", "legal_first_name"]),
            models.Index(fields=["practice", "date_of_birth"]),
        ]

    def __str__(self) -> str:
        return self.full_name

    @property
    def full_name(self) -> str:
        return f"{self.legal_first_name} {self.legal_last_name}".strip()

    @property
    def display_name(self) -> str:
        """Legal name, with the preferred name in quotes when there is one."""
        if self.preferred_name and self.preferred_name != self.legal_first_name:
            return f'{self.legal_first_name} "{self.preferred_name}" {self.legal_last_name}'
        return self.full_name


class Encounter(models.Model):
    """A visit: a dated note that a provider signs (SPEC §2.2).

    Clinical detail (amendments, what is shared with the patient) grows on top of this with
    the clinical-record work; auto-invite (SPEC §5.1) only needs the visit date and signature.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="encounters"
    )
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="encounters")
    provider = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    visit_date = models.DateField()
    note = models.TextField(blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    signed_at = models.DateTimeField(null=True, blank=True)
    signed_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-visit_date", "-id"]
        indexes = [
            models.Index(fields=["patient", "visit_date"]),
            models.Index(fields=["practice", "signed_at", "visit_date"]),
        ]

    def __str__(self) -> str:
        return f"encounter {self.public_id}"

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None
