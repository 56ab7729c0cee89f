"""Email goes out through Django's email framework to a real SMTP server (SPEC §3.4, §5.4)."""

import pytest

from portico.notifications.models import EmailState, OutboundEmail
from portico.portal.emails import registration_url
from tests.factories import invite


def _text_and_html(msg):
    return (
        msg.get_body(preferencelist=("plain",)).get_content(),
        msg.get_body(preferencelist=("html",)).get_content(),
    )


def test_enrollment_email_is_delivered_over_smtp_in_text_and_html(admin, patient, smtp, send_email):
    with send_email:
        invitation = invite(admin, patient)

    assert len(smtp.messages) == 1
    received = smtp.messages[0]
    msg = received["message"]
    assert received["rcpt_tos"] == [patient.email]
    assert received["envelope_from"] == "healthrecords@testserver"
    assert msg["From"] == "Riverside Clinic <healthrecords@testserver>"
    text, html = _text_and_html(msg)
    link = registration_url(invitation)
    assert link in text and link in html
    assert "Access your records" in text and "Access your records" in html
    assert invitation.access_code not in msg.as_string()
    assert patient.legal_last_name not in msg.as_string()

    stored = OutboundEmail.objects.get(subject_id=invitation.public_id)
    assert stored.state == EmailState.SENT
    assert msg["Message-ID"] == stored.message_id


def test_smtp_refusal_marks_the_email_bounced_with_the_servers_answer(
    admin, patient, smtp, send_email
):
    smtp.handler.refuse_with = "550 5.1.1 Mailbox does not exist"
    with send_email:
        invitation = invite(admin, patient)

    stored = OutboundEmail.objects.get(subject_id=invitation.public_id)
    assert stored.state == EmailState.BOUNCED
    assert stored.last_error == "550 5.1.1 Mailbox does not exist"
    assert stored.bounced_at is not None and stored.next_attempt_at is None
    assert smtp.messages == []


def test_unreachable_mail_server_defers_the_email(admin, patient, settings, send_email):
    from tests.smtp import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 2
    with send_email:
        invitation = invite(admin, patient)
    stored = OutboundEmail.objects.get(subject_id=invitation.public_id)
    assert stored.state == EmailState.DEFERRED
    assert "ConnectionRefusedError" in stored.last_error
    assert stored.next_attempt_at > stored.last_attempt_at


def test_a_sent_email_is_not_sent_again_when_its_task_runs_twice(admin, patient, smtp, send_email):
    from portico.notifications.tasks import deliver_email

    with send_email:
        invitation = invite(admin, patient)
    stored = OutboundEmail.objects.get(subject_id=invitation.public_id)
    deliver_email.call(email_id=stored.pk)
    assert len(smtp.messages) == 1


def test_nothing_is_sent_when_the_inviting_transaction_rolls_back(admin, patient, smtp):
    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        invite(admin, patient)
        raise RuntimeError("something later in the request failed")
    assert OutboundEmail.objects.count() == 0
    assert smtp.messages == []


def test_mailbox_backend_files_messages_for_the_demo_mailbox_page(
    admin, patient, settings, tmp_path, send_email
):
    from portico.notifications import mailbox

    settings.EMAIL_BACKEND = "portico.notifications.mailbox.MailboxBackend"
    settings.PORTICO_MAILBOX_DIR = tmp_path / "mailbox"
    with send_email:
        invitation = invite(admin, patient)
    messages = mailbox.mailbox_messages()
    assert len(messages) == 1
    assert messages[0].to == patient.email
    assert registration_url(invitation) in messages[0].text
    assert "Access your records" in messages[0].html
    assert mailbox.mailbox_message(messages[0].key).subject == messages[0].subject


def test_message_ids_stay_unique_even_when_the_random_module_is_reseeded(admin, practice):
    import random

    import time_machine

    from tests.factories import make_patient

    ids = set()
    # A frozen clock and a reseeded `random` (what hypothesis does before each example) made
    # email.utils.make_msgid repeat itself; the outbox needs unique Message-IDs.
    with time_machine.travel("2026-11-21 12:00:00Z", tick=False):
        for _ in range(3):
            random.seed(1234)
            invitation = invite(admin, make_patient(practice))
            ids.add(OutboundEmail.objects.get(subject_id=invitation.public_id).message_id)
    assert len(ids) == 3
