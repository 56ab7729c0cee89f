"""`portico run_periodic`: run each periodic job once (cron), or every N seconds (`--loop`)."""

import time

from django.core.management.base import BaseCommand, CommandError

from portico.periodic import jobs as periodic


class Command(BaseCommand):
    help = (
        "Run every periodic job once (auto-invites for unsigned encounters, email retries, "
        "invitation expiry) and print what each did. Idempotent; suitable for cron. "
        "Exits non-zero when a job failed."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--loop",
            type=float,
            metavar="SECONDS",
            help="Keep running: start a new round this many seconds after the last one ended.",
        )

    def handle(self, *args, loop=None, **options):
        if loop is not None and loop <= 0:
            raise CommandError("--loop needs a number of seconds above 0.")
        if loop is not None:
            try:
                while True:
                    # A failed round is reported and the next one comes anyway.
                    self._round()
                    time.sleep(loop)
            except KeyboardInterrupt:
                return
        failed = self._round()
        if failed:
            raise CommandError(f"{len(failed)} periodic job(s) failed: {', '.join(failed)}.")

    def _round(self) -> list[str]:
        failed = []
        for outcome in periodic.run_jobs():
            if outcome.failed:
                failed.append(outcome.name)
                self.stderr.write(f"{outcome.name}: FAILED ({outcome.error}; see the log)")
            else:
                self.stdout.write(f"{outcome.name}: {outcome.count}")
        return failed
