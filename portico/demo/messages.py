"""Demo secure messages (SPEC §7): messaging on for the demo practice, and a few believable
threads between the demo patient and the demo provider, made through messaging.services (the
same checks, audit rows and "new message" emails as the pages).

The services stamp everything "now"; the threads are then spread over the last weeks by
setting their dates afterwards (demo data only: real threads are never backdated).
"""

from __future__ import annotations

import datetime as dt

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
    now = timezone.now()
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
    _spread(fasting, start=now - dt.timedelta(days=25, hours=3), gaps_hours=(5, 2))

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
    _spread(results, start=now - dt.timedelta(days=14, hours=6), gaps_hours=(20,))

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
    _spread(renewal, start=now - dt.timedelta(days=6, hours=2), gaps_hours=(26,))

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
    _spread(throat, start=now - dt.timedelta(hours=20), gaps_hours=())

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
    for days, other, (kind, subject, body) in zip((9, 3, 1), others, questions, strict=False):
        other_account, other_access = _access(other)
        thread = messaging.thread_start(
            other_account,
            access=other_access,
            provider=provider,
            kind=kind,
            subject=subject,
            body=body,
        )
        _spread(thread, start=now - dt.timedelta(days=days, hours=4), gaps_hours=())


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


def _spread(thread: Thread, *, start: dt.datetime, gaps_hours: tuple[int, ...]) -> None:
    """Date the thread's messages from `start`, each the given hours after the one before
    (a message without a gap follows 20 minutes later); the thread's own dates follow."""
    messages = list(Message.objects.filter(thread=thread).order_by("created_at", "id"))
    when = start
    for number, message in enumerate(messages):
        if number:
            gap = gaps_hours[number - 1] if number - 1 < len(gaps_hours) else 0
            when += dt.timedelta(hours=gap) if gap else dt.timedelta(minutes=20)
        Message.objects.filter(pk=message.pk).update(created_at=when)
        Attachment.objects.filter(message=message).update(created_at=when)
        if message.renewal_decision:
            RenewalRequest.objects.filter(thread=thread).update(decided_at=when)
    last = when
    fresh = Thread.objects.get(pk=thread.pk)
    Thread.objects.filter(pk=thread.pk).update(
        created_at=start,
        last_message_at=last,
        filed_at=last if fresh.filed_at else None,
        closed_at=last + dt.timedelta(minutes=5) if fresh.closed_at else None,
        practice_notified_at=start if fresh.practice_notified_at else None,
        patient_notified_at=last if fresh.patient_notified_at else None,
    )
