"""Bulk invite at scale (SPEC §5.3, issue 4): N synthetic charts, one bulk invite run, then
every enrollment email delivered to a local aiosmtpd server by the outbox's batch sender.

    .venv/bin/python bench/bulk_invite.py [--patients 100000] [--deliver N]

Uses DATABASE_URL when set (a PostgreSQL database of that name is dropped and created
afresh: use a throwaway name such as portico_bench_bulk), else a temporary SQLite file.
Prints invitations created per second, emails delivered per second, peak memory and the
number of queries per invitation. Targets: 100,000 invitations in under 60 s; at least
200 emails/s; memory flat between N=10,000 and N=100,000.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# A counting SMTP server in its own process, so it does not share this process' CPU time slice.
SMTP_SERVER = """
import sys
from aiosmtpd.controller import Controller

class Counter:
    total = 0
    ids = set()

    async def handle_DATA(self, server, session, envelope):
        Counter.total += 1
        for line in envelope.content.split(b"\\r\\n"):
            if line.lower().startswith(b"message-id:"):
                Counter.ids.add(line.split(b":", 1)[1].strip())
                break
        return "250 Message accepted"

controller = Controller(Counter(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for _ in sys.stdin:
    print(Counter.total, len(Counter.ids), flush=True)
"""


def _fresh_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def _configure(tmp: Path, smtp_port: int) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite3'}"
    if url.startswith("postgres"):
        _fresh_postgres(url)
    os.environ.update(
        DATABASE_URL=url,
        SECRET_KEY="bench-only-secret-key",  # noqa: S106 (a throwaway database)
        DEBUG="0",
        PORTICO_VAR_DIR=str(tmp),
        PORTICO_BASE_URL="http://127.0.0.1:8000",
        ALLOWED_HOSTS="127.0.0.1",
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        # Drain tasks are queued in the task table as in production; this process runs the
        # sender itself after the invitations, so the two phases are timed apart.
        PORTICO_TASKS_BACKEND="database",
        DJANGO_SETTINGS_MODULE="portico.settings",
    )
    return url


class QueryCounter:
    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux


def _create_charts(practice, n: int, chunk: int = 5000) -> None:
    from django.db import transaction

    from portico.charts.models import Patient

    born = dt.date(1950, 1, 1)
    for start in range(0, n, chunk):
        with transaction.atomic():
            Patient.objects.bulk_create(
                Patient(
                    practice=practice,
                    legal_first_name="Bench",
                    legal_last_name=f"Patient{i:06d}",
                    date_of_birth=born + dt.timedelta(days=i % 20000),
                    sex="unknown",
                    email=f"bench{i}@example.test",
                    mobile_phone="+12025550123",
                )
                for i in range(start, min(n, start + chunk))
            )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=100_000, help="charts to invite")
    parser.add_argument(
        "--deliver", type=int, default=None, help="emails to deliver (default: all of them)"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="charts per transaction")
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report Python's peak allocations during the invite (slows it down)",
    )
    args = parser.parse_args()

    from tests.smtp import free_port

    tmp = Path(tempfile.mkdtemp(prefix="portico-bench-bulk-"))
    smtp_port = free_port()
    url = _configure(tmp, smtp_port)
    if args.batch_size:
        os.environ["PORTICO_BULK_INVITE_BATCH_SIZE"] = str(args.batch_size)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    from portico.notifications.models import OutboundEmail
    from portico.outreach import services as outreach
    from portico.outreach.selectors import BulkFilter
    from portico.portal.models import Invitation
    from tests import factories

    engine = connection.vendor
    print(f"database: {engine} ({urlsplit(url).scheme}), patients: {args.patients}")
    call_command("migrate", verbosity=0)
    practice = factories.make_practice("Bench Clinic")
    admin = factories.make_admin(practice, full_name="Bench Admin")
    started = time.perf_counter()
    _create_charts(practice, args.patients)
    print(f"charts created: {args.patients} in {time.perf_counter() - started:.1f} s")
    rss_before = _peak_rss_mb()

    # --- the bulk invite, as the task runs it -------------------------------------------------
    counter = QueryCounter()
    if args.tracemalloc:
        tracemalloc.start()
    started, cpu_started = time.perf_counter(), time.process_time()
    with connection.execute_wrapper(counter):
        run = outreach.bulk_invite_start(admin, practice=practice, criteria=BulkFilter())
        state = outreach.bulk_invite_process(run.pk)
    invite_seconds = time.perf_counter() - started
    invite_cpu = time.process_time() - cpu_started
    traced_peak = tracemalloc.get_traced_memory()[1] / 2**20 if args.tracemalloc else None
    tracemalloc.stop()
    run.refresh_from_db()
    invitations = Invitation.objects.count()
    assert state == "finished" and invitations == run.invited == args.patients, (state, run.invited)
    rss_invite = _peak_rss_mb()
    print(
        f"invitations: {invitations} in {invite_seconds:.1f} s = "
        f"{invitations / invite_seconds:,.0f}/s (batch {settings.PORTICO_BULK_INVITE_BATCH_SIZE}, "
        f"{run.batches} batches); this process' CPU time {invite_cpu:.1f} s"
    )
    print(f"queries: {counter.count} = {counter.count / invitations:.3f} per invitation")
    print(f"peak RSS: {rss_before:.0f} MB after creating charts, {rss_invite:.0f} MB after invite")
    if traced_peak is not None:
        print(f"peak Python allocations during the invite (tracemalloc): {traced_peak:.1f} MB")

    # --- delivery to a real SMTP server --------------------------------------------------------
    if args.deliver == 0:
        return 0
    from portico.notifications.rendering import renderer_for
    from portico.notifications.services import outbox_drain

    first = OutboundEmail.objects.order_by("pk").first()
    renderer_for(first.kind)(first)  # fails loudly here rather than once per message below

    server = subprocess.Popen(
        [sys.executable, "-c", SMTP_SERVER, str(smtp_port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout.readline().strip() == "ready"
        to_send = invitations if args.deliver is None else min(args.deliver, invitations)
        started = time.perf_counter()
        handled = outbox_drain(limit=to_send)
        deliver_seconds = time.perf_counter() - started
        server.stdin.write("count\n")
        server.stdin.flush()
        total, distinct = map(int, server.stdout.readline().split())
    finally:
        server.terminate()
        server.wait(timeout=10)
    sent = OutboundEmail.objects.filter(state="sent").count()
    print(
        f"emails: {handled} handled, {sent} sent, server received {total} "
        f"({distinct} distinct Message-IDs) in {deliver_seconds:.1f} s = "
        f"{total / deliver_seconds:,.0f}/s"
    )
    print(f"peak RSS at the end: {_peak_rss_mb():.0f} MB")
    ok = invite_seconds < 60 * args.patients / 100_000 and total / deliver_seconds >= 200
    print("targets met" if ok else "TARGET MISSED (see the figures above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
