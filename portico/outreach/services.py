"""Bulk invite runs (SPEC §5.3): start, process in the background, cancel, resume.

A run walks its charts in keyset-paginated batches. Each batch is one transaction that
locks the run, invites the batch's charts (portal.services.invitation_issue_batch: each chart's
eligibility is checked again under its lock), and records the new cursor and counts. A worker
killed at any point loses at most the batch it had not committed; the next task (see
bulk_invite_resume_stalled) carries on from the cursor, so every chart is invited once and
gets one enrollment email.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from portico.audit.services import audit_record
from portico.outreach import selectors
from portico.outreach.models import BulkInviteRun, RunState
from portico.portal.models import InvitationOrigin
from portico.portal.services import SKIP_REASONS, invitation_issue_batch
from portico.practices import permissions
from portico.practices import selectors as practice_selectors

logger = logging.getLogger(__name__)

SKIP_NO_LONGER_MATCHING = "no_longer_matching"
SKIP_LABELS = {
    **SKIP_REASONS,
    SKIP_NO_LONGER_MATCHING: gettext_lazy("No longer matched the filters when its turn came"),
}
NO_PERMISSION = gettext_lazy("You do not have permission to invite patients to the portal.")


def _require_inviter(actor, practice) -> None:
    membership = practice_selectors.membership_for(actor, practice)
    permissions.require(permissions.can_invite_patients(membership), NO_PERMISSION)


@transaction.atomic
def bulk_invite_start(actor, *, practice, criteria: selectors.BulkFilter) -> BulkInviteRun:
    """Start inviting every chart that matches `criteria` now; the work runs as a task."""
    _require_inviter(actor, practice)
    today = selectors.practice_today(practice)
    charts = selectors.matching_charts(practice, criteria, today=today)
    found = charts.aggregate(total=Max("pk"))  # the last id; the count below
    total = charts.count()
    if not total:
        raise ValidationError(
            gettext("No chart matches these filters, so there is no one to invite.")
        )
    run = BulkInviteRun.objects.create(
        practice=practice,
        created_by=actor,
        criteria=criteria.as_json(),
        total=total,
        last_patient_id=found["total"],
        heartbeat_at=timezone.now(),
    )
    audit_record(
        actor,
        action="outreach.bulk_invite_started",
        practice=practice,
        details={"run": str(run.public_id), "criteria": run.criteria, "total": total},
    )
    _enqueue(run)
    return run


def _enqueue(run: BulkInviteRun) -> None:
    from portico.outreach.tasks import bulk_invite_process

    transaction.on_commit(lambda: bulk_invite_process.enqueue(run_id=run.pk))


@transaction.atomic
def bulk_invite_cancel(actor, *, run: BulkInviteRun) -> BulkInviteRun:
    """Stop a queued or running run; the batch being worked on finishes, no further one starts."""
    _require_inviter(actor, run.practice)
    run = BulkInviteRun.objects.select_for_update().get(pk=run.pk)
    if not run.is_active:
        raise ValidationError(gettext("This bulk invite has already ended."))
    run.state = RunState.CANCELLED
    run.stop_reason = f"Cancelled by {actor.display_name}"
    run.finished_at = timezone.now()
    run.save(update_fields=["state", "stop_reason", "finished_at"])
    audit_record(
        actor,
        action="outreach.bulk_invite_cancelled",
        practice=run.practice,
        details={"run": str(run.public_id), "invited": run.invited},
    )
    return run


def _finish(run: BulkInviteRun, state: str, reason: str = "") -> None:
    if state == RunState.FINISHED and run.processed < run.total:
        # Charts invited by someone else (or changed) after the start dropped out of the list.
        missing = run.total - run.processed
        run.skipped = {**run.skipped, SKIP_NO_LONGER_MATCHING: missing}
    run.state = state
    run.stop_reason = reason
    run.finished_at = timezone.now()
    run.save()
    audit_record(
        None,
        action="outreach.bulk_invite_finished",
        practice=run.practice,
        actor_label="bulk invite",
        details={
            "run": str(run.public_id),
            "state": state,
            "invited": run.invited,
            "skipped": run.skipped,
            "failed": run.failed,
        },
    )


def bulk_invite_step(run_id: int, *, batch_size: int | None = None) -> bool:
    """Process the run's next batch in one transaction; False when there is nothing left."""
    batch_size = batch_size or settings.PORTICO_BULK_INVITE_BATCH_SIZE
    with transaction.atomic():
        run = (
            # Only the run's row: PostgreSQL refuses to lock the nullable side of a join.
            BulkInviteRun.objects.select_for_update(of=("self",))
            .select_related("practice", "created_by")
            .get(pk=run_id)
        )
        if not run.is_active:
            return False
        now = timezone.now()
        if run.state == RunState.QUEUED:
            run.state = RunState.RUNNING
            run.started_at = now
        batch = list(
            selectors.run_charts(run)
            .filter(pk__gt=run.cursor)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            _finish(run, RunState.FINISHED)
            return False
        try:
            result = _issue_batch(run, batch)
        except PermissionDenied:
            _finish(run, RunState.CANCELLED, "Stopped: the right to invite patients was withdrawn")
            return False
        run.cursor = batch[-1]
        run.invited += len(result.invited)
        run.failed += result.failed
        skipped = dict(run.skipped)
        for reason in result.skipped.values():
            skipped[reason] = skipped.get(reason, 0) + 1
        run.skipped = skipped
        run.batches += 1
        run.heartbeat_at = now
        run.save()
        return True


class _Outcome:
    def __init__(self, invited, skipped, failed=0):
        self.invited, self.skipped, self.failed = invited, skipped, failed


def _issue_batch(run: BulkInviteRun, batch) -> _Outcome:
    """Invite the batch; if the batch as a whole fails, try its charts one by one and count
    the ones that still fail, so one bad chart does not stop the run."""
    extra = {"run": str(run.public_id)}
    try:
        result = invitation_issue_batch(
            run.created_by,
            practice=run.practice,
            patient_ids=batch,
            origin=InvitationOrigin.BULK,
            details=extra,
        )
        return _Outcome(result.invited, result.skipped)
    except PermissionDenied:
        raise
    except Exception:
        logger.exception("bulk invite %s: batch failed, retrying chart by chart", run.public_id)
    outcome = _Outcome({}, {})
    for patient_id in batch:
        try:
            result = invitation_issue_batch(
                run.created_by,
                practice=run.practice,
                patient_ids=[patient_id],
                origin=InvitationOrigin.BULK,
                details=extra,
            )
        except PermissionDenied:
            raise
        except Exception:
            logger.exception("bulk invite %s: a chart failed", run.public_id)
            outcome.failed += 1
            continue
        outcome.invited.update(result.invited)
        outcome.skipped.update(result.skipped)
    return outcome


def bulk_invite_process(run_id: int) -> str:
    """Run every batch of a run (the task body); stops when it is cancelled or done."""
    while bulk_invite_step(run_id):
        pass
    return BulkInviteRun.objects.get(pk=run_id).state


def bulk_invite_resume_stalled(now: dt.datetime | None = None) -> int:
    """Hand every queued or running run whose worker went silent to a new task (periodic job).

    Safe if the old worker is in fact alive: batches lock the run, so two tasks take turns
    and never do the same batch twice.
    """
    now = now or timezone.now()
    silent_since = now - dt.timedelta(seconds=settings.PORTICO_BULK_INVITE_STALL_SECONDS)
    stalled = list(
        BulkInviteRun.objects.filter(
            state__in=[RunState.QUEUED, RunState.RUNNING], heartbeat_at__lt=silent_since
        )
    )
    for run in stalled:
        with transaction.atomic():
            BulkInviteRun.objects.filter(pk=run.pk).update(heartbeat_at=now)
            _enqueue(run)
    return len(stalled)
