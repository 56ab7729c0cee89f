"""Reminder emails one week and one day before an appointment (SPEC §8.7), queued by a periodic
job (portico/periodic/jobs.py).

When a reminder is due
----------------------
The week reminder while now is in [start − 7 days, start − 1 day), the day reminder while now
is in [start − 1 day, start): a job that runs late still sends the reminder whose window it is
in, and never one whose window has passed (a late week reminder is not sent next to the day
one). Only for a confirmed appointment that got its time before the reminder's moment (a
booking made three days ahead gets the day reminder only; the "booked" email told the rest),
at a practice that sends reminders, with a provider ticked to send them, for a patient with an
email address who did not opt out.

Once each
---------
Each reminder is a row (appointment, kind, start time) under a unique constraint. A run inserts
the rows of the reminders due, ignoring the ones that exist, tagged with the run's own uuid;
then it queues an email for exactly the rows it inserted, in the same transaction. A second run,
a late one, or two at once (the unique index makes the second insert wait for the first's commit
on PostgreSQL, and SQLite serialises write transactions) inserts nothing and queues nothing.
A moved appointment has a new start time, so it gets reminders of its own; the old time's
reminders, if still in the outbox, are skipped when sent (scheduling.emails.reminder_applies).

Memory stays flat: appointments are read in batches along the start-time index, each batch
committed with its emails, so a run stopped half-way leaves whole batches behind it and the
next run does the rest.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.utils import timezone

from portico.core.languages import spoken
from portico.notifications.services import email_enqueue_batch
from portico.practices.models import Membership
from portico.scheduling.emails import REMINDER
from portico.scheduling.models import (
    Appointment,
    AppointmentReminder,
    AppointmentStatus,
    ReminderKind,
    ReminderOptOut,
)

BATCH = 1000
# Each kind: how long before the start its window opens, and when it closes.
WINDOWS = (
    (ReminderKind.WEEK, dt.timedelta(days=7), dt.timedelta(days=1)),
    (ReminderKind.DAY, dt.timedelta(days=1), dt.timedelta(0)),
)


def _due(kind: str, opens: dt.timedelta, closes: dt.timedelta, now: dt.datetime):
    """Appointments whose `kind` reminder is due now and not yet queued, in start order."""
    return (
        Appointment.objects.filter(
            status=AppointmentStatus.BOOKED,
            # now in [start − opens, start − closes)
            start_at__gt=now + closes,
            start_at__lte=now + opens,
            practice__reminders_enabled=True,
        )
        .exclude(patient__email="")
        # Its time was set before the reminder's moment (rows from before the field: long ago).
        .filter(Q(scheduled_at__isnull=True) | Q(scheduled_at__lt=F("start_at") - opens))
        .filter(
            Exists(
                Membership.objects.filter(
                    practice=OuterRef("practice"), user=OuterRef("provider"), sends_reminders=True
                )
            ),
            ~Exists(ReminderOptOut.objects.filter(patient=OuterRef("patient"))),
            ~Exists(
                AppointmentReminder.objects.filter(
                    appointment=OuterRef("pk"), kind=kind, for_start_at=OuterRef("start_at")
                )
            ),
        )
        .order_by("start_at", "id")
        .values_list(
            "id",
            "start_at",
            "practice_id",
            "patient_id",
            "patient__email",
            "patient__preferred_language",
        )
    )


def _queue_batch(rows: list[tuple], kind: str, run: uuid.UUID) -> int:
    """Insert the batch's reminders (those that exist are left as they are) and queue an email
    for each one this run inserted. Returns how many were queued."""
    AppointmentReminder.objects.bulk_create(
        [
            AppointmentReminder(appointment_id=row[0], kind=kind, for_start_at=row[1], run=run)
            for row in rows
        ],
        ignore_conflicts=True,
    )
    inserted = dict(
        AppointmentReminder.objects.filter(
            run=run, kind=kind, appointment_id__in=[row[0] for row in rows]
        ).values_list("appointment_id", "public_id")
    )
    return email_enqueue_batch(
        kind=REMINDER,
        items=[
            {
                "subject_id": inserted[appointment_id],
                "to_address": address,
                "practice_id": practice_id,
                "patient_id": patient_id,
                "language": spoken(language) or settings.LANGUAGE_CODE,
            }
            for appointment_id, _start, practice_id, patient_id, address, language in rows
            if appointment_id in inserted
        ],
    )


def reminders_queue_due(now: dt.datetime | None = None) -> int:
    """Periodic job: queue the week and day reminders that are due and not yet queued (see the
    module's docstring). Idempotent; returns how many reminder emails this run queued."""
    now = now or timezone.now()
    run = uuid.uuid4()
    queued = 0
    for kind, opens, closes in WINDOWS:
        after: tuple[dt.datetime, int] | None = None
        while True:
            with transaction.atomic():
                due = _due(kind, opens, closes, now)
                if after is not None:
                    due = due.filter(
                        Q(start_at__gt=after[0]) | Q(start_at=after[0], id__gt=after[1])
                    )
                rows = list(due[:BATCH])
                if rows:
                    queued += _queue_batch(rows, kind, run)
            if len(rows) < BATCH:
                break
            after = (rows[-1][1], rows[-1][0])
    return queued
