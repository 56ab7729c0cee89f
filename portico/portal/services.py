"""Portal enrollment: every transition of a chart's portal access (SPEC §3).

Staff transitions (invite, resend, cancel, revoke) check the actor's right to
invite patients, lock the chart's access row, change state, write the audit event
and queue the enrollment email after commit. Patient transitions (verify,
register, link) work from the registration link alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.utils import timezone

from portico.accounts.sessions import sessions_end_all
from portico.audit import context as audit_context
from portico.audit.models import AuditEvent
from portico.audit.services import audit_read, audit_record
from portico.charts.models import Patient
from portico.charts.selectors import charts_with_portal_where, patients_of
from portico.charts.services import patient_update
from portico.charts.validation import normalize_phone
from portico.core.bulk import insert_rows
from portico.core.validation import clean_email
from portico.notifications import sms
from portico.notifications.services import email_enqueue, email_enqueue_batch
from portico.portal import tokens
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationOrigin,
    InvitationStatus,
    PortalAccess,
    SecurityCode,
)
from portico.practices import permissions

User = get_user_model()
logger = logging.getLogger(__name__)

ENROLLMENT_EMAIL = "portal.enrollment"


class InvalidTransition(Exception):
    """The chart's portal access is not in a state that allows this action."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class RegistrationError(Exception):
    """A registration attempt that cannot go on; `code` says why, `message` is for the patient."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


EXPIRED_LINK_MESSAGE = (
    "This registration link has expired. Please ask your practice to enroll you "
    "in the patient portal again."
)
LOCKED_MESSAGE = (
    "Too many wrong codes were entered, so this invitation is locked. Please ask your "
    "practice to send you a new invitation."
)
NO_ACCESS_MESSAGE = "Ask your doctor to provide access to your health records."

# Which staff actions each state allows (SPEC §3.2). Expired is derived from time.
ACTIONS_BY_STATE = {
    AccessState.NOT_INVITED: ("invite",),
    AccessState.INVITED: ("resend", "cancel"),
    AccessState.ACTIVE: ("revoke",),
    AccessState.CANCELLED: ("invite",),
    AccessState.EXPIRED: ("invite",),
    AccessState.REVOKED: ("invite",),
}


def allowed_actions(access: PortalAccess | None) -> tuple[str, ...]:
    state = access.effective_state if access else AccessState.NOT_INVITED
    return ACTIONS_BY_STATE[AccessState(state)]


# ---------------------------------------------------------------------------
# Staff transitions


def _locked_access(patient: Patient) -> PortalAccess:
    """The chart's access row, created on first use and locked for this transaction."""
    PortalAccess.objects.get_or_create(patient=patient, defaults={"practice": patient.practice})
    # No select_related here: when the lock had to wait for another transaction, PostgreSQL
    # re-reads only the locked row, so a joined invitation could be the one from before that
    # transaction committed (a cancel racing a resend then killed the old invitation and left
    # the new one working). Reading the invitation after the lock is held sees the latest.
    access = PortalAccess.objects.select_for_update().get(patient=patient)
    access.current_invitation  # noqa: B018 (load it now, under the lock)
    return access


def _require_inviter(actor, patient: Patient) -> None:
    _require_inviter_at(actor, patient.practice)


def _require_inviter_at(actor, practice) -> None:
    membership = permissions.membership_for(actor, practice)
    permissions.require(
        permissions.can_invite_patients(membership),
        "You do not have permission to invite patients to the portal.",
    )


def _clean_contact(patient: Patient, email: str | None, phone: str | None) -> tuple[str, str]:
    """The enrollment address and phone: as given, else from demographics. Email is required."""
    email = patient.email if email is None else email
    phone = patient.mobile_phone if phone is None else phone
    errors: dict[str, list[str]] = {}
    if email.strip():
        email = clean_email(email, errors)
    else:
        errors["email"] = ["An email address is needed to send the enrollment email."]
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return email, phone


