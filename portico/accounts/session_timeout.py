"""Automatic sign-out (SPEC §4.3, HIPAA automatic logoff): idle sessions end after 15 minutes
for patients and 30 for staff, every session after 12 hours; all configurable. The server
enforces it; the page's warning (portico/static/portico/session.js) is only a courtesy."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import ngettext

SESSION_STARTED = "session_started_at"
SESSION_SEEN = "session_seen_at"
# Activity is written to the session at most once a minute (a write per request is wasteful);
# "Stay signed in" always writes it.
TOUCH_EVERY_SECONDS = 60


def _now() -> int:
    return int(timezone.now().timestamp())


def session_started(request) -> None:
    """Call right after sign-in: both clocks start now."""
    now = _now()
    request.session[SESSION_STARTED] = now
    request.session[SESSION_SEEN] = now


def session_touch(request) -> None:
    request.session[SESSION_SEEN] = _now()


def idle_limit_seconds(request) -> int:
    is_staff = getattr(request, "membership", None) is not None
    minutes = (
        settings.PORTICO_IDLE_TIMEOUT_STAFF_MINUTES
        if is_staff
        else settings.PORTICO_IDLE_TIMEOUT_PATIENT_MINUTES
    )
    return minutes * 60


def seconds_left(request) -> int:
    """Seconds until this session ends, whichever of the two limits comes first."""
    now = _now()
    seen = request.session.get(SESSION_SEEN, now)
    started = request.session.get(SESSION_STARTED, now)
    absolute = settings.PORTICO_SESSION_ABSOLUTE_TIMEOUT_HOURS * 3600
    return max(0, min(seen + idle_limit_seconds(request), started + absolute) - now)


def _ended_message(request, now: int) -> str:
    started = request.session.get(SESSION_STARTED, now)
    hours = settings.PORTICO_SESSION_ABSOLUTE_TIMEOUT_HOURS
    if now - started >= hours * 3600:
        return ngettext(
            "You were signed out because sessions last at most %(hours)s hour. "
            "Please sign in again.",
            "You were signed out because sessions last at most %(hours)s hours. "
            "Please sign in again.",
            hours,
        ) % {"hours": hours}
    minutes = idle_limit_seconds(request) // 60
    return ngettext(
        "You were signed out after %(minutes)s minute without activity, to protect your "
        "information. Please sign in again.",
        "You were signed out after %(minutes)s minutes without activity, to protect your "
        "information. Please sign in again.",
        minutes,
    ) % {"minutes": minutes}


class SessionTimeoutMiddleware:
    """End signed-in browser sessions that were idle too long or are too old."""

    def __init__(self, get_response):
        self.get_response = get_response
        self._status_path = None

    def __call__(self, request):
        user = getattr(request, "user", None)
        # The API authenticates each call by bearer token, not by this session.
        if user is None or not user.is_authenticated or request.path.startswith("/api/"):
            return self.get_response(request)
        if self._status_path is None:
            self._status_path = reverse("accounts:session_status")
        now = _now()
        session = request.session
        session.setdefault(SESSION_STARTED, now)
        session.setdefault(SESSION_SEEN, now)
        if seconds_left(request) <= 0:
            message = _ended_message(request, now)
            logout(request)
            messages.info(request, message)
            if request.path == self._status_path:
                return JsonResponse({"signed_in": False, "seconds_left": 0})
            target = reverse("accounts:sign_in")
            if request.method == "GET":
                target += "?" + urlencode({"next": request.get_full_path()})
            return redirect(target)
        # Asking how long is left is not activity.
        if request.path != self._status_path and now - session[SESSION_SEEN] >= TOUCH_EVERY_SECONDS:
            session[SESSION_SEEN] = now
        request.session_idle_seconds = idle_limit_seconds(request)
        return self.get_response(request)
