"""The demo's mailbox and text messages: what Portico sent, readable in the browser (demo or
debug mode only; EMAIL_URL=mailbox:// and SMS_URL=file://…)."""

from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from portico.notifications import mailbox, sms


def _require_mailbox():
    if not settings.PORTICO_MAILBOX_ENABLED:
        raise Http404


def mailbox_list(request):
    _require_mailbox()
    return render(
        request, "notifications/mailbox.html", {"messages_list": mailbox.mailbox_messages()}
    )


def mailbox_detail(request, key):
    _require_mailbox()
    message = mailbox.mailbox_message(key)
    if message is None:
        raise Http404
    return render(request, "notifications/mailbox_message.html", {"message": message})


@xframe_options_sameorigin
def mailbox_html(request, key):
    """The HTML part, shown inside a sandboxed frame on the message page."""
    _require_mailbox()
    message = mailbox.mailbox_message(key)
    if message is None:
        raise Http404
    response = HttpResponse(message.html or "", content_type="text/html; charset=utf-8")
    response["Content-Security-Policy"] = (
        "sandbox allow-popups allow-popups-to-escape-sandbox; "
        "default-src 'none'; style-src 'unsafe-inline'"
    )
    return response


def sms_list(request):
    """The demo's text messages (SMS_URL=file://…), next to the mailbox; demo or debug only."""
    _require_mailbox()
    return render(request, "notifications/sms.html", {"sms_list": sms.file_messages()})