def _end_current_invitation(access: PortalAccess, status: str) -> Invitation | None:
    """Kill the chart's live invitation (its code and link), if there is one."""
    current = access.current_invitation
    if current is not None and current.status == InvitationStatus.PENDING:
        current.status = status
        current.ended_at = timezone.now()
        current.save(update_fields=["status", "ended_at"])
    return current


def _invitation_values(
    actor_id, *, practice_id: int, patient_id: int, email: str, phone: str, origin, now
) -> dict:
    """The fields of a new invitation: a new access code and a new registration link."""
    nonce = tokens.new_link_nonce()
    return {
        "public_id": uuid.uuid4(),
        "practice_id": practice_id,
        "patient_id": patient_id,
        "email": email,
        "phone": phone,
        "access_code": tokens.new_access_code(),
        "link_nonce": nonce,
        "token_hash": tokens.hash_token(tokens.link_token(nonce)),
        "created_by_id": actor_id,
        "origin": origin,
        "created_at": now,
        "expires_at": now + dt.timedelta(days=settings.PORTICO_INVITATION_TTL_DAYS),
    }


def _issue(
    actor,
    *,
    patient: Patient,
    email: str | None,
    phone: str | None,
    allowed_from: tuple[str, ...],
    action: str,
    origin: str = InvitationOrigin.STAFF,
    actor_label: str = "",
    audit_details: dict | None = None,
) -> Invitation:
    """Issue the chart's one working invitation. `actor` None is the system (auto-invite):
    its caller has checked the practice setting; it uses the chart's contact details as they are.
    """
    if actor is not None:
        _require_inviter(actor, patient)
    email, phone = _clean_contact(patient, email, phone)
    access = _locked_access(patient)
    if access.effective_state not in allowed_from:
        raise InvalidTransition(
            f"This can't be done while the chart's portal status is "
            f"“{access.effective_state_label}”."
        )
    previous_state = access.effective_state
    if actor is not None:
        # Editing the address in the portal window corrects the chart too (one source of truth).
        patient_update(actor, patient=patient, email=email, mobile_phone=phone)

    # Every earlier code and link of the chart dies; only the newest invitation works.
    Invitation.objects.filter(patient=patient, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.SUPERSEDED, ended_at=timezone.now()
    )
    invitation = Invitation.objects.create(
        **_invitation_values(
            actor.pk if actor is not None else None,
            practice_id=patient.practice_id,
            patient_id=patient.pk,
            email=email,
            phone=phone,
            origin=origin,
            now=timezone.now(),
        )
    )
    access.state = AccessState.INVITED
    access.current_invitation = invitation
    access.save(update_fields=["state", "current_invitation", "updated_at"])
    audit_record(
        actor,
        action=action,
        practice=patient.practice,
        patient=patient,
        actor_label=actor_label,
        details={
            "invitation": str(invitation.public_id),
            "from_state": previous_state,
            **(audit_details or {}),
        },
    )
    email_enqueue(
        kind=ENROLLMENT_EMAIL,
        subject_id=invitation.public_id,
        to_address=email,
        practice=patient.practice,
        patient=patient,
    )
    return invitation


@transaction.atomic
def invitation_issue(
    actor, *, patient: Patient, email: str | None = None, phone: str | None = None
) -> Invitation:
    """Invite a chart that is not invited, cancelled, expired or revoked: new code, new link,
    enrollment email; every earlier code and link dies."""
    return _issue(
        actor,
        patient=patient,
        email=email,
        phone=phone,
        action="portal.invite",
        allowed_from=(
            AccessState.NOT_INVITED,
            AccessState.CANCELLED,
            AccessState.EXPIRED,
            AccessState.REVOKED,
        ),
    )


@transaction.atomic
def invitation_resend(
    actor, *, patient: Patient, email: str | None = None, phone: str | None = None
) -> Invitation:
    """Resend a pending invite: like inviting, the patient then needs the new code."""
    return _issue(
        actor,
        patient=patient,
        email=email,
        phone=phone,
        action="portal.resend",
        allowed_from=(AccessState.INVITED,),
    )


