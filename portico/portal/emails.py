"""The enrollment email (SPEC §3.4): names the practice, links to registration, no health data."""

from __future__ import annotations

import zoneinfo
from email.utils import formataddr

from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext

from portico.notifications.rendering import RenderedEmail
from portico.portal import tokens
from portico.portal.models import Invitation


def registration_url(invitation: Invitation) -> str:
    token = tokens.link_token(invitation.link_nonce)
    return settings.PORTICO_BASE_URL + reverse("portal:register", args=[token])


def prefetch_enrollment(emails) -> None:
    """Load the invitations of a run of enrollment emails in one query (the outbox drain)."""
    invitations = Invitation.objects.select_related("practice").in_bulk(
        [email.subject_id for email in emails], field_name="public_id"
    )
    for email in emails:
        email.prefetched = invitations.get(email.subject_id)


def render_enrollment(email) -> RenderedEmail | None:
    """Render at send time; an invitation that is no longer usable is not sent."""
    if hasattr(email, "prefetched"):
        invitation = email.prefetched
    else:
        invitation = (
            Invitation.objects.select_related("practice").filter(public_id=email.subject_id).first()
        )
    if invitation is None or not invitation.is_usable:
        return None
    # LANGUAGE: everything below (subject, both bodies, the expiry date's format) is written in
    # the language active here; the chart's preferred language is to be activated at this spot.
    practice = invitation.practice
    expires = invitation.expires_at.astimezone(zoneinfo.ZoneInfo(practice.time_zone))
    context = {
        "practice": practice,
        "url": registration_url(invitation),
        "expires": expires,
    }
    return RenderedEmail(
        subject=gettext("%(practice)s invites you to your patient portal")
        % {"practice": practice.name},
        text=render_to_string("portal/email/enrollment.txt", context),
        html=render_to_string("portal/email/enrollment.html", context),
        from_email=formataddr((practice.name, settings.PORTICO_ENROLLMENT_FROM)),
    )
