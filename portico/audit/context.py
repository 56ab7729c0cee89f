"""Where the current request comes from, so services can audit it without taking a request."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class RequestContext:
    ip_address: str | None = None
    user_agent: str = ""
    # While a representative acts on a chart's record (SPEC §9): the chart and how the
    # representative is related to its patient ("parent"); events of that chart carry it.
    acting_for_patient_id: int | None = None
    acting_as: str = ""


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


@contextmanager
def acting_for(patient_id: int, relationship: str) -> Iterator[None]:
    """Within this block the current account acts on `patient_id`'s chart as its
    representative: every audit event of that chart records `relationship`."""
    token = _current.set(
        replace(current(), acting_for_patient_id=patient_id, acting_as=relationship)
    )
    try:
        yield
    finally:
        _current.reset(token)
