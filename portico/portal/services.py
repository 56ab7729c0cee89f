"""Portal enrollment, the practice's side: every staff and system transition of a chart's
portal access (SPEC §3, §4.4–4.5, §5), one chart at a time or a batch (bulk invite).

Staff transitions (invite, resend, cancel, revoke, reset, unlock) check the actor's right to
invite patients, lock the chart's access row, change state, write the audit event and queue
the enrollment email after commit. The patient's side (verify, register, link) is in
portal.registration.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.accounts.services import sign_in_throttle_clear
from portico.accounts.sessions import sessions_end_all
from portico.audit.services import EventOf, audit_read, audit_record, audit_record_many
from portico.charts.models import Patient
from portico.charts.selectors import patients_of
from portico.charts.services import patient_update
from portico.charts.validation import normalize_phone
from portico.core.bulk import insert_rows
from portico.core.languages import spoken
from portico.core.validation import clean_email
from portico.notifications.services import email_enqueue, email_enqueue_batch
from portico.portal import tokens
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationOrigin,
    InvitationStatus,
    PortalAccess,
    Relationship,
    Representative,
)
from portico.portal.representation import (
    is_endable,
    is_renewable,
    may_manage_representatives,
    practice_today,
)
from portico.practices import permissions
from portico.practices import selectors as practice_selectors

ENROLLMENT_EMAIL = "portal.enrollment"


class InvalidTransition(Exception):
    """The chart's portal access is not in a state that allows this action."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


NO_ACCESS_MESSAGE = _("Ask your doctor to provide access to your health records.")


def records_listed(account, *, accesses: list[PortalAccess]) -> None:
    """Audit the portal home's list of the account's records (whose record, at which practice,
    is health information too): one read event per chart shown."""
    for access in accesses:
        audit_read(account, action="phr.view", patient=access.patient, details={"page": "home"})


# ---------------------------------------------------------------------------
# Staff transitions


def access_locked(patient: Patient) -> PortalAccess:
    """The chart's access row, created on first use and locked for this transaction (every
    transition of the chart's portal access, registration included, takes this lock first)."""
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
    membership = practice_selectors.membership_for(actor, practice)
    permissions.require(
        permissions.can_invite_patients(membership),
        gettext("You do not have permission to invite patients to the portal."),
    )


def _clean_contact(patient: Patient, email: str | None, phone: str | None) -> tuple[str, str]:
    """The enrollment address and phone: as given, else from demographics. Email is required."""
    email = patient.email if email is None else email
    phone = patient.mobile_phone if phone is None else phone
    errors: dict[str, list[str]] = {}
    if email.strip():
        email = clean_email(email, errors)
    else:
        errors["email"] = [gettext("An email address is needed to send the enrollment email.")]
    try:
        phone = normalize_phone(phone)
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return email, phone


def _end_current_invitation(
    access: PortalAccess | Representative, status: str
) -> Invitation | None:
    """Kill the access's live invitation (its code and link), if there is one."""
    current = access.current_invitation
    if current is not None and current.status == InvitationStatus.PENDING:
        current.status = status
        current.ended_at = timezone.now()
        current.save(update_fields=["status", "ended_at"])
    return current