AUTO_INVITE_ACTOR = "system (auto-invite)"


@transaction.atomic
def invitation_issue_auto(*, patient: Patient, reason: str) -> Invitation | None:
    """Auto-invite (SPEC §5.1–5.2): the system invites an eligible chart, or does nothing.

    Re-checks everything at the moment of issuing, under the practice's row lock (the one
    `practices.services.auto_invite_set` takes), so a chart is invited only while the practice
    has auto-invite on and only from "not invited"; returns None when it is not eligible. The
    invitation follows the staff rules (new code and link, email after commit) with origin
    "auto"; the patient verifies with date of birth and an SMS security code.
    """
    from portico.portal.auto_invite import ineligible_reason
    from portico.practices.models import Practice

    practice = Practice.objects.select_for_update().get(pk=patient.practice_id)
    patient = Patient.objects.get(pk=patient.pk)
    patient.practice = practice
    if ineligible_reason(patient, practice=practice) is not None:
        return None
    try:
        # `_issue` locks the chart's access row and checks "not invited" again under the lock.
        return _issue(
            None,
            patient=patient,
            email=None,
            phone=None,
            action="portal.invite",
            allowed_from=(AccessState.NOT_INVITED,),
            origin=InvitationOrigin.AUTO,
            actor_label=AUTO_INVITE_ACTOR,
            audit_details={"origin": InvitationOrigin.AUTO, "reason": reason},
        )
    except (InvalidTransition, ValidationError):
        # Invited meanwhile, or contact details the enrollment email cannot use.
        return None


@transaction.atomic
def invitation_cancel(actor, *, patient: Patient) -> PortalAccess:
    """Cancel a pending invite: its code and link die; the state becomes "invite cancelled"."""
    _require_inviter(actor, patient)
    access = _locked_access(patient)
    if access.effective_state != AccessState.INVITED:
        raise InvalidTransition("Only a pending invite can be cancelled.")
    invitation = _end_current_invitation(access, InvitationStatus.CANCELLED)
    access.state = AccessState.CANCELLED
    access.save(update_fields=["state", "updated_at"])
    audit_record(
        actor,
        action="portal.cancel",
        practice=patient.practice,
        patient=patient,
        details={"invitation": str(invitation.public_id) if invitation else None},
    )
    return access


@transaction.atomic
def access_revoke(actor, *, patient: Patient) -> PortalAccess:
    """End an enrolled patient's access to the chart at once, open sessions included."""
    _require_inviter(actor, patient)
    access = _locked_access(patient)
    if access.effective_state != AccessState.ACTIVE:
        raise InvalidTransition("Only an enrolled patient's access can be revoked.")
    access.state = AccessState.REVOKED
    access.save(update_fields=["state", "updated_at"])
    audit_record(
        actor,
        action="portal.revoke",
        practice=patient.practice,
        patient=patient,
        details={"account": str(access.account.public_id) if access.account else None},
    )
    if access.account is not None:
        sessions_end_all(access.account, actor=actor, reason="portal_revoke")
    return access


EXPIRY_ACTOR = "system (expiry)"


