"""The patient's messaging pages (SPEC §7), inside one of their records: the list of threads,
writing a new message or a prescription renewal request, reading and answering a thread, and
downloading an attachment. Every page is reached through `patient_record_view` (the access is
checked on every request; another chart's or practice's thread is a 404) and every change is
a service call (messaging.services). Through an access whose scope leaves out messages (a
parent's or guardian's, once the patient is 12: portal.representation.scope_of) every page
answers 403 with MESSAGES_PRIVATE_MESSAGE and shows no message."""

from __future__ import annotations

import functools

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from portico.core.forms import apply_service_errors
from portico.messaging import selectors, services
from portico.messaging.forms import (
    MessageForm,
    RecordUpdateEmailsForm,
    RenewalForm,
    ReplyForm,
)
from portico.messaging.models import Attachment, ThreadKind
from portico.messaging.record_updates import record_update_emails_enabled
from portico.portal import representation
from portico.records.views import patient_record_view


def _context(access, accesses, **more) -> dict:
    return {"access": access, "accesses": accesses, "practice": access.practice, **more}


def _messaging_off(request, access, accesses):
    """A compose page while the practice takes no messages: why, and no form (403)."""
    return render(
        request,
        "messaging/patient_off.html",
        _context(access, accesses, messaging_off_message=services.MESSAGING_OFF_MESSAGE),
        status=403,
    )


MESSAGES_PRIVATE_MESSAGE = gettext_lazy(
    "From the age of %(age)s, a patient's messages with the practice are private to them: a "
    "parent's or guardian's access no longer includes them. The rest of the record stays open "
    "to you."
)


def messages_in_scope(view):
    """A messaging page, only through an access whose scope includes the patient's messages;
    otherwise the page says why (403) and reads nothing."""

    @functools.wraps(view)
    def gated(request, access, accesses, **kwargs):
        if not representation.scope_of(access).messages:
            return render(
                request,
                "messaging/patient_private.html",
                _context(
                    access,
                    accesses,
                    private_message=MESSAGES_PRIVATE_MESSAGE
                    % {"age": access.practice.representative_narrow_age},
                ),
                status=403,
            )
        return view(request, access, accesses, **kwargs)

    return gated


@patient_record_view
@messages_in_scope
def thread_list(request, access, accesses):
    """The patient's threads with this practice, newest first, a page at a time."""
    services.patient_messages_viewed(request.user, access=access, page="list")
    threads = selectors.patient_threads(
        access.patient, confidential=representation.scope_of(access).confidential
    )
    page = Paginator(threads, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "messaging/patient_list.html",
        _context(
            access,
            accesses,
            page=page,
            threads=page.object_list,
            messaging_open=services.messaging_open_for(access.practice),
            messaging_off_message=services.MESSAGING_OFF_MESSAGE,
            settings_form=RecordUpdateEmailsForm(
                initial={"enabled": record_update_emails_enabled(access.patient)}
            ),
        ),
    )


@require_POST
@patient_record_view
@messages_in_scope
def email_settings(request, access, _accesses):
    """Whether the patient is emailed when the practice shares new results or visit summaries."""
    form = RecordUpdateEmailsForm(request.POST)
    enabled = form.is_valid() and form.cleaned_data["enabled"]
    services.record_update_emails_set(request.user, access=access, enabled=enabled)
    if enabled:
        messages.success(
            request,
            _("Saved. We will email you when your practice shares new results or visit summaries."),
        )
    else:
        messages.success(
            request,
            _("Saved. We will not email you about new results or visit summaries."),
        )
    return redirect("messaging:patient_list", access_id=access.public_id)


@patient_record_view
@messages_in_scope
def thread_new(request, access, accesses):
    """Write a new message to one of the practice's providers."""
    if not services.messaging_open_for(access.practice):
        return _messaging_off(request, access, accesses)
    providers = services.messaging_providers(access.practice)
    form = MessageForm(request.POST or None, request.FILES or None, providers=providers)
    return _compose(
        request, access, accesses, form, "new", _("Your message was sent."), providers=providers
    )


