"""Builders shared by the service-level tests of online booking: a public request, a confirmed
appointment, and a snapshot of everything the services may write (to prove a refusal changed
nothing)."""

from __future__ import annotations

import datetime as dt

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import AppointmentRequest, ProviderProfile
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.scheduling import services as scheduling
from portico.scheduling.models import Appointment
from tests.scheduling.conftest import NOW, at

MONDAY = NOW.date()  # 2026-12-07, "now" is 07:30 New York
TUESDAY = MONDAY + dt.timedelta(days=1)
WEDNESDAY = MONDAY + dt.timedelta(days=2)
THURSDAY = MONDAY + dt.timedelta(days=3)

# What a visitor types on the booking page.
TYPED = {
    "patient_kind": "new",
    "first_name": "Rosa",
    "last_name": "Rivera",
    "date_of_birth": dt.date(1980, 4, 2),
    "email": "rosa@example.org",
    "phone": "(217) 555-0134",
    "reason": "Knee pain",
}


def ask(profile, visit_type, start_at, **more) -> AppointmentRequest:
    """A visitor's request for `start_at` on the profile's booking page."""
    values = {"profile": profile, "visit_type": visit_type, "start_at": start_at, **TYPED}
    values.update(more)
    return services.request_submit(**values)


def book(admin, patient, provider, visit_type, start_at) -> Appointment:
    """A confirmed appointment booked by staff."""
    return scheduling.appointment_book(
        admin, patient=patient, provider=provider, appointment_type=visit_type, start_at=start_at
    )


def counts() -> dict[str, int]:
    """How many rows each table the booking services write holds."""
    return {
        "requests": AppointmentRequest.objects.count(),
        "appointments": Appointment.objects.count(),
        "charts": Patient.objects.count(),
        "emails": OutboundEmail.objects.count(),
        "audit": AuditEvent.objects.count(),
        "profiles": ProviderProfile.objects.count(),
    }


def emails(kind: str, to: str) -> int:
    return OutboundEmail.objects.filter(kind=kind, to_address=to).count()


__all__ = ["MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "TYPED", "ask", "at", "book", "counts"]
