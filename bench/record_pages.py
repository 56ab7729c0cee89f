"""Benchmark: the patient's record home and the staff chart summary under load (issues 5, 12).

    .venv/bin/python bench/record_pages.py                       # SQLite, 10,000 charts (var/)
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico_bench_records \
        .venv/bin/python bench/record_pages.py                   # 100,000 charts, 5,000,000 items
    .venv/bin/python bench/record_pages.py --code-dir ../other-checkout  # its code, same bench
    .venv/bin/python bench/record_pages.py --compare before.json after.json  # two runs side by side

What it does, in one run:
1. migrates the database and fills what is missing, idempotently: the practice "bench-records"
   with --patients charts from the clinical bulk generator (`bulk_generate`, ~50 items each over
   every list), a separate set of warm-up charts (never measured), 12 sample charts with a
   registered portal account, shared encounters, amendments, appointments and staff reads, and
   for every other chart a portal account (an active, enrolled PortalAccess with its used
   invitation), all created in bulk with one password hash shared by every bench account;
2. writes a signed-in session for each account (a copy of what a real sign-in with the second
   factor leaves in the session, through the session engine's own encoder), and a provider's;
   On PostgreSQL, gathers the planner's statistics where tables have none (ANALYZE; a server
   without autovacuum would otherwise plan every query blind);
3. counts the SQL queries of each page on a first view and on the next, for the sample charts
   and for bulk charts (one count per page and view for the full charts; a bulk chart, with no
   encounters, may need one fewer, never more);
4. starts gunicorn (the production server, with `gunicorn.conf.py`) serving Portico with two
   extra routes (`bench/floor_wsgi.py`), and measures with the asyncio client below:
   * the bare view (`/healthz`: the full middleware stack, "ok");
   * **cold mode**: every request is a first view. The record home of chart i is requested with
     the session of chart i's own account, each chart once, in a random order over the whole
     population (a new permutation only if the run outlasts the charts, reported); the staff
     chart summary is requested by one provider session, each chart once; the rules floor
     (`/bench-floor/`: middleware, access check, audit row, no page) likewise over the same
     accounts. The two pages draw from one permutation, so neither page is ever asked for a
     chart a page was asked for before in the run (until the charts run out: then a new
     permutation, reported); the floor draws from its own (it is fast enough to go through
     10,000 charts in seconds). Warm-up requests go to the warm-up charts only, and each
     measurement's sessions are written just before it (signed in and seen "now").
   * **repeat mode**: the 12 sample charts requested in turn (the floor over their accounts).
   Each page: closed loop at a fixed concurrency (throughput), then open loop at half its own
   throughput of that mode (p50/p99 counted from each request's planned start). With --rounds N
   everything is measured N times in turn and each share is the median of the rounds' own
   shares. Beside throughput, the CPU time the server's processes (gunicorn's workers and
   PostgreSQL's backends) spent per request, which the machine's other load moves far less.

Targets (judged against the rules floor of the same mode; exit 1 if one is missed): cold record
home and staff summary >= 25% of the floor's throughput and p99 < 50 ms at half load; repeat
views >= 70% of the floor; query counts fixed whatever the list sizes. Prints a Markdown table
for docs/PERFORMANCE.md and, with --json, a summary to compare runs with --compare.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
# The Portico code measured: this checkout's, or the one named by --code-dir (see reexec()).
CODE = Path(os.environ.get("BENCH_CODE_DIR") or REPO).resolve()
sys.path[:0] = [str(CODE), str(BENCH)]

PRACTICE_SLUG = "bench-records"
SAMPLES = 12  # charts with registered accounts and full records, requested in turn (repeat mode)
WARMUP_PREFIX = "Warmup"  # legal first name of the warm-up charts
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz0123"  # noqa: S105
BENCH_PASSWORD = "bench-password-never-used-to-sign-in"  # noqa: S105 (its hash is shared)
BARE = "bare view (/healthz)"
FLOOR = "rules floor"
RECORD = "patient record home"
SUMMARY = "staff chart summary"
PAGES = (RECORD, SUMMARY)


def reexec(code_dir: str | None) -> None:
    """Run the running bench script again with the code of another checkout first on the path,
    under that checkout's own .venv python if it has one; so the data set-up, the sessions, the
    query counts and the server all use that code. (bench/booking.py uses it too.)"""
    if not code_dir:
        return
    code = Path(code_dir).resolve()
    if not (code / "portico" / "__init__.py").exists():
        sys.exit(f"--code-dir {code}: no portico package there")
    if os.environ.get("BENCH_CODE_DIR") == str(code):
        return
    python = code / ".venv" / "bin" / "python"
    python = python if python.exists() else Path(sys.executable)
    env = dict(os.environ, BENCH_CODE_DIR=str(code), PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(code), env.get("PYTHONPATH")) if p)
    print(f"code: {code} ({python})", flush=True)
    script = str(Path(sys.argv[0]).resolve())
    os.execve(python, [str(python), script, *sys.argv[1:]], env)  # noqa: S606


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)
    # The query counts are taken with Django's test client, whose host is "testserver".
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ["PORTICO_VAR_DIR"] = str(REPO / "var")  # never write into another checkout
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    import django

    django.setup()
    import portico

    where = Path(portico.__file__).resolve().parents[1]
    if where != CODE:
        sys.exit(f"portico was imported from {where}, not from {CODE}")


def git_commit(folder: Path) -> str:
    """The commit checked out in `folder`, with "+changes" if files differ from it (read only:
    GIT_OPTIONAL_LOCKS=0 keeps git from refreshing the other checkout's index)."""
    env = dict(os.environ, GIT_OPTIONAL_LOCKS="0")
    try:
        head = subprocess.run(
            ["git", "-C", str(folder), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        dirty = subprocess.run(
            ["git", "-C", str(folder), "diff", "--quiet", "HEAD", "--", "portico"], env=env
        ).returncode
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head.strip() + ("+changes" if dirty else "")


# ---------------------------------------------------------------------------------------------
# Copies of the data (before/after comparisons start from the same pristine database)


def copy_database(source: str, target_url: str) -> None:
    """Replace the target database with a copy of `source`: on PostgreSQL `source` is a database
    name (DROP DATABASE target; CREATE DATABASE target TEMPLATE source; nobody may be connected
    to either), on SQLite a file (copied with SQLite's backup API, WAL included)."""
    started = time.monotonic()
    if target_url.startswith("postgres"):
        from urllib.parse import urlsplit

        import psycopg
        from psycopg import sql

        parts = urlsplit(target_url)
        target = parts.path.lstrip("/")
        if target == source:
            sys.exit("--copy-from names the target database itself")
        with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(target))
            )
            conn.execute(
                sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                    sql.Identifier(target), sql.Identifier(source)
                )
            )
    else:
        import sqlite3

        target = target_url.removeprefix("sqlite:///").removeprefix("sqlite://")
        if Path(target).resolve() == Path(source).resolve():
            sys.exit("--copy-from names the target database itself")
        for suffix in ("", "-wal", "-shm"):
            Path(target + suffix).unlink(missing_ok=True)
        with (
            sqlite3.connect(f"file:{source}?mode=ro", uri=True) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst)
        src.close()
        dst.close()
    print(f"data: {target} is a fresh copy of {source} ({time.monotonic() - started:.0f} s)")


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(args) -> None:
    """Everything the run needs, created only where missing (a database made by an older bench
    or by older code gains what it lacks)."""
    from django.core.management import call_command

    from portico.practices.models import Practice

    started = time.monotonic()
    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    if practice is None:
        practice = generate(args.patients, args.items_per_patient)
    main = main_chart_ids(practice)
    if len(main) < args.patients:
        sys.exit(
            f"practice {PRACTICE_SLUG} has {len(main):,} charts, fewer than --patients "
            f"{args.patients:,}: drop the database first (or use --patients {len(main)})"
        )
    ensure_warmup(practice, args.warmup_charts, args.items_per_patient)
    ensure_samples(practice, main)
    ensure_accounts(practice)
    analyze_if_needed()
    print(f"data: ready in {time.monotonic() - started:,.0f} s", flush=True)


