"""Writing audit events. Every chart read and every change calls audit_record."""

from __future__ import annotations

from typing import Any

from portico.audit import context
from portico.audit.models import AuditEvent


def audit_record(
    actor,
    *,
    action: str,
    practice=None,
    patient=None,
    details: dict[str, Any] | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """Append one audit event; the request's address and agent come from the request context."""
    where = context.current()
    if not actor_label:
        actor_label = actor.display_name if actor is not None else "system"
    return AuditEvent.objects.create(
        actor=actor if (actor is not None and actor.pk) else None,
        actor_label=actor_label,
        practice=practice,
        patient=patient,
        action=action,
        details=details or {},
        ip_address=where.ip_address,
        user_agent=where.user_agent,
    )
