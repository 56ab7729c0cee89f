"""Where the current request comes from, so services can audit it without taking a request."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""


# RequestContext is frozen, so sharing the default instance is safe.
_NO_REQUEST = RequestContext()
_current: ContextVar[RequestContext] = ContextVar(  # noqa: B039
    "portico_request_context", default=_NO_REQUEST
)


def current() -> RequestContext:
    return _current.get()


def set_current(context: RequestContext):
    return _current.set(context)


def reset(token) -> None:
    _current.reset(token)
