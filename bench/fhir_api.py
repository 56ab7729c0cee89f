"""Benchmark: the FHIR API that patient apps read (issue 19) — Observation search and
Patient/$everything, spread over many patients, against the token rules floor.

    .venv/bin/python bench/fhir_api.py                          # SQLite (var/bench_fhir.sqlite3)
    .venv/bin/python bench/fhir_api.py \\
        --database-url postgres://postgres@127.0.0.1:5432/portico_bench_fhir      # PostgreSQL
    # --seconds S, --rounds N, --kinds K,K (see KINDS), --modes cold,repeat, --json F,
    # --data-only, --patients N (made once), --profile (cProfile of first reads, in-process)

The data (made once and kept; a later run reuses it), in the practice "bench-fhir":
* --patients (800) measured charts, 24 warm-up charts (never measured) and 2 small charts (for
  the query counts), written in batches through the chart models (`core.bulk.insert_rows`,
  and bulk_create for the models with decimal values), values from
  `portico.demo.records.bulk_generate`'s generator. Each measured chart
  holds exactly 2,000 items the patient sees: 500 shared Observations (250 lab results, 170
  vital signs, 80 screenings/assessments/interventions), 1,350 other shared list items
  (problems, medications, allergies, immunizations, procedures, care plans; some attached to
  visits), 100 signed visits with their notes shared, and 50 appointments; and 170 items the
  patient does not see (unshared results and list items, unsigned or unshared visits). The
  small charts hold a fifth of that.
* every chart a portal account as registration leaves it (record_pages.ensure_accounts: account,
  used invitation, active PortalAccess), and one public patient app registered by the operator
  (`fhir.services.register_app`).
* for every chart, that app connected through the real SMART launch in-process
  (tests/fhir/conftest.py's `connect_app`: the patient signed in, the consent page read and
  posted — `fhir.services.connect` — and the code exchanged with PKCE at the token endpoint);
  the access tokens (made to live PORTICO_FHIR_ACCESS_TOKEN_SECONDS = 7 days by this process,
  a deployment setting) are kept in var/ beside the data and issued again when they are within
  a day of expiring or no longer work.

What it measures, on gunicorn as the other page benches (record_pages.start_gunicorn:
`gunicorn.conf.py`, 2 x CPUs sync workers, DEBUG=0, bench/floor_wsgi.py's routes), each
request with the patient's own bearer token:
* the bare view (`/healthz`) and the **token rules floor** (`/bench-fhir-floor/`: the bearer
  token checked by `fhir.auth.authenticate` — django-oauth-toolkit's lookup of the token's
  checksum, its connection, the portal access it reads through — the scope check, the read's
  audit row through `fhir.services.app_read`, and "ok");
* `obs`: `Observation?patient=<id>&_count=50` (500 results), the first page and then the
  following pages through the Bundle's `next` links, as an app reads them (10 pages);
* `obs-lab`: the same with `category=laboratory` (250 results, 5 pages);
* `everything`: `Patient/<id>/$everything` at the server's default page size, the first page;
* `everything-all`: the same and every following page through its `next` links (all 2,000
  items); left out when the first page holds everything.
Modes: **cold** (first reads) — each read of a kind starts at a patient that kind has not
read before in the run, as an app's first read of it: each kind (and the floor) draws from its
own random permutation of the measured charts, a new one only once all were drawn (reported as
"drawn again"; an app reads a patient's Observations and then $everything, so one kind may read
a chart another read); warm-up reads go to the warm-up charts. **repeat** — 12 sample charts (kept
out of the cold population) read in turn. Each kind: a warm-up, a closed loop (8 readers at a
time, one connection a request, each reader walking one patient's pages) for throughput, then
an open loop at half that throughput (walks started at a fixed rate; a first page's latency
counts from its planned start, a following page's from when its link arrived) for p50/p99.
Just before each measurement the connections' "last read" is written as now, so no measured
read pays its once-a-minute update more in one kind than in another (as record_pages stamps
its sessions). With --rounds N each share is the median of the rounds' own shares (the lower
of two) and each latency the median of the rounds' (the higher of two). Beside throughput: the
CPU time the server spent per request (gunicorn's processes and the bench database's
PostgreSQL backends, from /proc), and requests per second per core derived from it (1000 / CPU
ms). Queries are counted in-process (Django's test client, outside the timed part) for every
page of each kind, for a measured chart and a small one: one count for every first page (it
carries the total) and one for every following page is the target (for $everything, which
reads its sections one after the other: at most the floor's, the total and one a section).

Targets (cold mode, from issue 19; exit 1 if one is missed): throughput >= 25% of the token
floor's, p99 < 50 ms at half load, the same query count for every first page and for every
following page of a kind whatever the chart's size, no error answers. Prints Markdown tables
for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import json
import os
import platform
import random
import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

import record_pages as rp  # noqa: E402 (puts the measured code on the path first)

PRACTICE_SLUG = "bench-fhir"
APP_NAME = "Bench health app"
REDIRECT_URI = "https://app.example/callback"  # tests/fhir/conftest.py's
TOKEN_SECONDS = 7 * 86400
SAMPLES = 12
WARMUP = 24
SMALL = 2
PAGE_SIZE = 50
TARGET_SHARE = 25.0
P99_LIMIT_MS = 50.0
BARE = rp.BARE
FLOOR = "token rules floor"
FHIR = "/fhir/R4"

# (model name, shared, unshared) per measured chart; a small chart has a fifth of each.
OBSERVATIONS = (("LabResult", 250, 40), ("Vital", 170, 10), ("Assessment", 80, 10))
OTHER_ITEMS = (
    ("Problem", 250, 20),
    ("Medication", 300, 20),
    ("Allergy", 50, 5),
    ("Immunization", 350, 20),
    ("Procedure", 300, 20),
    ("CarePlan", 100, 5),
)
ENCOUNTERS = (100, 20)  # signed with the note shared; unsigned or note not shared
APPOINTMENTS = 50
SHARED_ITEMS = (
    sum(n for _m, n, _u in OBSERVATIONS + OTHER_ITEMS) + ENCOUNTERS[0] + APPOINTMENTS
)  # 2,000


@dataclass(frozen=True)
class Kind:
    key: str
    label: str
    first: str  # the first page's path, with {patient}
    follow: bool  # read the following pages through the next links
    interaction: str = "search"


KINDS = {
    "obs": Kind(
        "obs",
        "Observation search, 500 results",
        FHIR + "/Observation?patient={patient}&_count=" + str(PAGE_SIZE),
        True,
    ),
    "obs-lab": Kind(
        "obs-lab",
        "Observation search, category=laboratory (250)",
        FHIR + "/Observation?patient={patient}&category=laboratory&_count=" + str(PAGE_SIZE),
        True,
    ),
    "everything": Kind(
        "everything",
        "Patient/$everything, first page",
        FHIR + "/Patient/{patient}/$everything",
        False,
        "everything",
    ),  # fmt: skip
    "everything-all": Kind(
        "everything-all",
        "Patient/$everything, every page (2,000 items)",
        FHIR + "/Patient/{patient}/$everything",
        True,
        "everything",
    ),  # fmt: skip
}
FLOOR_KIND = Kind("floor", FLOOR, "/bench-fhir-floor/", False)


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(args) -> None:
    """Migrate, make the data once (or check the data made earlier), gather statistics."""
    from django.core.management import call_command

    from portico.charts.models import Patient
    from portico.practices.models import Practice

    started = time.monotonic()
    if args.database_url.startswith("postgres"):
        import messaging_pages as mp

        mp.ensure_postgres_database(args.database_url)
    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    if practice is None:
        generate(args)
        practice = Practice.objects.get(slug=PRACTICE_SLUG)
    else:
        have = Patient.objects.filter(practice=practice, legal_first_name="Bench").count()
        if have != args.patients:
            sys.exit(
                f"practice {PRACTICE_SLUG} holds {have:,} measured charts, not --patients "
                f"{args.patients:,}: drop the database (or the SQLite file), or pass {have}"
            )
        print(f"data: reusing {have:,} measured charts", flush=True)
    rp.ensure_accounts(practice)
    rp.analyze_if_needed()
    print(f"data: ready in {time.monotonic() - started:,.0f} s", flush=True)


def generate(args) -> None:
    from django.db import transaction

    from portico.charts.models import Patient, Sex
    from portico.fhir import services as fhir_services
    from portico.practices.models import Role
    from tests import factories

    started = time.monotonic()
    rng = random.Random(19)
    practice = factories.make_practice("Bench FHIR", slug=PRACTICE_SLUG)
    factories.make_admin(practice, email="admin@bench.test")  # record_pages.ensure_accounts'
    providers = [
        factories.make_staff(
            practice, role=Role.PROVIDER, credential="MD", email=f"provider{n}@bench-fhir.test"
        )
        for n in range(4)
    ]
    fhir_services.register_app(None, name=APP_NAME, redirect_uris=REDIRECT_URI, confidential=False)
    charts = [("Bench", n, 1) for n in range(args.patients)]
    charts += [("Warmup", n, 1) for n in range(WARMUP)] + [("Small", n, 5) for n in range(SMALL)]
    made = 0
    slot = 0  # appointments: each its own half hour of its provider
    for start in range(0, len(charts), 25):
        batch = charts[start : start + 25]
        with transaction.atomic():
            patients = Patient.objects.bulk_create(
                Patient(
                    practice=practice, legal_first_name=first, legal_last_name=f"Fhir{n:05d}",
                    date_of_birth=dt.date(1940 + n % 65, 1 + n % 12, 1 + n % 28),
                    sex=(Sex.FEMALE, Sex.MALE)[n % 2], email=f"fhir-{first.lower()}{n}@bench.test",
                )
                for first, n, _divisor in batch
            )  # fmt: skip
            if any(p.pk is None for p in patients):
                emails = [p.email for p in patients]
                by_email = {p.email: p for p in Patient.objects.filter(email__in=emails)}
                patients = [by_email[e] for e in emails]
            rows, slot = chart_rows(
                practice, providers, list(zip(patients, (d for *_x, d in batch), strict=True)),
                rng, slot,
            )  # fmt: skip
            made += rows
        done = start + len(batch)
        if done % 200 < 25 or done == len(charts):
            rate = made / max(1e-6, time.monotonic() - started)
            print(f"data: {done:,} of {len(charts):,} charts, {made:,} rows ({rate:,.0f}/s)",
                  flush=True)  # fmt: skip


def chart_rows(practice, providers, patients, rng, slot) -> tuple[int, int]:
    """Every row of a batch of charts (patient, divisor): visits first, then the items (some
    attached to a shared visit), then the appointments. Returns (rows made, next appointment
    slot). `core.bulk.insert_rows` where the model allows it (the batch paths' fast insert),
    bulk_create for the models with decimal values (lab results, vital signs)."""
    from django.utils import timezone

    from portico.charts import codes
    from portico.charts import models as charts
    from portico.charts.models import AssessmentKind, CodeSystem, Encounter
    from portico.core.bulk import insert_rows
    from portico.demo.records import _bulk_item
    from portico.scheduling.models import Appointment, AppointmentStatus

    lists = {
        system: codes.code_list(system)
        for system in (CodeSystem.ICD10CM, CodeSystem.RXNORM, CodeSystem.CVX)
    }
    lists["labs"] = [c for c in codes.code_list(CodeSystem.LOINC) if c.category == "lab" and c.high]
    today = timezone.localdate()
    now = timezone.now()
    encounters = []
    for patient, divisor in patients:
        shared, hidden = (n // divisor for n in ENCOUNTERS)
        for i in range(shared + hidden):
            provider = providers[i % len(providers)]
            signed = i < shared or i % 2 == 0
            encounters.append({
                "practice_id": practice.pk, "patient_id": patient.pk, "provider_id": provider.pk,
                "visit_date": today - dt.timedelta(days=rng.randint(1, 3650)),
                "note": f"Visit {i}: seen for follow-up. Plan discussed and agreed.",
                "created_by_id": provider.pk, "signed_at": now if signed else None,
                "signed_by_id": provider.pk if signed else None,
                "note_shared_with_patient": i < shared, "confidential_from_representatives": False,
            })  # fmt: skip
    insert_rows(Encounter, encounters)
    visits: dict[int, list[int]] = {}
    for pk, patient_id in (
        Encounter.objects.filter(
            patient_id__in=[p.pk for p, _d in patients], note_shared_with_patient=True
        )
        .order_by("id")
        .values_list("id", "patient_id")
    ):
        visits.setdefault(patient_id, []).append(pk)
    made = len(encounters)
    kinds = list(AssessmentKind)
    for model_name, shared_count, hidden_count in OBSERVATIONS + OTHER_ITEMS:
        model = getattr(charts, model_name)
        orm = model_name in ("LabResult", "Vital")  # decimal values: through the ORM
        rows: list = []
        for patient, divisor in patients:
            own_visits = visits.get(patient.pk, [])
            total = (shared_count + hidden_count) // divisor
            shared_here = shared_count // divisor
            for i in range(total):
                on = today - dt.timedelta(days=rng.randint(0, 3650))
                values = _bulk_item(model, rng, on, lists)
                if model_name == "Assessment":
                    values["kind"] = kinds[i % len(kinds)]
                values.update(
                    practice_id=practice.pk, patient_id=patient.pk, recorded_on=on,
                    shared_with_patient=i < shared_here, confidential_from_representatives=False,
                    encounter_id=own_visits[i % len(own_visits)]
                    if own_visits and i % 4 == 0 else None,
                )  # fmt: skip
                rows.append(model(**values) if orm else values)
        if orm:
            model.objects.bulk_create(rows, batch_size=2000)
        else:
            insert_rows(model, rows)
        made += len(rows)
    appointments = []
    first_slot = dt.datetime.combine(today - dt.timedelta(days=900), dt.time(14), tzinfo=dt.UTC)
    for patient, divisor in patients:
        for i in range(APPOINTMENTS // divisor):
            provider = providers[slot % len(providers)]
            begins = first_slot + dt.timedelta(minutes=30 * (slot // len(providers)))
            slot += 1
            past = begins < now
            appointments.append({
                "practice_id": practice.pk, "patient_id": patient.pk, "provider_id": provider.pk,
                "start_at": begins, "end_at": begins + dt.timedelta(minutes=20),
                "visit_type": "Follow-up visit", "reason": "Check-up" if i % 3 else "",
                "status": AppointmentStatus.FULFILLED if past else AppointmentStatus.BOOKED,
                "scheduled_at": begins - dt.timedelta(days=14),
            })  # fmt: skip
    insert_rows(Appointment, appointments)
    made += len(appointments)
    return made, slot


# ---------------------------------------------------------------------------------------------
# Readers: each chart's connected app and its access token


@dataclass
class Reader:
    index: int
    patient: str  # the Patient resource's id, as the token response names it
    token: str
    connection: int  # AppConnection pk (to write its "last read" before a measurement)
    kind: str  # "Bench", "Warmup" or "Small"


def tokens_file(args) -> Path:
    name = hashlib.sha256(args.database_url.encode()).hexdigest()[:10]
    return rp.REPO / "var" / f"bench_fhir_tokens_{name}.json"


def ensure_readers(args) -> list[Reader]:
    """A connected app and a working access token for every bench chart: the tokens kept from
    an earlier run when every one of them still works for more than a day, else a new SMART
    launch for every chart."""
    from django.utils import timezone
    from oauth2_provider.models import AccessToken

    from portico.fhir.models import AppConnection
    from portico.portal.models import PortalAccess

    path = tokens_file(args)
    accesses = list(
        PortalAccess.objects.filter(patient__practice__slug=PRACTICE_SLUG)
        .select_related("account", "patient")
        .order_by("patient_id")
    )
    kept = json.loads(path.read_text()) if path.exists() else {}
    if len(kept) == len(accesses):
        checksums = [hashlib.sha256(t["token"].encode()).hexdigest() for t in kept.values()]
        soon = timezone.now() + dt.timedelta(days=1)
        live = AccessToken.objects.filter(
            token_checksum__in=checksums, expires__gt=soon, connection_credential__isnull=False
        ).count()
        if live == len(kept):
            print(f"tokens: reusing {live:,} access tokens ({path.name})", flush=True)
            return readers_of(kept, accesses)
    from portico.fhir.models import AppRegistration
    from tests.fhir.conftest import connect_app

    app = AppRegistration.objects.get(application__name=APP_NAME).application
    started = time.monotonic()
    kept = {}
    for n, access in enumerate(accesses):
        answer = connect_app(app, access.account, access)
        connection = AppConnection.objects.get(
            credentials__access_token__token_checksum=hashlib.sha256(
                answer["access_token"].encode()
            ).hexdigest()
        )
        kept[str(access.public_id)] = {
            "token": answer["access_token"],
            "patient": answer["patient"],
            "connection": connection.pk,
        }
        if (n + 1) % 200 == 0 or n + 1 == len(accesses):
            took = time.monotonic() - started
            print(f"tokens: {n + 1:,} of {len(accesses):,} SMART launches ({took:.0f} s)",
                  flush=True)  # fmt: skip
    path.write_text(json.dumps(kept))
    return readers_of(kept, accesses)


def readers_of(kept: dict, accesses) -> list[Reader]:
    return [
        Reader(
            n,
            kept[str(a.public_id)]["patient"],
            kept[str(a.public_id)]["token"],
            kept[str(a.public_id)]["connection"],
            a.patient.legal_first_name,
        )  # fmt: skip
        for n, a in enumerate(accesses)
    ]


def stamp(readers: list[Reader]) -> None:
    """The connections' "last read" written as now (see the module's docstring)."""
    from django.utils import timezone

    from portico.fhir.models import AppConnection

    ids = [r.connection for r in readers]
    now = timezone.now()
    for start in range(0, len(ids), 900):
        AppConnection.objects.filter(pk__in=ids[start : start + 900]).update(last_read_at=now)


# ---------------------------------------------------------------------------------------------
# Requests and the load client


def fhir_request(path: str, token: str) -> bytes:
    lines = [
        f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close",
        "Accept: application/fhir+json", f"Authorization: Bearer {token}",
    ]  # fmt: skip
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


NEXT_LINK = re.compile(
    rb'"relation"\s*:\s*"next"\s*,\s*"url"\s*:\s*"([^"]+)"'
    rb'|"url"\s*:\s*"([^"]+)"\s*,\s*"relation"\s*:\s*"next"'
)


def next_path(body: bytes) -> str | None:
    """The path and query of a Bundle's `next` link, if it has one."""
    found = NEXT_LINK.search(body)
    if found is None:
        if b'"next"' not in body:
            return None
        links = json.loads(body).get("link", [])
        url = next((link["url"] for link in links if link.get("relation") == "next"), None)
    else:
        url = (found.group(1) or found.group(2)).decode()
    if url is None:
        return None
    url = json.loads(f'"{url}"')  # JSON escapes
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


