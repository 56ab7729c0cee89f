"""The practice's side of secure messaging (SPEC §7.4): the inbox, a thread with its actions
(reply, mark done or reopen, assign, file to chart, answer a renewal request) and attachment
downloads.

Every page is for staff (`staff_required`) who may read and answer the practice's patient
messages (`services.require_answerer`: 403 otherwise). A thread is looked up in the current
practice first, so another practice's thread is a 404 on every URL, whatever the method. The
views only parse and render: each change is a service call, whose errors are shown next to
the field (status 400, nothing changed).
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from portico.core.forms import apply_service_errors
from portico.messaging import selectors, services
from portico.messaging.models import ThreadKind, ThreadStatus
from portico.messaging.staff_forms import (
    ALL,
    AssignForm,
    InboxFilterForm,
    RenewalForm,
    ReplyForm,
)
from portico.practices import permissions
from portico.practices.decorators import staff_required

ONE_FILE_MESSAGE = _("Attach one file per message.")


# --- The inbox ----------------------------------------------------------------------------


def _inbox_filters(request, membership, providers) -> tuple[InboxFilterForm, dict]:
    """The filters asked for, with the defaults for what was not (or not validly) asked: the
    signed-in provider's own threads when patients write to them, else everyone's; open
    threads; every type."""
    defaults = {
        "provider": str(request.user.public_id) if membership.receives_messages else ALL,
        "status": ThreadStatus.OPEN.value,
        "kind": "",
        "unread": False,
    }
    data = {name: request.GET.get(name, defaults[name]) for name in ("provider", "status", "kind")}
    data["unread"] = request.GET.get("unread", "")
    form = InboxFilterForm(data, providers=providers)
    form.is_valid()
    chosen = {name: form.cleaned_data.get(name) or default for name, default in defaults.items()}
    return form, chosen


def _answerer(request):
    """The signed-in member, when they may read and answer the practice's patient messages
    (their membership as this request read it; the services check again when they act)."""
    permissions.require(
        permissions.can_answer_messages(request.membership), services.NOT_ALLOWED_MESSAGE
    )
    return request.membership


@staff_required
def inbox(request):
    membership = _answerer(request)
    providers = services.messaging_providers(request.practice)
    form, chosen = _inbox_filters(request, membership, providers)
    by_id = {str(m.user.public_id): m.user for m in providers}
    threads = selectors.practice_threads(
        request.practice,
        provider=by_id.get(chosen["provider"]),
        status="" if chosen["status"] == ALL else chosen["status"],
        kind=chosen["kind"],
        unread=chosen["unread"],
    )
    page = Paginator(threads, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    # Each label translated once per page, not once per row.
    kind_labels = {value: str(label) for value, label in ThreadKind.choices}
    page.object_list = list(page.object_list)
    for thread in page.object_list:
        thread.kind_label = kind_labels[thread.kind]
    services.inbox_viewed(
        request.user,
        practice=request.practice,
        shown=len(page.object_list),
        filters={**chosen, "page": page.number},
    )
    return render(
        request,
        "messaging/inbox.html",
        {
            "form": form,
            "page": page,
            "chosen": chosen,
            "practice": request.practice,
            "messaging_section": True,
        },
    )


# --- One thread ---------------------------------------------------------------------------


def _thread(request, thread_id):
    """The current practice's thread (404 for anyone else's), once the actor may answer."""
    thread = selectors.thread_for_practice(request.practice, thread_id)
    _answerer(request)
    return thread


def _thread_page(
    request,
    thread,
    *,
    status: int = 200,
    reply_form=None,
    assign_form=None,
    renewal_form=None,
    status_error: str = "",
    file_error: str = "",
):
    """The thread with its forms; every showing is an audited read (and marks it read)."""
    providers = services.messaging_providers(request.practice)
    thread_messages = selectors.thread_messages(thread)
    for message in thread_messages:
        attachment = getattr(message, "attachment", None)
        if attachment is not None:
            message.attachment_url = reverse(
                "messaging:staff_attachment", args=[thread.public_id, attachment.public_id]
            )
    renewal = selectors.renewal_of(thread) if thread.kind == ThreadKind.RENEWAL else None
    services.thread_read_by_staff(request.user, thread=thread)
    return render(
        request,
        "messaging/staff_thread.html",
        {
            "thread": thread,
            "patient": thread.patient,
            "practice": request.practice,
            "thread_messages": thread_messages,
            "renewal": renewal,
            "reply_form": reply_form or ReplyForm(),
            "assign_form": assign_form
            or AssignForm(initial={"provider": thread.provider.public_id}, providers=providers),
            "renewal_form": renewal_form or RenewalForm(),
            "status_error": status_error,
            "file_error": file_error,
            "viewer": "practice",
            "messaging_section": True,
        },
        status=status,
    )


@staff_required
def thread(request, thread_id):
    thread = _thread(request, thread_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    return _thread_page(request, thread)


def _post_only(view):
    """A thread action: the thread is found (or 404) and the actor checked before the method."""

    @staff_required
    @wraps(view)
    def wrapper(request, thread_id):
        thread = _thread(request, thread_id)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return view(request, thread)

    return wrapper


def _back(thread):
    return redirect("messaging:staff_thread", thread_id=thread.public_id)


def _submit(request, thread, form, form_name: str, act, done):
    """A thread action with a form: when the form is valid, `act(cleaned_data)` (a service
    call) and back to the thread with `done(result)` said; else, or when the service refuses,
    the thread page again with the errors next to the fields (400, nothing changed)."""
    if form.is_valid():
        try:
            result = act(form.cleaned_data)
        except ValidationError as exc:
            apply_service_errors(form, exc)
        else:
            messages.success(request, done(result))
            return _back(thread)
    return _thread_page(request, thread, status=400, **{form_name: form})


@_post_only
def reply(request, thread):
    """ "Reply": text and at most one file; the patient is emailed (without content)."""
    form = ReplyForm(request.POST, request.FILES)
    if form.is_valid() and len(request.FILES.getlist("attachment")) > 1:
        form.add_error("attachment", ONE_FILE_MESSAGE)
    return _submit(
        request,
        thread,
        form,
        "reply_form",
        lambda data: services.staff_reply(
            request.user, thread=thread, body=data["body"], upload=data["attachment"]
        ),
        lambda _message: gettext("Your reply was sent."),
    )


@_post_only
def status(request, thread):
    """ "Mark done" or "Reopen"."""
    try:
        changed = services.thread_status_set(
            request.user, thread=thread, status=request.POST.get("status", "")
        )
    except ValidationError as exc:
        return _thread_page(request, thread, status_error=" ".join(exc.messages), status=400)
    if not changed:
        messages.success(request, gettext("Nothing changed."))
    elif thread.status == ThreadStatus.DONE:
        messages.success(request, gettext("The thread is marked done."))
    else:
        messages.success(request, gettext("The thread is open again."))
    return _back(thread)


@_post_only
def assign(request, thread):
    """ "Assign" the thread to another of the practice's providers."""
    return _submit(
        request,
        thread,
        AssignForm(request.POST, providers=services.messaging_providers(request.practice)),
        "assign_form",
        lambda data: services.thread_assign(request.user, thread=thread, provider=data["provider"]),
        lambda changed: (
            gettext("The thread is assigned to %(name)s.") % {"name": thread.provider.display_name}
            if changed
            else gettext("Nothing changed.")
        ),
    )


@_post_only
def file_to_chart(request, thread):
    """ "File to chart": the thread shows in the chart's timeline."""
    if services.thread_file(request.user, thread=thread):
        messages.success(request, gettext("The thread is filed to the chart."))
    else:
        messages.success(request, gettext("This thread was already filed to the chart."))
    return _back(thread)


@_post_only
def renewal_answer(request, thread):
    """The answer to a prescription renewal request, with an optional message."""
    return _submit(
        request,
        thread,
        RenewalForm(request.POST),
        "renewal_form",
        lambda data: services.renewal_decide(
            request.user, thread=thread, decision=data["decision"], body=data["body"]
        ),
        lambda _message: gettext("Your answer was sent to the patient."),
    )


# --- Attachments --------------------------------------------------------------------------


@staff_required
def attachment(request, thread_id, attachment_id):
    """Download an attachment: never from a public URL; checked, audited, sent as a file to
    save (not shown in the browser), with no content sniffing and no caching."""
    thread = _thread(request, thread_id)
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    found = selectors.attachment_of_thread(thread, attachment_id)
    try:
        handle = found.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    services.attachment_downloaded(request.user, attachment=found, by_patient=False)
    response = FileResponse(
        handle, as_attachment=True, filename=found.filename, content_type=found.content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