def _invitation_values(
    actor_id,
    *,
    practice_id: int,
    patient_id: int,
    email: str,
    phone: str,
    origin,
    now,
    representative_id: int | None = None,
) -> dict:
    """The fields of a new invitation: a new access code and a new registration link."""
    nonce = tokens.new_link_nonce()
    return {
        "public_id": uuid.uuid4(),
        "practice_id": practice_id,
        "patient_id": patient_id,
        "representative_id": representative_id,
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
    access = access_locked(patient)
    if access.effective_state not in allowed_from:
        raise InvalidTransition(
            gettext("This can't be done while the chart's portal status is “%(state)s”.")
            % {"state": access.effective_state_label}
        )
    previous_state = access.effective_state
    if actor is not None:
        # Editing the address in the portal window corrects the chart too (one source of truth).
        patient_update(actor, patient=patient, email=email, mobile_phone=phone)

    invitation = _new_invitation(
        actor, holder=access, patient=patient, email=email, phone=phone, origin=origin
    )
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
    _send_enrollment_email(invitation, patient)
    return invitation


def _new_invitation(
    actor,
    *,
    holder: PortalAccess | Representative,
    patient: Patient,
    email: str,
    phone: str,
    origin: str = InvitationOrigin.STAFF,
) -> Invitation:
    """A new code and link for the locked `holder` (the chart's own access or one
    representative), which becomes "invite pending"; every earlier code and link of that
    holder dies, so only the newest invitation works. The others' invitations are untouched."""
    representative = holder if isinstance(holder, Representative) else None
    Invitation.objects.filter(
        patient=patient, representative=representative, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.SUPERSEDED, ended_at=timezone.now())
    invitation = Invitation.objects.create(
        **_invitation_values(
            actor.pk if actor is not None else None,
            practice_id=patient.practice_id,
            patient_id=patient.pk,
            email=email,
            phone=phone,
            origin=origin,
            now=timezone.now(),
            representative_id=representative.pk if representative is not None else None,
        )
    )
    holder.state = AccessState.INVITED
    holder.current_invitation = invitation
    holder.save(update_fields=["state", "current_invitation", "updated_at"])
    return invitation


def _send_enrollment_email(invitation: Invitation, patient: Patient) -> None:
    email_enqueue(
        kind=ENROLLMENT_EMAIL,
        subject_id=invitation.public_id,
        to_address=invitation.email,
        practice=patient.practice,
        patient=patient,
    )


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
    access = access_locked(patient)
    if access.effective_state != AccessState.INVITED:
        raise InvalidTransition(gettext("Only a pending invite can be cancelled."))
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
    access = access_locked(patient)
    if access.effective_state != AccessState.ACTIVE:
        raise InvalidTransition(gettext("Only an enrolled patient's access can be revoked."))
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
    if not due or invitation is None:
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
    access = access_locked(patient)
    before = access.effective_state
    if before == AccessState.NOT_INVITED:
        raise InvalidTransition(
            gettext("This chart has no portal access to reset; invite the patient.")
        )
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


@transaction.atomic
def portal_account_unlock(actor, *, patient: Patient):
    """Unlock the account of this chart's enrolled patient (SPEC §4.4), for staff who may
    invite: its wrong-password count, wait and lock are cleared. Returns the account."""
    _require_inviter(actor, patient)
    access = PortalAccess.objects.select_related("account").filter(patient=patient).first()
    if access is None or access.account is None or access.effective_state != AccessState.ACTIVE:
        raise InvalidTransition(gettext("Only an enrolled patient's account can be unlocked."))
    account = access.account
    if not account.is_locked:
        raise InvalidTransition(gettext("The patient's account is not locked."))
    if sign_in_throttle_clear(account):
        audit_record(
            actor,
            action="account.unlocked",
            practice=patient.practice,
            patient=patient,
            details={"account": str(account.public_id), "by": "staff"},
        )
    return account


# ---------------------------------------------------------------------------
# Many charts at once (bulk invite, SPEC §5.3)

# Why a chart of a batch was not invited; the keys are stored in a run's counts.
SKIP_NO_EMAIL = "no_email"
SKIP_INVALID_EMAIL = "invalid_email"


def _state_skip_reason(state: AccessState) -> str:
    return gettext("Portal status is “%(state)s”") % {"state": state.label}


_state_skip_reason_lazy = lazy(_state_skip_reason, str)

SKIP_REASONS = {
    SKIP_NO_EMAIL: _("No email address on the chart"),
    SKIP_INVALID_EMAIL: _("The chart's email address is not valid"),
    **{f"state_{state.value}": _state_skip_reason_lazy(state) for state in AccessState},
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
        patients_of(practice)
        .filter(pk__in=candidates)
        .values_list("pk", "email", "mobile_phone", "preferred_language")
    )
    now = timezone.now()
    actor_id = actor.pk if actor is not None else None
    rows = []
    languages = {}
    for pk, raw_email, phone, preferred_language in contacts:
        languages[pk] = spoken(preferred_language) or settings.LANGUAGE_CODE
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
    Invitation.objects.filter(
        patient_id__in=invited, representative=None, status=InvitationStatus.PENDING
    ).update(status=InvitationStatus.SUPERSEDED, ended_at=now)
    insert_rows(Invitation, rows)
    newest = Invitation.objects.filter(
        patient=OuterRef("patient"), representative=None, status=InvitationStatus.PENDING
    ).order_by("-pk")
    PortalAccess.objects.filter(patient_id__in=invited).update(
        state=AccessState.INVITED,
        current_invitation=Subquery(newest.values("pk")[:1]),
        updated_at=now,
    )
    audit_record_many(
        actor,
        action="portal.invite",
        practice=practice,
        events=(
            EventOf(
                pk,
                {
                    "invitation": str(public_id),
                    "from_state": AccessState.NOT_INVITED.value,
                    "origin": origin,
                    **(details or {}),
                },
            )
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
                "language": languages[row["patient_id"]],
            }
            for row in rows
        ],
    )
    return BatchResult(invited, skipped)


