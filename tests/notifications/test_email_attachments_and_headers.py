"""An email may carry files and headers of its own (a calendar file, List-Unsubscribe); the
outbox's own headers (Message-ID, Auto-Submitted, Content-Language) always win."""

import uuid

import pytest

from portico.notifications import rendering
from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.rendering import Attachment, RenderedEmail
from portico.notifications.services import email_enqueue, outbox_drain

pytestmark = pytest.mark.django_db
KIND = "tests.with_extras"


def render_with_extras(email) -> RenderedEmail:
    return RenderedEmail(
        subject="With extras",
        text="Body",
        html="<p>Body</p>",
        from_email="sender@example.test",
        attachments=(
            Attachment("note.ics", b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", "text/calendar"),
            ("data.bin", b"\x00\x01", "application/octet-stream"),  # a plain tuple does too
        ),
        headers={
            "List-Unsubscribe": "<https://example.test/stop/>",
            "Message-ID": "<forged@example.test>",
            "Auto-Submitted": "no",
        },
    )


def test_attachments_and_headers_reach_the_server_and_the_outboxs_headers_win(smtp, monkeypatch):
    monkeypatch.setitem(rendering.RENDERERS, KIND, f"{__name__}.render_with_extras")
    email = email_enqueue(kind=KIND, subject_id=uuid.uuid4(), to_address="x@example.test")

    assert outbox_drain() == 1

    (raw,) = smtp.messages
    message = raw["message"]
    assert str(message["List-Unsubscribe"]).strip() == "<https://example.test/stop/>"
    assert message["Message-ID"] == email.message_id
    assert message["Auto-Submitted"] == "auto-generated"
    files = {part.get_filename(): part for part in message.iter_attachments()}
    assert files["note.ics"].get_content_type() == "text/calendar"
    assert files["note.ics"].get_payload(decode=True).startswith(b"BEGIN:VCALENDAR")
    assert files["data.bin"].get_payload(decode=True) == b"\x00\x01"
    assert OutboundEmail.objects.get().state == EmailState.SENT
