from django.conf import settings
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.clickjacking import xframe_options_sameorigin

from portico.notifications import mailbox, sms


def home(request):
    """Send each person to their side of Portico."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign_in")
    if request.membership is not None:
        return redirect("charts:patient_list")
    return redirect("portal:home")


def api_not_found(request):
    return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")


def _require_mailbox():
    if not settings.PORTICO_MAILBOX_ENABLED:
        raise Http404


def mailbox_list(request):
    _require_mailbox()
    return render(request, "core/mailbox.html", {"messages_list": mailbox.mailbox_messages()})


def mailbox_detail(request, key):
    _require_mailbox()
    message = mailbox.mailbox_message(key)
    if message is None:
        raise Http404
    return render(request, "core/mailbox_message.html", {"message": message})


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
    return render(request, "core/sms.html", {"sms_list": sms.file_messages()})