def analyze_if_needed() -> None:
    """PostgreSQL: gather the planner's statistics where a table of some size has none. A
    server with autovacuum (the default) does this by itself after a bulk load; one without it
    (this machine's, for instance) would plan every query blind and, e.g., scan the whole
    portal access table on every patient request."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return  # SQLite has no statistics unless ANALYZE is run, in production neither
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_stat_user_tables WHERE n_live_tup > 1000 "
            "AND last_analyze IS NULL AND last_autoanalyze IS NULL"
        )
        blind = [name for (name,) in cursor.fetchall()]
        if not blind:
            return
        started = time.monotonic()
        cursor.execute("ANALYZE")
    print(
        f"data: ANALYZE ({len(blind)} tables had no statistics, e.g. {', '.join(blind[:4])}) "
        f"in {time.monotonic() - started:.0f} s",
        flush=True,
    )


def vacuum_sessions(model) -> None:
    """PostgreSQL: clear the dead rows rewriting the sessions leaves (autovacuum would, where
    it is on), so that reading a session does not wade through them."""
    from django.db import connection

    if connection.vendor == "postgresql" and connection.get_autocommit():
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(model._meta.db_table)}")


def main_chart_ids(practice) -> list[int]:
    from portico.charts.models import Patient

    return list(
        Patient.objects.filter(practice=practice)
        .exclude(legal_first_name__startswith=WARMUP_PREFIX)
        .order_by("id")
        .values_list("id", flat=True)
    )


def bulk_charts(practice, patients: int, items_per_patient: int, seed: int) -> None:
    import compat

    started = time.monotonic()
    step = max(5000, items_per_patient)

    def progress(done_patients: int, done_items: int) -> None:
        if done_patients % step < max(1, 5000 // items_per_patient) or done_patients == patients:
            rate = done_items / max(1e-6, time.monotonic() - started)
            print(f"data: {done_patients:,} charts, {done_items:,} items ({rate:,.0f}/s)")

    made_patients, made_items = compat.bulk_generate()(
        practice,
        patients=patients,
        items_per_patient=items_per_patient,
        seed=seed,
        progress=progress,
    )
    print(
        f"data: {made_patients:,} charts and {made_items:,} items in "
        f"{time.monotonic() - started:,.0f} s",
        flush=True,
    )


def generate(patients: int, items_per_patient: int):
    from portico.practices.models import Role
    from tests import factories

    practice = factories.make_practice(
        "Bench Records Clinic", slug=PRACTICE_SLUG, time_zone="America/Chicago"
    )
    factories.make_admin(practice, email="admin@bench.test", full_name="Bench Admin")
    factories.make_staff(
        practice,
        role=Role.PROVIDER,
        credential="MD",
        email="provider@bench.test",
        full_name="Dr. Bench Provider",
    )
    bulk_charts(practice, patients, items_per_patient, seed=5)
    return practice


def ensure_warmup(practice, count: int, items_per_patient: int) -> None:
    """Charts for the warm-up requests only, so that warming the server up reads none of the
    measured charts. Marked by their first name, created after the others."""
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from portico.charts.models import Patient

    charts = Patient.objects.filter(practice=practice)
    have = charts.filter(legal_first_name__startswith=WARMUP_PREFIX).count()
    if have >= count:
        return
    last = charts.order_by("-id").values_list("id", flat=True).first() or 0
    bulk_charts(practice, count - have, items_per_patient, seed=7)
    charts.filter(id__gt=last).update(
        legal_first_name=Concat(Value(WARMUP_PREFIX), Cast("id", CharField()))
    )


def sample_ids(main: list[int]) -> list[int]:
    step = max(1, len(main) // SAMPLES)  # spread over the table, not the first rows written
    return main[::step][:SAMPLES]


def ensure_samples(practice, main: list[int]) -> None:
    """Registered accounts (through the services) and full records for the sample charts:
    encounters with amendments, appointments and staff reads besides the bulk lists."""
    import compat
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from portico.charts.models import Encounter, EncounterAmendment, Patient
    from portico.portal.models import PortalAccess
    from portico.scheduling.models import Appointment
    from tests import factories

    user_model = get_user_model()
    admin = user_model.objects.get(email="admin@bench.test")
    provider = user_model.objects.get(email="provider@bench.test")
    chart_viewed = compat.chart_viewed()
    for patient in Patient.objects.filter(id__in=sample_ids(main)).order_by("id"):
        if PortalAccess.objects.filter(patient=patient, account__isnull=False).exists():
            continue
        patient.email = f"bench{patient.pk}@bench.test"  # bulk charts have none
        patient.save(update_fields=["email"])
        factories.enroll(admin, patient)
        now = timezone.now()
        for i in range(6):
            encounter = Encounter.objects.create(
                practice=practice,
                patient=patient,
                provider=provider,
                visit_date=timezone.localdate() - dt.timedelta(days=60 * i + 3),
                note="Seen for follow-up. Plan discussed and agreed.",
                signed_at=now,
                signed_by=provider,
                note_shared_with_patient=True,
            )
            EncounterAmendment.objects.create(
                encounter=encounter, text="Lab results reviewed.", author=provider
            )
        for i in range(-4, 3):
            # Each chart at its own time: one provider's appointments never overlap.
            start = now.replace(microsecond=0) + dt.timedelta(
                days=30 * i + 1, minutes=20 * (patient.pk % 2000)
            )
            Appointment.objects.create(
                practice=practice,
                patient=patient,
                provider=provider,
                start_at=start,
                end_at=start + dt.timedelta(minutes=20),
                visit_type="Follow-up visit",
            )
        for _ in range(40):
            chart_viewed(provider, patient=patient)
    print("data: sample charts ready", flush=True)


def ensure_accounts(practice, batch: int = 2000) -> None:
    """A portal account for every chart without one, as registration leaves it: the account,
    the chart's email, its used invitation and an active PortalAccess. In bulk; the password
    hash is computed once and shared by every bench account (no Argon2 per account)."""
    import secrets

    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat
    from django.utils import timezone

    from portico.charts.models import Patient
    from portico.portal.models import AccessState, Invitation, InvitationStatus, PortalAccess

    user_model = get_user_model()
    todo = list(
        Patient.objects.filter(practice=practice, portal_access__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not todo:
        return
    started = time.monotonic()
    admin = user_model.objects.get(email="admin@bench.test")
    password = make_password(BENCH_PASSWORD)
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    for start in range(0, len(todo), batch):
        ids = todo[start : start + batch]
        now = timezone.now()
        emails = {pk: f"cold{pk}@bench.test" for pk in ids}
        with transaction.atomic():
            accounts = user_model.objects.bulk_create(
                [user_model(email=emails[pk], password=password) for pk in ids]
            )
            if any(account.pk is None for account in accounts):  # a backend without RETURNING
                by_email = user_model.objects.in_bulk(list(emails.values()), field_name="email")
                accounts = [by_email[emails[pk]] for pk in ids]
            Patient.objects.filter(id__in=ids).update(
                email=Concat(Value("cold"), Cast("id", CharField()), Value("@bench.test"))
            )
            invitations = Invitation.objects.bulk_create(
                [
                    Invitation(
                        practice=practice,
                        patient_id=pk,
                        email=emails[pk],
                        access_code="".join(secrets.choice(alphabet) for _ in range(8)),
                        link_nonce=secrets.token_hex(16),
                        token_hash=secrets.token_hex(32),
                        status=InvitationStatus.USED,
                        created_by=admin,
                        created_at=now,
                        expires_at=now + dt.timedelta(days=14),
                        used_at=now,
                    )
                    for pk in ids
                ]
            )
            if any(invitation.pk is None for invitation in invitations):
                invitations = list(
                    Invitation.objects.filter(patient_id__in=ids).order_by("patient_id")
                )
            PortalAccess.objects.bulk_create(
                [
                    PortalAccess(
                        patient_id=pk,
                        practice=practice,
                        state=AccessState.ACTIVE,
                        account=account,
                        current_invitation=invitation,
                        enrolled_at=now,
                    )
                    for pk, account, invitation in zip(ids, accounts, invitations, strict=True)
                ]
            )
        done = start + len(ids)
        if done % 20000 < batch or done == len(todo):
            rate = done / max(1e-6, time.monotonic() - started)
            print(f"data: {done:,} of {len(todo):,} portal accounts ({rate:,.0f}/s)", flush=True)


# ---------------------------------------------------------------------------------------------
# Sessions


@dataclass
class Chart:
    index: int  # position in its population
    patient: str  # public ids, as in the URLs
    access: str
    account: int  # primary key of the portal account
    session: str = ""  # session key
    csrf: str = ""


class Sessions:
    """Signed-in sessions written in bulk. Each is what a real sign-in that passed the second
    factor leaves in the session (copied from one sign-in made the way the tests make it,
    `tests.factories.sign_in`), with the account's own id and session hash and fresh clocks,
    encoded by the session engine in use and stored as rows of its session table."""

    def __init__(self) -> None:
        from importlib import import_module

        from django.conf import settings
        from django.contrib.auth import get_user_model

        self.store_class = import_module(settings.SESSION_ENGINE).SessionStore
        if not hasattr(self.store_class, "get_model_class"):
            sys.exit(f"{settings.SESSION_ENGINE}: the bench writes sessions as database rows")
        self.model = self.store_class.get_model_class()
        self.encoder = self.store_class()
        self.user_model = get_user_model()
        self.cookie_name = settings.SESSION_COOKIE_NAME
        self.csrf_cookie_name = settings.CSRF_COOKIE_NAME
        self.age = settings.SESSION_COOKIE_AGE
        self.hashes: dict[int, str] = {}
        self.templates: dict[str, tuple[dict, object, list[str]]] = {}

    @staticmethod
    def key(kind: str, pk: int) -> str:
        from django.utils.crypto import salted_hmac

        return salted_hmac(f"bench.session.{kind}", str(pk)).hexdigest()[:32]

    @staticmethod
    def new_csrf() -> str:
        from django.utils.crypto import get_random_string

        return get_random_string(32)

    def learn(self, kind: str, user, then: str | None = None) -> None:
        """Sign `user` in once, as the tests do, (and request `then`, e.g. to pick the staff
        member's practice) and keep the session's content as the template for `kind`."""
        from django.test import Client
        from django.utils import timezone

        client = Client()
        try:
            from tests import factories

            factories.sign_in(client, user)
        except ImportError:  # a checkout without the test helpers: Django's login + the keys
            client.force_login(user)
            session = client.session
            now = int(timezone.now().timestamp())
            session.update(mfa_verified=user.pk, session_started_at=now, session_seen_at=now)
            session.save()
        if then:
            client.get(then)
        content = dict(client.session.items())
        now = int(timezone.now().timestamp())
        # The clocks of the session (sign-in, last seen): integers within a day of now.
        clocks = [
            k
            for k, v in content.items()
            if isinstance(v, int) and not isinstance(v, bool) and abs(v - now) < 86400
        ]
        self.templates[kind] = (content, user, clocks)

    def account_hashes(self, pks) -> None:
        for start in range(0, len(pks), 5000):
            for user in self.user_model.objects.filter(pk__in=pks[start : start + 5000]):
                self.hashes[user.pk] = user.get_session_auth_hash()

    def content(self, kind: str, pk: int, now: int) -> dict:
        template, user, clocks = self.templates[kind]
        own_hash = self.hashes.get(pk) if pk != user.pk else user.get_session_auth_hash()
        template_hash = user.get_session_auth_hash()
        content = {}
        for k, v in template.items():
            if k in clocks:
                v = now
            elif v == template_hash:
                v = own_hash
            elif not isinstance(v, bool) and v == user.pk:
                v = pk
            elif v == str(user.pk):
                v = str(pk)
            content[k] = v
        return content

    def write(self, entries: list[tuple[str, str, int]]) -> float:
        """(kind, session key, account pk) sessions, signed in and seen now. Returns seconds."""
        from django.utils import timezone

        started = time.monotonic()
        now = timezone.now()
        stamp = int(now.timestamp())
        expires = now + dt.timedelta(seconds=self.age)
        unique = {key: (kind, pk) for kind, key, pk in entries}  # one row per session
        rows = [
            self.model(
                session_key=key,
                session_data=self.encoder.encode(self.content(kind, pk, stamp)),
                expire_date=expires,
            )
            for key, (kind, pk) in unique.items()
        ]
        self.model.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["session_key"],
            update_fields=["session_data", "expire_date"],
        )
        self.write_cache(unique, stamp)
        return time.monotonic() - started

    def write_cache(self, unique: dict, stamp: int) -> None:
        """A cached_db engine also keeps each session in its cache at sign-in: where that
        cache is shared by the server's processes (Redis), put the sessions there too. A
        process-local cache (locmem) is the server's own: its sessions are read from the table
        on each process's first request, as after a restart."""
        from django.conf import settings
        from django.core.cache import caches

        prefix = getattr(self.store_class, "cache_key_prefix", None)
        if not prefix:
            return
        cache = caches[getattr(settings, "SESSION_CACHE_ALIAS", "default")]
        if type(cache).__module__.endswith((".locmem", ".dummy")):
            return
        cache.set_many(
            {prefix + key: self.content(kind, pk, stamp) for key, (kind, pk) in unique.items()},
            timeout=self.age,
        )

    def cookie(self, key: str, csrf: str) -> str:
        return f"{self.cookie_name}={key}; {self.csrf_cookie_name}={csrf}"


@dataclass
class Population:
    cold: list[Chart]  # the measured charts (cold mode)
    warm: list[Chart]  # warm-up charts
    samples: list[Chart]  # the repeat mode's charts
    provider_pk: int
    staff_key: str = ""
    staff_csrf: str = ""
    staff_repeat_key: str = ""
    bulk_probe: list[Chart] = field(default_factory=list)  # bulk charts for the query counts


def load_population(args, sessions: Sessions) -> Population:
    from django.contrib.auth import get_user_model

    from portico.charts.models import Patient
    from portico.portal.models import AccessState, PortalAccess
    from portico.practices.models import Practice

    practice = Practice.objects.get(slug=PRACTICE_SLUG)
    main = main_chart_ids(practice)
    samples = set(sample_ids(main))
    measured = set(main[: args.cold_charts or args.patients])
    warm_ids = set(
        Patient.objects.filter(practice=practice, legal_first_name__startswith=WARMUP_PREFIX)
        .order_by("id")
        .values_list("id", flat=True)[: args.warmup_charts]
    )
    rows = (
        PortalAccess.objects.filter(
            practice=practice, state=AccessState.ACTIVE, account__isnull=False
        )
        .order_by("patient_id")
        .values_list("patient_id", "patient__public_id", "public_id", "account_id")
    )
    cold: list[Chart] = []
    warm: list[Chart] = []
    sample_charts: list[Chart] = []
    for patient_pk, patient, access, account in rows.iterator(chunk_size=10000):
        for ids, charts in ((measured, cold), (warm_ids, warm), (samples, sample_charts)):
            if patient_pk in ids:  # a sample chart is also in the cold population
                charts.append(Chart(len(charts), str(patient), str(access), account))
    if len(cold) < len(measured) or len(sample_charts) < len(samples):
        sys.exit("some bench charts have no active portal account: rerun the data step")
    for charts, kind in ((cold, "cold"), (warm, "cold"), (sample_charts, "repeat")):
        for chart in charts:
            chart.session = sessions.key(kind, chart.account)
            chart.csrf = sessions.new_csrf()
    provider = get_user_model().objects.get(email="provider@bench.test")
    population = Population(cold, warm, sample_charts, provider.pk)
    population.staff_key = sessions.key("staff-cold", provider.pk)
    population.staff_repeat_key = sessions.key("staff-repeat", provider.pk)
    population.staff_csrf = sessions.new_csrf()
    population.bulk_probe = warm[-3:]
    sessions.account_hashes([c.account for c in cold + warm + sample_charts])
    return population


# ---------------------------------------------------------------------------------------------
# Query counts


def count_queries(population: Population, sessions: Sessions) -> dict[str, list[list]]:
    """[kind of chart, items on it, queries] of each page, on the first view (which renders
    the record) and on the next (which may find it cached): for every sample chart ("sample":
    full records of various sizes) and for a few bulk charts ("bulk": the bulk lists only, no
    encounters or appointments)."""
    import compat
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portico.charts.models import Patient

    for alias in settings.CACHES:
        caches[alias].clear()
    shared_record = compat.shared_record()
    # Each client's first request reads its session; a caching session engine (cached_db)
    # serves the next ones from its cache. Count the pages after that read, so the counts are
    # the same for every chart whichever engine is used.
    staff = Client()
    staff.cookies[sessions.cookie_name] = population.staff_repeat_key
    staff.get("/healthz")
    counts: dict[str, list[list]] = {
        "record, first view": [],
        "record, repeat": [],
        "summary, first view": [],
        "summary, repeat": [],
    }
    bulk = {id(chart) for chart in population.bulk_probe}
    for chart in population.samples + population.bulk_probe:
        patient = Patient.objects.get(public_id=chart.patient)
        try:  # only to show the size of each chart; the API may change between versions
            record = shared_record(patient)
            size = sum(len(items) for _k, _h, items in record.sections()) + len(record.encounters)
        except Exception:  # noqa: BLE001
            size = -1
        client = Client()
        client.cookies[sessions.cookie_name] = chart.session
        client.cookies[sessions.csrf_cookie_name] = chart.csrf
        client.get("/healthz")
        for name, who, url in (
            ("record", client, record_path(chart)),
            ("summary", staff, summary_path(chart)),
        ):
            for view in ("first view", "repeat"):
                with CaptureQueriesContext(connection) as queries:
                    response = who.get(url)
                assert response.status_code == 200, (url, response.status_code)
                kind = "bulk" if id(chart) in bulk else "sample"
                counts[f"{name}, {view}"].append([kind, size, len(queries)])
    return counts


# ---------------------------------------------------------------------------------------------
# The server


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    database_url: str, port: int, workers: int, log: Path, extra_env: dict[str, str]
) -> subprocess.Popen:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "DJANGO_")) and k not in {"DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        DATABASE_URL=database_url,
        SECRET_KEY=os.environ.get("SECRET_KEY", SECRET_KEY),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        PORTICO_BASE_URL=f"http://127.0.0.1:{port}",
        PORTICO_VAR_DIR=str(REPO / "var"),
        SESSION_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
        **extra_env,
    )
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(CODE), env.get("PYTHONPATH")) if p)
    args = [
        sys.executable, "-m", "gunicorn", "floor_wsgi:application",
        "--pythonpath", str(BENCH), "-c", str(CODE / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--no-control-socket",
    ]  # fmt: skip
    process = subprocess.Popen(
        args,
        cwd=CODE,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            url = f"http://127.0.0.1:{port}/bench-code/"
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310
                served = Path(answer.read().decode())
            if served != CODE:
                stop(process)
                sys.exit(f"the server runs the code in {served}, not {CODE}")
            return process
        except OSError:
            time.sleep(0.3)
    stop(process)
    sys.exit("gunicorn did not start")


def stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------------------------------------
# The load client: one connection per request (gunicorn's sync workers close each one)


@dataclass
class Result:
    name: str
    mode: str
    how: str
    seconds: float
    latencies: list[float]
    errors: int
    charts: int = 0  # charts drawn (cold mode)
    repeats: int = 0  # of which drawn a second time (the run outlasted the permutation)
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_ms: float = float("nan")  # CPU time of the server (and database) per request
    db_cpu_ms: float = float("nan")  # of which PostgreSQL's backends

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)] * 1000

    def summary(self) -> dict:
        return {
            "how": self.how,
            "throughput": round(self.throughput, 1),
            "p50_ms": round(self.pct(50), 2),
            "p99_ms": round(self.pct(99), 2),
            "requests": len(self.latencies),
            "errors": self.errors,
            "seconds": round(self.seconds, 2),
            "charts": self.charts,
            "repeated_charts": self.repeats,
            "loadavg": self.loadavg,
            "server_cpu_ms_per_request": round(self.cpu_ms, 3),
            "database_cpu_ms_per_request": round(self.db_cpu_ms, 3),
        }


