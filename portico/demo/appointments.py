"""Demo appointments: a few past visits and one or two ahead for each demo chart."""

from __future__ import annotations

import datetime as dt
import random
import zoneinfo

from django.utils import timezone

from portico.scheduling.models import AppointmentStatus
from portico.scheduling.services import appointment_create

VISITS = (
    ("Annual physical", "Yearly check-up"),
    ("Follow-up visit", "Blood pressure follow-up"),
    ("Follow-up visit", "Review lab results"),
    ("Sick visit", "Cough and sore throat"),
    ("Vaccination", "Flu shot"),
)


def give_demo_appointments(actor, *, patient, provider, rng: random.Random) -> None:
    """Two to four past appointments (one of them missed or cancelled now and then) and one
    or two upcoming, on the hour between 8 and 16 in the practice's time zone."""
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    today = timezone.localdate()

    def at(days: int, status: str) -> None:
        day = today + dt.timedelta(days=days)
        start = dt.datetime.combine(day, dt.time(rng.randint(8, 16)), tzinfo=zone)
        visit_type, reason = rng.choice(VISITS)
        appointment_create(
            actor,
            patient=patient,
            provider=provider,
            start_at=start,
            end_at=start + dt.timedelta(minutes=rng.choice((15, 20, 30))),
            visit_type=visit_type,
            reason=reason,
            status=status,
        )

    for _ in range(rng.randint(2, 4)):
        status = rng.choice(
            [AppointmentStatus.FULFILLED] * 4
            + [AppointmentStatus.CANCELLED, AppointmentStatus.NOSHOW]
        )
        at(-rng.randint(20, 700), status)
    for _ in range(rng.randint(1, 2)):
        at(rng.randint(3, 90), AppointmentStatus.BOOKED)