def invitations_expire(now: dt.datetime | None = None, batch_size: int = 500) -> int:
    """Periodic job: charts whose pending invitation passed its expiry become "invite expired"
    in the database (not only when read), so lists and counts filtered by state are right.

    The invitation is ended at its expiry time (its link and code were already refused from
    then on); each chart changes in its own transaction under its access row's lock and is
    audited. Safe to run again: an expired chart is no longer found. Returns how many expired.
    """
    now = now or timezone.now()
    expired = 0
    last_pk = 0
    while True:
        batch = list(
            PortalAccess.objects.filter(
                pk__gt=last_pk,
                state=AccessState.INVITED,
                current_invitation__status=InvitationStatus.PENDING,
                current_invitation__expires_at__lte=now,
            )
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return expired
        last_pk = batch[-1]
        for access_pk in batch:
            expired += _expire_one(access_pk, now)


@transaction.atomic
def _expire_one(access_pk: int, now: dt.datetime) -> int:
    access = (
        PortalAccess.objects.select_for_update(of=("self",))
        .select_related("patient", "practice")
        .get(pk=access_pk)
    )
    invitation = access.current_invitation
    due = (
        access.state == AccessState.INVITED
        and invitation is not None
        and invitation.status == InvitationStatus.PENDING
        and invitation.expires_at <= now
    )
    if not due:
        return 0
    invitation.status = InvitationStatus.EXPIRED
    invitation.ended_at = invitation.expires_at
    invitation.save(update_fields=["status", "ended_at"])
    access.state = AccessState.EXPIRED
    access.save(update_fields=["state", "updated_at"])
    audit_record(
        None,
        action="portal.expired",
        practice=access.practice,
        patient=access.patient,
        actor_label=EXPIRY_ACTOR,
        details={"invitation": str(invitation.public_id)},
    )
    return 1


@transaction.atomic
def portal_account_reset(actor, *, patient: Patient) -> Invitation:
    """SPEC §4.5: when the patient can recover nothing else, start over in one step.

    An enrolled patient's access is revoked (their sessions end), a pending invite is
    cancelled, and a new invitation (new link, new access code, enrollment email to the
    chart's address) is sent. The patient then verifies and sets up access again.
    """
    _require_inviter(actor, patient)
    access = _locked_access(patient)
    before = access.effective_state
    if before == AccessState.NOT_INVITED:
        raise InvalidTransition("This chart has no portal access to reset; invite the patient.")
    if before == AccessState.ACTIVE:
        access_revoke(actor, patient=patient)
    elif before == AccessState.INVITED:
        invitation_cancel(actor, patient=patient)
    invitation = invitation_issue(actor, patient=patient)
    audit_record(
        actor,
        action="portal.reset",
        practice=patient.practice,
        patient=patient,
        details={"invitation": str(invitation.public_id), "from_state": before},
    )
    return invitation


def portal_account_unlock(actor, *, patient: Patient):
    """Unlock the account linked to this chart (SPEC §4.4), for staff who may invite."""
    from portico.accounts.services import account_unlock

    _require_inviter(actor, patient)
    access = PortalAccess.objects.select_related("account").filter(patient=patient).first()
    if access is None or access.account is None or access.effective_state != AccessState.ACTIVE:
        raise InvalidTransition("Only an enrolled patient's account can be unlocked.")
    if not access.account.is_locked:
        raise InvalidTransition("The patient's account is not locked.")
    return account_unlock(actor, user=access.account, practice=patient.practice)


# ---------------------------------------------------------------------------
# Many charts at once (bulk invite, SPEC §5.3)

# Why a chart of a batch was not invited; the keys are stored in a run's counts.
SKIP_NO_EMAIL = "no_email"
SKIP_INVALID_EMAIL = "invalid_email"
SKIP_REASONS = {
    SKIP_NO_EMAIL: "No email address on the chart",
    SKIP_INVALID_EMAIL: "The chart's email address is not valid",
    **{f"state_{state.value}": f"Portal status is “{state.label}”" for state in AccessState},
}


@dataclass
class BatchResult:
    invited: dict[int, uuid.UUID]  # patient id -> the new invitation's public_id
    skipped: dict[int, str]  # patient id -> reason key (SKIP_REASONS)


@transaction.atomic
def invitation_issue_batch(
    actor, *, practice, patient_ids: list[int], origin: str = InvitationOrigin.BULK, details=None
) -> BatchResult:
    """Invite every chart of `patient_ids` (of `practice`) that is not invited, in a few queries.

    The rules are those of invitation_issue for a chart that was never invited: the chart's
    access row is locked and its state checked under the lock (a chart invited meanwhile by
    staff is skipped, never invited twice), a new code and link are made, the audit event is
    written and the enrollment email is queued, all in the caller's transaction. Charts in any
    other portal state, or without a valid email, are skipped with a reason. The email on the
    chart is used as it is; nothing on the chart changes. The query count does not depend on
    the number of charts (about ten per call); rows are written with core.bulk.insert_rows.
    """
    if not patient_ids:
        return BatchResult({}, {})
    _require_inviter_at(actor, practice)
    ids = list(patient_ids)

    # Lock every chart's access row, as _locked_access does for one, then judge it.
    insert_rows(
        PortalAccess,
        ({"patient_id": pk, "practice_id": practice.pk} for pk in ids),
        ignore_conflicts=True,
    )
    states = dict(
        PortalAccess.objects.select_for_update()
        .filter(patient_id__in=ids)
        .values_list("patient_id", "state")
    )
    skipped: dict[int, str] = {}
    candidates = []
    for pk in ids:
        if states[pk] != AccessState.NOT_INVITED:
            skipped[pk] = f"state_{states[pk]}"
        else:
            candidates.append(pk)
    # The address as it is now that the rows are locked (staff edits lock the same row first);
    # a chart of another practice is not found here, so nothing crosses practices.
    contacts = (
        patients_of(practice).filter(pk__in=candidates).values_list("pk", "email", "mobile_phone")
    )
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    rows = []
    for pk, raw_email, phone in contacts:
        errors: dict[str, list[str]] = {}
        email = clean_email(raw_email, errors) if raw_email.strip() else ""
        if not email or errors:
            skipped[pk] = SKIP_INVALID_EMAIL if email else SKIP_NO_EMAIL
            continue
        rows.append(
            _invitation_values(
                actor_id,
                practice_id=practice.pk,
                patient_id=pk,
                email=email,
                phone=phone,
                origin=origin,
                now=now,
            )
        )
    if not rows:
        return BatchResult({}, skipped)
    invited = {row["patient_id"]: row["public_id"] for row in rows}
    # A chart that is not invited has no live invitation; make sure of it all the same.
    Invitation.objects.filter(patient_id__in=invited, status=InvitationStatus.PENDING).update(
        status=InvitationStatus.SUPERSEDED, ended_at=now
    )
    insert_rows(Invitation, rows)
    newest = Invitation.objects.filter(
        patient=OuterRef("patient"), status=InvitationStatus.PENDING
    ).order_by("-pk")
    PortalAccess.objects.filter(patient_id__in=invited).update(
        state=AccessState.INVITED,
        current_invitation=Subquery(newest.values("pk")[:1]),
        updated_at=now,
    )
    where = audit_context.current()
    label = actor.display_name if actor is not None else "system"
    insert_rows(
        AuditEvent,
        (
            {
                "actor_id": actor_id,
                "actor_label": label,
                "practice_id": practice.pk,
                "patient_id": pk,
                "action": "portal.invite",
                "details": {
                    "invitation": str(public_id),
                    "from_state": AccessState.NOT_INVITED.value,
                    "origin": origin,
                    **(details or {}),
                },
                "ip_address": where.ip_address,
                "user_agent": where.user_agent,
            }
            for pk, public_id in invited.items()
        ),
    )
    email_enqueue_batch(
        kind=ENROLLMENT_EMAIL,
        items=[
            {
                "subject_id": row["public_id"],
                "to_address": row["email"],
                "practice_id": practice.pk,
                "patient_id": row["patient_id"],
            }
            for row in rows
        ],
    )
    return BatchResult(invited, skipped)


# ---------------------------------------------------------------------------
# Patient side: registration through the emailed link


def invitation_for_link(token: str) -> Invitation:
    """The invitation behind a registration link, if the link still works."""
    invitation = (
        Invitation.objects.select_related("practice", "patient")
        .filter(token_hash=tokens.hash_token(token or ""))
        .first()
    )
    if invitation is None or invitation.status != InvitationStatus.PENDING or invitation.is_expired:
        raise RegistrationError("expired_link", EXPIRED_LINK_MESSAGE)
    if invitation.is_locked:
        raise RegistrationError("locked", LOCKED_MESSAGE)
    return invitation


def _method(method: str) -> dict:
    """Audit detail naming the phone route; the access code route is the default."""
    return {} if method == "access_code" else {"method": method}


def _audit_registration(invitation: Invitation, action: str, **details) -> None:
    """An event of the registration page (no account yet): which invitation, never answers."""
    audit_record(
        None,
        action=action,
        practice=invitation.practice,
        patient=invitation.patient,
        actor_label="registration page",
        details={"invitation": str(invitation.public_id), **details},
    )


def _record_failed_attempt(invitation: Invitation, method: str = "access_code") -> int:
    """Count a wrong answer; the caller holds the invitation's lock and commits before refusing."""
    limit = settings.PORTICO_INVITATION_MAX_CODE_ATTEMPTS
    with transaction.atomic():
        Invitation.objects.filter(pk=invitation.pk).update(failed_attempts=F("failed_attempts") + 1)
        invitation.refresh_from_db(fields=["failed_attempts", "locked_at"])
        if invitation.failed_attempts >= limit and invitation.locked_at is None:
            invitation.locked_at = timezone.now()
            invitation.save(update_fields=["locked_at"])
            _audit_registration(invitation, "portal.invitation_locked", **_method(method))
        else:
            _audit_registration(
                invitation,
                "portal.verify_failed",
                attempt=invitation.failed_attempts,
                **_method(method),
            )
    return max(limit - invitation.failed_attempts, 0)


def _verify(token: str, *, accept, method: str, wrong_message: str) -> Invitation:
    """Judge one answer to the link's invitation; `accept(invitation)` says whether it is right.

    A wrong answer of either kind counts towards the one lock (five by default). Attempts
    on one invitation are judged one at a time under its row lock, so simultaneous guesses
    cannot slip past the limit.
    """
    invitation = invitation_for_link(token)
    with transaction.atomic():
        invitation = _locked_usable_invitation(str(invitation.public_id))
        if accept(invitation):
            _audit_registration(invitation, "portal.verified", **_method(method))
            return invitation
        left = _record_failed_attempt(invitation, method)
    # Raised after the block, so the counted attempt is committed.
    if left == 0:
        raise RegistrationError("locked", LOCKED_MESSAGE)
    raise RegistrationError("wrong_code", _tries_left_message(left, wrong_message))


def registration_verify(
    *, token: str, date_of_birth: dt.date | None, access_code: str
) -> Invitation:
    """Check the patient's date of birth and access code against the link's invitation.

    A wrong answer counts towards the lock (five by default); the answer never says
    which of the two was wrong. Attempts on one invitation are checked one at a time
    under its row lock, so simultaneous guesses cannot slip past the limit.
    """

    def accept(invitation: Invitation) -> bool:
        dob_ok = date_of_birth is not None and date_of_birth == invitation.patient.date_of_birth
        code_ok = tokens.access_code_matches(invitation.access_code, access_code)
        return dob_ok and code_ok

    return _verify(
        token,
        accept=accept,
        method="access_code",
        wrong_message="The date of birth or access code does not match.",
    )


def _tries_left_message(left: int, what: str) -> str:
    tries = "1 try" if left == 1 else f"{left} tries"
    return f"{what} You have {tries} left."


# ---------------------------------------------------------------------------
# Patient side: the phone route (date of birth + a security code texted to the phone on file)

SECURITY_CODE_TEXT = (
    "{code} is your security code for the {practice} patient portal. "
    "It expires in {minutes} minutes. Do not share it with anyone."
)
CODE_TOO_SOON_MESSAGE = "A code was sent a moment ago. Please wait a minute before asking again."
TOO_MANY_CODES_MESSAGE = (
    "Too many codes were asked for. Please try again in an hour, or use the access code "
    "from your practice."
)


def phone_route_available(invitation: Invitation) -> bool:
    """The phone route needs a phone on the invitation and an SMS backend."""
    return bool(invitation.phone) and sms.sms_enabled()


def _phone_matches(on_file: str, given: str) -> bool:
    try:
        given = normalize_phone(given)
    except ValidationError:
        return False
    return bool(on_file) and secrets.compare_digest(on_file.encode(), given.encode())


def security_code_request(*, token: str, date_of_birth: dt.date | None, phone: str) -> SecurityCode:
    """Text a new security code if the date of birth and phone match the invitation.

    The answer is the same whether they match or not (nothing is texted when they do
    not), and so are the limits: one request a minute and five an hour per invitation.
    Each request replaces the invitation's earlier codes. The text is sent by the task
    worker after commit, so the time to answer does not depend on the match either.
    """
    from portico.portal.tasks import text_security_code

    invitation = invitation_for_link(token)
    with transaction.atomic():
        invitation = _locked_usable_invitation(str(invitation.public_id))
        now = timezone.now()
        recent = list(
            invitation.security_codes.filter(created_at__gt=now - dt.timedelta(hours=1))
            .order_by("-created_at")
            .values_list("created_at", flat=True)
        )
        wait = dt.timedelta(seconds=settings.PORTICO_SECURITY_CODE_RESEND_SECONDS)
        if recent and recent[0] > now - wait:
            raise RegistrationError("too_soon", CODE_TOO_SOON_MESSAGE)
        if len(recent) >= settings.PORTICO_SECURITY_CODES_PER_HOUR:
            raise RegistrationError("too_many_codes", TOO_MANY_CODES_MESSAGE)
        matched = (
            phone_route_available(invitation)
            and date_of_birth is not None
            and date_of_birth == invitation.patient.date_of_birth
            and _phone_matches(invitation.phone, phone)
        )
        code = SecurityCode.objects.create(
            invitation=invitation,
            nonce=tokens.new_link_nonce(),
            matched=matched,
            created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.PORTICO_SECURITY_CODE_TTL_MINUTES),
        )
        # Whether it matched helps staff help the patient; the answers stay out of the record.
        _audit_registration(invitation, "portal.security_code_requested", matched=matched)
        if matched:
            transaction.on_commit(lambda: text_security_code.enqueue(code_id=code.pk))
    return code


