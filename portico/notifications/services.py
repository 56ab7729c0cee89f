"""Queueing and delivering email (SPEC §3.4, §5.4). Requests only store; the worker sends.

How a message travels
---------------------
`email_enqueue` stores an OutboundEmail ("queued", due now, with its Message-ID) and, once the
transaction commits, asks the task worker for a drain (at most one waiting drain task: a drain
takes everything that is due, so a second waiting one would find nothing to do).

`outbox_drain` claims due messages in batches, sends each batch over one SMTP connection at the
configured rate, and records every result as soon as the server has answered:

- 2xx: "sent"
- 4xx, or no answer (connection refused, dropped, timed out): "deferred", tried again after an
  exponential backoff with jitter; after PORTICO_EMAIL_MAX_ATTEMPTS attempts or
  PORTICO_EMAIL_MAX_AGE_HOURS it gives up: "bounced" when the server kept answering 4xx,
  "failed" when it could never be reached. The last answer is kept in `last_error`.
- 5xx: "bounced" at once, with the server's answer.
- the renderer says the message no longer applies (invitation replaced or cancelled): "skipped".

Exactly once, and the crash window
----------------------------------
Claiming a message moves it to "sending" with a lease: `next_attempt_at` becomes the time the
lease runs out and `claim_token` names the sender. On PostgreSQL the claim uses
SELECT ... FOR UPDATE SKIP LOCKED so concurrent drains take disjoint batches; SQLite runs every
transaction IMMEDIATE, so claims are serialised. A sender that is killed leaves its messages in
"sending"; when their lease has run out they are due again and the next drain takes them over.
A message is never lost.

What is not possible with SMTP is knowing, after a crash, whether the message that was being
transmitted reached the server: the server may have said 250 a moment before the process died
and before the result was stored. Portico chooses at-least-once for that one message: it is
sent again, with the same Message-ID, so the duplicate is identifiable (receiving systems and
people can discard it). To keep that window to one message per crashed sender, each result is
stored (one UPDATE) right after the server's answer, and a sender stops and returns the rest of
its batch before half its lease has passed, so a slow sender never races a new one.
"""

from __future__ import annotations

import contextlib
import logging
import random
import smtplib
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import connection as db_connection
from django.db import transaction
from django.db.models import Case, F, Value, When
from django.utils import timezone, translation

from portico.notifications import rendering
from portico.notifications.models import PENDING_STATES, EmailState, OutboundEmail
from portico.notifications.rendering import renderer_for

logger = logging.getLogger(__name__)

ANSWER_MAX = 500


def _setting(name: str, default):
    return getattr(settings, name, default)


def new_message_id() -> str:
    """A Message-ID from the OS's randomness. email.utils.make_msgid draws on the `random`
    module, whose state can be shared or reseeded (hypothesis does), which gave duplicates."""
    return f"<{uuid.uuid4().hex}@{settings.PORTICO_MAIL_DOMAIN}>"


# --- Queueing -------------------------------------------------------------------------------


def email_enqueue(
    *, kind: str, subject_id, to_address: str, practice=None, patient=None, language: str = ""
) -> OutboundEmail:
    """Store an email to send; once the transaction commits, the task worker sends it.

    Never talks to a mail server, so a burst of invitations never slows a web request.
    Nothing is sent when the surrounding transaction rolls back. It is written in `language`,
    else in the preferred language of the chart it is about (when the portal speaks it), else
    in the language of the page that queued it.
    """
    email = OutboundEmail.objects.create(
        kind=kind,
        subject_id=subject_id,
        to_address=to_address,
        practice=practice,
        patient=patient,
        language=language
        or (patient.portal_language if patient is not None else "")
        or translation.get_language(),
        message_id=new_message_id(),
        next_attempt_at=timezone.now(),
    )
    _drain_after_commit()
    return email


