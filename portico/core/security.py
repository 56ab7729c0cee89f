"""Security headers every page gets (OWASP ASVS V3.4).

The Content-Security-Policy allows scripts, styles and other resources from Portico's own origin
only: no inline scripts, no inline event handlers, no `eval`, and no framing by other sites. A
view that needs another policy (the demo mailbox's sandboxed email frame; booking embeds later)
sets its own `Content-Security-Policy` header, and this middleware leaves it alone.
"""

from __future__ import annotations

from django.conf import settings


def build_policy(directives: dict[str, str]) -> str:
    return "; ".join(f"{name} {value}".strip() for name, value in directives.items())


class SecurityHeadersMiddleware:
    """Add CSP and Permissions-Policy unless the view already chose them."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = build_policy(settings.PORTICO_CONTENT_SECURITY_POLICY)
        self.permissions_policy = settings.PORTICO_PERMISSIONS_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        response.headers.setdefault("Permissions-Policy", self.permissions_policy)
        return response