def security_code_deliver(*, code_id: int) -> str:
    """Text one requested security code (the task worker calls this); at most once.

    A code that was replaced, used or expired before its turn came is not sent.
    """
    code = (
        SecurityCode.objects.select_related("invitation__practice", "invitation__patient")
        .filter(pk=code_id, matched=True, delivered_at__isnull=True, used_at__isnull=True)
        .first()
    )
    if code is None or code.is_expired:
        return "skipped"
    invitation = code.invitation
    newest = invitation.security_codes.values_list("pk", flat=True).first()
    if newest != code.pk or invitation.status != InvitationStatus.PENDING:
        return "skipped"
    # Claim it first, so that a task run twice never texts twice.
    claimed = SecurityCode.objects.filter(pk=code.pk, delivered_at__isnull=True).update(
        delivered_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    text = SECURITY_CODE_TEXT.format(
        code=tokens.security_code(code.nonce),
        practice=invitation.practice.name,
        minutes=settings.PORTICO_SECURITY_CODE_TTL_MINUTES,
    )
    details = {
        "invitation": str(invitation.public_id),
        "phone_ending": invitation.phone[-2:],
    }
    try:
        sms.send_sms(invitation.phone, text)
    except sms.SmsError as exc:
        logger.warning("security code %s not texted: %s", code.pk, exc)
        audit_record(
            None,
            action="portal.security_code_failed",
            practice=invitation.practice,
            patient=invitation.patient,
            details={**details, "error": str(exc)[:200]},
        )
        return "failed"
    audit_record(
        None,
        action="portal.security_code_sent",
        practice=invitation.practice,
        patient=invitation.patient,
        details=details,
    )
    return "sent"


def registration_verify_security_code(*, token: str, security_code: str) -> Invitation:
    """Check a texted security code: only the newest, unused, unexpired one works.

    Wrong codes count towards the same lock as wrong access codes (five by default).
    """

    def accept(invitation: Invitation) -> bool:
        newest = invitation.security_codes.first()
        if (
            newest is None
            or not newest.matched
            or newest.used_at is not None
            or newest.is_expired
            or not tokens.security_code_matches(newest.nonce, security_code)
        ):
            return False
        newest.used_at = timezone.now()
        newest.save(update_fields=["used_at"])
        return True

    return _verify(
        token,
        accept=accept,
        method="security_code",
        wrong_message="The security code is wrong or has expired.",
    )


def _locked_usable_invitation(invitation_public_id: str) -> Invitation:
    found = (
        Invitation.objects.select_related("patient").filter(public_id=invitation_public_id).first()
    )
    if found is None:
        raise RegistrationError("expired_link", EXPIRED_LINK_MESSAGE)
    # Lock in the order the staff transitions do, the chart's access row before its
    # invitations, so a registration racing a resend or a cancel waits instead of deadlocking.
    _locked_access(found.patient)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("practice", "patient")
        .filter(pk=found.pk)
        .first()
    )
    if invitation is None or invitation.status != InvitationStatus.PENDING or invitation.is_expired:
        raise RegistrationError("expired_link", EXPIRED_LINK_MESSAGE)
    if invitation.is_locked:
        raise RegistrationError("locked", LOCKED_MESSAGE)
    return invitation


