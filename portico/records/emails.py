"""The email that carries a record link a patient sent: no health data, no patient name.

It is written in the language of the page the patient sent the link from (the outbox renders
it in the language it was queued in, see notifications.services.email_enqueue).
"""

from __future__ import annotations

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from portico.notifications.rendering import RenderedEmail
from portico.records import tokens
from portico.records.models import SharedLink

SUBJECT = _("A health record was shared with you")


def shared_link_url(link: SharedLink) -> str:
    return settings.PORTICO_BASE_URL + reverse(
        "records:shared", args=[tokens.link_token(link.link_nonce)]
    )


def render_shared_link(email) -> RenderedEmail | None:
    """Render at send time; a link revoked or expired before sending is not sent."""
    link = SharedLink.objects.filter(public_id=email.subject_id).first()
    if link is None or not link.is_usable:
        return None
    context = {"url": shared_link_url(link), "expires": link.expires_at}
    return RenderedEmail(
        subject=str(SUBJECT),
        text=render_to_string("records/email/shared_link.txt", context),
        html=render_to_string("records/email/shared_link.html", context),
        from_email=settings.PORTICO_NOTIFICATIONS_FROM,
    )
