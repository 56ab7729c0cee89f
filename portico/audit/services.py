"""Writing audit events. Every chart read and every change calls audit_record, or audit_read
for the reads that every record page makes."""

from __future__ import annotations

from typing import Any

from portico.audit import context
from portico.audit.models import AuditEvent
from portico.core.bulk import insert_rows


def _event_row(actor, action, practice_id, patient, details, actor_label) -> dict[str, Any]:
    """The event's columns: who (a label that outlives the account), what, and where from."""
    where = context.current()
    if not actor_label:
        actor_label = actor.display_name if actor is not None else "system"
    return {
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": actor_label,
        "practice_id": practice_id,
        "patient_id": patient.pk if patient is not None else None,
        "action": action,
        "details": details or {},
        "ip_address": where.ip_address,
        "user_agent": where.user_agent,
    }


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
    return AuditEvent.objects.create(
        **_event_row(
            actor, action, practice.pk if practice else None, patient, details, actor_label
        )
    )


def audit_read(actor, *, action: str, patient, details: dict[str, Any] | None = None) -> None:
    """Append the audit event of a read of `patient`'s chart (at the chart's practice), as
    audit_record would, with one prepared INSERT (core.bulk): every view of a record page
    writes one, and the ORM's save costs four times as much. Nothing is returned."""
    row = _event_row(actor, action, patient.practice_id, patient, details, "")
    insert_rows(AuditEvent, [row])
