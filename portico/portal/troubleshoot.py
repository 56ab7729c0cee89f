"""The staff-side "Portal access troubleshooter" (SPEC §4.4): one timeline and the next step.

Everything about a chart's portal access that helps answer "my patient cannot get in":
invitations and their enrollment emails' delivery, security codes texted, registration,
the linked account's sign-ins, failures, locks and resets. Three queries, whatever the
length of the history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format

from portico.audit.models import AuditEvent
from portico.charts.validation import format_phone
from portico.notifications.models import EmailState
from portico.notifications.selectors import emails_for_patient
from portico.portal.models import AccessState, PortalAccess
from portico.portal.selectors import TIMELINE_LABELS

ENROLLMENT_EMAIL = "portal.enrollment"
LIMIT = 100

# The linked account's events (actor = that account), as staff read them.
ACCOUNT_LABELS = {
    "account.sign_in": "Signed in",
    "account.sign_in_failed": "Failed sign-in",
    "account.locked": "Account locked after too many wrong passwords",
    "account.unlocked": "Account unlocked",
    "account.password_reset_requested": "Asked for a password reset email",
    "account.password_reset": "Password reset",
    "account.username_requested": "Asked for a username reminder",
    "account.sessions_ended": "Signed out everywhere",
    "account.mfa_failed": "Wrong second-factor code",
}


@dataclass
class Entry:
    when: dt.datetime
    label: str
    detail: str = ""
    who: str = ""
    tone: str = ""  # "problem" marks what may explain trouble


@dataclass
class Step:
    key: str
    text: str
    action: str = ""  # a portal window action that carries it out ("resend", "unlock", …)


@dataclass
class Troubleshooter:
    steps: list[Step] = field(default_factory=list)
    timeline: list[Entry] = field(default_factory=list)
    account_email: str = ""
    account_locked: bool = False


def _when(value) -> str:
    return date_format(timezone.localtime(value), "M j, Y g:i A") if value else ""


def _email_entry(email) -> Entry:
    what = "Enrollment email" if email.kind == ENROLLMENT_EMAIL else "Email"
    state = email.state
    to = email.to_address
    error = email.last_error
    if state == EmailState.SENT:
        return Entry(email.sent_at or email.created_at, f"{what} to {to} sent")
    if state == EmailState.BOUNCED:
        when = email.bounced_at or email.last_attempt_at or email.created_at
        return Entry(
            when, f"{what} to {to} bounced", f"The mail server answered: {error}", tone="problem"
        )
    if state == EmailState.FAILED:
        return Entry(email.created_at, f"{what} to {to} could not be sent", error, tone="problem")
    if state == EmailState.DEFERRED:
        retry = email.next_attempt_at
        detail = f"Portico tries again {_when(retry)}." if retry else ""
        if error:
            detail = f"The mail server answered: {error}. {detail}".strip()
        return Entry(email.created_at, f"{what} to {to} deferred", detail, tone="problem")
    if state == EmailState.SKIPPED:
        return Entry(email.created_at, f"{what} to {to} not sent: a newer invitation replaced it")
    return Entry(email.created_at, f"{what} to {to} waiting to be sent")


def _event_entry(event) -> Entry:
    details = event.details or {}
    label = TIMELINE_LABELS.get(event.action) or ACCOUNT_LABELS.get(event.action, event.action)
    detail, tone = "", ""
    if event.action == "portal.security_code_requested" and not details.get("matched", True):
        label = (
            "Patient asked for a text message code, but the date of birth or phone did not match"
        )
        tone = "problem"
    elif event.action == "portal.security_code_sent":
        label = f"Security code texted to the phone ending in {details.get('phone_ending', '')}"
    elif event.action == "portal.verified" and details.get("method") == "security_code":
        label = "Patient verified date of birth and texted security code"
    elif event.action == "portal.verify_failed" and details.get("method") == "security_code":
        label = "Wrong security code entered"
    elif event.action == "account.unlocked" and details.get("by") == "reset":
        label = "Account unlocked by a password reset"
    if event.action in (
        "portal.verify_failed",
        "portal.invitation_locked",
        "portal.security_code_failed",
        "account.sign_in_failed",
        "account.locked",
        "account.mfa_failed",
    ):
        tone = "problem"
    return Entry(event.created_at, label, detail, who=event.actor_label, tone=tone)


def _events(patient, account) -> list[AuditEvent]:
    """The chart's portal events and the linked account's own events, in one query."""
    where = Q(patient=patient, action__in=list(TIMELINE_LABELS))
    if account is not None:
        where |= Q(actor=account, action__in=list(ACCOUNT_LABELS))
    return list(AuditEvent.objects.filter(where).order_by("-created_at", "-id")[:LIMIT])


def _steps(access: PortalAccess | None, emails, events, now) -> list[Step]:
    state = access.effective_state if access else AccessState.NOT_INVITED
    steps: list[Step] = []
    if state == AccessState.NOT_INVITED:
        return [
            Step(
                "not_invited",
                "The patient is not invited yet. Invite them to the patient portal.",
                "invite",
            )
        ]
    invitation = access.current_invitation
    if state == AccessState.ACTIVE:
        account = access.account
        if account is not None and account.is_locked:
            steps.append(
                Step(
                    "account_locked",
                    "The patient's account is locked after too many wrong passwords. "
                    "Unlock it, then the patient can sign in again (or use "
                    "\u201cForgot password?\u201d).",
                    "unlock",
                )
            )
        if account is not None:
            steps.append(
                Step(
                    "forgot_username",
                    f"Forgot the username? It is their email address: {account.email}. "
                    "Forgot the password? \u201cForgot password?\u201d on the sign-in page "
                    "emails them a reset link.",
                )
            )
        steps.append(
            Step(
                "reset",
                "If the patient can recover nothing else, reset the portal account: their access "
                "ends and a new invitation is sent.",
                "reset",
            )
        )
        return steps
    if state == AccessState.EXPIRED:
        return [Step("expired", "The invitation expired. Invite the patient again.", "invite")]
    if state in (AccessState.CANCELLED, AccessState.REVOKED):
        return [
            Step(
                "ended",
                "There is no live invitation. Invite the patient again if they should have access.",
                "invite",
            )
        ]
    # Invite pending.
    if invitation is not None and invitation.is_locked:
        return [
            Step(
                "invitation_locked",
                "The invitation is locked after too many wrong codes. Resend the invite: the "
                "patient gets a new link and needs the new access code.",
                "resend",
            )
        ]
    mine = [
        e
        for e in emails
        if invitation is not None and str(e.subject_id) == str(invitation.public_id)
    ]
    newest = mine[0] if mine else None
    if newest is not None and newest.state in (EmailState.BOUNCED, EmailState.FAILED):
        answer = newest.last_error.strip()
        steps.append(
            Step(
                "bounced",
                f"The enrollment email to {newest.to_address} bounced"
                + (f" (the mail server answered: {answer})" if answer else "")
                + ". Check the email address with the patient, fix it in the form above "
                "and resend the invite.",
                "resend",
            )
        )
    elif newest is not None and newest.state == EmailState.DEFERRED:
        retry = newest.next_attempt_at
        steps.append(
            Step(
                "deferred",
                "The patient's mail server asked Portico to try again later"
                + (f"; the next try is {_when(retry)}" if retry else "")
                + ". Nothing to do yet; if it keeps failing, check the address.",
            )
        )
    elif newest is not None and newest.state in (EmailState.QUEUED, EmailState.SENDING):
        steps.append(Step("queued", "The enrollment email is waiting to be sent."))
    elif newest is not None and newest.state == EmailState.SENT:
        waited = dt.timedelta(days=settings.PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS)
        sent_at = newest.sent_at or newest.created_at
        if sent_at <= now - waited:
            steps.append(
                Step(
                    "no_registration",
                    f"The enrollment email was sent {_when(sent_at)} but the patient has not "
                    "registered. Ask them to look in their spam or junk folder and to add "
                    f"{settings.PORTICO_ENROLLMENT_FROM} to their safe senders, "
                    "or resend the invite.",
                    "resend",
                )
            )
    mismatch = next(
        (
            e
            for e in events
            if e.action == "portal.security_code_requested"
            and invitation is not None
            and e.details.get("invitation") == str(invitation.public_id)
        ),
        None,
    )
    if mismatch is not None and not mismatch.details.get("matched", True):
        steps.append(
            Step(
                "phone_mismatch",
                "The patient asked for a text message code, but the date of birth or phone did "
                f"not match the chart (phone on file: {format_phone(invitation.phone) or 'none'}). "
                "Check them with the patient; correct the phone and resend if needed.",
            )
        )
    steps.append(
        Step(
            "lost_code",
            "Lost the access code? Read them the access code shown above (after checking who "
            "you are talking to).",
        )
    )
    return steps


def troubleshooter(patient, access: PortalAccess | None, *, now=None) -> Troubleshooter:
    """The troubleshooter of one chart (already found within the practice)."""
    now = now or timezone.now()
    account = access.account if access is not None else None
    events = _events(patient, account)
    emails = emails_for_patient(patient)[:LIMIT]
    entries = [_event_entry(e) for e in events] + [_email_entry(e) for e in emails]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return Troubleshooter(
        steps=_steps(access, emails, events, now),
        timeline=entries[:LIMIT],
        account_email=account.email if account is not None else "",
        account_locked=bool(account is not None and account.is_locked),
    )
