"""Periodic jobs: work nobody triggers by a click, run by `portico run_periodic` (cron or
`--loop`). Each job is a plain callable taking no arguments, idempotent (running it twice, or
two runs overlapping, does the work once) and returning how many things it did.

To add a job, append `Job("what it does", callable)` to JOBS.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from portico.fhir.services import tokens_clear_expired
from portico.notifications.services import email_retry_due
from portico.outreach.services import bulk_invite_resume_stalled
from portico.portal.auto_invite import invite_unsigned_due
from portico.portal.services import invitations_expire
from portico.scheduling.reminders import reminders_queue_due

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Job:
    name: str
    run: Callable[[], int]


JOBS: list[Job] = [
    Job("auto-invites for unsigned encounters", invite_unsigned_due),
    Job("invitation expiry", invitations_expire),
    Job("bulk invite runs resumed after a lost worker", bulk_invite_resume_stalled),
    Job("appointment reminders due", reminders_queue_due),
    Job("email retries and messages a stopped sender left", email_retry_due),
    Job("expired app codes and tokens deleted", tokens_clear_expired),
]


@dataclass(frozen=True)
class Outcome:
    name: str
    count: int | None  # None when the job failed
    error: str = ""

    @property
    def failed(self) -> bool:
        return self.count is None


def run_jobs(jobs: list[Job] | None = None) -> list[Outcome]:
    """Run every job once, in order; one job's failure is logged and the others still run."""
    outcomes = []
    for job in JOBS if jobs is None else jobs:
        try:
            count = job.run()
        except Exception as exc:  # noqa: BLE001 (one job must not stop the others)
            logger.exception("Periodic job %r failed", job.name)
            outcomes.append(Outcome(job.name, None, type(exc).__name__))
        else:
            outcomes.append(Outcome(job.name, int(count or 0)))
    return outcomes
