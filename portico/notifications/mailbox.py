"""The demo's local mailbox: an email backend that files messages into a Maildir,
and the reads behind the /dev/mailbox/ page. Only enabled in demo or debug mode."""

from __future__ import annotations

import mailbox
from dataclasses import dataclass
from email import policy
from email.parser import BytesParser
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend


def _maildir() -> mailbox.Maildir:
    # Maildir makes its tmp/new/cur folders only when it creates the mailbox folder itself.
    settings.PORTICO_MAILBOX_DIR.parent.mkdir(parents=True, exist_ok=True)
    box = mailbox.Maildir(settings.PORTICO_MAILBOX_DIR, create=True)
    for sub in ("tmp", "new", "cur"):
        (settings.PORTICO_MAILBOX_DIR / sub).mkdir(exist_ok=True)
    return box


class MailboxBackend(BaseEmailBackend):
    """Deliver every message into the local Maildir instead of an SMTP server."""

    def send_messages(self, email_messages):
        box = _maildir()
        for message in email_messages:
            box.add(message.message().as_bytes())
        return len(email_messages)


@dataclass
class MailboxMessage:
    key: str
    subject: str
    sender: str
    to: str
    date: object
    text: str
    html: str


def _parse(key: str, raw: bytes) -> MailboxMessage:
    msg = BytesParser(policy=policy.default).parsebytes(raw)
    text_part = msg.get_body(preferencelist=("plain",))
    html_part = msg.get_body(preferencelist=("html",))
    try:
        date = parsedate_to_datetime(msg["Date"]) if msg["Date"] else None
    except (TypeError, ValueError):
        date = None
    return MailboxMessage(
        key=key,
        subject=str(msg["Subject"] or ""),
        sender=str(msg["From"] or ""),
        to=str(msg["To"] or ""),
        date=date,
        text=text_part.get_content() if text_part else "",
        html=html_part.get_content() if html_part else "",
    )


def mailbox_messages(limit: int = 200) -> list[MailboxMessage]:
    """The newest messages first."""
    box = _maildir()
    messages = [_parse(key, box.get_bytes(key)) for key in box.iterkeys()]
    messages.sort(key=lambda m: (m.date is not None, m.date), reverse=True)
    return messages[:limit]


def mailbox_message(key: str) -> MailboxMessage | None:
    box = _maildir()
    try:
        return _parse(key, box.get_bytes(key))
    except KeyError:
        return None
