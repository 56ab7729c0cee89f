"""Online profiles and appointment requests (SPEC §8.1–8.6).

A provider's **online profile** at one practice is what the public sees: specialties, languages,
locations, insurance accepted, a short biography and the visit types offered online. It is
public only while it is On *and* the provider qualifies (selectors.PUBLIC): an MD/DO/NP/PA
credential, an NPI an administrator attested, and at least one active visit type offered online.
Its address `/doctor/<name>-<number>` is found by the number, which never changes.

An **appointment request** is what a patient asks for: a new appointment (from the public
booking page, embedded or not), or, from the portal, another time for an appointment or its
cancellation. A request holds no time and writes nothing into a chart: only staff's decision does
(services.request_approve / request_propose), through the appointment book's services, whose
no-overlap guarantee makes exactly one of two approvals for the same time win.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.booking.vocabulary import Specialty, SpokenLanguage
from portico.scheduling.models import AppointmentStatus


class ProviderProfile(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The booking page's embed address (/external/appointment/<booking_id>).
    booking_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="online_profiles"
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="online_profiles"
    )
    # The stable, random, unique five digits at the end of the profile's address.
    number = models.CharField(max_length=5, unique=True)
    is_on = models.BooleanField(_("Online profile status"), default=False)
    # Set the first time the profile was public: a profile turned off afterwards answers 410
    # (gone) rather than 404, so search engines drop it.
    first_public_at = models.DateTimeField(null=True, blank=True)
    npi = models.CharField(_("NPI"), max_length=10, blank=True)
    # Cleared whenever the NPI changes: an administrator attests each number.
    npi_attested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    npi_attested_at = models.DateTimeField(null=True, blank=True)
    biography = models.TextField(_("Biography"), max_length=2000, blank=True)
    # One plan per line.
    insurance_accepted = models.TextField(_("Insurance accepted"), max_length=2000, blank=True)
    accepts_new_patients = models.BooleanField(_("Accepts new patients"), default=True)
    locations = models.ManyToManyField("scheduling.Location", blank=True, related_name="+")
    online_visit_types = models.ManyToManyField(
        "scheduling.VisitType", blank=True, related_name="online_profiles"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "provider"], name="profile_one_per_member")
        ]

    def __str__(self) -> str:
        return f"online profile {self.number}"

    @property
    def insurance_plans(self) -> list[str]:
        return [line.strip() for line in self.insurance_accepted.splitlines() if line.strip()]

    @property
    def npi_attested(self) -> bool:
        return self.npi_attested_at is not None


class ProfileSpecialty(models.Model):
    profile = models.ForeignKey(
        ProviderProfile, on_delete=models.CASCADE, related_name="specialties"
    )
    code = models.CharField(max_length=40, choices=Specialty.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="profile_specialty_once")
        ]
        indexes = [models.Index(fields=["code", "profile"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code


class ProfileLanguage(models.Model):
    profile = models.ForeignKey(ProviderProfile, on_delete=models.CASCADE, related_name="languages")
    code = models.CharField(max_length=8, choices=SpokenLanguage.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["profile", "code"], name="profile_language_once")
        ]
        indexes = [models.Index(fields=["code", "profile"])]
        ordering = ["id"]

    def __str__(self) -> str:
        return self.code


class RequestKind(models.TextChoices):
    NEW = "new", _("New appointment")
    RESCHEDULE = "reschedule", _("Reschedule")
    CANCEL = "cancel", _("Cancellation")


class PatientKind(models.TextChoices):
    NEW = "new", _("New patient")
    EXISTING = "existing", _("Existing patient")


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    # Staff proposed another time; the patient has not answered yet.
    PROPOSED = "proposed", _("Another time proposed")
    APPROVED = "approved", _("Approved")
    DENIED = "denied", _("Denied")
    # The patient took it back before the practice acted, or declined the proposed time.
    WITHDRAWN = "withdrawn", _("Withdrawn")
    DECLINED = "declined", _("Proposal declined")


class RequestSource(models.TextChoices):
    PUBLIC = "public", _("Online profile")
    EMBED = "embed", _("Practice website")
    PORTAL = "portal", _("Patient portal")
    API = "api", _("API")


class AppointmentRequest(models.Model):
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="appointment_requests"
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=RequestKind.choices, default=RequestKind.NEW)
    source = models.CharField(max_length=8, choices=RequestSource.choices)
    status = models.CharField(
        max_length=12, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    visit_type = models.ForeignKey(
        "scheduling.VisitType", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The time asked for (none for a cancellation).
    start_at = models.DateTimeField(null=True, blank=True)
    end_at = models.DateTimeField(null=True, blank=True)
    # What the requester typed (a new appointment), or the chart's details (from the portal).
    patient_kind = models.CharField(
        max_length=8, choices=PatientKind.choices, default=PatientKind.NEW
    )
    first_name = models.CharField(_("First name"), max_length=100, blank=True)
    last_name = models.CharField(_("Last name"), max_length=100, blank=True)
    date_of_birth = models.DateField(_("Date of birth"), null=True, blank=True)
    email = models.EmailField(_("Email"), max_length=254)
    phone = models.CharField(_("Phone"), max_length=20, blank=True)
    # The reason for visit (a new appointment or reschedule), or for cancelling.
    reason = models.CharField(_("Reason for visit"), max_length=300, blank=True)
    # The patient's notes with a reschedule request.
    note = models.TextField(_("Notes"), max_length=1000, blank=True)
    # The chart: known from the start for a portal request, chosen by staff on approval otherwise.
    patient = models.ForeignKey(
        "charts.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    # The appointment a reschedule or cancellation is about.
    original = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="change_requests",
    )
    # The appointment staff's decision made (confirmed, or tentative at a proposed time).
    appointment = models.ForeignKey(
        "scheduling.Appointment",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The staff's reason (denial or proposal) and optional message to the patient.
    decision_reason = models.CharField(max_length=300, blank=True)
    decision_message = models.TextField(max_length=2000, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # The written language of the requester's page, for the emails about the request.
    language = models.CharField(max_length=8, blank=True)
    # A portal request a representative made on the patient's behalf (SPEC §9): who, and how
    # they are related to the patient ("parent"); empty when the patient asked.
    representative_name = models.CharField(max_length=200, blank=True)
    requested_as = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["practice", "status", "created_at"]),
            models.Index(fields=["patient", "status"]),
        ]

    def __str__(self) -> str:
        return f"appointment request {self.public_id}"

    @property
    def proposal_withdrawn(self) -> bool:
        """Another time was proposed, then its tentative appointment was cancelled (staff
        cancelled it on the appointment page): the request waits for no one any more."""
        appointment = self.appointment
        return (
            self.status == RequestStatus.PROPOSED
            and appointment is not None
            and appointment.status == AppointmentStatus.CANCELLED
        )

    @property
    def is_open(self) -> bool:
        if self.proposal_withdrawn:
            return False
        return self.status in (RequestStatus.PENDING, RequestStatus.PROPOSED)

    @property
    def status_label(self) -> str:
        """The status as the request pages show it."""
        if self.proposal_withdrawn:
            return str(_("Proposed time cancelled"))
        return str(self.get_status_display())

    @property
    def requester_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()