def email_enqueue_batch(*, kind: str, items: list[dict]) -> int:
    """Store many emails with one statement (bulk invitations); like email_enqueue for each
    item (`subject_id`, `to_address`, `practice_id`, `patient_id`, `language`), with one
    drain request after commit. Returns how many were stored."""
    from portico.core.bulk import insert_rows

    now = timezone.now()
    count = insert_rows(
        OutboundEmail,
        (
            {
                "kind": kind,
                "message_id": new_message_id(),
                "next_attempt_at": now,
                "language": translation.get_language(),
                **item,
            }
            for item in items
        ),
    )
    if count:
        _drain_after_commit()
    return count


class _DrainOnCommit:
    """An on-commit callback. Every email queued in one transaction gets one, sharing a batch
    flag: the first to run asks for the drain, the others see the flag and do nothing."""

    def __init__(self, batch: dict):
        self.batch = batch

    def __call__(self):
        if not self.batch["requested"]:
            self.batch["requested"] = True
            drain_request()


def _drain_after_commit() -> None:
    """One drain request per committed transaction, however many emails it queued."""
    conn = transaction.get_connection()
    batch = getattr(conn, "_portico_drain_batch", None)
    if batch is None or batch["requested"] or not conn.in_atomic_block:
        batch = {"requested": False}
        conn._portico_drain_batch = batch
    transaction.on_commit(_DrainOnCommit(batch))


def _drain_task_waiting(when: datetime) -> bool:
    """Whether a drain task that will start by `when` is already waiting in the task table."""
    from portico.notifications.tasks import drain_outbox

    backend = drain_outbox.get_backend()
    if type(backend).__module__.split(".")[0] != "django_tasks_db":
        return False
    from django.db.models import Q
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult, get_date_max

    return (
        DBTaskResult.objects.filter(
            status=TaskResultStatus.READY, task_path=drain_outbox.module_path
        )
        .filter(Q(run_after=get_date_max()) | Q(run_after__lte=when))
        .exists()
    )


def drain_request(run_after: datetime | None = None) -> None:
    """Ask the task worker to drain the outbox (now, or at `run_after`), unless a drain that
    starts early enough is already waiting."""
    from portico.notifications.tasks import drain_outbox

    if _drain_task_waiting(run_after or timezone.now()):
        return
    if run_after is None:
        drain_outbox.enqueue()
    elif drain_outbox.get_backend().supports_defer:
        drain_outbox.using(run_after=run_after).enqueue()


# --- Claiming -------------------------------------------------------------------------------


def _lease() -> timedelta:
    return timedelta(seconds=_setting("PORTICO_EMAIL_LEASE_SECONDS", 300))


def _claim(*, size: int, now: datetime | None = None, email_id: int | None = None):
    """Take up to `size` due messages for this sender; return them with the claim token."""
    token = uuid.uuid4()
    now = now or timezone.now()
    started = timezone.now()
    with transaction.atomic():
        due = OutboundEmail.objects.filter(
            next_attempt_at__lte=now, state__in=PENDING_STATES
        ).order_by("next_attempt_at", "id")
        if email_id is not None:
            due = due.filter(pk=email_id)
        if db_connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        ids = list(due.values_list("id", flat=True)[:size])
        if not ids:
            return token, []
        OutboundEmail.objects.filter(id__in=ids).update(
            state=EmailState.SENDING,
            attempts=F("attempts") + 1,
            claim_token=token,
            last_attempt_at=started,
            next_attempt_at=started + _lease(),
        )
    return token, list(OutboundEmail.objects.filter(claim_token=token).order_by("id"))


def _release(emails: list[OutboundEmail], token) -> None:
    """Give claimed, unattempted messages back to the queue, due at once."""
    OutboundEmail.objects.filter(id__in=[e.pk for e in emails], claim_token=token).update(
        state=Case(
            When(attempts__lte=1, then=Value(EmailState.QUEUED)),
            default=Value(EmailState.DEFERRED),
        ),
        attempts=F("attempts") - 1,
        claim_token=None,
        next_attempt_at=timezone.now(),
    )


