"""The site's front door, its public System requirements page and health check; nothing here
reads an app's data."""

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.html import format_html


def home(request):
    """Send each person to their side of Portico."""
    if not request.user.is_authenticated:
        return redirect("accounts:sign_in")
    if request.membership is not None:
        return redirect("charts:patient_list")
    return redirect("portal:home")


def system_requirements(request):
    """SPEC §12.1: what a person needs to use Portico, public. The sender addresses are read
    from settings at each request, so the page names the ones this deployment sends from:
    every email sets its own sender (enrollment invitations from PORTICO_ENROLLMENT_FROM, every
    other email from PORTICO_NOTIFICATIONS_FROM); DEFAULT_FROM_EMAIL sends nothing."""
    return render(
        request,
        "system_requirements.html",
        {
            "enrollment_from": _breakable(settings.PORTICO_ENROLLMENT_FROM),
            "notifications_from": _breakable(settings.PORTICO_NOTIFICATIONS_FROM),
        },
    )


def _breakable(address: str) -> str:
    """An email address that may wrap after its @ on a phone's narrow screen."""
    local, at, domain = address.partition("@")
    return format_html("{}{}<wbr>{}", local, at, domain)


def api_not_found(request):
    return JsonResponse({"detail": "Not found.", "errors": {}}, status=404)


def healthz(request):
    return HttpResponse("ok", content_type="text/plain")
