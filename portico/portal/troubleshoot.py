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
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

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
    "account.sign_in": _("Signed in"),
    "account.sign_in_failed": _("Failed sign-in"),
    "account.locked": _("Account locked after too many wrong passwords"),
    "account.unlocked": _("Account unlocked"),
    "account.password_reset_requested": _("Asked for a password reset email"),
    "account.password_reset": _("Password reset"),
    "account.username_requested": _("Asked for a username reminder"),
    "account.sessions_ended": _("Signed out everywhere"),
    "account.mfa_failed": _("Wrong second-factor code"),
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
    enrollment = email.kind == ENROLLMENT_EMAIL
    state = email.state
    to = {"to": email.to_address}
    error = email.last_error
    if state == EmailState.SENT:
        label = (
            gettext("Enrollment email to %(to)s sent")
            if enrollment
            else gettext("Email to %(to)s sent")
        )
        return Entry(email.sent_at or email.created_at, label % to)
    if state == EmailState.BOUNCED:
        when = email.bounced_at or email.last_attempt_at or email.created_at
        label = (
            gettext("Enrollment email to %(to)s bounced")
            if enrollment
            else gettext("Email to %(to)s bounced")
        )
        detail = gettext("The mail server answered: %(error)s") % {"error": error}
        return Entry(when, label % to, detail, tone="problem")
    if state == EmailState.FAILED:
        label = (
            gettext("Enrollment email to %(to)s could not be sent")
            if enrollment
            else gettext("Email to %(to)s could not be sent")
        )
        return Entry(email.created_at, label % to, error, tone="problem")
    if state == EmailState.DEFERRED:
        retry = email.next_attempt_at
        detail = gettext("Portico tries again %(when)s.") % {"when": _when(retry)} if retry else ""
        if error:
            detail = (
                gettext("The mail server answered: %(error)s.") % {"error": error} + " " + detail
            ).strip()
        label = (
            gettext("Enrollment email to %(to)s deferred")
            if enrollment
            else gettext("Email to %(to)s deferred")
        )
        return Entry(email.created_at, label % to, detail, tone="problem")
    if state == EmailState.SKIPPED:
        label = (
            gettext("Enrollment email to %(to)s not sent: a newer invitation replaced it")
            if enrollment
            else gettext("Email to %(to)s not sent: a newer invitation replaced it")
        )
        return Entry(email.created_at, label % to)
    label = (
        gettext("Enrollment email to %(to)s waiting to be sent")
        if enrollment
        else gettext("Email to %(to)s waiting to be sent")
    )
    return Entry(email.created_at, label % to)


def _event_entry(event) -> Entry:
    details = event.details or {}
    label = TIMELINE_LABELS.get(event.action) or ACCOUNT_LABELS.get(event.action, event.action)
    detail, tone = "", ""
    if event.action == "portal.security_code_requested" and not details.get("matched", True):
        label = gettext(
            "Patient asked for a text message code, but the date of birth or phone did not match"
        )
        tone = "problem"
    elif event.action == "portal.security_code_sent":
        label = gettext("Security code texted to the phone ending in %(ending)s") % {
            "ending": details.get("phone_ending", "")
        }
    elif event.action == "portal.verified" and details.get("method") == "security_code":
        label = gettext("Patient verified date of birth and texted security code")
    elif event.action == "portal.verify_failed" and details.get("method") == "security_code":
        label = gettext("Wrong security code entered")
    elif event.action == "account.unlocked" and details.get("by") == "reset":
        label = gettext("Account unlocked by a password reset")
    if event.action in (
        "portal.verify_failed",
        "portal.invitation_locked",
        "portal.security_code_failed",
        "account.sign_in_failed",
        "account.locked",
        "account.mfa_failed",
    ):
        tone = "problem"
    return Entry(event.created_at, str(label), detail, who=event.actor_label, tone=tone)


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
                gettext("The patient is not invited yet. Invite them to the patient portal."),
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
                    gettext(
                        "The patient's account is locked after too many wrong passwords. "
                        "Unlock it, then the patient can sign in again (or use "
                        "“Forgot password?”)."
                    ),
                    "unlock",
                )
            )
        if account is not None:
            steps.append(
                Step(
                    "forgot_username",
                    gettext(
                        "Forgot the username? It is their email address: %(email)s. "
                        "Forgot the password? “Forgot password?” on the sign-in page "
                        "emails them a reset link."
                    )
                    % {"email": account.email},
                )
            )
        steps.append(
            Step(
                "reset",
                gettext(
                    "If the patient can recover nothing else, reset the portal account: their "
                    "access ends and a new invitation is sent."
                ),
                "reset",
            )
        )
        return steps
    if state == AccessState.EXPIRED:
        return [
            Step("expired", gettext("The invitation expired. Invite the patient again."), "invite")
        ]
    if state in (AccessState.CANCELLED, AccessState.REVOKED):
        return [
            Step(
                "ended",
                gettext(
                    "There is no live invitation. Invite the patient again if they should have "
                    "access."
                ),
                "invite",
            )
        ]
    # Invite pending.
    if invitation is not None and invitation.is_locked:
        return [
            Step(
                "invitation_locked",
                gettext(
                    "The invitation is locked after too many wrong codes. Resend the invite: the "
                    "patient gets a new link and needs the new access code."
                ),
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
                (
                    gettext(
                        "The enrollment email to %(to)s bounced (the mail server answered: "
                        "%(answer)s). Check the email address with the patient, fix it in the "
                        "form above and resend the invite."
                    )
                    if answer
                    else gettext(
                        "The enrollment email to %(to)s bounced. Check the email address with "
                        "the patient, fix it in the form above and resend the invite."
                    )
                )
                % {"to": newest.to_address, "answer": answer},
                "resend",
            )
        )
    elif newest is not None and newest.state == EmailState.DEFERRED:
        retry = newest.next_attempt_at
        steps.append(
            Step(
                "deferred",
                (
                    gettext(
                        "The patient's mail server asked Portico to try again later; the next "
                        "try is %(when)s. Nothing to do yet; if it keeps failing, check the "
                        "address."
                    )
                    if retry
                    else gettext(
                        "The patient's mail server asked Portico to try again later. Nothing to "
                        "do yet; if it keeps failing, check the address."
                    )
                )
                % {"when": _when(retry)},
            )
        )
    elif newest is not None and newest.state in (EmailState.QUEUED, EmailState.SENDING):
        steps.append(Step("queued", gettext("The enrollment email is waiting to be sent.")))
    elif newest is not None and newest.state == EmailState.SENT:
        waited = dt.timedelta(days=settings.PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS)
        sent_at = newest.sent_at or newest.created_at
        if sent_at <= now - waited:
            steps.append(
                Step(
                    "no_registration",
                    gettext(
                        "The enrollment email was sent %(when)s but the patient has not "
                        "registered. Ask them to look in their spam or junk folder and to add "
                        "%(sender)s to their safe senders, or resend the invite."
                    )
                    % {"when": _when(sent_at), "sender": settings.PORTICO_ENROLLMENT_FROM},
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
                gettext(
                    "The patient asked for a text message code, but the date of birth or phone "
                    "did not match the chart (phone on file: %(phone)s). Check them with the "
                    "patient; correct the phone and resend if needed."
                )
                % {"phone": format_phone(invitation.phone) or gettext("none")},
            )
        )
    steps.append(
        Step(
            "lost_code",
            gettext(
                "Lost the access code? Read them the access code shown above (after checking "
                "who you are talking to)."
            ),
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
