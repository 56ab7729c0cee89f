"""Delivery truth (SPEC §3.4, §5.4): every email is a stored message whose state says what the
mail server answered; temporary refusals are retried with backoff, permanent ones bounce, and
the outbox sends each message once over a reused connection at the configured rate."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import transaction
from django.utils import timezone

from portico.audit.models import AuditEvent
from portico.notifications import services
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.selectors import emails_for_patient
from tests.factories import invite, make_patient

T0 = dt.datetime(2026, 11, 21, 12, 0, tzinfo=dt.UTC)
TEMPORARY = "451 4.3.0 Mailbox busy, try again later"
PERMANENT = "550 5.1.1 No such user here"


def queue_invitations(admin, practice, n: int) -> list[OutboundEmail]:
    """Invite n charts. Inside the test's transaction nothing commits, so nothing is sent."""
    for _ in range(n):
        invite(admin, make_patient(practice))
    return list(OutboundEmail.objects.order_by("id"))


def reload(email: OutboundEmail) -> OutboundEmail:
    email.refresh_from_db()
    return email


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(T0, tick=False)
    return time_machine


def test_queued_email_is_due_at_once_and_sent_with_its_message_id(admin, practice, smtp):
    [email] = queue_invitations(admin, practice, 1)
    assert email.state == EmailState.QUEUED and email.next_attempt_at is not None

    assert services.outbox_drain() == 1

    email = reload(email)
    assert email.state == EmailState.SENT
    assert (email.attempts, email.next_attempt_at, email.last_error) == (1, None, "")
    assert [m["message"]["Message-ID"] for m in smtp.messages] == [email.message_id]


def test_temporary_refusal_defers_the_email_with_the_servers_answer(admin, practice, smtp, frozen):
    smtp.handler.refuse_with = TEMPORARY
    [email] = queue_invitations(admin, practice, 1)

    services.outbox_drain()

    email = reload(email)
    assert email.state == EmailState.DEFERRED
    assert email.last_error == TEMPORARY
    assert email.attempts == 1
    # First retry after 30–60 s (base 60 s, half of it random jitter).
    assert T0 + dt.timedelta(seconds=30) <= email.next_attempt_at <= T0 + dt.timedelta(seconds=60)
    assert email.sent_at is None and email.bounced_at is None
    assert smtp.messages == []


def test_backoff_doubles_with_each_attempt(admin, practice, smtp, frozen, settings):
    settings.PORTICO_EMAIL_RETRY_BASE_SECONDS = 60
    smtp.handler.refuse_with = TEMPORARY
    [email] = queue_invitations(admin, practice, 1)

    delays = []
    for _ in range(4):
        services.email_retry_due(now=timezone.now())
        email = reload(email)
        delays.append((email.next_attempt_at - timezone.now()).total_seconds())
        frozen.move_to(email.next_attempt_at, tick=False)

    for attempt, delay in enumerate(delays, start=1):
        step = 60 * 2 ** (attempt - 1)
        assert step / 2 <= delay <= step, (attempt, delays)
    assert email.attempts == 4


def test_backoff_is_capped(settings):
    settings.PORTICO_EMAIL_RETRY_BASE_SECONDS = 60
    settings.PORTICO_EMAIL_RETRY_MAX_SECONDS = 600
    assert services._retry_delay(30) <= dt.timedelta(seconds=600)


def test_deferred_email_is_not_retried_before_its_time(admin, practice, smtp, frozen):
    smtp.handler.refuse_with = TEMPORARY
    [email] = queue_invitations(admin, practice, 1)
    services.outbox_drain()
    smtp.handler.refuse_with = None

    frozen.move_to(reload(email).next_attempt_at - dt.timedelta(seconds=1), tick=False)
    assert services.email_retry_due() == 0
    assert reload(email).state == EmailState.DEFERRED
    assert smtp.messages == []


def test_deferred_email_is_retried_when_due_with_the_same_message_id(admin, practice, smtp, frozen):
    smtp.handler.refuse_with = TEMPORARY
    [email] = queue_invitations(admin, practice, 1)
    message_id = email.message_id
    services.outbox_drain()
    smtp.handler.refuse_with = None

    frozen.move_to(reload(email).next_attempt_at, tick=False)
    assert services.email_retry_due() == 1

    email = reload(email)
    assert email.state == EmailState.SENT
    assert email.attempts == 2
    assert email.message_id == message_id
    assert [m["message"]["Message-ID"] for m in smtp.messages] == [message_id]


