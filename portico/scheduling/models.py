"""The practice's appointment book (SPEC §8.4 schedule part, §8.7, §8.8): where providers see
patients (locations), what kinds of visit they offer and how long each lasts (visit types),
when they work (working hours per weekday and location, in the practice's time zone) and when
they do not (blocked times), the appointments themselves, and the reminders sent for them.

Two bookings of one provider never overlap (SPEC §8.8): on PostgreSQL an exclusion constraint
(migration 0003) refuses the second row whatever wrote it; on SQLite every write transaction
is IMMEDIATE, so the booking services' check-then-insert is serialised (services._refuse_overlap).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from portico.practices.models import PostalAddress


class AppointmentStatus(models.TextChoices):
    # Values follow FHIR Appointment.status; labels are what patients and staff read.
    PENDING = "pending", _("Pending")
    PROPOSED = "proposed", _("Tentative")
    BOOKED = "booked", _("Confirmed")
    ARRIVED = "arrived", _("Arrived")
    FULFILLED = "fulfilled", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")
    NOSHOW = "noshow", _("No-show")


# Appointments that hold their time: everything but a cancelled one (a pending request and a
# proposed time hold it too, so that two requests never win the same time).
HOLDS_TIME = models.Q(~models.Q(status=AppointmentStatus.CANCELLED))
# Appointments that may still be moved or cancelled, and get reminders.
UPCOMING_STATUSES = (
    AppointmentStatus.PENDING,
    AppointmentStatus.PROPOSED,
    AppointmentStatus.BOOKED,
)


class Location(PostalAddress):
    """A place where the practice sees patients. Working hours without a location are at the
    practice's own address."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="locations"
    )
    name = models.CharField(max_length=100)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="location_name_unique")
        ]

    def __str__(self) -> str:
        return self.name


class VisitType(models.Model):
    """A kind of visit and how long it lasts ("New patient", 40 minutes)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="visit_types"
    )
    name = models.CharField(max_length=100)
    duration_minutes = models.PositiveSmallIntegerField()
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    MIN_MINUTES = 5
    MAX_MINUTES = 480

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "name"], name="visit_type_name_unique"),
            models.CheckConstraint(
                condition=models.Q(duration_minutes__gte=5, duration_minutes__lte=480),
                name="visit_type_duration_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Weekday(models.IntegerChoices):
    # datetime.date.weekday() numbering.
    MONDAY = 0, _("Monday")
    TUESDAY = 1, _("Tuesday")
    WEDNESDAY = 2, _("Wednesday")
    THURSDAY = 3, _("Thursday")
    FRIDAY = 4, _("Friday")
    SATURDAY = 5, _("Saturday")
    SUNDAY = 6, _("Sunday")


class WorkingHours(models.Model):
    """One stretch of a provider's regular week: a weekday, a local start and end time (the
    practice's time zone, so 9:00 stays 9:00 across daylight-saving changes) and a location.
    A day may have several stretches (a morning and an afternoon); they never overlap."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="working_hours"
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_time = models.TimeField()
    end_time = models.TimeField()
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="working_hours"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["weekday", "start_time", "id"]
        indexes = [models.Index(fields=["practice", "provider", "weekday"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_time__gt=models.F("start_time")),
                name="working_hours_end_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(weekday__gte=0, weekday__lte=6),
                name="working_hours_weekday_range",
            ),
        ]

    def __str__(self) -> str:
        return f"working hours {self.public_id}"


class BlockedTime(models.Model):
    """Time nobody can book: a provider's meeting, or (provider empty) a practice holiday."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="blocked_times"
    )
    provider = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="blocked_times",
    )
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    label = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["start_at", "id"]
        indexes = [models.Index(fields=["practice", "start_at"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")),
                name="blocked_time_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"blocked time {self.public_id}"


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
    # The visit type chosen from the practice's list, and its name as it was when booked (what
    # the patient's record shows, even after the type is renamed or retired).
    appointment_type = models.ForeignKey(
        VisitType, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    visit_type = models.CharField(max_length=100, blank=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.SET_NULL, related_name="appointments"
    )
    reason = models.CharField(max_length=300, blank=True)
    status = models.CharField(
        max_length=16, choices=AppointmentStatus.choices, default=AppointmentStatus.BOOKED
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    # iCalendar SEQUENCE: raised on every move or cancel, so calendars replace their copy.
    sequence = models.PositiveIntegerField(default=0)
    # When the appointment got its current time (booked or last moved): reminders are only due
    # for an appointment that had its time before the reminder's moment.
    scheduled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # No appointment is longer than this; overlap queries rely on it to use the start index.
    MAX_LENGTH_HOURS = 12

    class Meta:
        ordering = ["-start_at", "-id"]
        indexes = [
            models.Index(fields=["patient", "start_at"]),
            # Overlap checks and open times: one provider's time, at every practice.
            models.Index(fields=["provider", "start_at"]),
            # The day and week views: the practice's providers' time. Without it both
            # databases read the practice's whole history through the practice key's index
            # (bench/scheduling.py: 11 ms on PostgreSQL, 22 ms on SQLite, a full week).
            models.Index(fields=["practice", "provider", "start_at"], name="appointment_book_idx"),
            models.Index(fields=["start_at"], name="appointment_start_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(end_at__gt=models.F("start_at")),
                name="appointment_ends_after_start",
            )
        ]

    def __str__(self) -> str:
        return f"appointment {self.public_id}"

    @property
    def is_upcoming_status(self) -> bool:
        return self.status in UPCOMING_STATUSES

    @property
    def place_lines(self) -> list[str]:
        """Where the visit is: the location's name and address, else the practice's address."""
        if self.location_id and self.location is not None:
            return [self.location.name, *self.location.address_lines]
        return self.practice.address_lines


class ReminderKind(models.TextChoices):
    WEEK = "week", _("One week before")
    DAY = "day", _("One day before")


class AppointmentReminder(models.Model):
    """One reminder queued for one appointment at one start time. The unique constraint is what
    makes a reminder go once: a second run of the job (or two at once) inserts nothing, and a
    moved appointment has a new start time, so it gets its own reminders."""

    appointment = models.ForeignKey(Appointment, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=8, choices=ReminderKind.choices)
    for_start_at = models.DateTimeField()
    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # The run of the job that queued it (to find the rows this run inserted).
    run = models.UUIDField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "kind", "for_start_at"], name="reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"reminder {self.public_id}"


class ReminderOptOut(models.Model):
    """A patient who wants no appointment reminders (status emails still go)."""

    class Source(models.TextChoices):
        CHART = "chart", "chart"
        UNSUBSCRIBE = "unsubscribe", "unsubscribe link"

    patient = models.OneToOneField(
        "charts.Patient", on_delete=models.CASCADE, related_name="reminder_opt_out"
    )
    source = models.CharField(max_length=16, choices=Source.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"reminder opt-out of patient {self.patient_id}"
