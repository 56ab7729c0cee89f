"""A real SMTP server for tests that check delivery itself (aiosmtpd on a free local port)."""

from __future__ import annotations

import contextlib
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RecordingHandler:
    """Keeps every message it accepts; can be told to refuse with an SMTP code."""

    messages: list = field(default_factory=list)
    refuse_with: str | None = None
    received: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's name)
        if self.refuse_with:
            return self.refuse_with
        msg = message_from_bytes(envelope.content, policy=policy.default)
        self.messages.append(
            {
                "envelope_from": envelope.mail_from,
                "rcpt_tos": list(envelope.rcpt_tos),
                "message": msg,
            }
        )
        self.received.set()
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self):
        self.handler = RecordingHandler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def __enter__(self):
        self.controller.start()
        return self

    def __exit__(self, *exc):
        self.controller.stop()

    @property
    def messages(self):
        return self.handler.messages


@contextlib.contextmanager
def django_sends_to_it(settings):
    """A running SmtpServer that Django's SMTP backend sends to (pytest-django's `settings`)."""
    with SmtpServer() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = "127.0.0.1"
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_TIMEOUT = 5
        yield server
