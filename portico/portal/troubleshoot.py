"""The staff-side "Portal access troubleshooter" (SPEC §4.4): one timeline and the next step.

Everything about a chart's portal access that helps answer "my patient cannot get in":
invitations and their enrollment emails' delivery, security codes texted, registration,
the linked account's sign-ins, failures, locks and resets. A few queries, whatever the
length of the history.

The patient's troubleshooter shows the whole chart's history, each representative's events
named; a representative's (SPEC §9.1) shows only theirs: their invitations, emails and
registration, and their own account. Both follow the same rules (`_steps`), in words about
the patient or about the representative.
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
from portico.portal import representation
from portico.portal.models import AccessState, PortalAccess, Representative
from portico.portal.selectors import (
    TIMELINE_LABELS,
    RepresentativeRef,
    event_label,
    event_representative,
    representatives_named,
)

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
    # Which representative it was about, in the patient's (whole chart's) timeline.
    representative: RepresentativeRef | None = None


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
    # Whose it is: None for the patient's own access, else the representative.
    representative: Representative | None = None


def _when(value) -> str:
    return date_format(timezone.localtime(value), "M j, Y g:i A") if value else ""


def _email_entry(email, representative: RepresentativeRef | None = None) -> Entry:
    entry = _email_entry_of(email)
    entry.representative = representative
    return entry


def _email_entry_of(email) -> Entry:
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


def _event_entry(
    event, representative: RepresentativeRef | None = None, *, named: bool = True
) -> Entry:
    """An audit event as a line of the timeline; `representative`: the one it was about
    (named on the line unless the whole timeline is theirs)."""
    details = event.details or {}
    if event.action in TIMELINE_LABELS:
        label = event_label(event, representative)
    else:
        label = str(ACCOUNT_LABELS.get(event.action, event.action))
    detail, tone = "", ""
    if event.action == "portal.security_code_requested" and not details.get("matched", True):
        label = (
            gettext(
                "Representative asked for a text message code, but the date of birth or phone "
                "did not match"
            )
            if representative is not None
            else gettext(
                "Patient asked for a text message code, but the date of birth or phone did not "
                "match"
            )
        )
        tone = "problem"
    elif event.action == "portal.security_code_sent":
        label = gettext("Security code texted to the phone ending in %(ending)s") % {
            "ending": details.get("phone_ending", "")
        }
    elif event.action == "portal.verified" and details.get("method") == "security_code":
        label = (
            gettext("Representative verified the patient's date of birth and a texted code")
            if representative is not None
            else gettext("Patient verified date of birth and texted security code")
        )
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
    return Entry(
        event.created_at,
        str(label),
        detail,
        who=event.actor_label,
        tone=tone,
        representative=representative if named else None,
    )


def _events(patient, account, *, only: Q | None = None) -> list[AuditEvent]:
    """The chart's portal events (those `only` admits, when given) and the linked account's
    own events, in one query."""
    where = Q(patient=patient, action__in=list(TIMELINE_LABELS))
    if only is not None:
        where &= only
    if account is not None:
        where |= Q(actor=account, action__in=list(ACCOUNT_LABELS))
    return list(AuditEvent.objects.filter(where).order_by("-created_at", "-id")[:LIMIT])


# The next steps' words, about the patient or about a representative: the rules are the same
# (`_steps`), only who registers, and where staff fix their details, differ.
PATIENT_WORDS = {
    "not_invited": _("The patient is not invited yet. Invite them to the patient portal."),
    "account_locked": _(
        "The patient's account is locked after too many wrong passwords. Unlock it, then the "
        "patient can sign in again (or use “Forgot password?”)."
    ),
    "forgot_username": _(
        "Forgot the username? It is their email address: %(email)s. Forgot the password? "
        "“Forgot password?” on the sign-in page emails them a reset link."
    ),
    "last_resort": _(
        "If the patient can recover nothing else, reset the portal account: their access ends "
        "and a new invitation is sent."
    ),
    "expired": _("The invitation expired. Invite the patient again."),
    "ended": _("There is no live invitation. Invite the patient again if they should have access."),
    "invitation_locked": _(
        "The invitation is locked after too many wrong codes. Resend the invite: the patient "
        "gets a new link and needs the new access code."
    ),
    "bounced": _(
        "The enrollment email to %(to)s bounced (the mail server answered: %(answer)s). Check "
        "the email address with the patient, fix it in the form above and resend the invite."
    ),
    "bounced_silently": _(
        "The enrollment email to %(to)s bounced. Check the email address with the patient, fix "
        "it in the form above and resend the invite."
    ),
    "deferred": _(
        "The patient's mail server asked Portico to try again later; the next try is "
        "%(when)s. Nothing to do yet; if it keeps failing, check the address."
    ),
    "deferred_no_retry": _(
        "The patient's mail server asked Portico to try again later. Nothing to do yet; if it "
        "keeps failing, check the address."
    ),
    "queued": _("The enrollment email is waiting to be sent."),
    "no_registration": _(
        "The enrollment email was sent %(when)s but the patient has not registered. Ask them "
        "to look in their spam or junk folder and to add %(sender)s to their safe senders, or "
        "resend the invite."
    ),
    "phone_mismatch": _(
        "The patient asked for a text message code, but the date of birth or phone did not "
        "match the chart (phone on file: %(phone)s). Check them with the patient; correct the "
        "phone and resend if needed."
    ),
    "lost_code": _(
        "Lost the access code? Read them the access code shown above (after checking who you "
        "are talking to)."
    ),
}
REPRESENTATIVE_WORDS = {
    **PATIENT_WORDS,
    "account_locked": _(
        "The representative's account is locked after too many wrong passwords. Unlock it, "
        "then they can sign in again (or use “Forgot password?”)."
    ),
    "last_resort": _(
        "If the representative can recover nothing else, revoke their access and invite them "
        "again: they get a new enrollment email and a new access code."
    ),
    "expired": _("The invitation expired. Invite the representative again."),
    "ended": _(
        "There is no live invitation. Invite the representative again if they should have access."
    ),
    "invitation_locked": _(
        "The invitation is locked after too many wrong codes. Resend the invite: the "
        "representative gets a new link and needs the new access code."
    ),
    "bounced": _(
        "The enrollment email to %(to)s bounced (the mail server answered: %(answer)s). Check "
        "the email address with the representative, fix it in their row of the "
        "representatives list and resend the invite."
    ),
    "bounced_silently": _(
        "The enrollment email to %(to)s bounced. Check the email address with the "
        "representative, fix it in their row of the representatives list and resend the invite."
    ),
    "deferred": _(
        "The representative's mail server asked Portico to try again later; the next try is "
        "%(when)s. Nothing to do yet; if it keeps failing, check the address."
    ),
    "deferred_no_retry": _(
        "The representative's mail server asked Portico to try again later. Nothing to do yet; "
        "if it keeps failing, check the address."
    ),
    "no_registration": _(
        "The enrollment email was sent %(when)s but the representative has not registered. Ask "
        "them to look in their spam or junk folder and to add %(sender)s to their safe "
        "senders, or resend the invite."
    ),
    "phone_mismatch": _(
        "The representative asked for a text message code, but the patient's date of birth or "
        "the representative's phone did not match (their phone on file: %(phone)s). Check them "
        "with the representative; correct the phone and resend if needed."
    ),
    "lost_code": _(
        "Lost the access code? Read them the access code shown in the representatives list "
        "(after checking who you are talking to)."
    ),
}


def _ended_representative_steps(representative: Representative) -> list[Step]:
    """Why a representative's access ended (SPEC §9.3–9.4), and what may be done."""
    if representative.state == AccessState.ENDED:
        return [
            Step(
                "ended_by_patient",
                gettext(
                    "The patient ended this representative's access. Invite them again only if "
                    "the patient asks for it."
                ),
            )
        ]
    if representation.came_of_age(representative):
        return [
            Step(
                "came_of_age",
                gettext(
                    "The representative's access ended when the patient turned %(age)s. Only "
                    "the patient can renew it, from their portal; or, if the patient wants "
                    "them as a representative, invite them as a new one."
                )
                % {"age": representative.practice.representative_end_age},
            )
        ]
    return [
        Step(
            "end_date_passed",
            gettext(
                "The representative's access ended after its end date (%(date)s). Change the "
                "end date or invite them again if they should have access."
            )
            % {
                "date": date_format(representative.ends_on, "M j, Y")
                if representative.ends_on
                else ""
            },
            "reinvite",
        )
    ]