async def fetch_body(port: int, request: bytes) -> tuple[int, bytes]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        chunks = []
        while chunk := await reader.read(262144):
            chunks.append(chunk)
    finally:
        writer.close()
    answer = b"".join(chunks)
    head, _sep, body = answer.partition(b"\r\n\r\n")
    status = int(head.split(None, 2)[1]) if head else 0
    return status, body


@dataclass
class Result:
    kind: str
    mode: str
    how: str
    seconds: float
    first: list[float]  # latencies (s) of first pages
    following: list[float]  # of following pages
    walks: list[float]  # durations of whole walks completed (s)
    errors: int
    patients: int = 0
    repeats: int = 0
    loadavg: tuple[float, float, float] = (0.0, 0.0, 0.0)
    cpu_ms: float = float("nan")
    db_cpu_ms: float = float("nan")
    error_sample: str = ""

    @property
    def requests(self) -> int:
        return len(self.first) + len(self.following)

    @property
    def throughput(self) -> float:
        return self.requests / self.seconds

    @staticmethod
    def pct_of(values: list[float], p: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)] * 1000

    def pct(self, p: float, which: str = "all") -> float:
        values = {"all": self.first + self.following, "first": self.first,
                  "following": self.following, "walk": self.walks}[which]  # fmt: skip
        return self.pct_of(values, p)

    def summary(self) -> dict:
        return {
            "how": self.how, "throughput": round(self.throughput, 1),
            "requests": self.requests, "first_pages": len(self.first),
            "following_pages": len(self.following), "walks": len(self.walks),
            "p50_ms": round(self.pct(50), 2), "p99_ms": round(self.pct(99), 2),
            "p99_first_ms": round(self.pct(99, "first"), 2),
            "p99_following_ms": round(self.pct(99, "following"), 2),
            "walk_p50_ms": round(self.pct(50, "walk"), 1),
            "walk_p99_ms": round(self.pct(99, "walk"), 1),
            "errors": self.errors, "seconds": round(self.seconds, 2),
            "patients": self.patients, "repeated_patients": self.repeats,
            "loadavg": self.loadavg, "server_cpu_ms_per_request": round(self.cpu_ms, 3),
            "database_cpu_ms_per_request": round(self.db_cpu_ms, 3),
        }  # fmt: skip


