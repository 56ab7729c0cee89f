"""Exactly once (SPEC §5.3): the task worker is killed (SIGKILL) in the middle of a bulk invite
of a few thousand charts and started again; afterwards every eligible chart has exactly one
invitation and the real SMTP server received exactly one enrollment email per invitation.

The kill lands while the run issues invitations (one worker runs the run's task before the
drain tasks it queued), so it tests the run's exactly-once; the sender's own crash window is
delivery's (a message sent but not yet recorded as sent is sent again after its lease, with the
same Message-ID).

Real processes: `portico db_worker` (killed and restarted), `portico run_periodic` (hands the
orphaned run to a new task) and an aiosmtpd server. Marked e2e: `make e2e` runs it (~1 min).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import time
from contextlib import closing

import pytest
from aiosmtpd.controller import Controller

from tests.e2e.conftest import BIN, Inbox, _free_port, _run, _server_env, _start, _stop

pytestmark = pytest.mark.e2e

CHARTS = 3000
WITHOUT_EMAIL = 30
SEED = f"""
import datetime as dt
from portico.charts.models import Patient
from portico.outreach.selectors import BulkFilter
from portico.outreach.services import bulk_invite_start
from tests import factories

practice = factories.make_practice("Killed Worker Clinic")
admin = factories.make_admin(practice, full_name="Ada Admin")
Patient.objects.bulk_create(
    Patient(
        practice=practice,
        legal_first_name="Fault",
        legal_last_name=f"Test{{i}}",
        date_of_birth=dt.date(1970, 1, 1),
        email="" if i < {WITHOUT_EMAIL} else f"fault{{i}}@example.test",
    )
    for i in range({CHARTS})
)
bulk_invite_start(admin, practice=practice, criteria=BulkFilter(has_email=False))
"""


def _query(db, sql):
    with closing(sqlite3.connect(db, timeout=20)) as conn:
        return conn.execute(sql).fetchone()


def _wait(what, check, timeout):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_killing_the_worker_mid_run_invites_each_chart_once_and_sends_one_email_each(
    tmp_path,
):
    smtp_port = _free_port()
    db = tmp_path / "fault.sqlite3"
    env = _server_env(tmp_path, f"sqlite:///{db}", _free_port(), smtp_port)
    env.update(
        PORTICO_BULK_INVITE_BATCH_SIZE="40",
        PORTICO_BULK_INVITE_STALL_SECONDS="1",
        PORTICO_EMAIL_LEASE_SECONDS="4",
        PORTICO_EMAIL_BATCH_SIZE="50",
    )
    inbox = Inbox()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    portico = str(BIN / "portico")
    worker_args = [portico, "db_worker", "--no-reload", "--interval", "0.1", "--no-startup-delay"]
    processes = []
    try:
        _run([portico, "migrate", "--no-input"], env, tmp_path, "migrate")
        _run([portico, "shell", "-c", SEED], env, tmp_path, "seed")

        run_sql = "SELECT invited, state FROM outreach_bulkinviterun"
        worker = _start(worker_args, env, tmp_path, "worker-1")
        processes.append(worker)
        # Kill it while the run is half way through its batches.
        invited, _ = _wait(
            "the run to get going",
            lambda: (row := _query(db, run_sql)) and row[0] >= CHARTS // 4 and row,
            timeout=60,
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        invited_at_kill, state = _query(db, run_sql)
        assert state == "running"
        print(f"killed at {invited_at_kill} of {CHARTS - WITHOUT_EMAIL} invitations")
        assert 0 < invited_at_kill < CHARTS - WITHOUT_EMAIL, "killed too late to prove anything"

        processes.append(_start(worker_args, env, tmp_path, "worker-2"))
        time.sleep(1.5)  # the run's heartbeat is now older than the stall limit
        _run([portico, "run_periodic"], env, tmp_path, "periodic")

        _wait("the run to finish", lambda: _query(db, run_sql)[1] == "finished", timeout=90)
        invitations = _query(db, "SELECT COUNT(*) FROM portal_invitation")[0]
        charts_invited = _query(db, "SELECT COUNT(DISTINCT patient_id) FROM portal_invitation")[0]
        assert invitations == charts_invited == CHARTS - WITHOUT_EMAIL
        assert _query(db, run_sql) == (invitations, "finished")

        _wait(
            "every email to be delivered",
            lambda: (
                len(inbox._messages) >= invitations
                and _query(
                    db, "SELECT COUNT(*) FROM notifications_outboundemail WHERE state='sent'"
                )[0]
                == invitations
            ),
            timeout=300,
        )
        time.sleep(1)  # anything sent twice would arrive now
        ids = [m.message["Message-ID"] for m in inbox._messages]
        assert len(ids) == invitations
        assert len(set(ids)) == invitations
        stored = _query(db, "SELECT COUNT(DISTINCT message_id) FROM notifications_outboundemail")
        assert stored[0] == invitations
    finally:
        for process in processes:
            if process.poll() is None:
                _stop(process)
        smtp.stop()
