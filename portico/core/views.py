"""The site's front door and health check; nothing here reads an app's data."""

from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect


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
