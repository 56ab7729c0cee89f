"""The patient's health record: reads (audited), downloads, and links sent to others (SPEC §6).

Patient-side operations take the patient's account first and check that the account holds
active portal access to the chart (a revoked chart does nothing). Link operations write their
audit event and queue the email in one transaction.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from portico.audit.services import audit_read, audit_record
from portico.core.validation import clean_email
from portico.notifications.services import email_enqueue
from portico.portal.models import AccessState, PortalAccess
from portico.records import tokens
from portico.records.models import SharedLink

LINK_EMAIL = "records.shared_link"
LINK_LIFETIME = dt.timedelta(days=7)
# Stored in the audit trail as the actor of a link opening: English, like the rest of the trail.
LINK_RECIPIENT_LABEL = "Recipient of a link you sent"
LINK_GONE_MESSAGE = _("This link no longer works.")


class LinkUnusable(Exception):
    """The link is unknown, revoked or expired (the visitor is not told which)."""


def require_active_access(account, access: PortalAccess) -> None:
    """The account owns this portal access and it is active right now."""
    if access.account_id != account.pk:
        raise Http404
    if access.effective_state != AccessState.ACTIVE:
        raise PermissionDenied


def record_viewed(account, *, access: PortalAccess, page: str) -> None:
    """Audit a patient's read of their record (the caller has checked the access)."""
    audit_read(account, action="phr.view", patient=access.patient, details={"page": page})


def record_downloaded(account, *, access: PortalAccess, fmt: str, appointment=None) -> None:
    """Audit a download of the record, or of one appointment's calendar file (every read is
    audited)."""
    require_active_access(account, access)
    details = {"format": fmt}
    if appointment is not None:
        details["appointment"] = str(appointment.public_id)
    audit_record(
        account,
        action="phr.download",
        practice=access.practice,
        patient=access.patient,
        details=details,
    )


@transaction.atomic
def shared_link_send(account, *, access: PortalAccess, email: str) -> SharedLink:
    """Email a 7-day read-only link to the shared record to an address the patient gives.

    The email names neither the patient nor any health data; it only carries the link. It is
    written in the language the patient is using the portal in.
    """
    require_active_access(account, access)
    errors: dict[str, list[str]] = {}
    if not (email or "").strip():
        errors["email"] = [gettext("Enter the email address to send the link to.")]
    else:
        address = clean_email(email, errors)
    if errors:
        raise ValidationError(errors)
    nonce = tokens.new_link_nonce()
    now = timezone.now()
    link = SharedLink.objects.create(
        practice=access.practice,
        patient=access.patient,
        created_by=account,
        recipient_email=address,
        link_nonce=nonce,
        token_hash=tokens.hash_token(tokens.link_token(nonce)),
        created_at=now,
        expires_at=now + LINK_LIFETIME,
    )
    audit_record(
        account,
        action="phr.link_sent",
        practice=access.practice,
        patient=access.patient,
        details={"link": str(link.public_id)},
    )
    email_enqueue(
        kind=LINK_EMAIL,
        subject_id=link.public_id,
        to_address=address,
        practice=access.practice,
        patient=access.patient,
        language=get_language(),
    )
    return link


def links_of(access: PortalAccess) -> list[SharedLink]:
    """The links sent from this chart, newest first."""
    return list(SharedLink.objects.filter(patient=access.patient))


@transaction.atomic
def shared_link_revoke(account, *, access: PortalAccess, link_id) -> SharedLink:
    """Stop a sent link from working (idempotent). Another chart's link is a 404."""
    require_active_access(account, access)
    link = (
        SharedLink.objects.select_for_update()
        .filter(patient=access.patient, public_id=link_id)
        .first()
    )
    if link is None:
        raise Http404
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        audit_record(
            account,
            action="phr.link_revoked",
            practice=access.practice,
            patient=access.patient,
            details={"link": str(link.public_id)},
        )
    return link


def shared_link_open(token: str, *, page: str = "record") -> SharedLink:
    """The record behind a link, for a visitor without an account; audited as a link access.

    Raises LinkUnusable for an unknown, revoked or expired link, and when the patient's
    portal access has since ended.
    """
    link = (
        SharedLink.objects.select_related("patient", "practice")
        .filter(token_hash=tokens.hash_token(token or ""))
        .first()
    )
    if link is None or not link.is_usable:
        raise LinkUnusable
    access = (
        PortalAccess.objects.filter(patient=link.patient)
        .select_related("current_invitation")
        .first()
    )
    if access is None or access.effective_state != AccessState.ACTIVE:
        raise LinkUnusable
    now = timezone.now()
    SharedLink.objects.filter(pk=link.pk).update(
        opened_count=F("opened_count") + 1, last_opened_at=now
    )
    audit_record(
        None,
        action="phr.link_opened",
        practice=link.practice,
        patient=link.patient,
        details={"link": str(link.public_id), "page": page},
        actor_label=LINK_RECIPIENT_LABEL,
    )
    return link