class ServerCpu:
    """CPU time (user + system) used by the server's processes: gunicorn's (its process group)
    and, on PostgreSQL, the client backends of the bench database (not autovacuum, whose
    timing is its own), read from /proc. Per request it depends much less on what else the
    machine runs than throughput does; the bench's own client is not counted.

    The processes are looked at twice a second during a measurement (about 1 ms each time), so
    one that ends in between (a database connection past CONN_MAX_AGE is replaced) keeps the
    CPU it had when last seen instead of vanishing from the sum."""

    def __init__(self, group: int, database: str | None) -> None:
        self.group = group
        self.database = database
        self.tick = os.sysconf("SC_CLK_TCK")
        self.kinds: dict[int, str | None] = {}  # pid -> "server", "database" or None
        self.seen: dict[int, tuple[str, int]] = {}
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def kind(self, pid: int, stat: str) -> str | None:
        if pid not in self.kinds:
            fields = stat[stat.rindex(")") + 2 :].split()
            kind = "server" if int(fields[2]) == self.group else None
            if kind is None and self.database and "(postgres)" in stat:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
                if f" {self.database} " in command and "autovacuum" not in command:
                    kind = "database"
            self.kinds[pid] = kind
        return self.kinds[pid]

    def snapshot(self) -> dict[int, tuple[str, int]]:
        """pid -> ("server" or "database", CPU ticks so far)."""
        found = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            pid = int(entry.name)
            try:
                stat = Path(entry.path, "stat").read_text()
                kind = self.kind(pid, stat)
                if kind:
                    fields = stat[stat.rindex(")") + 2 :].split()
                    found[pid] = (kind, int(fields[11]) + int(fields[12]))
            except (OSError, ValueError, IndexError):
                continue
        return found

    def start(self) -> dict[int, tuple[str, int]]:
        before = self.snapshot()
        self.seen = dict(before)
        self.stop.clear()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()
        return before

    def watch(self) -> None:
        while not self.stop.wait(0.5):
            self.seen.update(self.snapshot())

    def used(self, before: dict, requests: int) -> tuple[float, float]:
        """(total, database part) in ms per request since `before` (from start()); a process
        that began in between counts from zero."""
        self.stop.set()
        if self.thread:
            self.thread.join()
        self.seen.update(self.snapshot())
        if not requests:
            return float("nan"), float("nan")
        total = {"server": 0, "database": 0}
        for pid, (kind, ticks) in self.seen.items():
            total[kind] += ticks - before.get(pid, (kind, 0))[1]
        scale = 1000 / self.tick / requests
        database = total["database"] * scale if self.database else float("nan")
        return (total["server"] + total["database"]) * scale, database


