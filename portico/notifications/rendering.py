"""Email renderers by kind. An app registers how to render the emails it sends.

A renderer takes the OutboundEmail and returns a RenderedEmail, or None when the
message no longer applies (it is then skipped, not sent).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str
    from_email: str


RENDERERS: dict[str, str] = {
    "portal.enrollment": "portico.portal.emails.render_enrollment",
    "account.password_reset": "portico.accounts.emails.render_password_reset",
    "account.username": "portico.accounts.emails.render_username",
    "records.shared_link": "portico.records.emails.render_shared_link",
}


def renderer_for(kind: str) -> Callable:
    return import_string(RENDERERS[kind])
