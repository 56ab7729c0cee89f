"""No page past sign-in is reachable before the second factor (SPEC §4.1)."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect

from portico.accounts import mfa

# Pages a half-signed-in person may see: the second-factor step itself, the way out, the
# language switch, and the public System requirements page (linked from the second step).
ALLOWED_VIEWS = {
    "accounts:sign_in",
    "accounts:sign_out",
    "accounts:mfa_verify",
    "accounts:mfa_enroll",
    "accounts:language",
    "system_requirements",
    "accounts:session_status",
    "accounts:session_keepalive",
    "healthz",
    "mailbox",
    "mailbox_message",
    "mailbox_html",
}


class SecondFactorMiddleware:
    """Send a signed-in session that has not passed its second factor to that step.

    Staff without an authenticator app are sent to enroll one. API calls are
    authenticated by bearer token and never by this session, so they pass.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or mfa.session_is_verified(request):
            return None
        if request.path.startswith(("/api/", settings.STATIC_URL)):
            return None
        match = request.resolver_match
        if match is not None and match.view_name in ALLOWED_VIEWS:
            return None
        return redirect("accounts:mfa_verify")