def _steps(
    access: PortalAccess | Representative | None, emails, events, now, words=PATIENT_WORDS
) -> list[Step]:
    """The next steps for one access (the patient's own or a representative's), in `words`."""
    state = access.effective_state if access else AccessState.NOT_INVITED
    steps: list[Step] = []
    if access is None or state == AccessState.NOT_INVITED:
        return [Step("not_invited", str(words["not_invited"]), "invite")]
    again = "reinvite" if access.is_representative else "invite"
    invitation = access.current_invitation
    if state == AccessState.ENDED and isinstance(access, Representative):
        return _ended_representative_steps(access)
    if state == AccessState.ACTIVE:
        account = access.account
        if isinstance(access, Representative) and representation.is_narrowed(access):
            steps.append(
                Step(
                    "narrowed",
                    gettext(
                        "The patient is %(age)s or older, so this access is narrowed: no "
                        "messages, and not the patient's own reads in the access log."
                    )
                    % {"age": access.practice.representative_narrow_age},
                )
            )
        if account is not None and account.is_locked:
            steps.append(Step("account_locked", str(words["account_locked"]), "unlock"))
        if account is not None:
            steps.append(
                Step(
                    "forgot_username",
                    str(words["forgot_username"]) % {"email": account.email},
                )
            )
        if access.is_representative:
            steps.append(Step("revoke_and_reinvite", str(words["last_resort"]), "revoke"))
        else:
            steps.append(Step("reset", str(words["last_resort"]), "reset"))
        return steps
    if state == AccessState.EXPIRED:
        return [Step("expired", str(words["expired"]), again)]
    if state in (AccessState.CANCELLED, AccessState.REVOKED):
        return [Step("ended", str(words["ended"]), again)]
    # Invite pending.
    if invitation is not None and invitation.is_locked:
        return [Step("invitation_locked", str(words["invitation_locked"]), "resend")]
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
                str(words["bounced"] if answer else words["bounced_silently"])
                % {"to": newest.to_address, "answer": answer},
                "resend",
            )
        )
    elif newest is not None and newest.state == EmailState.DEFERRED:
        retry = newest.next_attempt_at
        steps.append(
            Step(
                "deferred",
                str(words["deferred"] if retry else words["deferred_no_retry"])
                % {"when": _when(retry)},
            )
        )
    elif newest is not None and newest.state in (EmailState.QUEUED, EmailState.SENDING):
        steps.append(Step("queued", str(words["queued"])))
    elif newest is not None and newest.state == EmailState.SENT:
        waited = dt.timedelta(days=settings.PORTICO_TROUBLESHOOT_NO_REGISTRATION_DAYS)
        sent_at = newest.sent_at or newest.created_at
        if sent_at <= now - waited:
            steps.append(
                Step(
                    "no_registration",
                    str(words["no_registration"])
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
                str(words["phone_mismatch"])
                % {"phone": format_phone(invitation.phone) or gettext("none")},
            )
        )
    steps.append(Step("lost_code", str(words["lost_code"])))
    return steps