# --- Sending --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    state: str
    answer: str = ""
    next_attempt_at: datetime | None = None
    # The connection is unusable after this (no answer, or the server is closing it).
    broken_connection: bool = False


def _answer(code: int, text) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", errors="replace")
    return " ".join(f"{code} {text}".split())[:ANSWER_MAX]


def smtp_outcome(exc: BaseException) -> tuple[int | None, str, bool]:
    """(reply code or None when the server gave none, the answer, whether the connection is
    broken). The answer is the server's text about the transaction, never the message."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, reply = next(iter(exc.recipients.values()))
        return code, _answer(code, reply), code == 421
    if isinstance(exc, smtplib.SMTPSenderRefused | smtplib.SMTPDataError):
        return exc.smtp_code, _answer(exc.smtp_code, exc.smtp_error), exc.smtp_code == 421
    # Greeting, HELO and authentication failures, dropped connections, timeouts: no answer
    # about this message, so it is tried again later.
    text = " ".join(f"{type(exc).__name__}: {exc}".split())[:ANSWER_MAX]
    return None, text, True


def _retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: half the step fixed, half random."""
    base = _setting("PORTICO_EMAIL_RETRY_BASE_SECONDS", 60)
    cap = _setting("PORTICO_EMAIL_RETRY_MAX_SECONDS", 4 * 3600)
    step = min(cap, base * 2 ** max(0, attempts - 1))
    return timedelta(seconds=step / 2 + random.uniform(0, step / 2))  # noqa: S311 (jitter, not a secret)


def _not_delivered(email: OutboundEmail, code: int | None, answer: str, broken: bool) -> Outcome:
    now = timezone.now()
    if code is not None and code >= 500:
        return Outcome(EmailState.BOUNCED, answer, broken_connection=broken)
    max_attempts = _setting("PORTICO_EMAIL_MAX_ATTEMPTS", 8)
    max_age = timedelta(hours=_setting("PORTICO_EMAIL_MAX_AGE_HOURS", 72))
    if email.attempts >= max_attempts or now - email.created_at >= max_age:
        # Given up: a server that kept answering 4xx has in effect refused it.
        state = EmailState.BOUNCED if code is not None else EmailState.FAILED
        return Outcome(state, answer, broken_connection=broken)
    return Outcome(
        EmailState.DEFERRED, answer, now + _retry_delay(email.attempts), broken_connection=broken
    )


def _message(email: OutboundEmail, rendered, connection) -> EmailMultiAlternatives:
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=rendered.from_email,
        to=[email.to_address],
        headers={
            **rendered.headers,
            "Message-ID": email.message_id,
            "Auto-Submitted": "auto-generated",
            "Content-Language": email.language,
        },
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    for filename, content, mimetype in rendered.attachments:
        message.attach(filename, content, mimetype)
    return message


def _send_one(email: OutboundEmail, connection, pace) -> Outcome:
    try:
        with translation.override(email.language):
            rendered = renderer_for(email.kind)(email)
    except Exception as exc:  # a renderer bug must not stop the other messages
        logger.error("email %s could not be rendered: %s", email.public_id, type(exc).__name__)
        return Outcome(EmailState.FAILED, f"not rendered: {type(exc).__name__}")
    if rendered is None:
        return Outcome(EmailState.SKIPPED)
    pace.wait()
    try:
        connection.open()  # no-op while the connection is open
        connection.send_messages([_message(email, rendered, connection)])
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        code, answer, broken = smtp_outcome(exc)
        # Only the reply code: a server's answer often quotes the recipient's address, which
        # stays in the stored message for staff, never in the log.
        logger.warning("email %s not delivered: %s", email.public_id, code or type(exc).__name__)
        return _not_delivered(email, code, answer, broken)
    return Outcome(EmailState.SENT)


