"""Reads for messaging pages and the API. Every list reads a fixed number of queries, however
many threads or messages there are (the tests count them)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.shortcuts import get_object_or_404

from portico.messaging.models import Attachment, Message, Thread, ThreadKind, ThreadStatus
from portico.portal.representation import scope_of
from portico.portal.selectors import active_representatives, enrolled_access

PAGE_SIZE = 25


def _list_columns(threads: QuerySet[Thread]) -> QuerySet[Thread]:
    return threads.select_related("patient", "provider").order_by("-last_message_at", "-id")


def practice_threads(
    practice, *, provider=None, status: str = "", kind: str = "", unread: bool = False
) -> QuerySet[Thread]:
    """The practice's inbox, newest first: every thread, or one provider's (a User), filtered
    by status and message type when given."""
    threads = Thread.objects.filter(practice=practice)
    if provider is not None:
        threads = threads.filter(provider=provider)
    if status in ThreadStatus.values:
        threads = threads.filter(status=status)
    if kind in ThreadKind.values:
        threads = threads.filter(kind=kind)
    if unread:
        threads = threads.filter(practice_unread=True)
    return _list_columns(threads)


@dataclass(frozen=True)
class UnreadCounts:
    mine: int
    practice: int


def unread_counts(practice, user) -> UnreadCounts:
    """Threads with a patient message nobody at the practice has opened yet: the user's own
    (as the assigned provider) and the whole practice's; one query."""
    counts = Thread.objects.filter(practice=practice, practice_unread=True).aggregate(
        practice=Count("id"), mine=Count("id", filter=Q(provider=user))
    )
    return UnreadCounts(mine=counts["mine"], practice=counts["practice"])


def _threads_of(patient, *, confidential: bool) -> QuerySet[Thread]:
    """The chart's threads; for a representative (`confidential` False, from the access's
    scope) without the renewal requests that name a medication confidential from
    representatives, or one of a visit so marked (charts.models.ClinicalItem)."""
    threads = Thread.objects.filter(patient=patient)
    if not confidential:
        threads = threads.exclude(
            Q(renewal__medications__confidential_from_representatives=True)
            | Q(renewal__medications__encounter__confidential_from_representatives=True)
        )
    return threads


def thread_readers(thread: Thread) -> list:
    """The portal accesses to tell of a new message in this thread, each with its account: the
    patient's own when enrolled, and every active representative whose scope has messages and
    who may see the thread (SPEC §9: not a parent of an adolescent, not a renewal naming a
    medication confidential from representatives)."""
    own = enrolled_access(thread.patient)
    readers: list = [own] if own is not None and own.account is not None else []
    for representative in active_representatives(thread.patient):
        scope = scope_of(representative)
        if not scope.messages:
            continue
        if scope.confidential or (
            _threads_of(thread.patient, confidential=False).filter(pk=thread.pk).exists()
        ):
            readers.append(representative)
    return readers


def patient_threads(patient, *, confidential: bool = True) -> QuerySet[Thread]:
    """A patient's threads with their practice, newest first (see _threads_of)."""
    return _list_columns(_threads_of(patient, confidential=confidential))


def thread_for_practice(practice, public_id) -> Thread:
    """One of the practice's threads, or 404 (another practice's thread is a miss too)."""
    return get_object_or_404(
        Thread.objects.select_related("patient", "provider", "practice", "filed_by"),
        practice=practice,
        public_id=public_id,
    )


def thread_for_patient(patient, public_id, *, confidential: bool = True) -> Thread:
    """One of this chart's threads the access may see (see _threads_of), or 404."""
    return get_object_or_404(
        _threads_of(patient, confidential=confidential).select_related(
            "patient", "provider", "practice"
        ),
        public_id=public_id,
    )


def thread_messages(thread: Thread) -> list[Message]:
    """The thread's messages, oldest first, with their attachments; one query."""
    return list(
        Message.objects.filter(thread=thread)
        .select_related("attachment")
        .order_by("created_at", "id")
    )


def renewal_of(thread: Thread):
    """The renewal request of a renewal thread (with its medications), or None."""
    from portico.messaging.models import RenewalRequest

    return (
        RenewalRequest.objects.filter(thread=thread)
        .select_related("decided_by")
        .prefetch_related("medications")
        .first()
    )


def attachment_of_thread(thread: Thread, public_id) -> Attachment:
    """An attachment of a message of this thread, or 404."""
    return get_object_or_404(
        Attachment.objects.select_related("message__thread__patient"),
        message__thread=thread,
        public_id=public_id,
    )


def timeline_threads(patient) -> QuerySet[Thread]:
    """The chart's threads the timeline tells of: every filed thread and every prescription
    renewal request (filed or not, for its answer), newest first, with the provider, who filed
    it, the renewal request and who answered it joined, and the requested medications
    prefetched; two queries whatever their number."""
    return (
        Thread.objects.filter(patient=patient)
        .filter(Q(filed_at__isnull=False) | Q(renewal__isnull=False))
        .select_related("provider", "filed_by", "renewal", "renewal__decided_by")
        .prefetch_related("renewal__medications")
        .order_by("-last_message_at", "-id")
    )