def test_giving_up_after_the_last_attempt_bounces_with_the_last_answer(
    admin, practice, smtp, frozen, settings
):
    settings.PORTICO_EMAIL_MAX_ATTEMPTS = 3
    smtp.handler.refuse_with = TEMPORARY
    [email] = queue_invitations(admin, practice, 1)

    for _ in range(3):
        services.email_retry_due()
        email = reload(email)
        if email.next_attempt_at:
            frozen.move_to(email.next_attempt_at, tick=False)

    assert email.state == EmailState.BOUNCED
    assert email.attempts == 3
    assert email.last_error == TEMPORARY
    assert email.next_attempt_at is None and email.bounced_at == timezone.now()


def test_an_unreachable_server_past_the_maximum_age_fails_the_email(
    admin, practice, settings, frozen
):
    from tests.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    settings.PORTICO_EMAIL_MAX_AGE_HOURS = 24
    [email] = queue_invitations(admin, practice, 1)
    services.outbox_drain()
    assert reload(email).state == EmailState.DEFERRED

    frozen.move_to(T0 + dt.timedelta(hours=24), tick=False)
    services.email_retry_due()

    email = reload(email)
    assert email.state == EmailState.FAILED
    assert "ConnectionRefusedError" in email.last_error
    assert email.next_attempt_at is None and email.bounced_at is None


def test_permanent_refusal_bounces_at_once_and_is_audited(admin, practice, patient, smtp):
    smtp.handler.refuse_with = PERMANENT
    invite(admin, patient)

    services.outbox_drain()

    email = OutboundEmail.objects.get()
    assert email.state == EmailState.BOUNCED
    assert email.last_error == PERMANENT
    assert email.attempts == 1
    event = AuditEvent.objects.get(action="email.bounced")
    assert event.patient == patient
    assert event.details == {"message_id": email.message_id, "kind": email.kind, "source": "smtp"}


def test_mixed_answers_in_one_batch_each_get_their_state(admin, practice, smtp):
    emails = queue_invitations(admin, practice, 3)
    answers = iter([None, PERMANENT, TEMPORARY])
    original = smtp.handler.handle_DATA

    async def answer_in_turn(server, session, envelope):
        smtp.handler.refuse_with = next(answers)
        return await original(server, session, envelope)

    smtp.handler.handle_DATA = answer_in_turn
    services.outbox_drain()

    states = [reload(e).state for e in emails]
    assert states == [EmailState.SENT, EmailState.BOUNCED, EmailState.DEFERRED]
    assert len(smtp.messages) == 1


class CountingSessions:
    """Counts SMTP connections (one EHLO per connection) on the test server."""

    def __init__(self, handler):
        self.count = 0
        handler.handle_EHLO = self.handle_EHLO

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        self.count += 1
        session.host_name = hostname
        return responses


def test_a_batch_is_sent_over_one_connection(admin, practice, smtp, settings):
    settings.PORTICO_EMAIL_BATCH_SIZE = 10
    sessions = CountingSessions(smtp.handler)
    queue_invitations(admin, practice, 12)

    assert services.outbox_drain() == 12

    assert len(smtp.messages) == 12
    assert sessions.count == 2  # a batch of 10, then one of 2


def test_the_send_rate_is_honoured(admin, practice, smtp, settings):
    settings.PORTICO_EMAIL_RATE_PER_SECOND = 20
    queue_invitations(admin, practice, 6)

    started = time.monotonic()
    services.outbox_drain()
    elapsed = time.monotonic() - started

    assert len(smtp.messages) == 6
    assert elapsed >= 5 / 20  # six sends are five intervals of 50 ms apart


def test_drain_stops_at_its_limit(admin, practice, smtp):
    queue_invitations(admin, practice, 5)

    assert services.outbox_drain(limit=2) == 2
    assert len(smtp.messages) == 2
    assert OutboundEmail.objects.filter(state=EmailState.QUEUED).count() == 3


def test_a_message_held_by_a_live_sender_is_not_sent_again(admin, practice, smtp, frozen):
    [email] = queue_invitations(admin, practice, 1)
    services._claim(size=10)  # another sender took it and is still working on it

    assert services.outbox_drain() == 0
    assert reload(email).state == EmailState.SENDING
    assert smtp.messages == []