def _record(email: OutboundEmail, token, outcome: Outcome) -> bool:
    """Store one result; only the sender that holds the claim may. Returns whether it did."""
    if outcome.state == EmailState.SENT and db_connection.vendor == "postgresql":
        # The common case, once per message: don't wait for the disk. A killed worker loses
        # nothing by it; only a database crash could forget the last moment's results, and
        # those messages are then sent again with the same Message-ID (the trade-off above).
        with transaction.atomic():
            with db_connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
            return _store_outcome(email, token, outcome)
    return _store_outcome(email, token, outcome)


def _store_outcome(email: OutboundEmail, token, outcome: Outcome) -> bool:
    now = timezone.now()
    changed = OutboundEmail.objects.filter(pk=email.pk, claim_token=token).update(
        state=outcome.state,
        last_error=outcome.answer,
        next_attempt_at=outcome.next_attempt_at,
        claim_token=None,
        sent_at=now if outcome.state == EmailState.SENT else None,
        bounced_at=now if outcome.state == EmailState.BOUNCED else None,
    )
    if changed and outcome.state == EmailState.BOUNCED:
        _audit_bounce(email, source="smtp")
    return bool(changed)


def _audit_bounce(email: OutboundEmail, *, source: str) -> None:
    from portico.audit.services import audit_record

    audit_record(
        None,
        action="email.bounced",
        practice=email.practice_id and email.practice,
        patient=email.patient_id and email.patient,
        details={"message_id": email.message_id, "kind": email.kind, "source": source},
        actor_label="mail delivery",
    )


def _close_quietly(connection) -> None:
    with contextlib.suppress(TimeoutError, smtplib.SMTPException, OSError):
        connection.close()


class Pace:
    """At most `rate` messages per second (0 = unlimited), evenly spaced."""

    def __init__(self, rate: float):
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.next_slot = time.monotonic()

    def wait(self) -> None:
        if not self.interval:
            return
        now = time.monotonic()
        start = max(now, self.next_slot)
        if start > now:
            time.sleep(start - now)
        self.next_slot = start + self.interval


PREFETCH_CHUNK = 25


def _prefetch(emails: list[OutboundEmail]) -> None:
    try:
        rendering.prefetch(emails)
    except Exception as exc:  # the renderers then load what they need one by one
        logger.error("email prefetch failed: %s", type(exc).__name__)
        for email in emails:
            email.__dict__.pop("prefetched", None)


def _send_batch(emails: list[OutboundEmail], token, pace: Pace) -> tuple[int, list[str]]:
    """Send claimed messages over one connection; return how many got a result, and states."""
    connection = get_connection(fail_silently=False)
    deadline = time.monotonic() + _lease().total_seconds() / 2
    states = []
    broken_in_a_row = 0
    last = None
    # What the renderers need is loaded for a few messages at a time: one query instead of one
    # each, yet read at most about a second before the message is sent.
    rate = _setting("PORTICO_EMAIL_RATE_PER_SECOND", 0)
    chunk = PREFETCH_CHUNK if not rate else max(1, min(PREFETCH_CHUNK, int(rate)))
    try:
        for index, email in enumerate(emails):
            if time.monotonic() > deadline:
                _release(emails[index:], token)
                break
            if index % chunk == 0:
                _prefetch(emails[index : index + chunk])
            if broken_in_a_row >= 2 and last is not None:
                # The server is unreachable: don't knock again for every message.
                outcome = _not_delivered(email, None, last.answer, True)
            else:
                outcome = _send_one(email, connection, pace)
            if outcome.broken_connection:
                broken_in_a_row += 1
                _close_quietly(connection)
            else:
                broken_in_a_row = 0
            last = outcome
            _record(email, token, outcome)
            states.append(outcome.state)
    finally:
        _close_quietly(connection)
    return len(states), states


def _batch_size() -> int:
    size = _setting("PORTICO_EMAIL_BATCH_SIZE", 100)
    rate = _setting("PORTICO_EMAIL_RATE_PER_SECOND", 0)
    if rate:
        # A batch must be sent well within the lease at this rate.
        size = min(size, max(1, int(rate * _lease().total_seconds() / 4)))
    return size