class Walks:
    """What readers do: read a patient's first page, then (`follow`) each next link in turn."""

    def __init__(self, port: int, kind: Kind) -> None:
        self.port = port
        self.kind = kind
        self.first: list[float] = []
        self.following: list[float] = []
        self.walks: list[float] = []
        self.errors = 0
        self.error_sample = ""

    async def walk(self, reader: Reader, started: float, deadline: float | None) -> None:
        path: str | None = self.kind.first.format(patient=reader.patient)
        t_walk = started
        t0 = started  # a first page counts from its planned start
        first = True
        while path is not None:
            status, body = await fetch_body(self.port, fhir_request(path, reader.token))
            took = time.perf_counter() - t0
            if status != 200:
                self.errors += 1
                if not self.error_sample:
                    self.error_sample = f"{status} {path}: {body[:300]!r}"
                return
            (self.first if first else self.following).append(took)
            first = False
            path = next_path(body) if self.kind.follow else None
            if deadline is not None and time.perf_counter() >= deadline:
                return  # the measurement is over: an unfinished walk is not a walk
            t0 = time.perf_counter()
        self.walks.append(time.perf_counter() - t_walk)

    async def closed(self, draw, concurrency: int, seconds: float) -> float:
        started = time.perf_counter()
        deadline = started + seconds

        async def user() -> None:
            while time.perf_counter() < deadline:
                await self.walk(draw(), time.perf_counter(), deadline)

        await asyncio.gather(*(user() for _ in range(concurrency)))
        return time.perf_counter() - started

    async def open(self, readers: list[Reader], rate: float) -> float:
        """Walks started at `rate` a second whatever the answers."""
        interval = 1 / rate
        started = time.perf_counter()
        tasks = []
        for i, reader in enumerate(readers):
            planned = started + i * interval
            delay = planned - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(self.walk(reader, planned, None)))
        await asyncio.gather(*tasks)
        return time.perf_counter() - started