def test_a_message_left_by_a_dead_sender_is_sent_when_its_lease_runs_out(
    admin, practice, smtp, frozen, settings
):
    settings.PORTICO_EMAIL_LEASE_SECONDS = 120
    [email] = queue_invitations(admin, practice, 1)
    dead_token, _ = services._claim(size=10)  # the sender was killed right after claiming

    frozen.move_to(T0 + dt.timedelta(seconds=120), tick=False)
    assert services.email_retry_due() == 1

    email = reload(email)
    assert email.state == EmailState.SENT
    assert email.attempts == 2
    assert [m["message"]["Message-ID"] for m in smtp.messages] == [email.message_id]
    # Should the dead sender come back, its result no longer counts.
    assert services._record(email, dead_token, services.Outcome(EmailState.FAILED)) is False
    assert reload(email).state == EmailState.SENT


def test_a_slow_sender_hands_back_what_it_could_not_send_within_its_lease(
    admin, practice, smtp, settings, monkeypatch
):
    settings.PORTICO_EMAIL_LEASE_SECONDS = 0  # every message is past half the lease
    emails = queue_invitations(admin, practice, 3)
    token, claimed = services._claim(size=10)

    services._send_batch(claimed, token, services.Pace(0))

    assert smtp.messages == []
    assert [reload(e).state for e in emails] == [EmailState.QUEUED] * 3
    assert [e.attempts for e in emails] == [0, 0, 0]


def test_enqueue_in_a_rolled_back_transaction_sends_nothing(patient, smtp, send_email):
    with send_email, pytest.raises(RuntimeError), transaction.atomic():
        services.email_enqueue(
            kind="portal.enrollment",
            subject_id=patient.public_id,
            to_address="someone@example.test",
            patient=patient,
        )
        raise RuntimeError("the request failed later")

    assert not OutboundEmail.objects.exists()
    assert smtp.messages == []


def test_one_transaction_queues_one_drain_task_however_many_emails(
    admin, practice, settings, django_capture_on_commit_callbacks
):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        queue_invitations(admin, practice, 3)
    with django_capture_on_commit_callbacks(execute=True):
        queue_invitations(admin, practice, 1)  # a drain is already waiting: no second one

    assert OutboundEmail.objects.filter(state=EmailState.QUEUED).count() == 4
    tasks = DBTaskResult.objects.filter(task_path="portico.notifications.tasks.drain_outbox")
    assert tasks.count() == 1


def test_troubleshooter_reads_a_charts_emails_newest_first_in_one_query(
    admin, practice, patient, smtp, django_assert_num_queries, frozen
):
    from portico.portal import services as portal

    smtp.handler.refuse_with = PERMANENT
    invite(admin, patient)
    services.outbox_drain()
    frozen.move_to(T0 + dt.timedelta(minutes=5), tick=False)
    portal.invitation_resend(admin, patient=patient)
    invite(admin, make_patient(practice))  # another chart's email is not listed

    with django_assert_num_queries(1):
        emails = emails_for_patient(patient)
        rows = [
            (e.state, e.attempts, e.last_error, e.next_attempt_at, e.sent_at, e.bounced_at, e.kind)
            for e in emails
        ]
    assert rows[0][:2] == (EmailState.QUEUED, 0)
    assert rows[1] == (
        EmailState.BOUNCED,
        1,
        PERMANENT,
        None,
        None,
        T0,
        "portal.enrollment",
    )
    assert [e.subject_id for e in emails] == [
        i.public_id for i in patient.invitations.order_by("-created_at")
    ]


def test_a_refusal_logs_the_reply_code_but_never_the_recipients_address(
    admin, practice, smtp, caplog
):
    """A server's answer often quotes the address; it stays in the stored message only."""
    smtp.handler.refuse_with = "550 5.1.1 <robin@home.example>: no such user here"
    [email] = queue_invitations(admin, practice, 1)

    with caplog.at_level("WARNING", logger="portico.notifications"):
        services.outbox_drain()

    assert reload(email).state == EmailState.BOUNCED
    assert email.to_address and email.to_address not in caplog.text
    assert "robin@home.example" not in caplog.text
    assert f"email {email.public_id} not delivered: 550" in caplog.text
