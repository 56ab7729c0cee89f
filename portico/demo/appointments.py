"""Demo appointments: a few past visits and one or two ahead for each demo chart."""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils import timezone

from portico.scheduling.models import AppointmentStatus, VisitType
from portico.scheduling.services import appointment_book, visit_type_save

VISITS = (
    ("Annual physical", "Yearly check-up"),
    ("Follow-up visit", "Blood pressure follow-up"),
    ("Follow-up visit", "Review lab results"),
    ("Sick visit", "Cough and sore throat"),
    ("Vaccination", "Flu shot"),
)
MINUTES = {"Annual physical": 40, "Follow-up visit": 20, "Sick visit": 20, "Vaccination": 15}


def _visit_type(actor, practice, name: str) -> VisitType:
    found = VisitType.objects.filter(practice=practice, name=name).first()
    return found or visit_type_save(
        actor, practice=practice, name=name, duration_minutes=MINUTES[name]
    )


def give_demo_appointments(actor, *, patient, provider, rng: random.Random) -> None:
    """Two to four past appointments (one of them missed or cancelled now and then) and one
    or two upcoming, on the hour between 8 and 16 in the practice's time zone."""
    zone = zoneinfo.ZoneInfo(patient.practice.time_zone)
    today = timezone.localdate()

    def at(days: int, status: str) -> None:
        day = today + dt.timedelta(days=days)
        start = dt.datetime.combine(day, dt.time(rng.randint(8, 16)), tzinfo=zone)
        name, reason = rng.choice(VISITS)
        # When the provider is busy then, this one is left out.
        with contextlib.suppress(ValidationError):
            appointment_book(
                actor,
                patient=patient,
                provider=provider,
                appointment_type=_visit_type(actor, patient.practice, name),
                start_at=start,
                reason=reason,
                status=status,
                check_hours=False,
                allow_past=True,
                notify=False,
            )

    for _ in range(rng.randint(2, 4)):
        status = rng.choice(
            [AppointmentStatus.FULFILLED] * 4
            + [AppointmentStatus.CANCELLED, AppointmentStatus.NOSHOW]
        )
        at(-rng.randint(20, 700), status)
    for _ in range(rng.randint(1, 2)):
        at(rng.randint(3, 90), AppointmentStatus.BOOKED)
