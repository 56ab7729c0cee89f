"""`portico demo`: migrate, seed the demo data, then run the web server, the task worker and
the periodic jobs (every minute)."""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from portico.demo import seed as demo


class Command(BaseCommand):
    help = "Set up and start Portico with demo data: web server and task worker together."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument(
            "--setup-only",
            action="store_true",
            help="Migrate and seed, print the sign-ins, and exit.",
        )

    def handle(self, *args, host, port, setup_only, **options):
        if not settings.DEMO:
            raise CommandError("Run the demo with PORTICO_DEMO=1 (make demo does this).")
        call_command("migrate", interactive=False, verbosity=0)
        if not demo.demo_exists():
            demo.seed_demo()
        demo.demo_authenticators()
        demo.demo_online_booking()
        demo.demo_family()
        demo.demo_intake()
        demo.demo_smart_app()
        if setup_only:
            self._print_welcome(host, port)
            return
        env = {**os.environ, "PORTICO_DEMO": "1"}
        worker = subprocess.Popen(  # noqa: S603 (our own interpreter and command)
            [sys.executable, "-m", "portico", "db_worker", "--no-reload", "--interval", "0.5"],
            env=env,
        )
        # The periodic jobs (auto-invites, retries, expiry), every minute as cron would.
        periodic = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "portico", "run_periodic", "--loop", "60"], env=env
        )
        self._wait_for_queue_to_drain()
        server = subprocess.Popen(  # noqa: S603
            [
                sys.executable,
                "-m",
                "gunicorn",
                "portico.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                "2",
                "--threads",
                "4",
                "--access-logfile",
                "-",
                "--logger-class",
                "portico.core.gunicorn_logging.RedactingLogger",
                # No shared control socket in ~/.gunicorn: two demos could clash on it.
                "--no-control-socket",
            ],
            env=env,
        )
        self._wait_until_up(host, port, server)
        self._print_welcome(host, port)
        try:
            server.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in (server, worker, periodic):
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in (server, worker, periodic):
                try:
                    process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    process.kill()

    def _wait_for_queue_to_drain(self, timeout=15.0):
        """Let the worker send the seed's enrollment emails before the welcome is printed."""
        from django_tasks_db.models import DBTaskResult

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not DBTaskResult.objects.filter(status__in=["READY", "RUNNING"]).exists():
                return
            time.sleep(0.3)

    def _wait_until_up(self, host, port, server, timeout=30.0):
        """Print the welcome only once the server answers, so it is not lost in start-up lines."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://{host}:{port}/healthz", timeout=1):  # noqa: S310
                    return
            except OSError:
                time.sleep(0.3)

    def _online_lines(self, base) -> list[str]:
        """Where the public pages are: the search, Dr. Shah's profile and the embeddable
        booking page (and the website origins allowed to frame it)."""
        from django.urls import reverse

        from portico.demo.online import demo_public_profile
        from portico.practices.models import Practice

        practice = Practice.objects.filter(slug=demo.DEMO_SLUG).first()
        profile = demo_public_profile(practice) if practice is not None else None
        search = reverse("booking:search")
        lines = [f"  Public:    {base}{search}   (find a doctor and book online; no sign-in)"]
        if profile is not None:
            embed = reverse("booking:embed", kwargs={"booking_id": profile.booking_id})
            lines += [
                f"             Booking page for a practice's website: {base}{embed}",
                "             (an <iframe> of it works on pages from: "
                + ", ".join(practice.embed_origins)
                + ")",
                f"  Requests:  {base}{reverse('booking:requests')}   "
                "(staff: Schedule > Appointment Requests)",
            ]
        lines.append(
            f"  Intake:    {base}{reverse('intake:list')}   (staff: forms patients fill in "
            "before a visit; templates in EHR Settings > Intake)"
        )
        return lines

    def _smart_lines(self, base) -> list[str]:
        """The demo's patient app: its client_id and the script that connects it to Jordan's
        record (README, "Connect a patient app (SMART on FHIR)")."""
        from portico.demo.smart_app import demo_smart_app

        app = demo_smart_app()
        if app is None:
            return []
        return [
            f"  FHIR:      {base}/fhir/R4   (patient apps; SMART on FHIR discovery:",
            f"             {base}/.well-known/smart-configuration)",
            f"             The patient app “{app.name}” (client_id {app.client_id})",
            "             connects to Jordan's record with:",
            "             .venv/bin/python scripts/smart_demo_client.py "
            f"--fhir-base {base}/fhir/R4 --client-id {app.client_id}",
        ]

    def _print_welcome(self, host, port):
        base = settings.PORTICO_BASE_URL
        db = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1]
        if settings.EMAIL_BACKEND.endswith("MailboxBackend"):
            mail = f"Mailbox:   {base}/dev/mailbox/"
        else:
            # Only the part after any credentials: never print a mail password.
            mail = f"Email:     sent over SMTP to {settings.EMAIL_HOST}:{settings.EMAIL_PORT}"
        lines = [
            "",
            "Portico demo is running",
            f"  Open:      {base}/   (listening on {host}:{port}, database: {db})",
            f"  {mail}",
            f"  Password for every demo account: {demo.DEMO_PASSWORD}",
            "  Staff:     admin@demo.portico.test     (administrator)",
            "             provider@demo.portico.test  (provider, MD)",
            "             staff@demo.portico.test     (staff; may not invite patients)",
            "  Patient:   patient@demo.portico.test   (enrolled: Jordan Rivera; also the parent",
            "             of Sam, 10, and Riley, 15, whose records she sees from the same account)",
            "  Second step: staff type the code of an authenticator app with their secret:",
            *(
                f"             {email:<27} {secret}"
                for email, secret in demo.STAFF_TOTP_SECRETS.items()
            ),
            '             code now: .venv/bin/python -c "import pyotp; '
            f"print(pyotp.TOTP('{demo.STAFF_TOTP_SECRETS['admin@demo.portico.test']}').now())\"",
            "             The patient's sign-in code arrives by email (see the mailbox).",
            "  API:       PORTICO_DEMO=1 .venv/bin/portico create_api_token "
            "admin@demo.portico.test --name demo",
            f"             then curl -H 'Authorization: Bearer <token>' {base}/api/v1/patients",
            *self._online_lines(base),
            *self._smart_lines(base),
            "  Stop with Ctrl+C.",
            "",
        ]
        self.stdout.write("\n".join(lines))
