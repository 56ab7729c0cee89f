"""Secure messaging (SPEC §7): every change to a thread, for the patient's side and the
practice's, in one place. Pages, the API and tasks call these.

Rules kept here:
- a patient writes only with active portal access to the chart, to a practice with messaging
  on, to one of its providers who receive messages (MD/DO, NP, PA); a done thread takes no
  reply (the patient starts a new one);
- the practice's side is the providers' and the staff an administrator chose
  (`permissions.can_answer_messages`);
- every change and every open of a thread is audited (never with the text or the subject);
- a new message queues a "you have a new message" email to the other side, without content,
  at most one per thread and side per quarter hour;
- an attachment is checked by content (messaging.attachments) and stored through the
  "attachments" storage; when anything fails after the file was stored, the file is deleted
  and no message is left.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portico.audit.services import audit_read, audit_record
from portico.charts.models import Medication, MedicationStatus, Patient
from portico.messaging import attachments, selectors
from portico.messaging.models import (
    BODY_MAX,
    PHARMACY_MAX,
    SUBJECT_MAX,
    Attachment,
    Message,
    RecordUpdateEmails,
    RenewalDecision,
    RenewalRequest,
    Thread,
    ThreadKind,
    ThreadStatus,
)
from portico.notifications.services import email_enqueue
from portico.portal.models import PortalAccess
from portico.portal.representation import scope_of
from portico.practices import permissions
from portico.practices import selectors as practice_selectors
from portico.practices.models import Membership, Practice
from portico.records.services import require_active_access

PATIENT_EMAIL = "messaging.new_for_patient"
PRACTICE_EMAIL = "messaging.new_for_practice"
NOTIFY_EVERY = dt.timedelta(minutes=15)

MESSAGING_OFF_MESSAGE = gettext_lazy(
    "Your practice does not take messages through the patient portal right now. Please call "
    "the office."
)
THREAD_DONE_MESSAGE = gettext_lazy(
    "This conversation is closed. To write about it again, start a new message."
)
STAFF_THREAD_DONE_MESSAGE = gettext_lazy("This thread is done. Reopen it to reply.")
NOT_ALLOWED_MESSAGE = gettext_lazy(
    "You do not have permission to read or answer the practice's patient messages."
)
REQUIRED = gettext_lazy("This field is required.")


# --- Who may do what ----------------------------------------------------------------------


def messaging_providers(practice: Practice) -> list[Membership]:
    """The providers of the practice patients may write to (SPEC §7.2), by name."""
    return [
        m
        for m in Membership.objects.filter(practice=practice, is_active=True)
        .select_related("user")
        .order_by("user__full_name", "pk")
        if m.receives_messages
    ]


def require_answerer(actor, practice: Practice) -> Membership:
    """The actor's membership when they read and answer the practice's messages; else
    PermissionDenied."""
    membership = practice_selectors.membership_for(actor, practice)
    if membership is None or not permissions.can_answer_messages(membership):
        raise PermissionDenied(NOT_ALLOWED_MESSAGE)
    return membership


def messaging_open_for(practice: Practice) -> bool:
    """Whether patients may write to the practice now (read fresh: a switch acts at once)."""
    return Practice.objects.filter(pk=practice.pk, messaging_enabled=True).exists()


def _require_patient_may_write(account, access: PortalAccess) -> None:
    require_active_access(account, access)
    if not messaging_open_for(access.practice):
        raise PermissionDenied(MESSAGING_OFF_MESSAGE)


def _provider_of(practice: Practice, provider) -> Membership:
    """The membership of `provider` (a User or a user's public id) when patients may write to
    them at this practice, else a ValidationError on the "provider" field."""
    query = Membership.objects.filter(practice=practice, is_active=True).select_related("user")
    if hasattr(provider, "pk"):
        query = query.filter(user=provider)
    else:
        query = query.filter(user__public_id__in=_valid_uuids([str(provider or "")]))
    membership = next((m for m in query[:1]), None)
    if membership is None or not membership.receives_messages:
        raise ValidationError(
            {"provider": [gettext("Choose one of the practice's providers in the list.")]}
        )
    return membership


# --- Validation ---------------------------------------------------------------------------


def _clean_text(errors: dict, field: str, value, *, max_length: int, required: bool) -> str:
    text = (value or "").strip() if isinstance(value, str) else ""
    if value is not None and not isinstance(value, str):
        errors[field] = [gettext("Enter text.")]
    elif required and not text:
        errors[field] = [str(REQUIRED)]
    elif len(text) > max_length:
        errors[field] = [
            gettext("Keep this under %(max)s characters (it has %(count)s).")
            % {"max": f"{max_length:,}", "count": f"{len(text):,}"}
        ]
    elif "\x00" in text:
        errors[field] = [gettext("Remove the unreadable characters.")]
    return text


def _check_attachment(errors: dict, upload) -> attachments.Checked | None:
    if upload is None:
        return None
    try:
        return attachments.check_upload(upload)
    except ValidationError as exc:
        errors["attachment"] = exc.messages
        return None


def _renewal_medications(errors: dict, access, medication_ids) -> list[Medication]:
    """The shared current medications the request names (by public id), of those the access
    may see."""
    wanted = {str(m) for m in (medication_ids or [])}
    if not wanted:
        errors["medications"] = [gettext("Choose at least one medication to renew.")]
        return []
    renewable = renewable_medications(access.patient, confidential=scope_of(access).confidential)
    found = list(renewable.filter(public_id__in=_valid_uuids(wanted)))
    if len(found) != len(wanted):
        errors["medications"] = [
            gettext("Choose medications from your current list; the list may have changed.")
        ]
    return found


def _valid_uuids(values: Iterable[str]) -> list[str]:
    out = []
    for value in values:
        try:
            out.append(str(uuid.UUID(value)))
        except ValueError:
            continue
    return out


def renewable_medications(patient: Patient, *, confidential: bool = True):
    """The medications a patient may ask to renew: shared with them and current; for a
    representative (`confidential` False, from the access's scope) without those confidential
    from representatives."""
    return (
        Medication.objects.filter(patient=patient, status=MedicationStatus.ACTIVE)
        .shared(confidential=confidential)
        .order_by("display", "pk")
    )


# --- Storing messages ---------------------------------------------------------------------


def _store(upload, checked: attachments.Checked | None) -> str | None:
    """Save the file through the attachments storage (streamed in chunks); its stored name."""
    if checked is None:
        return None
    field = Attachment._meta.get_field("file")
    name = field.generate_filename(None, checked.filename)
    upload.seek(0)
    return field.storage.save(name, upload, max_length=field.max_length)


def _delete_stored(name: str | None) -> None:
    if name:
        Attachment._meta.get_field("file").storage.delete(name)


def _add_message(
    thread: Thread,
    *,
    sender,
    from_patient: bool,
    body: str,
    stored_name: str | None,
    checked: attachments.Checked | None,
    renewal_decision: str = "",
    access=None,
) -> Message:
    """One message of the thread. On the patient's side, `access` is the portal access it was
    written through: a representative's message carries their name and relationship."""
    now = timezone.now()
    label, sent_as = thread.patient.full_name, ""
    if not from_patient:
        label = sender.display_name
    elif access is not None and access.is_representative:
        label, sent_as = access.name, access.relationship
    message = Message.objects.create(
        thread=thread,
        sender=sender,
        sender_label=label,
        sent_as=sent_as,
        from_patient=from_patient,
        body=body,
        renewal_decision=renewal_decision,
        created_at=now,
    )
    if stored_name is not None and checked is not None:
        Attachment.objects.create(
            message=message,
            file=stored_name,
            filename=checked.filename,
            content_type=checked.content_type,
            size=checked.size,
        )
    thread.last_message_at = now
    thread.message_count += 1
    thread.awaiting_practice = from_patient
    if from_patient:
        thread.practice_unread = True
    else:
        thread.patient_unread = True
    return message


def _with_stored_file(upload, checked, work):
    """Run `work(stored_name)` in a transaction after storing the file; a failure deletes the
    file again, so a failed send leaves neither a message nor a file behind."""
    stored_name = _store(upload, checked)
    try:
        with transaction.atomic():
            return work(stored_name)
    except BaseException:
        _delete_stored(stored_name)
        raise


def _notify(thread: Thread, *, to_patient: bool, now: dt.datetime) -> None:
    """Queue the "new message" email to one side, unless one went out in the last quarter
    hour (the caller holds the thread's row lock and saves the thread)."""
    field = "patient_notified_at" if to_patient else "practice_notified_at"
    last = getattr(thread, field)
    if last is not None and now - last < NOTIFY_EVERY:
        return
    if to_patient:
        readers = selectors.thread_readers(thread)
        if not readers:
            return
        for reader in readers:  # the patient, and representatives who may read it
            email_enqueue(
                kind=PATIENT_EMAIL,
                subject_id=thread.public_id,
                to_address=reader.account.email,
                practice=thread.practice,
                patient=thread.patient,
                language=reader.account.language,
            )
    else:
        email_enqueue(
            kind=PRACTICE_EMAIL,
            subject_id=thread.public_id,
            to_address=thread.provider.email,
            practice=thread.practice,
            language="en",
        )
    setattr(thread, field, now)


def _audit(actor, action: str, thread: Thread, **details) -> None:
    audit_record(
        actor,
        action=action,
        practice=thread.practice,
        patient=thread.patient,
        details={"thread": str(thread.public_id), **details},
    )


def _file(actor, thread: Thread, now: dt.datetime) -> None:
    thread.filed_at = now
    thread.filed_by = actor
    _audit(actor, "message.file", thread, automatic=actor is None)


# --- The patient's side -------------------------------------------------------------------


def thread_start(
    account,
    *,
    access: PortalAccess,
    provider,
    kind: str,
    subject: str,
    body: str,
    upload=None,
    medications: Iterable[str] = (),
    pharmacy: str = "",
) -> Thread:
    """A patient writes a new message to one of the practice's providers (SPEC §7.2).

    `provider` is the provider's User or public id; `upload` an optional UploadedFile. A
    prescription renewal (`kind` "renewal") names one or more of the patient's shared current
    medications (public ids) and a pharmacy; its text is optional. Bad input raises
    ValidationError by field and stores nothing. With the practice's automatic filing on, the
    thread is filed into the chart at once.
    """
    _require_patient_may_write(account, access)
    patient, practice = access.patient, access.practice
    errors: dict[str, list[str]] = {}
    try:
        membership = _provider_of(practice, provider)
    except ValidationError as exc:
        errors.update(exc.message_dict)
        membership = None
    if kind not in ThreadKind.values:
        errors["kind"] = [gettext("Choose the kind of message in the list.")]
    renewal = kind == ThreadKind.RENEWAL
    subject = _clean_text(errors, "subject", subject, max_length=SUBJECT_MAX, required=True)
    body = _clean_text(errors, "body", body, max_length=BODY_MAX, required=not renewal)
    chosen: list[Medication] = []
    if renewal:
        chosen = _renewal_medications(errors, access, medications)
        pharmacy = _clean_text(errors, "pharmacy", pharmacy, max_length=PHARMACY_MAX, required=True)
    checked = _check_attachment(errors, upload)
    if errors or membership is None:
        raise ValidationError(errors)

    def work(stored_name):
        now = timezone.now()
        thread = Thread.objects.create(
            practice=practice,
            patient=patient,
            provider=membership.user,
            kind=kind,
            subject=subject,
            started_by=account,
            created_at=now,
            last_message_at=now,
        )
        _add_message(
            thread,
            sender=account,
            from_patient=True,
            body=body,
            stored_name=stored_name,
            checked=checked,
            access=access,
        )
        if renewal:
            request = RenewalRequest.objects.create(thread=thread, pharmacy=pharmacy)
            request.medications.set(chosen)
        _audit(
            account,
            "message.thread_start",
            thread,
            kind=kind,
            attachment=checked is not None,
        )
        if Practice.objects.filter(pk=practice.pk, messaging_auto_file=True).exists():
            _file(None, thread, now)
        _notify(thread, to_patient=False, now=now)
        thread.save()
        return thread

    return _with_stored_file(upload, checked, work)


def patient_reply(account, *, access: PortalAccess, thread: Thread, body: str, upload=None):
    """A patient replies in one of their open threads. A done thread takes no reply."""
    _require_patient_may_write(account, access)
    if thread.patient_id != access.patient_id:
        raise Http404
    errors: dict[str, list[str]] = {}
    body = _clean_text(errors, "body", body, max_length=BODY_MAX, required=True)
    checked = _check_attachment(errors, upload)
    if errors:
        raise ValidationError(errors)

    def work(stored_name):
        locked = Thread.objects.select_for_update().select_related("patient").get(pk=thread.pk)
        if not locked.is_open:
            raise ValidationError({"body": [str(THREAD_DONE_MESSAGE)]})
        message = _add_message(
            locked,
            sender=account,
            from_patient=True,
            body=body,
            stored_name=stored_name,
            checked=checked,
            access=access,
        )
        _audit(account, "message.reply", locked, by="patient", attachment=checked is not None)
        _notify(locked, to_patient=False, now=message.created_at)
        locked.save()
        return message

    return _with_stored_file(upload, checked, work)


def thread_read_by_patient(account, *, access: PortalAccess, thread: Thread) -> None:
    """A patient opens one of their threads: audited, and it no longer counts as unread."""
    require_active_access(account, access)
    if thread.patient_unread:
        Thread.objects.filter(pk=thread.pk).update(patient_unread=False)
        thread.patient_unread = False
    audit_read(
        account, action="message.read", patient=thread.patient, details=_read_details(thread)
    )


def _read_details(thread: Thread, **more) -> dict:
    return {"thread": str(thread.public_id), **more}


@transaction.atomic
def record_update_emails_set(account, *, access: PortalAccess, enabled: bool) -> bool:
    """A patient chooses whether they are emailed when the practice newly shares results or a
    visit summary with them; True if it changed (audited)."""
    require_active_access(account, access)
    if not isinstance(enabled, bool):
        raise ValidationError({"enabled": [gettext("Choose yes or no.")]})
    setting, _created = RecordUpdateEmails.objects.select_for_update().get_or_create(
        patient=access.patient
    )
    if setting.enabled == enabled:
        return False
    setting.enabled = enabled
    setting.save(update_fields=["enabled"])
    audit_record(
        account,
        action="message.record_update_emails",
        practice=access.practice,
        patient=access.patient,
        details={"enabled": enabled},
    )
    return True


# --- The practice's side ------------------------------------------------------------------


def thread_read_by_staff(actor, *, thread: Thread) -> None:
    """Someone at the practice opens a thread: audited every time; no longer unread."""
    require_answerer(actor, thread.practice)
    if thread.practice_unread:
        Thread.objects.filter(pk=thread.pk).update(practice_unread=False)
        thread.practice_unread = False
    audit_read(actor, action="message.read", patient=thread.patient, details=_read_details(thread))


def _locked(thread: Thread) -> Thread:
    return (
        Thread.objects.select_for_update(of=("self",))
        .select_related("patient", "provider", "practice")
        .get(pk=thread.pk)
    )


def staff_reply(actor, *, thread: Thread, body: str, upload=None) -> Message:
    """The practice answers in an open thread; the patient is emailed (without content)."""
    require_answerer(actor, thread.practice)
    errors: dict[str, list[str]] = {}
    body = _clean_text(errors, "body", body, max_length=BODY_MAX, required=True)
    checked = _check_attachment(errors, upload)
    if errors:
        raise ValidationError(errors)

    def work(stored_name):
        locked = _locked(thread)
        if not locked.is_open:
            raise ValidationError({"body": [str(STAFF_THREAD_DONE_MESSAGE)]})
        message = _add_message(
            locked,
            sender=actor,
            from_patient=False,
            body=body,
            stored_name=stored_name,
            checked=checked,
        )
        locked.practice_unread = False
        _audit(actor, "message.reply", locked, by="practice", attachment=checked is not None)
        _notify(locked, to_patient=True, now=message.created_at)
        locked.save()
        return message

    return _with_stored_file(upload, checked, work)


@transaction.atomic
def thread_status_set(actor, *, thread: Thread, status: str) -> bool:
    """Mark a thread done (the patient can no longer reply; they may start a new one) or
    open it again; True if it changed."""
    require_answerer(actor, thread.practice)
    if status not in ThreadStatus.values:
        raise ValidationError({"status": [gettext("Choose open or done.")]})
    locked = _locked(thread)
    if locked.status == status:
        return False
    locked.status = status
    locked.closed_at = timezone.now() if status == ThreadStatus.DONE else None
    locked.save(update_fields=["status", "closed_at"])
    thread.status, thread.closed_at = locked.status, locked.closed_at
    _audit(actor, "message.status", locked, status=status)
    return True


@transaction.atomic
def thread_assign(actor, *, thread: Thread, provider) -> bool:
    """Give the thread to another provider of the practice who receives messages (a User or
    a public id); True if it changed. The new provider is emailed (without content)."""
    require_answerer(actor, thread.practice)
    membership = _provider_of(thread.practice, provider)
    locked = _locked(thread)
    if locked.provider_id == membership.user_id:
        return False
    locked.provider = membership.user
    # The new provider hears of it even if the last provider was emailed minutes ago.
    locked.practice_notified_at = None
    _notify(locked, to_patient=False, now=timezone.now())
    locked.save(update_fields=["provider", "practice_notified_at"])
    thread.provider = locked.provider
    _audit(actor, "message.assign", locked, provider=str(membership.user.public_id))
    return True


@transaction.atomic
def thread_file(actor, *, thread: Thread) -> bool:
    """ "File to chart": the thread shows in the chart's timeline from now on; True if it was
    not filed yet."""
    require_answerer(actor, thread.practice)
    locked = _locked(thread)
    if locked.filed_at is not None:
        return False
    _file(actor, locked, timezone.now())
    locked.save(update_fields=["filed_at", "filed_by"])
    thread.filed_at, thread.filed_by = locked.filed_at, locked.filed_by
    return True


def renewal_decide(actor, *, thread: Thread, decision: str, body: str = "") -> Message:
    """The provider answers a prescription renewal request: "Renewal sent", "Needs a visit"
    or "Denied", with an optional message. The answer is a message of the thread (the patient
    is emailed without content) and shows in the chart's timeline. Answered once."""
    require_answerer(actor, thread.practice)
    errors: dict[str, list[str]] = {}
    if decision not in RenewalDecision.values:
        errors["decision"] = [gettext("Choose an answer.")]
    body = _clean_text(errors, "body", body, max_length=BODY_MAX, required=False)
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        locked = _locked(thread)
        renewal = RenewalRequest.objects.select_for_update().filter(thread=locked).first()
        if renewal is None:
            raise ValidationError({"decision": [gettext("This is not a renewal request.")]})
        if renewal.decision:
            raise ValidationError({"decision": [gettext("This request was already answered.")]})
        if not locked.is_open:
            raise ValidationError({"decision": [str(STAFF_THREAD_DONE_MESSAGE)]})
        message = _add_message(
            locked,
            sender=actor,
            from_patient=False,
            body=body,
            stored_name=None,
            checked=None,
            renewal_decision=decision,
        )
        renewal.decision = decision
        renewal.decided_by = actor
        renewal.decided_at = message.created_at
        renewal.save(update_fields=["decision", "decided_by", "decided_at"])
        locked.practice_unread = False
        _audit(actor, "message.renewal_decision", locked, decision=decision)
        _notify(locked, to_patient=True, now=message.created_at)
        locked.save()
        return message


def attachment_downloaded(actor, *, attachment: Attachment, by_patient: bool) -> None:
    """Audit a download of an attachment (the caller has checked access)."""
    thread = attachment.message.thread
    audit_read(
        actor,
        action="message.attachment_download",
        patient=thread.patient,
        details=_read_details(
            thread, attachment=str(attachment.public_id), by="patient" if by_patient else "practice"
        ),
    )


# --- Reads of lists (audited like every read) --------------------------------------------


def inbox_viewed(actor, *, practice: Practice, shown: int, filters: dict | None = None) -> None:
    """Audit an open of the practice's inbox (which filters, how many threads it showed)."""
    require_answerer(actor, practice)
    audit_read(
        actor,
        action="message.list",
        practice=practice,
        details={"shown": shown, **(filters or {})},
    )


def patient_messages_viewed(account, *, access: PortalAccess, page: str = "list") -> None:
    """Audit a patient's open of their messages list or a compose page."""
    require_active_access(account, access)
    audit_read(account, action="message.list", patient=access.patient, details={"page": page})
