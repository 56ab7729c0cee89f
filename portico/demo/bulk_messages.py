"""A fast bulk generator of patient messages, for benchmarks (bench/messaging_pages.py).

It writes straight to the tables (`core.bulk.insert_rows` for charts, threads and messages,
bulk_create for the few attachment and renewal rows): no audit events, no emails, no files
behind the attachment rows. A page or a test never uses it; the demo's believable threads go
through the services (portico.demo.messages). Deterministic for a given seed and day.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from portico.charts.models import Patient, Sex
from portico.core.bulk import insert_rows
from portico.messaging.models import (
    Attachment,
    Message,
    RenewalDecision,
    RenewalRequest,
    Thread,
    ThreadKind,
    ThreadStatus,
)

# Message types as often as a practice sees them (renewals and medical questions lead).
KIND_WEIGHTS = (
    (ThreadKind.MEDICAL, 30),
    (ThreadKind.RENEWAL, 20),
    (ThreadKind.GENERAL, 15),
    (ThreadKind.RESULTS, 15),
    (ThreadKind.APPOINTMENT, 10),
    (ThreadKind.REFERRAL, 5),
    (ThreadKind.BILLING, 5),
)
SUBJECTS = {
    ThreadKind.MEDICAL: ("Cough that won't go away", "Dizzy in the mornings", "Rash on my arm"),
    ThreadKind.RENEWAL: ("Prescription renewal", "Refill request"),
    ThreadKind.GENERAL: ("Question for the nurse", "Forms for work"),
    ThreadKind.RESULTS: ("My lab results", "Cholesterol numbers", "What does my A1c mean?"),
    ThreadKind.APPOINTMENT: ("Moving my appointment", "Do I need a follow-up?"),
    ThreadKind.REFERRAL: ("Referral to a cardiologist", "Physical therapy referral"),
    ThreadKind.BILLING: ("Bill from my last visit", "Insurance question"),
}
PATIENT_TEXTS = (
    "Hello, I have had a dry cough for about two weeks now. No fever. It is worse at night. "
    "Should I come in or is there something I can try at home first? Thank you.",
    "Hi Doctor, I started the new blood pressure pill last week and I feel a little dizzy "
    "when I stand up in the morning. My home readings are around 118/76. Is that normal?",
    "Could you please renew my prescription? I have four pills left. Same pharmacy as last time.",
    "Thank you!",
    "I saw my results in the portal. My LDL is marked high. What should I do about it? I "
    "have been trying to eat better and walk more since my last visit, about 30 minutes most "
    "days, but I am not sure it is enough. Would a medicine help, and are there side effects "
    "I should know about? I would also like to know when I should have the test repeated.",
    "Yes, Tuesday morning works for me.",
    "The rash is still there after a week of the cream. It does not itch much but it has "
    "spread a little toward my elbow. I can send a photo if that helps.",
)
PRACTICE_TEXTS = (
    "Thank you for your message. A cough like this is often from a cold that lingers. Try "
    "honey in warm water at night and a humidifier. If you get a fever, shortness of breath, "
    "or it lasts another week, please call to schedule a visit.",
    "Your renewal was sent to your pharmacy this morning.",
    "Those readings look good. Stand up slowly and drink plenty of water. Let us know if the "
    "dizziness gets worse or you faint, and we will adjust the dose.",
    "Your LDL is a little above goal. Keep up the walking; we can talk about a statin at your "
    "next visit. We will repeat the test in three months.",
    "We have you down for Tuesday at 9:20. Please arrive 10 minutes early.",
    "Please send the photo through a new message or bring it to your visit.",
)
ATTACHMENT_NAMES = (
    ("photo.jpg", "image/jpeg"),
    ("blood-pressure-log.pdf", "application/pdf"),
    ("insurance-card.png", "image/png"),
    ("work-form.pdf", "application/pdf"),
)
PHARMACIES = ("Main Street Pharmacy, (217) 555-0142", "Walgreens on Oak Ave", "Mail order")


@dataclass(frozen=True)
class Correspondent:
    """Who writes on one side: a provider (user id and name) or a patient's chart with the
    id and name of its portal account."""

    user_id: int
    label: str
    patient_id: int | None = None


def bulk_patients(practice, *, count: int, start: int = 0, batch_size: int = 5000) -> int:
    """`count` bare charts (no clinical items) at `practice`, named Msg<n> <surname>."""
    made = 0
    while made < count:
        n = min(batch_size, count - made)
        with transaction.atomic():
            insert_rows(
                Patient,
                [
                    {
                        "practice_id": practice.pk,
                        "legal_first_name": f"Msg{start + made + i}",
                        "legal_last_name": f"Patient{(start + made + i) % 991}",
                        "date_of_birth": dt.date(
                            1938 + (start + made + i) % 70, 1 + i % 12, 1 + i % 28
                        ),
                        "sex": (Sex.FEMALE, Sex.MALE)[i % 2],
                    }
                    for i in range(n)
                ],
            )
        made += n
    return made


def bulk_generate_messages(
    practice,
    *,
    providers: Sequence[Correspondent],
    patients: Sequence[Correspondent],
    threads: int,
    messages: int,
    attachment_share: float = 0.02,
    open_days: int = 45,
    years: int = 3,
    batch_threads: int = 5000,
    seed: int = 14,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int, int]:
    """`threads` threads holding `messages` messages in all at `practice`, between `patients`
    (each with a portal account) and `providers`, over the last `years`.

    Every thread has at least one message; the others fall at random, so most threads have
    several (about messages/threads). Patients write first, then the two sides take turns.
    Threads whose last message is less than `open_days` old are open (the newer ones still
    unread by the side that did not write last); older ones are done. About
    `attachment_share` of the messages carry an attachment row (no file behind it). A renewal
    thread has its RenewalRequest (no medications), answered once done. `progress(threads,
    messages)` is called after each batch. Returns (threads, messages, attachments) made.
    """
    if messages < threads:
        raise ValueError("every thread needs a message")
    rng = random.Random(seed)  # noqa: S311 (benchmark data, not security)
    counts = [1] * threads
    for _ in range(messages - threads):
        counts[rng.randrange(threads)] += 1
    kinds, weights = zip(*KIND_WEIGHTS, strict=True)
    now = timezone.now().replace(microsecond=0)
    span = years * 365 * 86400

    def new_uuid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    made_threads = made_messages = made_attachments = 0
    while made_threads < threads:
        batch = range(made_threads, min(threads, made_threads + batch_threads))
        thread_rows, plans = [], []
        for t in batch:
            patient = patients[rng.randrange(len(patients))]
            provider = providers[rng.randrange(len(providers))]
            kind = rng.choices(kinds, weights)[0]
            # Gaps between messages: minutes to two days.
            gaps = [rng.randint(300, 2 * 86400) for _ in range(counts[t] - 1)]
            last = now - dt.timedelta(seconds=rng.randint(60, span))
            first = last - dt.timedelta(seconds=sum(gaps))
            is_open = now - last < dt.timedelta(days=open_days)
            last_from_patient = counts[t] % 2 == 1
            fresh = is_open and now - last < dt.timedelta(days=open_days // 3)
            public_id = new_uuid()
            thread_rows.append(
                {
                    "public_id": public_id,
                    "practice_id": practice.pk,
                    "patient_id": patient.patient_id,
                    "provider_id": provider.user_id,
                    "kind": kind,
                    "subject": rng.choice(SUBJECTS[kind]),
                    "status": ThreadStatus.OPEN if is_open else ThreadStatus.DONE,
                    "started_by_id": patient.user_id,
                    "created_at": first,
                    "last_message_at": last,
                    "message_count": counts[t],
                    "awaiting_practice": last_from_patient,
                    "practice_unread": fresh and last_from_patient,
                    "patient_unread": fresh and not last_from_patient,
                    "closed_at": None if is_open else last + dt.timedelta(hours=1),
                }
            )
            plans.append((public_id, patient, provider, kind, first, gaps, is_open))
        with transaction.atomic():
            last_id = (
                Thread.objects.filter(practice=practice)
                .order_by("-id")
                .values_list("id", flat=True)
                .first()
                or 0
            )
            insert_rows(Thread, thread_rows)
            ids = dict(
                Thread.objects.filter(practice=practice, id__gt=last_id).values_list(
                    "public_id", "id"
                )
            )
            message_rows, attached, renewals = [], [], []
            for public_id, patient, provider, kind, first, gaps, is_open in plans:
                at = first
                for i in range(len(gaps) + 1):
                    from_patient = i % 2 == 0
                    who = patient if from_patient else provider
                    message_id = new_uuid()
                    message_rows.append(
                        {
                            "public_id": message_id,
                            "thread_id": ids[public_id],
                            "sender_id": who.user_id,
                            "sender_label": who.label,
                            "from_patient": from_patient,
                            "body": rng.choice(PATIENT_TEXTS if from_patient else PRACTICE_TEXTS),
                            "created_at": at,
                        }
                    )
                    if rng.random() < attachment_share:
                        attached.append((message_id, at))
                    if i < len(gaps):
                        at += dt.timedelta(seconds=gaps[i])
                if kind == ThreadKind.RENEWAL:
                    renewals.append(
                        RenewalRequest(
                            thread_id=ids[public_id],
                            pharmacy=rng.choice(PHARMACIES),
                            decision="" if is_open else RenewalDecision.SENT,
                            decided_by_id=None if is_open else provider.user_id,
                            decided_at=None if is_open else at,
                        )
                    )
            insert_rows(Message, message_rows)
            if attached:
                message_ids = dict(
                    Message.objects.filter(public_id__in=[m for m, _ in attached]).values_list(
                        "public_id", "id"
                    )
                )
                rows = []
                for message_id, at in attached:
                    filename, content_type = rng.choice(ATTACHMENT_NAMES)
                    rows.append(
                        Attachment(
                            public_id=new_uuid(),
                            message_id=message_ids[message_id],
                            file=f"bench/{at:%Y/%m}/{new_uuid().hex}",
                            filename=filename,
                            content_type=content_type,
                            size=rng.randint(40_000, 4_000_000),
                            created_at=at,
                        )
                    )
                Attachment.objects.bulk_create(rows, batch_size=2000)
                made_attachments += len(rows)
            RenewalRequest.objects.bulk_create(renewals, batch_size=2000)
        made_threads += len(batch)
        made_messages += len(message_rows)
        if progress is not None:
            progress(made_threads, made_messages)
    return made_threads, made_messages, made_attachments
