"""Email delivery throughput: N queued enrollment emails sent by `outbox_drain` to a local
aiosmtpd server running in its own process. Prints emails/s and queries per email.

    .venv/bin/python bench/email_drain.py [N]      (default 2000; DATABASE_URL honoured,
                                                    use an empty database)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("PORTICO_VAR_DIR", tempfile.mkdtemp(prefix="portico-bench-"))
os.environ.setdefault("SECRET_KEY", "bench")
os.environ["PORTICO_TASKS_BACKEND"] = "database"  # queue drain tasks; nobody runs them here
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")

SERVER = """
import sys, time
from aiosmtpd.controller import Controller
class Count:
    n = 0
    async def handle_DATA(self, server, session, envelope):
        Count.n += 1
        return "250 OK"
c = Controller(Count(), hostname="127.0.0.1", port=int(sys.argv[1]))
c.start()
print("ready", flush=True)
import resource
for line in sys.stdin:
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    print(Count.n, cpu.ru_utime + cpu.ru_stime, flush=True)
"""


def main(n: int) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from portico.notifications.services import outbox_drain
    from portico.portal.services import invitation_issue
    from tests import factories
    from tests.smtp import free_port

    call_command("migrate", verbosity=0)
    practice = factories.make_practice("Bench Clinic")
    admin = factories.make_admin(practice, full_name="Bench Admin")
    for start in range(0, n, 500):
        with transaction.atomic():
            for _ in range(min(500, n - start)):
                invitation_issue(admin, patient=factories.make_patient(practice))

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert server.stdout.readline().strip() == "ready"
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    try:
        server.stdin.write("count\n")
        server.stdin.flush()
        server_cpu_before = float(server.stdout.readline().split()[1])
        started, cpu_started = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as queries:
            handled = outbox_drain()
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        server.stdin.write("count\n")
        server.stdin.flush()
        received, server_cpu = server.stdout.readline().split()
        received, server_cpu = int(received), float(server_cpu) - server_cpu_before
    finally:
        server.terminate()
    print(f"email drain on {connection.vendor}: {handled} handled, {received} received by SMTP")
    print(
        f"  {received / elapsed:.0f} emails/s ({elapsed:.1f} s), "
        f"{len(queries) / max(handled, 1):.2f} queries per email"
    )
    print(
        f"  CPU per email: sender {1000 * cpu / max(handled, 1):.2f} ms, "
        f"SMTP server {1000 * server_cpu / max(received, 1):.2f} ms"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
