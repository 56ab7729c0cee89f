"""Benchmark: the patient's record home and the staff chart summary under load (issue 5).

    .venv/bin/python bench/record_pages.py                       # SQLite, a small set
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/portico_bench_records \
        .venv/bin/python bench/record_pages.py                   # 100,000 patients, 5,000,000 items

What it does, in one run:
1. migrates the database and, if the practice "bench-records" is not there yet, fills it with
   the clinical helper's bulk generator (`charts.demo_records.bulk_generate`), then gives a few
   sample charts a portal account, shared encounters with amendments, appointments and staff
   reads (the access log), so their pages show every section;
2. counts the SQL queries of each page for a small and a large sample chart (they must match);
3. starts gunicorn (the production server, with `gunicorn.conf.py`) on the same settings,
   serving Portico's application with one extra route (`bench/floor_wsgi.py`);
4. measures, with the small asyncio client below, the bare `/healthz` view (a Django view that
   returns "ok" through the full middleware stack), the "rules floor" (the same stack plus only
   what the rules demand of every record view: the access check and the audit row, no page)
   and the two pages: first closed-loop at a fixed concurrency (throughput), then open-loop at
   half the page's own throughput (latency percentiles, measured from each request's planned
   start so queueing is counted).

Targets: each page's throughput at least 40% of the bare view's; p99 under 50 ms at half load.
Prints a Markdown table for docs/PERFORMANCE.md and exits 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

PRACTICE_SLUG = "bench-records"
SAMPLES = 12  # charts with portal accounts and sessions, requested in turn
SECRET_KEY = "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz0123"  # noqa: S105


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("SECRET_KEY", SECRET_KEY)
    # The query counts are taken with Django's test client, whose host is "testserver".
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,testserver"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portico.settings")
    import django

    django.setup()


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(patients: int, items_per_patient: int) -> None:
    from django.core.management import call_command

    from portico.charts.models import Patient
    from portico.practices.models import Practice

    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    if practice is not None and Patient.objects.filter(practice=practice).count() >= patients:
        print(f"data: reusing practice {PRACTICE_SLUG}", flush=True)
        return
    if practice is not None:
        sys.exit(f"practice {PRACTICE_SLUG} exists with fewer patients: drop the database first")
    generate(patients, items_per_patient)


def generate(patients: int, items_per_patient: int) -> None:
    from portico.charts import demo_records
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
    started = time.monotonic()

    def progress(done_patients: int, done_items: int) -> None:
        if done_patients % 5000 < max(1, 5000 // items_per_patient) or done_patients == patients:
            rate = done_items / max(1e-6, time.monotonic() - started)
            print(f"data: {done_patients:,} patients, {done_items:,} items ({rate:,.0f}/s)")

    made_patients, made_items = demo_records.bulk_generate(
        practice, patients=patients, items_per_patient=items_per_patient, progress=progress
    )
    print(
        f"data: {made_patients:,} patients and {made_items:,} items in "
        f"{time.monotonic() - started:,.0f} s",
        flush=True,
    )


def prepare_samples():
    """Portal accounts and signed-in sessions for SAMPLES charts, a staff session, and what
    the record shows besides the bulk lists (encounters, amendments, appointments, reads)."""
    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    from portico.accounts.models import User
    from portico.charts.models import Encounter, EncounterAmendment, Patient
    from portico.charts.services import chart_viewed
    from portico.portal.models import PortalAccess
    from portico.practices.models import Practice
    from portico.scheduling.models import Appointment
    from tests import factories

    practice = Practice.objects.get(slug=PRACTICE_SLUG)
    admin = User.objects.get(email="admin@bench.test")
    provider = User.objects.get(email="provider@bench.test")
    # Spread over the table, not the first rows written.
    total = Patient.objects.filter(practice=practice).count()
    step = max(1, total // SAMPLES)
    ids = list(
        Patient.objects.filter(practice=practice)
        .order_by("id")
        .values_list("id", flat=True)[::step][:SAMPLES]
    )
    samples = []
    for patient in Patient.objects.filter(id__in=ids).order_by("id"):
        access = PortalAccess.objects.filter(patient=patient, account__isnull=False).first()
        if access is None:
            patient.email = f"bench{patient.pk}@bench.test"  # bulk charts have none
            patient.save(update_fields=["email"])
            account = factories.enroll(admin, patient)
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
                start = now.replace(microsecond=0) + dt.timedelta(days=30 * i + 1)
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
        else:
            account = access.account
        client = Client()
        factories.sign_in(client, account)
        samples.append((patient, access or PortalAccess.objects.get(patient=patient), client))
    staff_client = Client()
    factories.sign_in(staff_client, provider)
    staff_client.get("/ehr/")  # picks the current practice into the session
    # A browser sends back every cookie the site set: the session and, once a page with a form
    # was shown, the CSRF cookie (without it, each page would mint a new CSRF secret).
    for _patient, access, client in samples:
        client.get(f"/portal/records/{access.public_id}/")
    staff_client.get(f"/ehr/patients/{samples[0][0].public_id}/record/")

    def cookie_header(client) -> str:
        return "; ".join(f"{name}={morsel.value}" for name, morsel in client.cookies.items())

    cookie = settings.SESSION_COOKIE_NAME
    return {
        "record": [
            (f"/portal/records/{access.public_id}/", cookie_header(client))
            for _patient, access, client in samples
        ],
        "chart": [
            (f"/ehr/patients/{patient.public_id}/record/", cookie_header(staff_client))
            for patient, _access, _client in samples
        ],
        "cookie_name": cookie,
        "patients": [patient for patient, _a, _c in samples],
        "clients": [client for _p, _a, client in samples],
        "staff_client": staff_client,
    }


def count_queries(prepared) -> dict[str, list[tuple[int, int]]]:
    """(items on the chart, queries) of each page for every sample chart: the first view,
    which renders the record, and the next, which finds the rendering cached."""
    from django.core.cache import caches
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portico.records.selectors import shared_record

    caches["records"].clear()
    counts: dict[str, list[tuple[int, int]]] = {
        "record": [],
        "chart": [],
        "record, cached": [],
        "chart, cached": [],
    }
    for i, patient in enumerate(prepared["patients"]):
        record = shared_record(patient)
        size = sum(len(items) for _k, _h, items in record.sections()) + len(record.encounters)
        for name, client, url in (
            ("record", prepared["clients"][i], prepared["record"][i][0]),
            ("chart", prepared["staff_client"], prepared["chart"][i][0]),
        ):
            for key in (name, f"{name}, cached"):
                with CaptureQueriesContext(connection) as queries:
                    response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                counts[key].append((size, len(queries)))
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
        SESSION_COOKIE_SECURE="0",
        LOG_LEVEL="WARNING",
        **extra_env,
    )
    args = [
        sys.executable, "-m", "gunicorn", "floor_wsgi:application",
        "--pythonpath", str(REPO / "bench"), "-c", str(REPO / "gunicorn.conf.py"),
        "--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--no-control-socket",
    ]  # fmt: skip
    process = subprocess.Popen(
        args,
        cwd=REPO,
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
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2):  # noqa: S310
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
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds

    def pct(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)] * 1000


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


async def closed_loop(port, requests, concurrency, seconds) -> tuple[list[float], int, float]:
    latencies: list[float] = []
    errors = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def user(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            status = await fetch(port, requests[i % len(requests)])
            if status == 200:
                latencies.append(time.perf_counter() - t0)
            else:
                errors += 1
            i += 1

    await asyncio.gather(*(user(i) for i in range(concurrency)))
    return latencies, errors, time.perf_counter() - started


async def open_loop(port, requests, rate, seconds) -> tuple[list[float], int, float]:
    """Start requests at a fixed rate whatever the answers; latency counts from the planned
    start, so a server that falls behind shows it (no coordinated omission)."""
    latencies: list[float] = []
    errors = 0
    interval = 1 / rate
    started = time.perf_counter()
    total = int(rate * seconds)

    async def one(i: int, planned: float) -> None:
        nonlocal errors
        status = await fetch(port, requests[i % len(requests)])
        if status == 200:
            latencies.append(time.perf_counter() - planned)
        else:
            errors += 1

    tasks = []
    for i in range(total):
        planned = started + i * interval
        delay = planned - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i, planned)))
    await asyncio.gather(*tasks)
    return latencies, errors, time.perf_counter() - started


def measure(name, port, requests, *, concurrency, seconds, rate=None) -> Result:
    if rate is None:
        asyncio.run(closed_loop(port, requests, concurrency, min(3.0, seconds)))  # warm-up
        latencies, errors, took = asyncio.run(closed_loop(port, requests, concurrency, seconds))
        result = Result(name, f"closed loop, {concurrency} at a time", took, latencies, errors)
    else:
        latencies, errors, took = asyncio.run(open_loop(port, requests, rate, seconds))
        result = Result(name, f"open loop, {rate:.0f} req/s", took, latencies, errors)
    print(
        f"{name:>22} | {result.mode:<26} | {result.throughput:7.1f} req/s | "
        f"p50 {result.pct(50):6.1f} ms | p99 {result.pct(99):6.1f} ms | errors {errors}",
        flush=True,
    )
    return result


# ---------------------------------------------------------------------------------------------


# (label, environment of the server): the production default first (record pages served from
# their cached rendering, which the targets are judged on), then with that cache turned off, so
# the cost of rendering a record is visible too.
CONFIGS = (
    ("rendering cached (default)", {}),
    ("rendering cache off", {"PORTICO_RECORD_CACHE_SECONDS": "0"}),
)
BARE = "bare view (/healthz)"
FLOOR = "rules floor (bench/floor_wsgi.py)"


def measure_config(args, prepared, extra_env) -> dict[str, tuple[Result, Result | None]]:
    port = free_port()
    log = REPO / "var" / "bench_record_pages_gunicorn.log"
    server = start_gunicorn(args.database_url, port, args.workers, log, extra_env)
    targets = {
        BARE: [raw_request("/healthz", None)],
        FLOOR: [
            raw_request(p.replace("/portal/records/", "/bench-floor/"), c)
            for p, c in prepared["record"]
        ],
        "patient record home": [raw_request(p, c) for p, c in prepared["record"]],
        "staff chart summary": [raw_request(p, c) for p, c in prepared["chart"]],
    }
    random.shuffle(targets["patient record home"])
    results: dict[str, tuple[Result, Result | None]] = {}
    try:
        for name, requests in targets.items():
            full = measure(name, port, requests, concurrency=args.concurrency, seconds=args.seconds)
            half = None
            if name not in (BARE, FLOOR):
                half = measure(
                    name,
                    port,
                    requests,
                    concurrency=args.concurrency,
                    seconds=args.seconds,
                    rate=max(1.0, full.throughput / 2),
                )
            results[name] = (full, half)
    finally:
        stop(server)
    return results


def main() -> int:
    default_url = (
        os.environ.get("DATABASE_URL") or f"sqlite:///{REPO / 'var' / 'bench_records.sqlite3'}"
    )
    postgres = default_url.startswith("postgres")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--patients", type=int, default=100_000 if postgres else 2_000)
    parser.add_argument("--items-per-patient", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()

    (REPO / "var").mkdir(exist_ok=True)
    setup_django(args.database_url)
    ensure_data(args.patients, args.items_per_patient)
    prepared = prepare_samples()
    counts = count_queries(prepared)
    for name, pairs in counts.items():
        print(f"queries {name}: " + ", ".join(f"{q} ({n} items)" for n, q in pairs))
    from django.db import connections

    connections.close_all()

    runs = []
    for label, extra_env in CONFIGS:
        print(f"-- {label}", flush=True)
        runs.append((label, measure_config(args, prepared, extra_env)))

    ok = True
    print()
    print(
        f"Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC on {platform.node()} "
        f"({os.cpu_count()} CPUs, {platform.processor() or platform.machine()}, "
        f"{platform.python_implementation()} {platform.python_version()}), database "
        f"{args.database_url.split('://')[0]}, {args.patients:,} patients x "
        f"{args.items_per_patient} items, gunicorn {args.workers} sync workers, client "
        f"concurrency {args.concurrency}, {args.seconds:.0f} s per measurement, load avg "
        f"{os.getloadavg()[0]:.1f}"
    )
    print()
    print(
        "| Server | Page | Throughput (req/s) | % of bare | p50 / p99 at full load (ms) "
        "| Half load (req/s) | p50 / p99 at half load (ms) | Queries (first view / cached) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for run_index, (label, results) in enumerate(runs):
        bare = results[BARE][0].throughput
        for name, (full, half) in results.items():
            share = full.throughput / bare * 100 if bare else float("nan")
            queries = "—"
            key = "record" if "record" in name else "chart" if "chart" in name else None
            if key:
                first = "/".join(str(q) for q in sorted({q for _n, q in counts[key]}))
                cached = "/".join(str(q) for q in sorted({q for _n, q in counts[f"{key}, cached"]}))
                queries = f"{first} / {cached}" if run_index == 0 else f"{first} / {first}"
            half_cols = (
                f"{half.throughput:.0f} | {half.pct(50):.1f} / {half.pct(99):.1f}"
                if half
                else "— | —"
            )
            print(
                f"| {label} | {name} | {full.throughput:.0f} | {share:.0f}% | "
                f"{full.pct(50):.1f} / {full.pct(99):.1f} | {half_cols} | {queries} |"
            )
            if full.errors or (half and half.errors):
                ok = False
                print(f"ERRORS: {name}: non-200 answers")
            if half is None or run_index != 0:
                continue  # the targets are judged on the production default
            if share < 40:
                ok = False
                print(f"TARGET MISSED: {name} throughput {share:.0f}% of the bare view (< 40%)")
            if half.pct(99) >= 50:
                ok = False
                print(f"TARGET MISSED: {name} p99 {half.pct(99):.1f} ms at half load (>= 50 ms)")
    for key, pairs in counts.items():
        if len({q for _n, q in pairs}) != 1:
            ok = False
            print(f"QUERY COUNT VARIES for {key}: {pairs}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
