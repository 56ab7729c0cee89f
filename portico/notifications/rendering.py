"""Email renderers by kind. An app registers how to render the emails it sends.

A renderer takes the OutboundEmail and returns a RenderedEmail, or None when the
message no longer applies (it is then skipped, not sent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formataddr
from typing import NamedTuple

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.module_loading import import_string


class Attachment(NamedTuple):
    """A file sent with an email; a plain (filename, content, mimetype) tuple does as well."""

    filename: str
    content: bytes
    mimetype: str


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    from_email: str
    # Files sent with the message (a calendar file), and headers of its own (List-Unsubscribe);
    # the outbox's own headers (Message-ID, Auto-Submitted, Content-Language) always win.
    attachments: tuple[Attachment, ...] = ()
    headers: dict[str, str] = field(default_factory=dict)


def from_templates(
    subject: str,
    template: str,
    context: dict,
    *,
    sender: str,
    attachments: tuple[Attachment, ...] = (),
    headers: dict[str, str] | None = None,
) -> RenderedEmail:
    """An email of `template`.txt and `template`.html rendered with `context`, sent from
    PORTICO_NOTIFICATIONS_FROM under the display name `sender`."""
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"{template}.txt", context),
        html=render_to_string(f"{template}.html", context),
        from_email=formataddr((sender, settings.PORTICO_NOTIFICATIONS_FROM)),
        attachments=attachments,
        headers=dict(headers or {}),
    )


RENDERERS: dict[str, str] = {
    "portal.enrollment": "portico.portal.emails.render_enrollment",
    "account.password_reset": "portico.accounts.emails.render_password_reset",
    "account.username": "portico.accounts.emails.render_username",
    "records.shared_link": "portico.records.emails.render_shared_link",
    "account.mfa_code": "portico.accounts.mfa.render_email_code",
    "messaging.new_for_patient": "portico.messaging.emails.render_new_for_patient",
    "messaging.new_for_practice": "portico.messaging.emails.render_new_for_practice",
    "messaging.record_update": "portico.messaging.emails.render_record_update",
    "scheduling.booked": "portico.scheduling.emails.render_booked",
    "scheduling.moved": "portico.scheduling.emails.render_moved",
    "scheduling.cancelled": "portico.scheduling.emails.render_cancelled",
    "scheduling.reminder": "portico.scheduling.emails.render_reminder",
    "booking.received": "portico.booking.emails.render_received",
    "booking.denied": "portico.booking.emails.render_denied",
    "booking.proposed": "portico.booking.emails.render_proposed",
    "intake.form": "portico.intake.emails.render_form",
}


# Optional: load what a run of emails of one kind needs in one query before they are rendered
# (the outbox drain sends them in batches). The renderer reads `email.prefetched`, if set.
PREFETCHERS: dict[str, str] = {
    "portal.enrollment": "portico.portal.emails.prefetch_enrollment",
    "scheduling.reminder": "portico.scheduling.emails.prefetch_reminders",
}


def renderer_for(kind: str) -> Callable:
    return import_string(RENDERERS[kind])


def prefetch(emails: list) -> None:
    """Let each kind's prefetcher load what these emails need, where one is registered."""
    by_kind: dict[str, list] = {}
    for email in emails:
        by_kind.setdefault(email.kind, []).append(email)
    for kind, group in by_kind.items():
        if kind in PREFETCHERS:
            import_string(PREFETCHERS[kind])(group)