def _enroll(invitation: Invitation, account) -> PortalAccess:
    """Use the invitation once and give the account access to the chart."""
    now = timezone.now()
    invitation.status = InvitationStatus.USED
    invitation.used_at = now
    invitation.save(update_fields=["status", "used_at"])
    access = _locked_access(invitation.patient)
    access.state = AccessState.ACTIVE
    access.account = account
    access.enrolled_at = now
    access.save(update_fields=["state", "account", "enrolled_at", "updated_at"])
    audit_record(
        account,
        action="portal.register",
        practice=invitation.practice,
        patient=invitation.patient,
        details={"invitation": str(invitation.public_id), "account": str(account.public_id)},
    )
    return access


@transaction.atomic
def registration_create_account(*, invitation_id: str, email: str, password: str):
    """Finish registration with a new account (email as username); the link is then used up."""
    invitation = _locked_usable_invitation(invitation_id)
    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors)
    if not errors.get("email") and User.objects.filter(email__iexact=email).exists():
        # The patient has proved who they are, so saying this does not leak to strangers.
        errors["email"] = [
            "There is already a Portico account with this email. Sign in below to add "
            "this record to it."
        ]
    try:
        validate_password(password or "", user=User(email=email))
    except ValidationError as exc:
        errors["password"] = exc.messages
    if errors:
        raise ValidationError(errors)
    try:
        with transaction.atomic():
            account = User.objects.create_user(email=email, password=password)
    except IntegrityError as exc:
        raise ValidationError({"email": ["An account with this email was just created."]}) from exc
    _enroll(invitation, account)
    return account


@transaction.atomic
def registration_link_account(account, *, invitation_id: str) -> PortalAccess:
    """Finish registration by linking the chart to an account the patient signed in to."""
    invitation = _locked_usable_invitation(invitation_id)
    return _enroll(invitation, account)


# ---------------------------------------------------------------------------
# Patient side: reading


def patient_access_list(account) -> list[PortalAccess]:
    """Every chart the account registered for, with its current state (revoked ones too), its
    patient, practice and current invitation."""
    charts = charts_with_portal_where(
        "a.account_id = %s ORDER BY p.name, c.legal_last_name, a.id", [account.pk]
    )
    return [patient.portal_access for patient in charts]


def record_viewed(account, *, access: PortalAccess, page: str) -> None:
    """Audit a patient's read of their record."""
    audit_read(account, action="phr.view", patient=access.patient, details={"page": page})
