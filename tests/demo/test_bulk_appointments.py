"""The bench's bulk appointment books (portico.demo.bulk_appointments) are books the services
would accept: no two appointments of a provider that hold time overlap, every one is inside the
provider's working hours and outside blocked times, and the count is the one asked for."""

import datetime as dt

import pytest

from portico.demo import bulk_appointments as ba
from portico.demo.bulk_messages import bulk_patients
from portico.scheduling import calendar
from portico.scheduling.models import (
    HOLDS_TIME,
    Appointment,
    AppointmentStatus,
    BlockedTime,
    WorkingHours,
)

NOW = dt.datetime(2026, 12, 9, 15, 0, tzinfo=dt.UTC)  # a Wednesday


@pytest.fixture
def book(practice):
    providers = ba.bulk_providers(practice, count=3, password_hash="!", email_prefix="bulkp")
    bulk_patients(practice, count=50)
    first, last = dt.date(2026, 9, 1), dt.date(2027, 1, 31)
    return ba.bulk_schedule(practice, providers=providers, first_day=first, last_day=last), (
        first,
        last,
    )


def _generate(practice, book, days, count):
    patients = list(practice.patients.values_list("id", flat=True))
    return ba.bulk_generate_appointments(
        book, patients=patients, appointments=count, first_day=days[0], last_day=days[1], now=NOW
    )


def test_bulk_appointments_never_overlap_and_stay_in_working_hours_outside_blocked_times(
    practice, book
):
    book, days = book
    assert _generate(practice, book, days, 3000) == 3000
    zone = book.zone
    stretches = {}
    for w in WorkingHours.objects.filter(practice=practice):
        stretches.setdefault(w.provider_id, []).append(
            calendar.Stretch(w.weekday, w.start_time, w.end_time, w.location_id)
        )
    blocked = list(BlockedTime.objects.filter(practice=practice))
    held = Appointment.objects.filter(HOLDS_TIME, practice=practice).order_by(
        "provider_id", "start_at"
    )
    previous = None
    for appointment in held:
        if previous is not None and previous.provider_id == appointment.provider_id:
            assert previous.end_at <= appointment.start_at, (previous.pk, appointment.pk)
        previous = appointment
        day = appointment.start_at.astimezone(zone).date()
        hours = calendar.working_intervals(stretches[appointment.provider_id], day, 1, zone)
        assert calendar.containing(hours, appointment.start_at, appointment.end_at)
        assert not any(
            b.provider_id in (None, appointment.provider_id)
            and calendar.overlaps(b.start_at, b.end_at, appointment.start_at, appointment.end_at)
            for b in blocked
        )


def test_bulk_appointments_past_are_done_and_the_days_ahead_emptier(practice, book):
    book, days = book
    _generate(practice, book, days, 3000)
    past = Appointment.objects.filter(practice=practice, end_at__lte=NOW)
    ahead = Appointment.objects.filter(practice=practice, start_at__gt=NOW)
    assert set(past.values_list("status", flat=True)) <= {
        AppointmentStatus.FULFILLED,
        AppointmentStatus.NOSHOW,
        AppointmentStatus.CANCELLED,
    }
    assert AppointmentStatus.BOOKED in set(ahead.values_list("status", flat=True))
    assert not ahead.filter(scheduled_at__gte=NOW).exists()  # every one booked before now
    next_week = ahead.filter(start_at__lt=NOW + dt.timedelta(days=7)).count()
    five_weeks_on = ahead.filter(
        start_at__gte=NOW + dt.timedelta(days=35), start_at__lt=NOW + dt.timedelta(days=42)
    ).count()
    assert next_week > 1.5 * five_weeks_on > 0


def test_bulk_appointments_refuse_more_than_the_working_hours_hold(practice, book):
    book, days = book
    with pytest.raises(ValueError, match="busiest days"):
        _generate(practice, book, days, 40_000)
    assert not Appointment.objects.filter(practice=practice).exists()