def troubleshooter(patient, access: PortalAccess | None, *, now=None) -> Troubleshooter:
    """The troubleshooter of one chart (already found within the practice): the patient's own
    access, over the whole chart's history (each representative's events named)."""
    now = now or timezone.now()
    account = access.account if access is not None else None
    events = _events(patient, account)
    emails = emails_for_patient(patient)[:LIMIT]
    names = representatives_named(patient, events, (e.subject_id for e in emails))
    entries = [_event_entry(e, event_representative(e, names)) for e in events] + [
        _email_entry(e, names.get(str(e.subject_id))) for e in emails
    ]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return Troubleshooter(
        steps=_steps(access, emails, events, now),
        timeline=entries[:LIMIT],
        account_email=account.email if account is not None else "",
        account_locked=bool(account is not None and account.is_locked),
    )


def representative_troubleshooter(representative: Representative, *, now=None) -> Troubleshooter:
    """The troubleshooter of one representative of a chart (already found within the
    practice): their invitations, emails, registration and account, and their next steps."""
    now = now or timezone.now()
    patient = representative.patient
    account = representative.account
    invitations = [
        str(public_id)
        for public_id in representative.invitations.values_list("public_id", flat=True)
    ]
    events = _events(
        patient,
        account,
        only=Q(details__representative=str(representative.public_id))
        | Q(details__invitation__in=invitations),
    )
    emails = [e for e in emails_for_patient(patient) if str(e.subject_id) in invitations][:LIMIT]
    ref = RepresentativeRef.of(representative)
    entries = [_event_entry(e, ref, named=False) for e in events] + [
        _email_entry(e) for e in emails
    ]
    entries.sort(key=lambda entry: entry.when, reverse=True)
    return Troubleshooter(
        steps=_steps(representative, emails, events, now, REPRESENTATIVE_WORDS),
        timeline=entries[:LIMIT],
        account_email=account.email if account is not None else "",
        account_locked=bool(account is not None and account.is_locked),
        representative=representative,
    )
