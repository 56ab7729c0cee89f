"""Bulk invitation runs (SPEC §5.3): one row per "Invite all N matching", with its progress."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class RunState(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    CANCELLED = "cancelled", _("Cancelled")
    FINISHED = "finished", _("Finished")


class BulkInviteRun(models.Model):
    """A background invite of every chart that matched the filters when the run was started.

    The run walks the matching charts in order of their id (keyset pagination, `cursor` is the
    last id done, `last_patient_id` the highest id that matched at the start). Each batch is one
    transaction that issues the invitations and advances the cursor and the counts together, so
    a run killed at any point resumes where its last committed batch ended.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="bulk_invite_runs"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What staff chose (see outreach.selectors.BulkFilter); no PHI, only ranges and flags.
    criteria = models.JSONField(default=dict)
    state = models.CharField(max_length=10, choices=RunState.choices, default=RunState.QUEUED)
    # Why a run ended before the end of its list (cancelled by whom, permission withdrawn).
    stop_reason = models.CharField(max_length=200, blank=True)
    total = models.PositiveIntegerField(default=0)
    last_patient_id = models.BigIntegerField(default=0)
    cursor = models.BigIntegerField(default=0)
    invited = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # {"reason code": count}; reasons are listed in outreach.services.SKIP_REASONS.
    skipped = models.JSONField(default=dict)
    batches = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # Written with every batch; a queued or running run whose heartbeat is old has lost its
    # worker (killed) and is handed to a new task by outreach.services.bulk_invite_resume_stalled.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "heartbeat_at"])]

    def __str__(self) -> str:
        return f"bulk invite {self.public_id} ({self.state})"

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())

    @property
    def processed(self) -> int:
        return self.invited + self.skipped_total + self.failed

    @property
    def percent(self) -> int:
        if self.state == RunState.FINISHED or not self.total:
            return 100 if self.state == RunState.FINISHED else 0
        return min(100, self.processed * 100 // self.total)

    @property
    def is_active(self) -> bool:
        return self.state in (RunState.QUEUED, RunState.RUNNING)