# ---------------------------------------------------------------------------------------------
# The measurements


@dataclass
class Population:
    cold: list[Reader]
    warm: list[Reader]
    samples: list[Reader]
    small: list[Reader]
    pages: dict[str, int] = field(default_factory=dict)  # kind -> pages of a measured walk


class Run:
    def __init__(self, args, port, population: Population, orders, cpu: rp.ServerCpu):
        self.args = args
        self.port = port
        self.population = population
        self.orders = orders  # kind key -> rp.Permutation of the cold population
        self.warm_order = rp.Permutation(len(population.warm), seed=7)
        self.cpu = cpu
        self.results: dict[tuple[str, str], list[tuple[Result, Result | None]]] = {}

    def measure_once(self, mode, kind: Kind, draw_closed, readers_open, seconds, rate=None):
        walks = Walks(self.port, kind)
        before = self.cpu.start()
        if rate is None:
            took = asyncio.run(walks.closed(draw_closed, self.args.concurrency, seconds))
            how = f"closed loop, {self.args.concurrency} at a time"
        else:
            took = asyncio.run(walks.open(readers_open, rate))
            how = f"open loop, {rate * self.pages(kind):.0f} req/s"
        result = Result(
            kind.key, mode, how, took, walks.first, walks.following, walks.walks, walks.errors,
            loadavg=os.getloadavg(), error_sample=walks.error_sample,
        )  # fmt: skip
        result.cpu_ms, result.db_cpu_ms = self.cpu.used(before, result.requests + result.errors)
        return result

    def pages(self, kind: Kind) -> int:
        return self.population.pages.get(kind.key, 1)

    def report(self, result: Result) -> Result:
        split = ""
        if result.following:
            split = (
                f" (first {result.pct(99, 'first'):.1f}, following "
                f"{result.pct(99, 'following'):.1f})"
            )
        drawn = f" | {result.patients} patients" if result.patients else ""
        if result.repeats:
            drawn += f", {result.repeats} drawn again"
        print(
            f"{result.mode:>6} {result.kind:>15} | {result.how:<24} | {result.throughput:7.1f} "
            f"req/s | p50 {result.pct(50):6.1f} | p99 {result.pct(99):6.1f} ms{split} | CPU "
            f"{result.cpu_ms:.2f} ms/req | errors {result.errors}{drawn} | load "
            f"{result.loadavg[0]:.1f}",
            flush=True,
        )
        if result.error_sample:
            print(f"   first error: {result.error_sample}", flush=True)
        return result

    def measure_bare(self) -> None:
        request = rp.raw_request("/healthz", None)
        concurrency, seconds = self.args.concurrency, self.args.seconds
        asyncio.run(rp.closed_loop(self.port, lambda: request, concurrency, min(2.0, seconds)))
        before = self.cpu.start()
        latencies, errors, took = asyncio.run(
            rp.closed_loop(self.port, lambda: request, concurrency, seconds)
        )
        result = Result(
            "bare", "-", f"closed loop, {concurrency} at a time", took, latencies, [], [], errors,
            loadavg=os.getloadavg(),
        )  # fmt: skip
        result.cpu_ms, result.db_cpu_ms = self.cpu.used(before, len(latencies) + errors)
        self.report(result)
        self.results.setdefault(("-", "bare"), []).append((result, None))

    def cold(self, kind: Kind) -> None:
        args, population = self.args, self.population
        order = self.orders[kind.key]
        stamp(population.warm)
        self.measure_once(
            "cold", kind, lambda: population.warm[self.warm_order.draw()], None,
            min(2.0, args.seconds),
        )  # fmt: skip
        pages = self.pages(kind)
        # Enough readers for the closed loop: no kind outruns the floor's pace.
        budget = int(self.floor_rate * args.seconds * 1.5 / pages) + 4 * args.concurrency
        stamp([population.cold[i] for i in order.peek(budget)])
        before = order.position
        full = self.measure_once(
            "cold", kind, lambda: population.cold[order.draw()], None, args.seconds
        )
        self.drawn(full, order, before)
        if kind is FLOOR_KIND:
            self.floor_rate = max(self.floor_rate, full.throughput)
        self.report(full)
        half = None
        if kind is not FLOOR_KIND:
            rate = max(0.5, full.throughput / 2 / pages)  # walks a second
            count = max(4, int(rate * args.seconds))
            readers = [population.cold[i] for i in order.peek(count)]
            stamp(readers)
            before = order.position
            order.position += count
            half = self.measure_once("cold", kind, None, readers, args.seconds, rate=rate)
            self.drawn(half, order, before)
            self.report(half)
        self.results.setdefault(("cold", kind.key), []).append((full, half))

    floor_rate = 200.0

    @staticmethod
    def drawn(result: Result, order: rp.Permutation, before: int) -> None:
        result.patients = order.position - before
        result.repeats = max(0, order.position - max(before, order.size))

    def repeat(self, kind: Kind) -> None:
        args, samples = self.args, list(self.population.samples)
        random.shuffle(samples)
        draw = rp.cycle(samples)
        stamp(samples)
        self.measure_once("repeat", kind, draw, None, min(2.0, args.seconds))
        full = self.report(self.measure_once("repeat", kind, draw, None, args.seconds))
        half = None
        if kind is not FLOOR_KIND:
            rate = max(0.5, full.throughput / 2 / self.pages(kind))
            count = max(4, int(rate * args.seconds))
            readers = [samples[i % len(samples)] for i in range(count)]
            half = self.report(self.measure_once("repeat", kind, None, readers, args.seconds,
                                                 rate=rate))  # fmt: skip
        self.results.setdefault(("repeat", kind.key), []).append((full, half))

    def measure(self, kinds: list[Kind]) -> None:
        for round_ in range(self.args.rounds):
            if self.args.rounds > 1:
                print(f"-- round {round_ + 1} of {self.args.rounds}", flush=True)
            self.measure_bare()
            for mode in self.args.modes:
                for kind in (FLOOR_KIND, *kinds):
                    (self.cold if mode == "cold" else self.repeat)(kind)


