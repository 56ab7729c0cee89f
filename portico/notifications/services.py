"""Queueing and delivering email. Requests only queue; the task worker delivers."""

from __future__ import annotations

import logging
import smtplib
import uuid

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone

from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.rendering import renderer_for

logger = logging.getLogger(__name__)


def new_message_id() -> str:
    """A Message-ID from the OS's randomness. email.utils.make_msgid draws on the `random`
    module, whose state can be shared or reseeded (hypothesis does), which gave duplicates."""
    return f"<{uuid.uuid4().hex}@{settings.PORTICO_MAIL_DOMAIN}>"


def email_enqueue(
    *, kind: str, subject_id, to_address: str, practice=None, patient=None
) -> OutboundEmail:
    """Store an email to send and hand it to the task worker once the transaction commits."""
    from portico.notifications.tasks import deliver_email

    email = OutboundEmail.objects.create(
        kind=kind,
        subject_id=subject_id,
        to_address=to_address,
        practice=practice,
        patient=patient,
        message_id=new_message_id(),
    )
    transaction.on_commit(lambda: deliver_email.enqueue(email_id=email.pk))
    return email


def _claim(email_id: int) -> OutboundEmail | None:
    """Move a queued email to "sending" so that only one worker delivers it."""
    with transaction.atomic():
        email = (
            OutboundEmail.objects.select_for_update()
            .filter(pk=email_id, state=EmailState.QUEUED)
            .first()
        )
        if email is None:
            return None
        email.state = EmailState.SENDING
        email.attempts += 1
        email.save(update_fields=["state", "attempts"])
        return email


def _finish(email: OutboundEmail, state: str, error: str = "") -> None:
    email.state = state
    email.last_error = error[:500]
    email.sent_at = timezone.now() if state == EmailState.SENT else None
    email.save(update_fields=["state", "last_error", "sent_at"])


def email_deliver(*, email_id: int) -> str:
    """Render and send one queued email through Django's email framework; return its new state.

    SMTP is spoken outside any database transaction so that a slow mail server
    never holds a lock the web pages need.
    """
    email = _claim(email_id)
    if email is None:
        return "not-queued"
    rendered = renderer_for(email.kind)(email)
    if rendered is None:
        _finish(email, EmailState.SKIPPED)
        return EmailState.SKIPPED
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=rendered.from_email,
        to=[email.to_address],
        headers={"Message-ID": email.message_id, "Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(rendered.html, "text/html")
    try:
        message.send(fail_silently=False)
    except (TimeoutError, smtplib.SMTPException, OSError) as exc:
        # The server's answer, not the message: no health data can be in it.
        logger.warning("email %s not delivered: %s", email.public_id, type(exc).__name__)
        _finish(email, EmailState.FAILED, f"{type(exc).__name__}: {exc}")
        return EmailState.FAILED
    _finish(email, EmailState.SENT)
    return EmailState.SENT


def email_enqueue_batch(*, kind: str, items: list[dict]) -> list[OutboundEmail]:
    """Store many emails in one insert (bulk invitations); like email_enqueue for each item
    (`subject_id`, `to_address`, `practice`, `patient`), but the task worker is woken once,
    after commit, to drain the outbox instead of once per email."""
    from portico.notifications.tasks import drain_outbox

    emails = OutboundEmail.objects.bulk_create(
        [OutboundEmail(kind=kind, message_id=new_message_id(), **item) for item in items]
    )
    if emails:
        transaction.on_commit(lambda: drain_outbox.enqueue())
    return emails
