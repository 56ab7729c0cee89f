"""The one audit writer. Every audit row is written here: one event with `audit_record`, the
read of a chart with `audit_read`, many events of a batch with `audit_record_many`."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router, transaction

from portico.audit import context
from portico.audit.models import AuditEvent
from portico.core.bulk import insert_rows


@dataclass(frozen=True)
class EventOf:
    """One event of a batch for `audit_record_many`: the patient and the event's details (the
    actor, action and practice are the batch's)."""

    patient_id: int | None
    details: dict[str, Any] = field(default_factory=dict)


def _actor_label(actor, actor_label: str) -> str:
    """Who acted, as a label that outlives the account ("system" for tasks)."""
    if actor_label:
        return actor_label
    return actor.display_name if actor is not None else "system"


def _event_values(
    actor, action: str, practice_id, patient_id, details, actor_label
) -> dict[str, Any]:
    """The event's columns: who, what, to which patient, as whom, and where from (the
    request's address and agent, and a representative's relationship to the chart they act
    on, come from the request context)."""
    where = context.current()
    acting = where.acting_as if patient_id == where.acting_for_patient_id else ""
    return {
        "acting_as": acting,
        "actor_id": actor.pk if actor is not None else None,
        "actor_label": _actor_label(actor, actor_label),
        "practice_id": practice_id,
        "patient_id": patient_id,
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
    """Append one audit event, in the caller's transaction."""
    practice_id = practice.pk if practice is not None else None
    patient_id = patient.pk if patient is not None else None
    return AuditEvent.objects.create(
        **_event_values(actor, action, practice_id, patient_id, details, actor_label)
    )


def audit_read(
    actor,
    *,
    action: str,
    patient=None,
    practice=None,
    details: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append the audit event of a read: of `patient`'s chart (at the chart's practice), or of
    a list of `practice`'s charts (the details say which).

    On PostgreSQL, a read's event written outside any other transaction is committed without
    waiting for the write-ahead log to reach the disk (`synchronous_commit = off` for that
    transaction only): a crash of the database server can lose well under a second of read
    events, never a change to a record nor the event of a change (those commit with the
    change, as usual). Inside a caller's transaction the event simply joins it.
    """
    if patient is not None:
        practice_id, patient_id = patient.practice_id, patient.pk
    else:
        practice_id, patient_id = (practice.pk if practice is not None else None), None
    values = _event_values(actor, action, practice_id, patient_id, details, "")
    connection = connections[router.db_for_write(AuditEvent)]
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return AuditEvent.objects.create(**values)
    with transaction.atomic(using=connection.alias):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit = off")
        return AuditEvent.objects.create(**values)


def audit_record_many(
    actor,
    *,
    action: str,
    practice,
    events: Iterable[EventOf],
    actor_label: str = "",
) -> int:
    """Append one event of `action` per item of `events` (a batch: bulk invitations), in the
    caller's transaction, with one INSERT statement; returns how many were written."""
    practice_id = practice.pk if practice is not None else None
    return insert_rows(
        AuditEvent,
        (
            _event_values(actor, action, practice_id, event.patient_id, event.details, actor_label)
            for event in events
        ),
    )