# ---------------------------------------------------------------------------
# Representatives (SPEC §9): invited by staff, registered like a patient, in the same states;
# the patient may end their access. Each transition locks the representative's row, changes
# state, writes an audit event of the chart (the portal window's timeline shows it) and, for an
# invitation, queues the same enrollment email as a patient's (it names no patient).


def representative_locked(representative: Representative) -> Representative:
    """The representative's row, locked for this transaction, its invitation read under the
    lock (as access_locked does for the chart's own access)."""
    locked = Representative.objects.select_for_update().get(pk=representative.pk)
    locked.current_invitation  # noqa: B018 (load it now, under the lock)
    return locked


def _representative_details(representative: Representative, **more) -> dict:
    return {
        "representative": str(representative.public_id),
        "relationship": representative.relationship,
        **more,
    }


NAME_MAX_LENGTH = 200  # Representative.name


def _clean_representative(name: str, relationship: str, errors: dict[str, list[str]]) -> str:
    name = " ".join((name or "").split())
    if not name:
        errors["name"] = [gettext("Enter the representative's name.")]
    elif len(name) > NAME_MAX_LENGTH:
        errors["name"] = [gettext("The name is too long.")]
    if relationship not in Relationship.values:
        errors["relationship"] = [gettext("Choose the representative's relationship.")]
    return name


def _check_end_date(practice, ends_on: dt.date | None, errors: dict[str, list[str]]) -> None:
    if ends_on is not None and ends_on < practice_today(practice):
        errors["ends_on"] = [gettext("The end date can't be in the past.")]


def _representative_contact(email: str, phone: str) -> tuple[str, str]:
    errors: dict[str, list[str]] = {}
    if (email or "").strip():
        email = clean_email(email, errors)
    else:
        errors["email"] = [gettext("An email address is needed to send the enrollment email.")]
    try:
        phone = normalize_phone(phone or "")
    except ValidationError as exc:
        errors["phone"] = exc.messages
    if errors:
        raise ValidationError(errors)
    return email, phone


@transaction.atomic
def representative_invite(
    actor,
    *,
    patient: Patient,
    name: str,
    relationship: str,
    email: str,
    phone: str = "",
    ends_on: dt.date | None = None,
) -> Representative:
    """Invite a patient's authorized representative (SPEC §9.1): a new representative of the
    chart in "invite pending", with its own access code, link and enrollment email."""
    _require_inviter(actor, patient)
    errors: dict[str, list[str]] = {}
    name = _clean_representative(name, relationship, errors)
    _check_end_date(patient.practice, ends_on, errors)
    try:
        email, phone = _representative_contact(email, phone)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    representative = Representative.objects.create(
        patient=patient,
        practice=patient.practice,
        name=name,
        relationship=relationship,
        ends_on=ends_on,
    )
    representative = representative_locked(representative)
    invitation = _new_invitation(
        actor, holder=representative, patient=patient, email=email, phone=phone
    )
    audit_record(
        actor,
        action="portal.representative_invite",
        practice=patient.practice,
        patient=patient,
        details=_representative_details(representative, invitation=str(invitation.public_id)),
    )
    _send_enrollment_email(invitation, patient)
    return representative