# ---------------------------------------------------------------------------------------------
# Query counts (in-process, outside the timed part)


def client_walk(client, kind: Kind, reader: Reader, *, count: bool = True) -> list[dict]:
    """Every page of a walk through Django's test client: [{queries, entries, total}]."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    path: str | None = kind.first.format(patient=reader.patient)
    pages = []
    while path is not None:
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {reader.token}")
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}: {response.content[:500]!r}")
        body = response.content
        bundle = json.loads(body)
        pages.append(
            {
                "queries": len(queries) if count else None,
                "entries": len(bundle.get("entry", [])),
                "total": bundle.get("total"),
                "types": sorted({e["resource"]["resourceType"] for e in bundle.get("entry", [])}),
            }
        )
        path = next_path(body) if kind.follow else None
        if len(pages) > 500:
            sys.exit(f"{kind.key}: more than 500 pages; the next links go round in circles?")
    return pages


def count_queries(population: Population, kinds: list[Kind]) -> dict:
    """For each kind: the queries of every page of a walk of a measured chart and of a small
    chart, with the entries of each page. Each connection reads once before (so its once-a-
    minute "last read" update is not counted on one page and not on another)."""
    from django.test import Client

    client = Client()
    probes = [("measured", population.cold[0]), ("small", population.small[0])]
    for _label, reader in probes:
        client.get(FLOOR_KIND.first, HTTP_AUTHORIZATION=f"Bearer {reader.token}")
    out: dict = {}
    for kind in (FLOOR_KIND, *kinds):
        out[kind.key] = {}
        for label, reader in probes:
            if kind is FLOOR_KIND:
                from django.db import connection
                from django.test.utils import CaptureQueriesContext

                with CaptureQueriesContext(connection) as queries:
                    response = client.get(kind.first, HTTP_AUTHORIZATION=f"Bearer {reader.token}")
                assert response.status_code == 200, response.content
                out[kind.key][label] = [{"queries": len(queries), "entries": 0}]
                continue
            client_walk(client, kind, reader, count=False)  # the code's first use
            out[kind.key][label] = client_walk(client, kind, reader)
        pages = out[kind.key]
        if kind is not FLOOR_KIND:
            measured = pages["measured"]
            population.pages[kind.key] = len(measured)
            entries = sum(p["entries"] for p in measured)
            counts = sorted({p["queries"] for ps in pages.values() for p in ps})
            print(
                f"queries {kind.key}: {counts} a page; a measured chart: {len(measured)} pages, "
                f"{entries:,} entries (total {measured[0]['total']}), a small chart: "
                f"{len(pages['small'])} pages, {sum(p['entries'] for p in pages['small']):,} "
                "entries",
                flush=True,
            )
        else:
            print(f"queries floor: {pages['measured'][0]['queries']}", flush=True)
    return out


def profile_reads(population: Population, kinds: list[Kind], views: int = 30) -> None:
    """--profile: first reads of each kind in-process (a new chart each): the SQL by statement
    and cProfile's top functions."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    readers = population.cold[-(views + 5) * len(kinds) :]
    for k, kind in enumerate((FLOOR_KIND, *kinds)):
        mine = readers[k * (views + 5) : (k + 1) * (views + 5)] or population.cold[-views:]
        stamp(mine)
        for reader in mine[:5]:
            client_walk(client, kind, reader, count=False) if kind is not FLOOR_KIND else None
        profiler = cProfile.Profile()
        wall = cpu = sql_ms = 0.0
        queries = requests = 0
        by_sql: dict[str, list[float]] = {}
        for reader in mine[5:]:
            path = kind.first.format(patient=reader.patient)
            t0, c0 = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                profiler.enable()
                response = client.get(path, HTTP_AUTHORIZATION=f"Bearer {reader.token}")
                profiler.disable()
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            requests += 1
            assert response.status_code == 200, response.content[:300]
            queries += len(captured)
            for q in captured.captured_queries:
                ms = float(q["time"]) * 1000
                sql_ms += ms
                shape = re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "'…'", q["sql"]))
                by_sql.setdefault(re.sub(r"\s+", " ", shape)[:160], []).append(ms)
        n = max(1, requests)
        print(
            f"\nprofile {kind.key}: {n} first pages in-process under cProfile, "
            f"{wall / n * 1000:.1f} ms each, CPU {cpu / n * 1000:.1f} ms, {queries / n:.1f} "
            f"queries taking {sql_ms / n:.1f} ms"
        )
        for sql, times in sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:10]:
            print(f"  {sum(times) / n:6.2f} ms/read  x{len(times) / n:.1f}  {sql}")
        profiler.dump_stats(rp.REPO / "var" / f"bench_fhir_profile_{kind.key}.pstats")
        for order, restrict in (("tottime", 25), ("cumulative", 35)):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(restrict)
            text = out.getvalue()
            print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