def outbox_drain(
    limit: int | None = None, *, now: datetime | None = None, max_seconds: float | None = None
) -> int:
    """Send every due message (queued, deferred and due, or left "sending" by a sender whose
    lease ran out), batch by batch over one SMTP connection per batch, at most
    PORTICO_EMAIL_RATE_PER_SECOND (0 = no limit). Stops after `limit` messages or `max_seconds`.

    Returns how many messages it handled (sent, deferred, bounced, failed or skipped).
    """
    pace = Pace(_setting("PORTICO_EMAIL_RATE_PER_SECOND", 0))
    started = time.monotonic()
    handled = 0
    while limit is None or handled < limit:
        if max_seconds is not None and time.monotonic() - started >= max_seconds:
            break
        size = _batch_size() if limit is None else min(_batch_size(), limit - handled)
        token, emails = _claim(size=size, now=now)
        if not emails:
            break
        count, _states = _send_batch(emails, token, pace)
        handled += count
    return handled


def next_due_at() -> datetime | None:
    """When the next pending message becomes due (None when nothing is pending)."""
    return (
        OutboundEmail.objects.filter(next_attempt_at__isnull=False, state__in=PENDING_STATES)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )


def email_retry_due(now: datetime | None = None) -> int:
    """Periodic job: send deferred messages whose retry time has come (and anything else due,
    including messages a dead sender left behind). Bounded in time so that a cron run never
    overlaps the next; what is left is handed to the task worker. Returns messages handled."""
    handled = outbox_drain(now=now, max_seconds=_setting("PORTICO_EMAIL_PERIODIC_SECONDS", 50))
    upcoming = next_due_at()
    if upcoming is not None:
        drain_request(None if upcoming <= timezone.now() else upcoming)
    return handled


def email_deliver(*, email_id: int) -> str:
    """Send one message now if it is due (the older one-message task); return its new state,
    or "not-queued" when it is not due (already sent, or another sender holds it)."""
    token, emails = _claim(size=1, email_id=email_id)
    if not emails:
        return "not-queued"
    _count, states = _send_batch(emails, token, Pace(0))
    return states[0] if states else "not-queued"


# --- Bounce reports -------------------------------------------------------------------------


def _normalise_message_id(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


def email_bounces_record(reports: list[dict]) -> dict[str, int]:
    """Mark the messages a provider reported as bounced ({message_id, status, diagnostic}).

    Reports whose status is not "bounced" are ignored; a message already bounced is left as it
    is (a repeated report changes nothing and writes no second audit event).
    """
    wanted = {}
    ignored = 0
    for report in reports:
        if str(report.get("status", "")).lower() != "bounced":
            ignored += 1
            continue
        diagnostic = " ".join(str(report.get("diagnostic") or "bounced").split())
        wanted[_normalise_message_id(report["message_id"])] = diagnostic[:ANSWER_MAX]
    counts = {"bounced": 0, "already_bounced": 0, "unknown": 0, "ignored": ignored}
    with transaction.atomic():
        found = {
            email.message_id: email
            for email in OutboundEmail.objects.select_for_update(of=("self",))
            .select_related("practice", "patient")
            .filter(message_id__in=list(wanted))
        }
        now = timezone.now()
        for message_id, diagnostic in wanted.items():
            email = found.get(message_id)
            if email is None:
                counts["unknown"] += 1
            elif email.state == EmailState.BOUNCED:
                counts["already_bounced"] += 1
            else:
                OutboundEmail.objects.filter(pk=email.pk).update(
                    state=EmailState.BOUNCED,
                    bounced_at=now,
                    last_error=diagnostic,
                    next_attempt_at=None,
                    claim_token=None,
                )
                _audit_bounce(email, source="webhook")
                counts["bounced"] += 1
    return counts