@patient_record_view
@messages_in_scope
def renewal_new(request, access, accesses):
    """Ask for a prescription renewal of one or more shared current medications (with none to
    renew, the page says so and offers a normal message)."""
    if not services.messaging_open_for(access.practice):
        return _messaging_off(request, access, accesses)
    providers = services.messaging_providers(access.practice)
    scope = representation.scope_of(access)
    medications = list(
        services.renewable_medications(access.patient, confidential=scope.confidential)
    )
    form = None
    if medications:
        form = RenewalForm(request.POST or None, providers=providers, medications=medications)
    return _compose(
        request,
        access,
        accesses,
        form,
        "renewal",
        _("Your renewal request was sent."),
        providers=providers,
    )


def _compose(request, access, accesses, form, page: str, sent: str, **context):
    """A compose page (messaging/patient_<page>.html): a valid POST starts the thread and
    goes to it; the service's refusals show next to the fields and nothing is stored."""
    if form is not None and request.method == "POST" and form.is_valid():
        try:
            thread = services.thread_start(request.user, access=access, **form.thread_values())
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, sent)
            return _to_thread(access, thread)
    services.patient_messages_viewed(request.user, access=access, page=page)
    return render(
        request,
        f"messaging/patient_{page}.html",
        _context(access, accesses, form=form, **context),
    )


def _to_thread(access, thread):
    return redirect(
        "messaging:patient_thread", access_id=access.public_id, thread_id=thread.public_id
    )


def with_attachment_urls(thread_messages, url_of) -> list:
    """Set `attachment_url` on each message that has an attachment (messaging/_messages.html)."""
    for message in thread_messages:
        try:
            attachment = message.attachment
        except Attachment.DoesNotExist:
            continue
        message.attachment_url = url_of(attachment)
    return thread_messages


@patient_record_view
@messages_in_scope
def thread(request, access, accesses, thread_id):
    """One thread, oldest message first (opening it is audited and clears "unread"); POST
    answers it while it is open and the practice takes messages."""
    thread = selectors.thread_for_patient(
        access.patient, thread_id, confidential=representation.scope_of(access).confidential
    )
    messaging_open = services.messaging_open_for(access.practice)
    can_reply = messaging_open and thread.is_open
    form = ReplyForm(request.POST or None, request.FILES or None) if can_reply else ReplyForm()
    status = 200
    refused = ""
    if request.method == "POST":
        if not messaging_open:
            status, refused = 403, services.MESSAGING_OFF_MESSAGE
        elif not thread.is_open:
            refused = services.THREAD_DONE_MESSAGE
        elif form.is_valid():
            try:
                services.patient_reply(
                    request.user,
                    access=access,
                    thread=thread,
                    body=form.cleaned_data["body"],
                    upload=form.cleaned_data["attachment"],
                )
            except ValidationError as exc:
                apply_service_errors(form, exc)
            else:
                messages.success(request, _("Your reply was sent."))
                return _to_thread(access, thread)
    services.thread_read_by_patient(request.user, access=access, thread=thread)
    thread_messages = with_attachment_urls(
        selectors.thread_messages(thread),
        lambda a: reverse(
            "messaging:patient_attachment",
            args=[access.public_id, thread.public_id, a.public_id],
        ),
    )
    renewal = selectors.renewal_of(thread) if thread.kind == ThreadKind.RENEWAL else None
    return render(
        request,
        "messaging/patient_thread.html",
        _context(
            access,
            accesses,
            thread=thread,
            thread_messages=thread_messages,
            renewal=renewal,
            renewal_medications=list(renewal.medications.all()) if renewal else [],
            form=form,
            messaging_open=messaging_open,
            can_reply=can_reply,
            refused=refused,
            messaging_off_message=services.MESSAGING_OFF_MESSAGE,
            thread_done_message=services.THREAD_DONE_MESSAGE,
        ),
        status=status,
    )


@patient_record_view
@messages_in_scope
def attachment(request, access, _accesses, thread_id, attachment_id):
    """An attachment of one of the patient's threads, always as a download (never shown in
    the browser), audited."""
    thread = selectors.thread_for_patient(
        access.patient, thread_id, confidential=representation.scope_of(access).confidential
    )
    found = selectors.attachment_of_thread(thread, attachment_id)
    try:
        stored = found.file.open("rb")
    except OSError as exc:  # the file is gone from the storage
        raise Http404 from exc
    try:
        services.attachment_downloaded(request.user, attachment=found, by_patient=True)
    except BaseException:
        stored.close()
        raise
    response = FileResponse(
        stored,
        as_attachment=True,
        filename=found.filename,
        content_type=found.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