# ---------------------------------------------------------------------------------------------
# Output


def everything_sections() -> int:
    """How many sections Patient/$everything reads, one after the other (at most)."""
    from portico.fhir.server.resources import EVERYTHING

    return len(EVERYTHING)


def median(values: list[float]) -> float:
    """The middle value (the lower of two), NaN left out (record_pages.median)."""
    return rp.median(values)


def median_high(values: list[float]) -> float:
    """The middle value (the higher of two), NaN left out; NaN if none."""
    ordered = sorted(v for v in values if v == v)
    return ordered[len(ordered) // 2] if ordered else float("nan")


def spread_of(values: list[float]) -> str:
    ok = [v for v in values if v == v]
    return f" ({min(ok):.0f}–{max(ok):.0f})" if len(ok) > 1 else ""


def tabulate(run: Run, counts: dict, kinds: list[Kind], cores: int):
    lines = [
        "| Mode | Request | req/s | % of token floor | p50 / p99 at half load (ms) "
        "| p99 first / following pages (ms) | Whole walk p50 / p99 (ms) "
        "| CPU per request (ms) | req/s per core (1000 / CPU ms) | Queries a page "
        "| Pages a walk | Patients drawn |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    figures, targets = [], []
    labels = {k.key: k.label for k in (FLOOR_KIND, *kinds)} | {"bare": BARE}
    for (mode, key), rounds in run.results.items():
        floors = [f for f, _h in run.results.get((mode, "floor"), [])]
        share_rounds = (
            [rp.share(f.throughput, fl.throughput) for (f, _h), fl in zip(rounds, floors,
                                                                          strict=True)]
            if key not in ("floor", "bare") and floors
            else []
        )  # fmt: skip
        full, half = sorted(rounds, key=lambda r: r[0].throughput)[(len(rounds) - 1) // 2]
        halves = [h for _f, h in rounds if h]
        # Latencies: the upper middle of the rounds (the higher of two), as the shares take the
        # lower: with two rounds, each figure is the less flattering one.
        p50 = median_high([h.pct(50) for h in halves])
        p99 = median_high([h.pct(99) for h in halves])
        p99_rounds = [h.pct(99) for h in halves]
        p99_first = median_high([h.pct(99, "first") for h in halves])
        p99_next = median_high([h.pct(99, "following") for h in halves])
        walk50 = median_high([h.pct(50, "walk") for h in halves])
        walk99 = median_high([h.pct(99, "walk") for h in halves])
        cpu = median([f.cpu_ms for f, _h in rounds])
        db_cpu = median([f.db_cpu_ms for f, _h in rounds])
        share = median(share_rounds) if share_rounds else None
        spread = (
            f" ({min(share_rounds):.0f}–{max(share_rounds):.0f})" if len(share_rounds) > 1 else ""
        )
        per_core = 1000 / cpu if cpu == cpu and cpu > 0 else float("nan")
        queries = "—"
        if key in counts:
            values = sorted({p["queries"] for ps in counts[key].values() for p in ps})
            queries = "/".join(map(str, values))
        pages = run.population.pages.get(key, 1) if key != "bare" else 1
        drawn = "—"
        if mode == "cold" and key != "bare":
            patients = sum(f.patients + (h.patients if h else 0) for f, h in rounds)
            again = sum(f.repeats + (h.repeats if h else 0) for f, h in rounds)
            drawn = f"{patients:,}" + (f" ({again:,} drawn again)" if again else "")
        cpu_col = f"{cpu:.2f}" + (f" ({db_cpu:.2f} database)" if db_cpu == db_cpu else "")
        lines.append(
            f"| {mode} | {labels[key]} | {full.throughput:.0f} | "
            + (f"**{share:.0f}%**{spread}" if share is not None else "—")
            + " | "
            + (f"{p50:.1f} / **{p99:.1f}**{spread_of(p99_rounds)}" if halves else "—")
            + " | "
            + (f"{p99_first:.1f} / {p99_next:.1f}" if halves and p99_next == p99_next else "—")
            + " | "
            + (f"{walk50:.0f} / {walk99:.0f}" if halves and pages > 1 else "—")
            + f" | {cpu_col} | {per_core:.0f} | {queries} | {pages} | {drawn} |"
        )
        figures.append(
            {
                "mode": mode, "kind": key, "label": labels[key],
                "pct_floor": None if share is None else round(share, 1),
                "pct_floor_rounds": [round(s, 1) for s in share_rounds],
                "p50_half_ms": round(p50, 2) if halves else None,
                "p99_half_ms": round(p99, 2) if halves else None,
                "p99_half_rounds_ms": [round(v, 2) for v in p99_rounds] if halves else [],
                "p99_half_first_ms": round(p99_first, 2) if halves else None,
                "p99_half_following_ms": round(p99_next, 2) if halves and p99_next == p99_next
                else None,
                "walk_half_p50_ms": round(walk50, 1) if halves and pages > 1 else None,
                "walk_half_p99_ms": round(walk99, 1) if halves and pages > 1 else None,
                "server_cpu_ms_per_request": round(cpu, 3),
                "database_cpu_ms_per_request": round(db_cpu, 3) if db_cpu == db_cpu else None,
                "requests_per_second_per_core": round(per_core, 1) if per_core == per_core
                else None,
                "measured_rps_per_core": round(full.throughput / cores, 1),
                "pages_per_walk": pages,
                "rounds": [{"full": f.summary(), "half": h.summary() if h else None}
                           for f, h in rounds],
            }
        )  # fmt: skip
        if any(f.errors or (h and h.errors) for f, h in rounds):
            targets.append({"what": f"{mode} {labels[key]}: no error answers", "met": False})
        if mode != "cold" or key in ("floor", "bare"):
            continue
        targets.append({
            "what": f"cold {labels[key]}: throughput >= {TARGET_SHARE:.0f}% of the token floor",
            "value": round(share, 1), "met": share >= TARGET_SHARE,
        })  # fmt: skip
        targets.append({
            "what": f"cold {labels[key]}: p99 < {P99_LIMIT_MS:.0f} ms at half load",
            "value": round(p99, 1), "met": p99 < P99_LIMIT_MS,
        })  # fmt: skip
    for key, by_chart in counts.items():
        values = sorted({p["queries"] for ps in by_chart.values() for p in ps})
        if key.startswith("everything"):
            # $everything reads section after section: a page costs what the floor costs, the
            # total, and one query per section it reaches, never one per item.
            bound = counts["floor"]["measured"][0]["queries"] + 1 + everything_sections()
            targets.append({
                "what": f"queries of every page of {labels.get(key, key)} at most {bound} (the "
                        "floor's, the total, one a section it reaches), whatever the chart's size",
                "value": values, "met": max(values) <= bound,
            })  # fmt: skip
            continue
        # The first page carries the total (one query more); every first page costs the same,
        # and every following page the same, whatever the chart's size.
        firsts = sorted({ps[0]["queries"] for ps in by_chart.values()})
        following = sorted({p["queries"] for ps in by_chart.values() for p in ps[1:]})
        targets.append({
            "what": f"queries of every first page of {labels.get(key, key)} the same, and of "
                    "every following page, whatever the chart's size",
            "value": {"first": firsts, "following": following},
            "met": len(firsts) == 1 and len(following) <= 1,
        })  # fmt: skip
    return lines, figures, targets


# ---------------------------------------------------------------------------------------------


def main() -> int:
    default_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{rp.REPO / 'var' / 'bench_fhir.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--patients", type=int, default=800)
    parser.add_argument("--kinds", default="obs,obs-lab,everything,everything-all",
                        help="of " + ", ".join(KINDS))  # fmt: skip
    parser.add_argument("--modes", default="cold,repeat")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("--profile", action="store_true",
                        help="profile first reads in-process (cProfile, SQL) and stop")  # fmt: skip
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    args.modes = [m for m in ("cold", "repeat") if m in args.modes.split(",")]
    kinds = [KINDS[k] for k in args.kinds.split(",") if k]
    started_at = dt.datetime.now(dt.UTC)
    loadavg_start = os.getloadavg()
    (rp.REPO / "var").mkdir(exist_ok=True)
    # Tokens issued by this process live a week (a deployment setting), so the data's tokens
    # serve several runs; the server checks each token's own expiry.
    os.environ["PORTICO_FHIR_ACCESS_TOKEN_SECONDS"] = str(TOKEN_SECONDS)
    rp.setup_django(args.database_url)
    ensure_data(args)
    readers = ensure_readers(args)
    if args.data_only:
        return 0
    by_kind: dict[str, list[Reader]] = {}
    for reader in readers:
        by_kind.setdefault(reader.kind, []).append(reader)
    measured = by_kind["Bench"]
    population = Population(
        cold=measured[SAMPLES:], warm=by_kind["Warmup"], samples=measured[:SAMPLES],
        small=by_kind["Small"],
    )  # fmt: skip
    import floor_wsgi  # noqa: F401 (the floor route, in this process too: the query counts)

    counts = count_queries(population, kinds)
    if "everything-all" in args.kinds and population.pages.get("everything-all", 1) == 1:
        print("Patient/$everything answers everything in one page: 'everything-all' is the same "
              "request as 'everything', left out", flush=True)  # fmt: skip
        kinds = [k for k in kinds if k.key != "everything-all"]
        counts.pop("everything-all", None)
    if args.profile:
        profile_reads(population, kinds)
        return 0
    from django.db import connections

    connections.close_all()
    seed = int(time.time())
    # Each kind's own order: no kind reads a chart twice (until the charts run out).
    orders = {
        kind.key: rp.Permutation(len(population.cold), seed=seed + n)
        for n, kind in enumerate((FLOOR_KIND, *kinds))
    }
    port = rp.free_port()
    server = rp.start_gunicorn(
        args.database_url, port, args.workers, rp.REPO / "var" / "bench_fhir_gunicorn.log", {}
    )
    postgres = args.database_url.startswith("postgres")
    database = args.database_url.rsplit("/", 1)[-1] if postgres else None
    run = Run(args, port, population, orders, rp.ServerCpu(server.pid, database))
    try:
        run.measure(kinds)
    finally:
        rp.stop(server)
        connections.close_all()
    loadavg_end = os.getloadavg()
    cores = os.cpu_count() or 1
    lines, figures, targets = tabulate(run, counts, kinds, cores)
    code = f"{rp.CODE} at {rp.git_commit(rp.CODE)}"
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({cores} CPUs, "
        f"{platform.machine()}, {platform.python_implementation()} {platform.python_version()});"
        f" code {code}; database {args.database_url.split('://')[0]}, {args.patients:,} charts "
        f"x {SHARED_ITEMS:,} shared items (500 Observations); gunicorn {args.workers} sync "
        f"workers, client concurrency {args.concurrency}, {args.seconds:g} s per measurement, "
        f"{args.rounds} round(s); cold reads drew "
        + ", ".join(f"{key} {order.position:,}" for key, order in orders.items())
        + f" of {len(population.cold):,} charts; load average "
        f"{' '.join(f'{x:.2f}' for x in loadavg_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in loadavg_end)} at the end"
    )
    print()
    print("\n".join(lines))
    print()
    ok = rp.print_targets(targets)
    if args.json:
        summary = {
            "started": f"{started_at:%Y-%m-%dT%H:%M:%SZ}", "host": platform.node(),
            "cpus": cores, "python": platform.python_version(), "code": code,
            "database": args.database_url.split("://")[0], "patients": args.patients,
            "loadavg_start": loadavg_start, "loadavg_end": loadavg_end,
            "queries": counts, "figures": figures, "targets": targets, "ok": ok,
        }  # fmt: skip
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