def raw_request(path: str, cookies: str | None) -> bytes:
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close", "Accept: text/html"]
    if cookies:
        lines.append(f"Cookie: {cookies}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


async def fetch(port: int, request: bytes) -> int:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        head = await reader.readline()
        while await reader.read(65536):
            pass
    finally:
        writer.close()
    return int(head.split()[1]) if head else 0


# The answers that count as served; a bench of a form whose good answer is a redirect (a POST
# that saves and moves on) adds 302 (bench/intake.py).
OK_STATUSES = {200}


async def closed_loop(port, source, concurrency, seconds) -> tuple[list[float], int, float]:
    """`source()` gives the next request to send."""
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def user() -> None:
        nonlocal errors
        while time.perf_counter() < deadline:
            request = source()
            t0 = time.perf_counter()
            status = await fetch(port, request)
            if status in OK_STATUSES:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1

    await asyncio.gather(*(user() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


async def open_loop(port, requests, rate) -> tuple[list[float], int, float]:
    """Start the requests at a fixed rate whatever the answers; latency counts from the planned
    start, so a server that falls behind shows it (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    interval = 1 / rate
    started = time.perf_counter()

    async def one(request: bytes, planned: float) -> None:
        nonlocal errors
        status = await fetch(port, request)
        if status in OK_STATUSES:
            latencies.append(time.perf_counter() - planned)
        else:
            errors += 1

    tasks = []
    for i, request in enumerate(requests):
        planned = started + i * interval
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, planned)))
    await asyncio.gather(*tasks)
    return latencies, errors, time.perf_counter() - started


def cycle(requests: list[bytes]):
    position = 0

    def source() -> bytes:
        nonlocal position
        position += 1
        return requests[(position - 1) % len(requests)]

    return source


class Permutation:
    """The charts of a population in a random order, each once; a new order once all were
    drawn (counted, so the output can say that some charts were viewed twice)."""

    def __init__(self, size: int, seed: int) -> None:
        self.size = size
        self.rng = random.Random(seed)
        self.order: list[int] = []
        self.position = 0

    def peek(self, count: int) -> list[int]:
        while len(self.order) < self.position + count:
            fresh = list(range(self.size))
            self.rng.shuffle(fresh)
            self.order.extend(fresh)
        return self.order[self.position : self.position + count]

    def draw(self) -> int:
        index = self.peek(1)[0]
        self.position += 1
        return index

    @property
    def permutations(self) -> int:
        return (self.position - 1) // self.size + 1 if self.position else 0


def report(result: Result) -> Result:
    drawn = f" | {result.charts} charts" if result.charts else ""
    if result.repeats:
        drawn += f", {result.repeats} drawn again (new permutation)"
    print(
        f"{result.mode:>6} {result.name:>20} | {result.how:<26} | {result.throughput:7.1f} req/s"
        f" | p50 {result.pct(50):6.1f} ms | p99 {result.pct(99):6.1f} ms | errors "
        f"{result.errors}{drawn} | load {result.loadavg[0]:.1f}",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------------------------
# The measurements


class Run:
    """One server: the bare view, then cold mode, then repeat mode."""

    def __init__(self, args, port, population, sessions, orders, cpu: ServerCpu):
        self.args = args
        self.port = port
        self.population = population
        self.sessions = sessions
        # The cold charts in random orders, kept across servers: one for the rules floor, one
        # shared by the two pages (so neither page draws a chart a page drew before).
        self.orders: dict[str, Permutation] = orders
        self.warm_order = Permutation(len(population.warm), seed=11)
        self.cpu = cpu
        # (mode, page) -> [(closed loop, open loop at half of it)], one per round
        self.results: dict[tuple[str, str], list[tuple[Result, Result | None]]] = {}
        self.bare = 0.0

    # Requests ---------------------------------------------------------------------------

    def patient_request(self, page: str, chart: Chart) -> bytes:
        path = floor_path(chart) if page == FLOOR else record_path(chart)
        return raw_request(path, self.sessions.cookie(chart.session, chart.csrf))

    def staff_request(self, chart: Chart, key: str) -> bytes:
        return raw_request(
            summary_path(chart), self.sessions.cookie(key, self.population.staff_csrf)
        )

    def stamp(self, charts: list[Chart], staff_key: str | None = None) -> None:
        """Sessions signed in and seen just now for these charts' accounts (or for the staff
        member), so the once-a-minute "last seen" write of the session timeout does not fall
        on measured requests more in one mode than in the other."""
        entries = [("patient", chart.session, chart.account) for chart in charts]
        if staff_key:
            entries.append(("staff", staff_key, self.population.provider_pk))
        self.sessions.write(entries)

    # Measurements -----------------------------------------------------------------------

    def closed(self, mode, name, source, seconds) -> Result:
        cpu = self.cpu.start()
        latencies, errors, took = asyncio.run(
            closed_loop(self.port, source, self.args.concurrency, seconds)
        )
        result = Result(
            name, mode, f"closed loop, {self.args.concurrency} at a time", took, latencies, errors,
            loadavg=os.getloadavg(),
        )  # fmt: skip
        result.cpu_ms, result.db_cpu_ms = self.cpu.used(cpu, len(latencies) + errors)
        return result

    def open(self, mode, name, requests, rate) -> Result:
        cpu = self.cpu.start()
        latencies, errors, took = asyncio.run(open_loop(self.port, requests, rate))
        result = Result(
            name, mode, f"open loop, {rate:.0f} req/s", took, latencies, errors,
            loadavg=os.getloadavg(),
        )  # fmt: skip
        result.cpu_ms, result.db_cpu_ms = self.cpu.used(cpu, len(latencies) + errors)
        return result

    def keep(self, mode: str, page: str, full: Result, half: Result | None) -> None:
        self.results.setdefault((mode, page), []).append((full, half))

    def measure_bare(self) -> None:
        requests = [raw_request("/healthz", None)]
        self.closed("-", BARE, cycle(requests), min(3.0, self.args.seconds))
        full = report(self.closed("-", BARE, cycle(requests), self.args.seconds))
        self.keep("-", BARE, full, None)
        self.bare = full.throughput

    def cold_page(self, page: str) -> None:
        args, population = self.args, self.population
        staff = page == SUMMARY
        key = population.staff_key

        def request(chart: Chart) -> bytes:
            return self.staff_request(chart, key) if staff else self.patient_request(page, chart)

        # Warm-up on the warm-up charts only.
        self.stamp([] if staff else population.warm, key if staff else None)
        self.closed(
            "cold",
            page,
            lambda: request(population.warm[self.warm_order.draw()]),
            min(3.0, args.seconds),
        )
        # Closed loop: no page can outrun the bare view, so that many sessions are enough.
        order = self.orders[FLOOR if page == FLOOR else "pages"]
        budget = int(self.bare * args.seconds * 1.3) + 4 * args.concurrency
        self.stamp(
            [] if staff else [population.cold[i] for i in order.peek(budget)],
            key if staff else None,
        )
        before = order.position
        full = self.closed(
            "cold", page, lambda: request(population.cold[order.draw()]), args.seconds
        )
        self.drawn(full, order, before)
        report(full)
        half = None
        if page != FLOOR:
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * args.seconds))
            charts = [population.cold[i] for i in order.peek(count)]
            self.stamp([] if staff else charts, key if staff else None)
            before = order.position
            order.position += count
            half = self.open("cold", page, [request(chart) for chart in charts], rate)
            self.drawn(half, order, before)
            report(half)
        self.keep("cold", page, full, half)

    @staticmethod
    def drawn(result: Result, order: Permutation, before: int) -> None:
        result.charts = order.position - before
        result.repeats = max(0, order.position - max(before, order.size))

    def repeat_page(self, page: str) -> None:
        population = self.population
        if page == SUMMARY:
            requests = [
                self.staff_request(chart, population.staff_repeat_key)
                for chart in population.samples
            ]
        else:
            requests = [self.patient_request(page, chart) for chart in population.samples]
            random.shuffle(requests)
        self.stamp(population.samples, population.staff_repeat_key)
        self.closed("repeat", page, cycle(requests), min(3.0, self.args.seconds))  # warm-up
        full = report(self.closed("repeat", page, cycle(requests), self.args.seconds))
        half = None
        if page != FLOOR:
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * self.args.seconds))
            half = report(
                self.open("repeat", page, [requests[i % len(requests)] for i in range(count)], rate)
            )
        self.keep("repeat", page, full, half)

    def measure(self) -> None:
        """Each round: the bare view, then each mode's floor and pages one after the other, so
        each page's share of the floor is taken from measurements minutes apart at most."""
        for round_ in range(self.args.rounds):
            if self.args.rounds > 1:
                print(f"-- round {round_ + 1} of {self.args.rounds}", flush=True)
            self.measure_bare()
            for mode in self.args.modes:
                for page in (FLOOR, *PAGES):
                    (self.cold_page if mode == "cold" else self.repeat_page)(page)


def record_path(chart: Chart) -> str:
    return f"/portal/records/{chart.access}/"


def floor_path(chart: Chart) -> str:
    return f"/bench-floor/{chart.access}/"


def summary_path(chart: Chart) -> str:
    return f"/ehr/patients/{chart.patient}/record/"


# ---------------------------------------------------------------------------------------------
# Output


# (label, environment of the server): as deployed (the targets are judged on it); with
# --cache-off also with the record renderings' cache turned off (where the code has it).
CONFIGS = (
    ("as deployed", {}),
    ("rendering cache off", {"PORTICO_RECORD_CACHE_SECONDS": "0"}),
)
TARGETS = {"cold": 25.0, "repeat": 70.0}  # % of the rules floor's throughput
P99_LIMIT_MS = 50.0


def query_values(pairs, kind: str | None = None) -> list[int]:
    return sorted({q for k, _n, q in pairs if kind in (None, k)})


def queries_label(counts, name: str) -> str:
    """E.g. "17 / 5": the sample charts' first view and repeat, with the bulk charts' counts
    in brackets where they differ."""
    labels = []
    for view in ("first view", "repeat"):
        pairs = counts[f"{name}, {view}"]
        label = "/".join(map(str, query_values(pairs, "sample")))
        if query_values(pairs, "bulk") != query_values(pairs, "sample"):
            label += f" (bulk charts {'/'.join(map(str, query_values(pairs, 'bulk')))})"
        labels.append(label)
    return " / ".join(labels)


def median(values: list[float]) -> float:
    """The middle value (the lower of the two middle ones), NaN ignored."""
    ordered = sorted(v for v in values if v == v)
    return ordered[(len(ordered) - 1) // 2] if ordered else float("nan")


def share(part: float, whole: float) -> float:
    return part / whole * 100 if whole else float("nan")


def tabulate(runs, counts, args) -> tuple[list[str], list[dict], list[dict]]:
    """The Markdown table, the figures (for --json) and the targets judged. With several
    rounds, each share is the median of the rounds' shares (each against its own round's floor
    and bare view), and the other columns are those of the median round by throughput."""
    lines = [
        "| Server | Mode | Page | req/s | % of floor | % of bare | p50 / p99 full load (ms) "
        "| Half load (req/s) | p50 / p99 half load (ms) | Server CPU per request (ms) "
        "| Queries (first view / repeat) | Charts drawn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    figures, targets = [], []
    for run_index, (label, run) in enumerate(runs):
        bares = [full for full, _half in run.results[("-", BARE)]]
        for (mode, name), rounds in run.results.items():
            floors = [full for full, _half in run.results.get((mode, FLOOR), [])]
            of_floor_rounds = (
                [
                    share(full.throughput, f.throughput)
                    for (full, _h), f in zip(rounds, floors, strict=True)
                ]
                if name in PAGES
                else []
            )
            of_bare_rounds = [
                share(full.throughput, b.throughput)
                for (full, _h), b in zip(rounds, bares, strict=True)
            ]
            cpu_rounds = (
                [share(f.cpu_ms, full.cpu_ms) for (full, _h), f in zip(rounds, floors, strict=True)]
                if name in PAGES
                else []
            )
            of_floor = median(of_floor_rounds) if of_floor_rounds else None
            of_bare = median(of_bare_rounds)
            full, half = sorted(rounds, key=lambda r: r[0].throughput)[(len(rounds) - 1) // 2]
            p50_half = median([h.pct(50) for _f, h in rounds if h]) if half else float("nan")
            p99_half = median([h.pct(99) for _f, h in rounds if h]) if half else float("nan")
            cpu = median([f.cpu_ms for f, _h in rounds])
            db_cpu = median([f.db_cpu_ms for f, _h in rounds])

            def spread(values):
                ok = [v for v in values if v == v]
                return f" ({min(ok):.0f}–{max(ok):.0f})" if len(ok) > 1 else ""

            queries = (
                queries_label(counts, "record" if name == RECORD else "summary")
                if name in PAGES
                else "—"
            )
            drawn = "—"
            if mode == "cold":
                charts = sum(f.charts + (h.charts if h else 0) for f, h in rounds)
                again = sum(f.repeats + (h.repeats if h else 0) for f, h in rounds)
                drawn = f"{charts:,}" + (f" ({again:,} drawn again)" if again else "")
            half_cols = (
                f"{half.throughput:.0f} | {p50_half:.1f} / {p99_half:.1f}" if half else "— | —"
            )
            cpu_col = f"{cpu:.2f}" + (
                f" ({db_cpu:.2f} in the database)" if db_cpu == db_cpu else ""
            )
            if cpu_rounds:
                cpu_col += f"; floor/page {median(cpu_rounds):.0f}%"
            lines.append(
                f"| {label} | {mode} | {name} | {full.throughput:.0f} | "
                + (f"**{of_floor:.0f}%**{spread(of_floor_rounds)}" if of_floor is not None else "—")
                + f" | {of_bare:.0f}%{spread(of_bare_rounds) if name != BARE else ''} | "
                f"{full.pct(50):.1f} / {full.pct(99):.1f} | {half_cols} | {cpu_col} | {queries} "
                f"| {drawn} |"
            )
            figures.append(
                {
                    "server": label,
                    "mode": mode,
                    "page": name,
                    "pct_floor": None if of_floor is None else round(of_floor, 1),
                    "pct_bare": round(of_bare, 1),
                    "p50_half_ms": None if half is None else round(p50_half, 2),
                    "p99_half_ms": None if half is None else round(p99_half, 2),
                    "server_cpu_ms_per_request": round(cpu, 3),
                    "database_cpu_ms_per_request": round(db_cpu, 3),
                    "floor_cpu_pct_of_page": round(median(cpu_rounds), 1) if cpu_rounds else None,
                    "full": full.summary(),
                    "half": half.summary() if half else None,
                    "rounds": [
                        {"full": f.summary(), "half": h.summary() if h else None} for f, h in rounds
                    ],
                }
            )
            if any(f.errors or (h and h.errors) for f, h in rounds):
                targets.append({"what": f"{label}, {mode}, {name}: no error answers", "met": False})
            if run_index != 0 or name not in PAGES:
                continue  # the targets are judged on the server as deployed
            targets.append(
                {
                    "what": f"{mode} {name}: throughput >= {TARGETS[mode]:.0f}% of the rules floor",
                    "value": round(of_floor, 1),
                    "met": of_floor >= TARGETS[mode],
                }
            )
            targets.append(
                {
                    "what": f"{mode} {name}: p99 < {P99_LIMIT_MS:.0f} ms at half load"
                    + (" (issue 5's target, kept)" if mode == "repeat" else ""),
                    "value": round(p99_half, 1),
                    "met": p99_half < P99_LIMIT_MS,
                }
            )
    for key, pairs in counts.items():
        # One count for every full chart, whatever the sizes of its lists; a chart with empty
        # lists may skip a query (Django skips a prefetch with nothing to fetch), never add one.
        sample = query_values(pairs, "sample")
        targets.append(
            {
                "what": f"queries of the {key} fixed whatever the list sizes",
                "value": {"sample": sample, "bulk": query_values(pairs, "bulk")},
                "met": len(sample) == 1 and max(query_values(pairs)) == sample[0],
            }
        )
    return lines, figures, targets


def print_targets(targets: list[dict]) -> bool:
    """Print each target as met or MISSED (with its value); whether all were met."""
    for target in targets:
        value = f" ({target['value']})" if target.get("value") is not None else ""
        print(f"{'met   ' if target['met'] else 'MISSED'} {target['what']}{value}")
    return all(target["met"] for target in targets)


def run_settings(args, loadavg_start, loadavg_end) -> dict:
    """The server and client settings and the machine's load of a run (for --json)."""
    return {
        "workers": args.workers,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "loadavg_start": [round(x, 2) for x in loadavg_start],
        "loadavg_end": [round(x, 2) for x in loadavg_end],
    }


def compare(before_path: str, after_path: str) -> int:
    """Two runs' figures side by side (from --json files)."""
    before, after = (json.loads(Path(p).read_text()) for p in (before_path, after_path))

    def index(run):
        return {(f["server"], f["mode"], f["page"]): f for f in run["figures"]}

    b, a = index(before), index(after)
    print(f"before: {before['code']} ({before['started']}, load {before['loadavg_start']})")
    print(f"after:  {after['code']} ({after['started']}, load {after['loadavg_start']})")
    print()
    print(
        "| Server | Mode | Page | req/s before → after | % of floor before → after "
        "| % of bare before → after | p99 half load (ms) before → after "
        "| server CPU ms/request before → after |"
    )
    print("|---|---|---|---|---|---|---|---|")

    def pct(value):
        return "—" if value is None else f"{value:.0f}%"

    for key in [k for k in b if k in a] + [k for k in a if k not in b]:
        x, y = b.get(key), a.get(key)

        def cell(fig, what):
            if fig is None:
                return "—"
            if what == "rps":
                return f"{fig['full']['throughput']:.0f}"
            if what == "p99":
                return f"{fig['p99_half_ms']:.1f}" if fig.get("p99_half_ms") is not None else "—"
            if what == "cpu":
                return f"{fig['server_cpu_ms_per_request']:.2f}"
            return pct(fig[what])

        print(
            f"| {key[0]} | {key[1]} | {key[2]} | {cell(x, 'rps')} → {cell(y, 'rps')} | "
            f"{cell(x, 'pct_floor')} → {cell(y, 'pct_floor')} | "
            f"{cell(x, 'pct_bare')} → {cell(y, 'pct_bare')} | "
            f"{cell(x, 'p99')} → {cell(y, 'p99')} | {cell(x, 'cpu')} → {cell(y, 'cpu')} |"
        )
    return 0


# ---------------------------------------------------------------------------------------------


def main() -> int:
    default_url = (
        os.environ.get("DATABASE_URL") or f"sqlite:///{REPO / 'var' / 'bench_records.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument(
        "--patients",
        type=int,
        default=None,
        help="charts of the bench practice (default 100,000 on PostgreSQL, 10,000 on SQLite)",
    )
    parser.add_argument("--items-per-patient", type=int, default=50)
    parser.add_argument(
        "--cold-charts",
        type=int,
        default=0,
        help="charts the cold mode draws from (default: all --patients)",
    )
    parser.add_argument("--warmup-charts", type=int, default=500)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="measure everything this many times, interleaved; shares are the rounds' medians",
    )
    parser.add_argument(
        "--modes", default="cold,repeat", help="cold, repeat or both (default), in that order"
    )
    parser.add_argument(
        "--cache-off",
        action="store_true",
        help="also measure a server with PORTICO_RECORD_CACHE_SECONDS=0",
    )
    parser.add_argument(
        "--code-dir",
        help="measure the Portico code of this checkout (its .venv python if it has one)",
    )
    parser.add_argument(
        "--copy-from",
        help="first replace the database with a copy of this one (PostgreSQL: a database name, "
        "used as TEMPLATE; SQLite: a file)",
    )
    parser.add_argument("--data-only", action="store_true", help="prepare the data and stop")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--compare", nargs=2, metavar=("BEFORE", "AFTER"))
    args = parser.parse_args()
    if args.compare:
        return compare(*args.compare)
    reexec(args.code_dir)
    postgres = args.database_url.startswith("postgres")
    args.patients = args.patients or (100_000 if postgres else 10_000)
    args.modes = [m for m in ("cold", "repeat") if m in args.modes.split(",")]
    loadavg_start = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC)

    (REPO / "var").mkdir(exist_ok=True)
    if args.copy_from:
        copy_database(args.copy_from, args.database_url)
    setup_django(args.database_url)
    ensure_data(args)
    sessions = Sessions()
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    provider = user_model.objects.get(email="provider@bench.test")
    started = time.monotonic()
    population = load_population(args, sessions)
    sessions.learn("patient", user_model.objects.get(pk=population.warm[0].account))
    sessions.learn("staff", provider, then="/ehr/")
    every = population.cold + population.warm + population.samples
    made = sessions.write([("patient", c.session, c.account) for c in every])
    sessions.write(
        [
            ("staff", population.staff_key, provider.pk),
            ("staff", population.staff_repeat_key, provider.pk),
        ]
    )
    print(
        f"sessions: {len(every):,} signed-in patient sessions written in {made:.1f} s "
        f"(population loaded in {time.monotonic() - started:.1f} s); cold mode draws from "
        f"{len(population.cold):,} charts, warm-up from {len(population.warm):,}",
        flush=True,
    )
    vacuum_sessions(sessions.model)
    if args.data_only:
        return 0
    counts = count_queries(population, sessions)
    for name, pairs in counts.items():
        print(f"queries {name}: " + ", ".join(f"{q} ({k}, {n} items)" for k, n, q in pairs))
    from django.db import connections

    connections.close_all()

    seed = int(time.time())
    orders = {
        FLOOR: Permutation(len(population.cold), seed=seed),
        "pages": Permutation(len(population.cold), seed=seed + 1),
    }
    runs = []
    for label, extra_env in CONFIGS[: 2 if args.cache_off else 1]:
        print(f"-- server {label}", flush=True)
        port = free_port()
        server = start_gunicorn(
            args.database_url,
            port,
            args.workers,
            REPO / "var" / "bench_record_pages_gunicorn.log",
            extra_env,
        )
        database = args.database_url.rsplit("/", 1)[-1] if postgres else None
        run = Run(args, port, population, sessions, orders, ServerCpu(server.pid, database))
        try:
            run.measure()
        finally:
            stop(server)
            connections.close_all()
        runs.append((label, run))

    loadavg_end = os.getloadavg()
    lines, figures, targets = tabulate(runs, counts, args)
    database = args.database_url.split("://")[0]
    code = f"{CODE} at {git_commit(CODE)}"
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"{platform.processor() or platform.machine()}, {platform.python_implementation()} "
        f"{platform.python_version()}); code {code}; database {database}, "
        f"{args.patients:,} charts x {args.items_per_patient} items; cold mode over "
        f"{len(population.cold):,} charts (pages: {orders['pages'].position:,} drawn, "
        f"{orders['pages'].permutations} permutation(s); floor: {orders[FLOOR].position:,} "
        f"drawn, {orders[FLOOR].permutations} permutation(s)); gunicorn {args.workers} sync "
        f"workers, client "
        f"concurrency {args.concurrency}, {args.seconds:g} s per measurement; load average "
        f"{' '.join(f'{x:.2f}' for x in loadavg_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in loadavg_end)} at the end"
    )
    print()
    print("\n".join(lines))
    print()
    ok = print_targets(targets)
    if args.json:
        summary = {
            "started": f"{started_at:%Y-%m-%dT%H:%M:%SZ}",
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "code": code,
            "bench": git_commit(REPO),
            "database": database,
            "patients": args.patients,
            "items_per_patient": args.items_per_patient,
            "cold_charts": len(population.cold),
            "cold_drawn": {"pages": orders["pages"].position, "floor": orders[FLOOR].position},
            "cold_permutations": {
                "pages": orders["pages"].permutations,
                "floor": orders[FLOOR].permutations,
            },
            "warmup_charts": len(population.warm),
            **run_settings(args, loadavg_start, loadavg_end),
            "queries": counts,
            "figures": figures,
            "targets": targets,
            "ok": ok,
        }
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
