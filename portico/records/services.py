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
from portico.portal.models import AccessState, PortalAccess, Representative
from portico.records import selectors, tokens
from portico.records.models import SharedLink
from portico.records.selectors import SharedRecord

LINK_EMAIL = "records.shared_link"
LINK_LIFETIME = dt.timedelta(days=7)
# Stored in the audit trail as the actor of a link opening: English, like the rest of the trail.
LINK_RECIPIENT_LABEL = "Recipient of a link you sent"
LINK_GONE_MESSAGE = _("This link no longer works.")


class LinkUnusable(Exception):
    """The link is unknown, revoked or expired (the visitor is not told which)."""


def require_active_access(account, access: PortalAccess | Representative) -> None:
    """The account owns this portal access and it is active right now."""
    if access.account_id != account.pk:
        raise Http404
    if access.effective_state != AccessState.ACTIVE:
        raise PermissionDenied


def record_viewed(account, *, access: PortalAccess | Representative, page: str) -> None:
    """Audit a patient's read of their record (the caller has checked the access)."""
    audit_read(account, action="phr.view", patient=access.patient, details={"page": page})


def record_downloaded(
    account, *, access: PortalAccess | Representative, fmt: str, appointment=None
) -> None:
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
def shared_link_send(account, *, access: PortalAccess | Representative, email: str) -> SharedLink:
    """Email a 7-day read-only link to the shared record to an address the patient gives.

    The email names neither the patient nor any health data; it only carries the link. It is
    written in the language the patient is using the portal in.

    A representative may send one too (a caregiver sending a parent's record to a new doctor
    is what transmitting is for), and the link remembers them (`SharedLink.representative`):
    it then shows only what that representative may see — never what is confidential from
    representatives — and stops working when their access ends (`shared_link_open`,
    `link_record`). Refusing representatives would have been safe too, but would have taken
    transmitting from the people who most often do it for a patient; a link that shows exactly
    what its sender sees keeps the rule "never more than the sender could see" instead.
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
        representative=access if isinstance(access, Representative) else None,
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


def _links_seen_by(access: PortalAccess | Representative):
    """The links an access may see and stop: the patient every link sent from the chart (their
    own and their representatives'), a representative only those they sent (where the patient
    sent their record is not theirs to know)."""
    links = SharedLink.objects.filter(patient=access.patient)
    if isinstance(access, Representative):
        links = links.filter(representative=access)
    return links


def links_of(access: PortalAccess | Representative) -> list[SharedLink]:
    """The links sent from this chart that the access may see, newest first."""
    return list(_links_seen_by(access).select_related("representative"))


@transaction.atomic
def shared_link_revoke(account, *, access: PortalAccess | Representative, link_id) -> SharedLink:
    """Stop a sent link from working (idempotent). A link the access may not see (another
    chart's, or for a representative one they did not send) is a 404."""
    require_active_access(account, access)
    link = _links_seen_by(access).select_for_update().filter(public_id=link_id).first()
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


def _sent_through(link: SharedLink) -> PortalAccess | Representative | None:
    """The access a link was sent through: the representative's, or the patient's own."""
    if link.representative_id is not None:
        return link.representative
    return (
        PortalAccess.objects.filter(patient=link.patient)
        .select_related("patient", "practice", "current_invitation")
        .first()
    )


def shared_link_open(token: str, *, page: str = "record") -> SharedLink:
    """The record behind a link, for a visitor without an account; audited as a link access.

    Raises LinkUnusable for an unknown, revoked or expired link, and when the access it was
    sent through (the patient's portal access, or the representative's) has since ended.
    """
    link = (
        SharedLink.objects.select_related(
            "patient",
            "practice",
            "representative__patient",
            "representative__practice",
            "representative__current_invitation",
        )
        .filter(token_hash=tokens.hash_token(token or ""))
        .first()
    )
    if link is None or not link.is_usable:
        raise LinkUnusable
    access = _sent_through(link)
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


def link_record(link: SharedLink) -> SharedRecord:
    """What a link shows: the record as the access it was sent through sees it (a link a
    representative sent never shows what is confidential from representatives). Call it after
    `shared_link_open` accepted the link."""
    access = _sent_through(link)
    if access is None:
        raise LinkUnusable
    return selectors.record_of(access)
