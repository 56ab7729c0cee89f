import ipaddress

from portico.audit import context
from portico.core.ratelimit import client_address


def _ip_or_none(text: str) -> str | None:
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


class RequestContextMiddleware:
    """Remember the client's address and agent for audit events written during the request.

    The address is the one the rate limits count (core.ratelimit.client_address): behind
    PORTICO_TRUSTED_PROXY_HOPS proxies, the address the outermost of them saw, not the proxy's.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = context.set_current(
            context.RequestContext(
                ip_address=_ip_or_none(client_address(request)),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        )
        try:
            return self.get_response(request)
        finally:
            context.reset(token)
