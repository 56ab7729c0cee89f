"""Demo secure messages (SPEC §7): messaging on for the demo practice, and a few believable
threads between the demo patient and the demo provider, made through messaging.services (the
same checks, audit rows and "new message" emails as the pages).

The services stamp everything "now"; the threads are then spread over the last weeks, at
times of day people write, by setting their dates afterwards (demo data only: real threads
are never backdated).
"""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from portico.charts import services as charts
from portico.charts.models import Medication, Problem
from portico.messaging import services as messaging
from portico.messaging.models import (
    Attachment,
    Message,
    RenewalDecision,
    RenewalRequest,
    Thread,
    ThreadKind,
    ThreadStatus,
)
from portico.portal.models import AccessState, PortalAccess
from portico.practices import services as practice_services

PHARMACY = "Springfield Community Pharmacy, 410 Main Street, (217) 555-0142"
TEMPERATURE_LOG = (
    "Temperature log (by mouth)\n"
    "Saturday 8 am   99.1 F\n"
    "Saturday 9 pm   100.2 F\n"
    "Sunday 8 am     99.6 F\n"
    "Sunday 9 pm     100.4 F\n"
    "Monday 8 am     99.3 F\n"
)


def give_demo_messages(admin, *, practice, provider, staff, patient, others=()) -> None:
    """Turn messaging on and give `patient` (enrolled) four threads with `provider`: a
    finished question (done and filed), a question about lab results answered and filed to the
    chart, a prescription renewal answered "Renewal sent", and an open question with a text
    file the provider has not read yet. Each of `others` (enrolled) asks one short question."""
    practice_services.messaging_settings_set(admin, practice=practice, enabled=True)
    at = _local_clock(practice)
    account, access = _access(patient)

    # 1. Three and a half weeks ago: a question before a blood draw, answered, done, filed.
    fasting = messaging.thread_start(
        account,
        access=access,
        provider=provider,
        kind=ThreadKind.APPOINTMENT,
        subject="Fasting before my blood draw?",
        body=(
            "Hi Dr. Shah, I have my blood draw at the lab on Thursday morning. Do I need to "
            "fast, and can I still take my morning pill with water?"
        ),
    )
    messaging.staff_reply(
        provider,
        thread=fasting,
        body=(
            "Yes, please fast for 8 hours before the draw: water is fine, no coffee or juice. "
            "Take your morning pill with water as usual."
        ),
    )
    messaging.thread_read_by_patient(account, access=access, thread=_fresh(fasting))
    messaging.patient_reply(account, access=access, thread=fasting, body="Thank you, will do!")
    messaging.thread_read_by_staff(provider, thread=_fresh(fasting))
    messaging.thread_status_set(provider, thread=fasting, status=ThreadStatus.DONE)
    messaging.thread_file(provider, thread=fasting)
    _date(fasting, at(25, 9, 12), at(25, 13, 40), at(25, 14, 5))

    # 2. Two weeks ago: a question about the shared lab results, answered and filed.
    results = messaging.thread_start(
        account,
        access=access,
        provider=provider,
        kind=ThreadKind.RESULTS,
        subject="Question about my lab results",
        body=(
            "I looked at my blood test results in the portal. What does creatinine measure, "
            "and are my numbers okay? I drink a lot of coffee and not much water."
        ),
    )
    messaging.thread_read_by_staff(provider, thread=_fresh(results))
    messaging.staff_reply(
        provider,
        thread=results,
        body=(
            "Your creatinine (a kidney test) is in the normal range, 0.6 to 1.3, and has been "
            "steady for two years. Your blood count and glucose are normal too. More water "
            "is always a good idea, but nothing here worries me. We will check again at your "
            "next physical."
        ),
    )
    messaging.thread_file(provider, thread=results)
    messaging.thread_read_by_patient(account, access=access, thread=_fresh(results))
    _date(results, at(14, 21, 5), at(13, 8, 20))

    # 3. Last week: a prescription renewal, answered "Renewal sent" (not read yet).
    medicine = _renewable_medicine(patient, provider=provider, staff=staff)
    renewal = messaging.thread_start(
        account,
        access=access,
        provider=provider,
        kind=ThreadKind.RENEWAL,
        subject="Renewal: " + medicine.display,
        body="I have five tablets left. Same dose as before, please.",
        medications=[str(medicine.public_id)],
        pharmacy=PHARMACY,
    )
    messaging.thread_read_by_staff(provider, thread=_fresh(renewal))
    messaging.renewal_decide(
        provider,
        thread=renewal,
        decision=RenewalDecision.SENT,
        body=(
            "Sent to your pharmacy for 90 days with 3 refills. Please book a thyroid blood "
            "test (TSH) before your next visit."
        ),
    )
    _date(renewal, at(6, 8, 30), at(5, 11, 15))

    # 4. Yesterday: an open question with a temperature log; the provider has not read it.
    throat = messaging.thread_start(
        account,
        access=access,
        provider=provider,
        kind=ThreadKind.MEDICAL,
        subject="Sore throat is back",
        body=(
            "My sore throat came back on Saturday, like the strep last time, with a low "
            "fever in the evenings (my readings are attached). No trouble swallowing or "
            "breathing. Should I come in for a strep test, or wait a few more days?"
        ),
        upload=SimpleUploadedFile(
            "temperature-log.txt", TEMPERATURE_LOG.encode(), content_type="text/plain"
        ),
    )
    _date(throat, at(1, 19, 42))

    # Other enrolled patients ask one short question each, so the inbox is not one patient's.
    questions = [
        (
            ThreadKind.APPOINTMENT,
            "Moving my appointment",
            "Can I come an hour later on my next visit? My bus schedule changed.",
        ),
        (
            ThreadKind.BILLING,
            "Insurance card",
            "I have a new insurance card since January. Should I bring it or send a photo?",
        ),
        (
            ThreadKind.GENERAL,
            "Flu shot",
            "Do you have flu shots in stock? I would like to come in for one this week.",
        ),
    ]
    for when, other, (kind, subject, body) in zip(
        (at(9, 7, 55), at(3, 12, 30), at(1, 16, 10)), others, questions, strict=False
    ):
        other_account, other_access = _access(other)
        thread = messaging.thread_start(
            other_account,
            access=other_access,
            provider=provider,
            kind=kind,
            subject=subject,
            body=body,
        )
        _date(thread, when)


