"""The bounce webhook: a provider that reports bounces after accepting a message marks it
bounced; only a fresh request signed with the shared secret is believed."""

from __future__ import annotations

import json
import time

import pytest

from portico.audit.models import AuditEvent
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.views import bounce_signature
from tests.factories import invite

SECRET = "bounce-secret-for-tests"
URL = "/hooks/email/bounces"
DIAGNOSTIC = "smtp; 550 5.1.1 user unknown"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.PORTICO_BOUNCE_WEBHOOK_SECRET = SECRET


@pytest.fixture
def sent_email(admin, patient, send_email):
    with send_email:
        invite(admin, patient)
    email = OutboundEmail.objects.get()
    assert email.state == EmailState.SENT
    return email


def post(client, body, *, secret=SECRET, timestamp=None, signature=None):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    headers = {"X-Portico-Timestamp": timestamp}
    signature = bounce_signature(secret, timestamp, raw) if signature is None else signature
    if signature:
        headers["X-Portico-Signature"] = signature
    return client.post(URL, raw, content_type="application/json", headers=headers)


def report(email, status="bounced"):
    return [{"message_id": email.message_id, "status": status, "diagnostic": DIAGNOSTIC}]


def test_signed_report_marks_the_message_bounced_and_audits_it(client, sent_email, patient):
    response = post(client, report(sent_email))

    assert response.status_code == 200
    assert response.json() == {"bounced": 1, "already_bounced": 0, "unknown": 0, "ignored": 0}
    sent_email.refresh_from_db()
    assert sent_email.state == EmailState.BOUNCED
    assert sent_email.last_error == DIAGNOSTIC
    assert sent_email.bounced_at is not None
    event = AuditEvent.objects.get(action="email.bounced")
    assert event.patient == patient
    assert event.details["source"] == "webhook"


def test_a_repeated_report_changes_nothing(client, sent_email):
    post(client, report(sent_email))
    sent_email.refresh_from_db()
    first_bounce = sent_email.bounced_at

    response = post(client, report(sent_email))

    assert response.json() == {"bounced": 0, "already_bounced": 1, "unknown": 0, "ignored": 0}
    sent_email.refresh_from_db()
    assert sent_email.bounced_at == first_bounce
    assert AuditEvent.objects.filter(action="email.bounced").count() == 1


def test_message_ids_without_angle_brackets_and_unknown_ids_are_accepted(client, sent_email):
    body = [
        {"message_id": sent_email.message_id.strip("<>"), "status": "bounced"},
        {"message_id": "<nobody@elsewhere>", "status": "bounced", "diagnostic": "550"},
        {"message_id": sent_email.message_id, "status": "delivered"},
    ]
    response = post(client, body)

    assert response.json() == {"bounced": 1, "already_bounced": 0, "unknown": 1, "ignored": 1}


@pytest.mark.parametrize(
    "how",
    ["missing signature", "wrong secret", "tampered body", "old timestamp", "no timestamp"],
)
def test_a_report_without_a_valid_fresh_signature_is_refused(client, sent_email, how):
    body = json.dumps(report(sent_email)).encode()
    if how == "missing signature":
        response = post(client, body, signature="")
    elif how == "wrong secret":
        response = post(client, body, secret="guessed")
    elif how == "tampered body":
        stamp = str(int(time.time()))
        signature = bounce_signature(SECRET, stamp, b"[]")
        response = post(client, body, timestamp=stamp, signature=signature)
    elif how == "old timestamp":
        response = post(client, body, timestamp=str(int(time.time()) - 301))
    else:
        response = client.post(
            URL,
            body,
            content_type="application/json",
            headers={"X-Portico-Signature": bounce_signature(SECRET, "", body)},
        )

    assert response.status_code == 401
    assert response.json()["detail"]
    sent_email.refresh_from_db()
    assert sent_email.state == EmailState.SENT
    assert not AuditEvent.objects.filter(action="email.bounced").exists()


def test_the_webhook_is_closed_when_no_secret_is_configured(client, sent_email, settings):
    settings.PORTICO_BOUNCE_WEBHOOK_SECRET = ""
    assert post(client, report(sent_email), secret="").status_code == 401


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"\xff\xfe",
        b'{"message_id": "<a@b>"}',
        b'[{"status": "bounced"}]',
        b'[{"message_id": 7, "status": "bounced"}]',
        b'["<a@b>"]',
    ],
)
def test_a_signed_body_that_is_not_a_list_of_reports_is_a_400(client, sent_email, raw):
    response = post(client, raw)

    assert response.status_code == 400
    assert set(response.json()) == {"detail", "errors"}
    sent_email.refresh_from_db()
    assert sent_email.state == EmailState.SENT


def test_only_post_is_answered(client):
    assert client.get(URL).status_code == 405