def _representative_reissue(
    actor,
    *,
    representative: Representative,
    email: str | None,
    phone: str | None,
    allowed_from: tuple[str, ...],
    action: str,
) -> Invitation:
    patient = representative.patient
    _require_inviter(actor, patient)
    locked = representative_locked(representative)
    locked.patient, locked.practice = patient, patient.practice
    state = locked.effective_state
    if state not in allowed_from:
        raise InvalidTransition(
            gettext("This can't be done while the representative's status is “%(state)s”.")
            % {"state": locked.effective_state_label}
        )
    last = locked.current_invitation
    email = (last.email if last else "") if email is None else email
    phone = (last.phone if last else "") if phone is None else phone
    email, phone = _representative_contact(email, phone)
    invitation = _new_invitation(actor, holder=locked, patient=patient, email=email, phone=phone)
    if state != AccessState.INVITED:
        # Invited again, the access is given anew (a parent's, given after the patient came of
        # age, does not end with it: representation.came_of_age); an ended one's end date and
        # renewal no longer apply.
        locked.created_at = timezone.now()
        fields = ["created_at", "updated_at"]
        if state == AccessState.ENDED:
            locked.ends_on, locked.ended_at, locked.renewed_at = None, None, None
            fields += ["ends_on", "ended_at", "renewed_at"]
        locked.save(update_fields=fields)
    audit_record(
        actor,
        action=action,
        practice=patient.practice,
        patient=patient,
        details=_representative_details(
            locked, invitation=str(invitation.public_id), from_state=state
        ),
    )
    _send_enrollment_email(invitation, patient)
    representative.state, representative.current_invitation = locked.state, invitation
    return invitation


@transaction.atomic
def representative_reinvite(
    actor, *, representative: Representative, email: str | None = None, phone: str | None = None
) -> Invitation:
    """Invite a representative again whose invite was cancelled or expired, or whose access was
    revoked or ended: new code, new link, enrollment email."""
    return _representative_reissue(
        actor,
        representative=representative,
        email=email,
        phone=phone,
        action="portal.representative_invite",
        allowed_from=(
            AccessState.CANCELLED,
            AccessState.EXPIRED,
            AccessState.REVOKED,
            AccessState.ENDED,
        ),
    )


@transaction.atomic
def representative_resend(
    actor, *, representative: Representative, email: str | None = None, phone: str | None = None
) -> Invitation:
    """Resend a representative's pending invite: a new code and link replace the old ones."""
    return _representative_reissue(
        actor,
        representative=representative,
        email=email,
        phone=phone,
        action="portal.representative_resend",
        allowed_from=(AccessState.INVITED,),
    )


@transaction.atomic
def representative_cancel(actor, *, representative: Representative) -> Representative:
    """Cancel a representative's pending invite: its code and link die."""
    patient = representative.patient
    _require_inviter(actor, patient)
    locked = representative_locked(representative)
    locked.patient, locked.practice = patient, patient.practice
    if locked.effective_state != AccessState.INVITED:
        raise InvalidTransition(gettext("Only a pending invite can be cancelled."))
    invitation = _end_current_invitation(locked, InvitationStatus.CANCELLED)
    locked.state = AccessState.CANCELLED
    locked.save(update_fields=["state", "updated_at"])
    audit_record(
        actor,
        action="portal.representative_cancel",
        practice=patient.practice,
        patient=patient,
        details=_representative_details(
            locked, invitation=str(invitation.public_id) if invitation else None
        ),
    )
    return locked


@transaction.atomic
def representative_revoke(actor, *, representative: Representative) -> Representative:
    """End an enrolled representative's access at once (their next request shows the access
    error). The patient's own access, and other representatives', are not touched; the
    representative's account keeps its other records, so its sessions stay open."""
    patient = representative.patient
    _require_inviter(actor, patient)
    locked = representative_locked(representative)
    locked.patient, locked.practice = patient, patient.practice
    if locked.effective_state != AccessState.ACTIVE:
        raise InvalidTransition(gettext("Only an enrolled representative's access can be revoked."))
    locked.state = AccessState.REVOKED
    locked.ended_at = timezone.now()
    locked.save(update_fields=["state", "ended_at", "updated_at"])
    audit_record(
        actor,
        action="portal.representative_revoke",
        practice=patient.practice,
        patient=patient,
        details=_representative_details(locked),
    )
    return locked