def _access(patient) -> tuple:
    access = PortalAccess.objects.select_related("account", "practice", "patient").get(
        patient=patient, state=AccessState.ACTIVE
    )
    return access.account, access


def _fresh(thread: Thread) -> Thread:
    """The thread as a page would load it now (the read services look at its unread flags)."""
    return Thread.objects.select_related("patient", "practice").get(pk=thread.pk)


def _renewable_medicine(patient, *, provider, staff) -> Medication:
    """One of the patient's shared current medicines; when the demo record gave her none, a
    thyroid medicine she has taken for years (with its problem), as staff would enter it."""
    existing = messaging.renewable_medications(patient).first()
    if existing is not None:
        return existing
    onset = timezone.localdate() - dt.timedelta(days=1400)
    charts.item_create(staff, patient=patient, model=Problem, code="E03.9", recorded_on=onset)
    return charts.item_create(
        staff,
        patient=patient,
        model=Medication,
        code="10582",
        instructions="50 mcg by mouth every morning before breakfast",
        recorded_on=onset + dt.timedelta(days=10),
    )


def _local_clock(practice):
    """`at(days_ago, hour, minute)`: that time of day, `days_ago` days back, in the practice's
    time zone (office hours and evenings, as people write)."""
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    today = timezone.localdate(timezone=zone)

    def at(days_ago: int, hour: int, minute: int) -> dt.datetime:
        day = today - dt.timedelta(days=days_ago)
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=zone)

    return at


def _date(thread: Thread, *times: dt.datetime) -> None:
    """Date the thread's messages, oldest first, at `times` (one per message); the thread's own
    dates follow (filed when its last message came, closed five minutes later)."""
    messages = list(Message.objects.filter(thread=thread).order_by("created_at", "id"))
    for message, when in zip(messages, times, strict=True):
        Message.objects.filter(pk=message.pk).update(created_at=when)
        Attachment.objects.filter(message=message).update(created_at=when)
        if message.renewal_decision:
            RenewalRequest.objects.filter(thread=thread).update(decided_at=when)
    first, last = times[0], times[-1]
    fresh = Thread.objects.get(pk=thread.pk)
    Thread.objects.filter(pk=thread.pk).update(
        created_at=first,
        last_message_at=last,
        filed_at=last if fresh.filed_at else None,
        closed_at=last + dt.timedelta(minutes=5) if fresh.closed_at else None,
        practice_notified_at=first if fresh.practice_notified_at else None,
        patient_notified_at=last if fresh.patient_notified_at else None,
    )
