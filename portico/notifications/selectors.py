"""Reads of the outbox for pages (the portal access troubleshooter)."""

from __future__ import annotations

from portico.notifications.models import OutboundEmail

TROUBLESHOOTER_FIELDS = (
    "public_id",
    "kind",
    "subject_id",
    "patient",
    "to_address",
    "message_id",
    "state",
    "attempts",
    "last_error",
    "created_at",
    "next_attempt_at",
    "last_attempt_at",
    "sent_at",
    "bounced_at",
)


def emails_for_patient(patient) -> list[OutboundEmail]:
    """The chart's emails, newest first, with their delivery state (one query).

    The caller has already found `patient` within the practice (tenancy) and audits the read.
    """
    return list(
        OutboundEmail.objects.filter(patient=patient)
        .only(*TROUBLESHOOTER_FIELDS)
        .order_by("-created_at", "-id")
    )
