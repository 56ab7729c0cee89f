"""Portal enrollment, the patient's side (SPEC §3.5): registration through the emailed link.

The patient proves who they are with the date of birth and the access code, or with the date of
birth and a security code texted to the phone on file (the phone route); then creates an account
or links the chart to an account they sign in to. These transitions work from the registration
link alone and take the chart's access row lock first, as the staff transitions do
(portal.services), so a registration racing a resend or a cancel waits instead of deadlocking.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from portico.audit.services import audit_record
from portico.charts.validation import normalize_phone
from portico.core.validation import clean_email
from portico.notifications import sms
from portico.portal import tokens
from portico.portal.models import (
    AccessState,
    Invitation,
    InvitationStatus,
    PortalAccess,
    Representative,
    SecurityCode,
)
from portico.portal.services import access_locked, representative_locked

User = get_user_model()
logger = logging.getLogger(__name__)


class RegistrationError(Exception):
    """A registration attempt that cannot go on; `code` says why, `message` is for the patient
    (in the language active when it is raised)."""

    def __init__(self, code: str, message: str | Promise):
        message = str(message)
        super().__init__(message)
        self.code = code
        self.message = message


EXPIRED_LINK_MESSAGE = _(
    "This registration link has expired. Please ask your practice to enroll you "
    "in the patient portal again."
)
LOCKED_MESSAGE = _(
    "Too many wrong codes were entered, so this invitation is locked. Please ask your "
    "practice to send you a new invitation."
)


# ---------------------------------------------------------------------------
# Patient side: registration through the emailed link


def invitation_for_link(token: str) -> Invitation:
    """The invitation behind a registration link, if the link still works."""
    invitation = (
        Invitation.objects.select_related("practice", "patient")
        .filter(token_hash=tokens.hash_token(token or ""))
        .first()
    )
    return _usable(invitation)


def _usable(invitation: Invitation | None) -> Invitation:
    """The invitation, if its link still works: else the answer the patient gets (the link
    has expired — used, cancelled, replaced or past its time — or it is locked)."""
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


def _verify(token: str, *, accept, method: str, wrong_message: str | Promise) -> Invitation:
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
        wrong_message=_("The date of birth or access code does not match."),
    )


def _tries_left_message(left: int, what: str | Promise) -> str:
    tries = ngettext("You have %(count)s try left.", "You have %(count)s tries left.", left) % {
        "count": left
    }
    return f"{what} {tries}"


# ---------------------------------------------------------------------------
# Patient side: the phone route (date of birth + a security code texted to the phone on file)

# The text message (SMS) with the code; `code`, `practice` and `minutes` are filled in.
SECURITY_CODE_TEXT = _(
    "%(code)s is your security code for the %(practice)s patient portal. "
    "It expires in %(minutes)s minutes. Do not share it with anyone."
)
CODE_TOO_SOON_MESSAGE = _("A code was sent a moment ago. Please wait a minute before asking again.")
TOO_MANY_CODES_MESSAGE = _(
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
            language = translation.get_language()
            transaction.on_commit(
                lambda: text_security_code.enqueue(code_id=code.pk, language=language)
            )
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
    # The text is in the language active here: the task activates the page's language.
    text = str(SECURITY_CODE_TEXT) % {
        "code": tokens.security_code(code.nonce),
        "practice": invitation.practice.name,
        "minutes": settings.PORTICO_SECURITY_CODE_TTL_MINUTES,
    }
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
        wrong_message=_("The security code is wrong or has expired."),
    )


def _locked_usable_invitation(invitation_public_id: str) -> Invitation:
    found = (
        Invitation.objects.select_related("patient", "representative")
        .filter(public_id=invitation_public_id)
        .first()
    )
    if found is None:
        raise RegistrationError("expired_link", EXPIRED_LINK_MESSAGE)
    # Lock in the order the staff transitions do, the access row (the chart's own, or the
    # representative's) before its invitations, so a registration racing a resend or a
    # cancel waits instead of deadlocking.
    _holder_locked(found)
    invitation = (
        Invitation.objects.select_for_update(of=("self",))
        .select_related("practice", "patient")
        .filter(pk=found.pk)
        .first()
    )
    return _usable(invitation)


def _holder_locked(invitation: Invitation) -> PortalAccess | Representative:
    """The locked access row the invitation is for: a representative's, or the chart's own."""
    if invitation.representative is not None:
        return representative_locked(invitation.representative)
    return access_locked(invitation.patient)


def _enroll(invitation: Invitation, account) -> PortalAccess | Representative:
    """Use the invitation once and give the account access to the chart: as the patient, or
    as the representative the invitation was for."""
    now = timezone.now()
    invitation.status = InvitationStatus.USED
    invitation.used_at = now
    invitation.save(update_fields=["status", "used_at"])
    holder = _holder_locked(invitation)
    holder.state = AccessState.ACTIVE
    holder.account = account
    holder.enrolled_at = now
    holder.save(update_fields=["state", "account", "enrolled_at", "updated_at"])
    details = {"invitation": str(invitation.public_id), "account": str(account.public_id)}
    if isinstance(holder, Representative):
        details.update(representative=str(holder.public_id), relationship=holder.relationship)
    audit_record(
        account,
        action="portal.representative_register"
        if isinstance(holder, Representative)
        else "portal.register",
        practice=invitation.practice,
        patient=invitation.patient,
        details=details,
    )
    return holder


@transaction.atomic
def registration_create_account(*, invitation_id: str, email: str, password: str):
    """Finish registration with a new account (email as username); the link is then used up."""
    invitation = _locked_usable_invitation(invitation_id)
    errors: dict[str, list[str]] = {}
    email = clean_email(email, errors)
    if not errors.get("email") and User.objects.filter(email__iexact=email).exists():
        # The patient has proved who they are, so saying this does not leak to strangers.
        errors["email"] = [
            gettext(
                "There is already a Portico account with this email. Sign in below to add "
                "this record to it."
            )
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
        raise ValidationError(
            {"email": [gettext("An account with this email was just created.")]}
        ) from exc
    _enroll(invitation, account)
    return account


@transaction.atomic
def registration_link_account(account, *, invitation_id: str) -> PortalAccess | Representative:
    """Finish registration by linking the chart to an account the patient signed in to."""
    invitation = _locked_usable_invitation(invitation_id)
    return _enroll(invitation, account)