@transaction.atomic
def representative_update(
    actor,
    *,
    representative: Representative,
    name: str,
    relationship: str,
    ends_on: dt.date | None,
) -> Representative:
    """Correct a representative's name or relationship, or set or clear the end date."""
    patient = representative.patient
    _require_inviter(actor, patient)
    locked = representative_locked(representative)
    errors: dict[str, list[str]] = {}
    name = _clean_representative(name, relationship, errors)
    if ends_on != locked.ends_on:
        _check_end_date(patient.practice, ends_on, errors)
    if errors:
        raise ValidationError(errors)
    changed = [
        field
        for field, value in (("name", name), ("relationship", relationship), ("ends_on", ends_on))
        if getattr(locked, field) != value
    ]
    if not changed:
        return locked
    locked.name, locked.relationship, locked.ends_on = name, relationship, ends_on
    locked.save(update_fields=[*changed, "updated_at"])
    audit_record(
        actor,
        action="portal.representative_update",
        practice=patient.practice,
        patient=patient,
        details=_representative_details(locked, changed=changed),
    )
    return locked


def _require_own_access(account, access: PortalAccess) -> None:
    if (
        access.is_representative
        or access.account_id != account.pk
        or access.effective_state != AccessState.ACTIVE
    ):
        raise PermissionDenied(gettext("Only the patient can change who sees their record."))
    if not may_manage_representatives(access):  # a child under the narrowing age (SPEC §9.3)
        raise PermissionDenied(
            gettext("Until you are %(age)s, ask your practice to change who sees your record.")
            % {"age": access.practice.representative_narrow_age}
        )


@transaction.atomic
def representative_end(account, *, access: PortalAccess, representative: Representative):
    """The patient ends a representative's access to their record (SPEC §9.4); the practice
    sees it in the chart's portal window. Takes effect on the representative's next request."""
    _require_own_access(account, access)
    if representative.patient_id != access.patient_id:
        raise PermissionDenied(gettext("Only the patient can change who sees their record."))
    locked = representative_locked(representative)
    locked.patient, locked.practice = access.patient, access.practice
    state = locked.effective_state
    if not is_endable(locked):
        raise InvalidTransition(gettext("This person's access has already ended."))
    if state == AccessState.INVITED:
        _end_current_invitation(locked, InvitationStatus.CANCELLED)
    locked.state = AccessState.ENDED
    locked.ended_at = timezone.now()
    locked.save(update_fields=["state", "ended_at", "updated_at"])
    audit_record(
        account,
        action="portal.representative_ended",
        practice=access.practice,
        patient=access.patient,
        details=_representative_details(locked, by="patient", from_state=state),
    )
    return locked


@transaction.atomic
def representative_renew(account, *, access: PortalAccess, representative: Representative):
    """The adult patient renews a parent's or guardian's access that ended when they came of
    age (SPEC §9.3)."""
    _require_own_access(account, access)
    if representative.patient_id != access.patient_id:
        raise PermissionDenied(gettext("Only the patient can change who sees their record."))
    locked = representative_locked(representative)
    locked.patient, locked.practice = access.patient, access.practice
    if not is_renewable(locked):
        raise InvalidTransition(
            gettext("Only access that ended when you came of age can be renewed.")
        )
    locked.renewed_at = timezone.now()
    locked.save(update_fields=["renewed_at", "updated_at"])
    audit_record(
        account,
        action="portal.representative_renewed",
        practice=access.practice,
        patient=access.patient,
        details=_representative_details(locked, by="patient"),
    )
    return locked


@transaction.atomic
def representative_account_unlock(actor, *, representative: Representative):
    """Unlock the account of an enrolled representative of the chart (SPEC §4.4, as
    portal_account_unlock does for the patient's), for staff who may invite. Returns the
    account."""
    patient = representative.patient
    _require_inviter(actor, patient)
    locked = representative_locked(representative)
    locked.patient, locked.practice = patient, patient.practice
    account = locked.account
    if account is None or locked.effective_state != AccessState.ACTIVE:
        raise InvalidTransition(
            gettext("Only an enrolled representative's account can be unlocked.")
        )
    if not account.is_locked:
        raise InvalidTransition(gettext("The representative's account is not locked."))
    if sign_in_throttle_clear(account):
        audit_record(
            actor,
            action="account.unlocked",
            practice=patient.practice,
            patient=patient,
            details=_representative_details(locked, account=str(account.public_id), by="staff"),
        )
    return account
