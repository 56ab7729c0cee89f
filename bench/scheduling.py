"""Benchmark: the appointment book (issue 15) — open times, the week view under load, a booking
race and the reminder job.

    .venv/bin/python bench/scheduling.py                       # SQLite: 20 providers, 100,000
    .venv/bin/python bench/scheduling.py \\
        --database-url postgres://postgres@127.0.0.1:5432/portico_bench_sched  # 200, 2,000,000
    .venv/bin/python bench/scheduling.py --parts open,week     # some parts only
    # --parts open,week,race,reminders (default all), --seconds S, --rounds N, --json F,
    # --data-only, --reminders N (due reminders of part 4), --book-rate R (part 2's bookings/s)

The data (made once and kept; a later run reuses it): --practices practices "bench-sched-<i>"
(10 on PostgreSQL, 1 on SQLite), each with --providers-per-practice providers (20) working
Monday to Friday in one of a few regular weeks at one location or two, a front-desk staff
member, an administrator, --patients-per-practice bare charts (20,000; 10,000), the practice's
visit types, holidays and its providers' vacations as blocked times, and --appointments
appointments in all (2,000,000; 100,000) over --years of history (2; 1) and --weeks-ahead weeks
ahead (16), from `portico.demo.bulk_appointments` (never overlapping; the days ahead emptier
the further they are). The first practice's charts have enrolled portal accounts
(record_pages.ensure_accounts), for the rules floor. On PostgreSQL the bench runs ANALYZE where
tables have no statistics (record_pages.analyze_if_needed).

Parts:
1. **open** — `scheduling.selectors.open_times` of one provider and a visit type for the next 90
   days, in-process, for every provider in a random order (each provider's first call first,
   then further rounds), timed one by one (wall clock: Python and the database); the queries
   of each call counted for the providers with the fewest and the most appointments ahead.
   Targets: p50 < 20 ms, p99 < 60 ms, the same query count for every provider.
2. **week** — the week view of all of a practice's providers (`scheduling:schedule`,
   `?view=week&date=<Monday>`), served by gunicorn like the other page benches
   (record_pages.start_gunicorn: 2 x CPUs sync workers, bench/floor_wsgi.py's routes), beside
   the bare view and the rules floor of the same run. While the floor and the page are
   measured, a separate process books appointments through `scheduling.services.
   appointment_book` at --book-rate per second into the weeks being viewed (so no view can be
   served from what an earlier view left; its bookings are deleted at the end of the run).
   Cold mode: every request is the first of a new signed-in session of the practice's
   front-desk member, going round the practices and this week and the next --weeks-viewed - 1
   weeks; repeat mode: one session, one practice's week three weeks ahead, which the booker
   then books into. Closed loop (throughput), then an open loop at half of it (p50/p99 from
   each request's planned start). Queries counted in-process on a first view and the next for
   the fullest and the emptiest viewed week. Targets: cold throughput >= 25% of the floor's,
   p99 < 50 ms at half load, the same query count for a full and an empty week.
3. **race** — --race-requests (100) requests for the same provider, time and visit type, each
   for another patient, sent together to `POST /api/v1/schedule/appointments` with a staff
   API token, on gunicorn with threaded workers (--race-workers x --race-threads) so they
   are handled at the same time: every request's body but its last byte is sent first, then
   the last bytes all at once. --race-rounds rounds, each on another free time. On PostgreSQL
   the backends of the bench database are watched meanwhile (most active at once, most
   waiting for a lock). Target each round: 1 created, the others 409 with a message, no 5xx,
   and 1 appointment holding the time in the database.
4. **reminders** — in a throwaway database of its own (PostgreSQL: <name>_reminders, dropped
   and made again; SQLite: a file in var/), appointments for --reminders due reminders (practice
   reminders on), queued by `scheduling.reminders.reminders_queue_due()` and sent by the task
   worker (`portico db_worker`, the outbox drain) to an aiosmtpd server in its own process
   that counts Message-IDs. The worker is killed (SIGKILL) when about half are sent and started
   again. Reported: emails/s, the worker's RSS over time, received, distinct Message-IDs and
   duplicates. Targets: >= 200 emails/s, memory flat, every reminder received, none twice
   except at most one in-flight message per kill (docs/EMAIL_DELIVERY.md).

Exit 1 if a target is missed. Prints Markdown tables for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import random
import re
import signal
import subprocess
import sys
import threading
import time
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import record_pages as rp

import messaging_pages as mp  # isort: skip

PREFIX = "bench-sched-"
FRONT_DESK = "frontdesk{}@bench.test"
ADMIN = "admin{}@bench.test"  # the first practice's is record_pages.ensure_accounts' admin
PROVIDER_EMAIL = "sched{}p"  # + n@bench.test
PASSWORD_HASH_OF = rp.BENCH_PASSWORD
TIME_ZONES = (
    "America/Chicago",
    "America/New_York",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
)
PARTS = ("open", "week", "race", "reminders")
FLOOR, BARE = rp.FLOOR, rp.BARE
WEEK = "week view, all providers"
OPEN_P50_MS, OPEN_P99_MS = 20.0, 60.0
TARGET_SHARE = 25.0
P99_LIMIT_MS = 50.0
REPEAT_WEEK = 3  # weeks ahead: the repeat mode's week (room left for the booker)
API_PATH = "/api/v1/schedule/appointments"


def postgres(url: str) -> bool:
    return url.startswith("postgres")


def admin_email(index: int) -> str:
    return "admin@bench.test" if index == 0 else ADMIN.format(index)


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(args) -> None:
    ensure_bench_data(args, prefix=PREFIX, generate=generate, check_sizes=check_sizes)


def ensure_bench_data(args, *, prefix: str, generate, check_sizes) -> None:
    """Migrate the bench database (created first on PostgreSQL), then make its data once —
    the practices whose slugs start with `prefix` — or check the data made earlier."""
    from django.core.management import call_command

    from portico.practices.models import Practice

    started = time.monotonic()
    if postgres(args.database_url):
        mp.ensure_postgres_database(args.database_url)
    call_command("migrate", verbosity=0)
    if not Practice.objects.filter(slug__startswith=prefix).exists():
        generate(args)
    else:
        check_sizes(args)
    rp.analyze_if_needed()
    print(f"data: ready in {time.monotonic() - started:,.0f} s", flush=True)


def check_sizes(args) -> None:
    from portico.charts.models import Patient
    from portico.practices.models import Membership, Practice, Role
    from portico.scheduling.models import Appointment

    practices = Practice.objects.filter(slug__startswith=PREFIX)
    have = {
        "practices": practices.count(),
        "providers": Membership.objects.filter(practice__in=practices, role=Role.PROVIDER).count(),
        "patients": Patient.objects.filter(practice__in=practices).count(),
        "appointments": Appointment.objects.filter(practice__in=practices).count(),
    }
    wanted = {
        "practices": args.practices,
        "providers": args.practices * args.providers_per_practice,
        "patients": args.practices * args.patients_per_practice,
        "appointments": args.appointments,
    }
    # Each race round adds one appointment; a run stopped before its clean-up may leave some
    # of the booker's.
    if any(have[k] != wanted[k] for k in ("practices", "providers", "patients")) or not (
        wanted["appointments"] <= have["appointments"] <= wanted["appointments"] + 20_000
    ):
        sys.exit(
            f"the bench practices hold {have}, not {wanted}: drop the database (or the SQLite "
            "file) to make it again, or pass the sizes it holds"
        )
    print(
        f"data: reusing {have['practices']} practices, {have['providers']} providers, "
        f"{have['patients']:,} charts, {have['appointments']:,} appointments "
        f"({have['appointments'] - wanted['appointments']:,} added by earlier runs)",
        flush=True,
    )


def generate(args) -> None:
    from django.contrib.auth.hashers import make_password
    from django.utils import timezone

    from portico.charts.models import Patient
    from portico.demo import bulk_appointments as ba
    from portico.demo.bulk_messages import bulk_patients
    from portico.practices.models import Role
    from tests import factories

    started = time.monotonic()
    today = timezone.localdate()
    first_day = today - dt.timedelta(days=round(365.25 * args.years))
    last_day = today + dt.timedelta(weeks=args.weeks_ahead)
    password_hash = make_password(PASSWORD_HASH_OF)
    shares = [args.appointments // args.practices] * args.practices
    shares[0] += args.appointments - sum(shares)
    made = 0
    for index in range(args.practices):
        practice = factories.make_practice(
            f"Bench Family Medicine {index}",
            slug=f"{PREFIX}{index}",
            time_zone=TIME_ZONES[index % len(TIME_ZONES)],
            address_line1=f"{100 + index} Market Street",
            city="Springfield",
            state="IL",
            postal_code="62701",
        )
        factories.make_admin(practice, email=admin_email(index), full_name=f"Bench Admin {index}")
        factories.make_staff(
            practice,
            role=Role.STAFF,
            email=FRONT_DESK.format(index),
            full_name=f"Front Desk {index}",
        )
        providers = ba.bulk_providers(
            practice,
            count=args.providers_per_practice,
            password_hash=password_hash,
            email_prefix=PROVIDER_EMAIL.format(index),
            credentials=("MD", "DO", "NP", "PA"),
        )
        bulk_patients(practice, count=args.patients_per_practice, start=index * 1_000_000)
        patients = list(
            Patient.objects.filter(practice=practice).order_by("id").values_list("id", flat=True)
        )
        book = ba.bulk_schedule(
            practice,
            providers=providers,
            first_day=first_day,
            last_day=last_day,
            seed=15 + index,
        )
        base = made
        progress_step = max(50_000, shares[index] // 4)

        def progress(done: int, base=base, step=progress_step) -> None:
            if done % step < 5000:
                rate = (base + done) / max(1e-6, time.monotonic() - started)
                print(f"data: {base + done:,} appointments ({rate:,.0f}/s)", flush=True)

        made += ba.bulk_generate_appointments(
            book,
            patients=patients,
            appointments=shares[index],
            first_day=first_day,
            last_day=last_day,
            seed=15 + index,
            progress=progress,
        )
    generated = time.monotonic() - started
    rp.ensure_accounts(practice_at(0))
    print(
        f"data: made {args.practices} practices, {args.practices * args.providers_per_practice} "
        f"providers, {args.practices * args.patients_per_practice:,} charts, {made:,} "
        f"appointments from {first_day} to {last_day} in {generated:,.0f} s (portal accounts "
        f"of the first practice {time.monotonic() - started - generated:,.0f} s)",
        flush=True,
    )


def practice_at(index: int):
    from portico.practices.models import Practice

    return Practice.objects.get(slug=f"{PREFIX}{index}")


# ---------------------------------------------------------------------------------------------
# Who and what


@dataclass
class PracticeRef:
    index: int
    practice: object  # the Practice
    front_desk: object  # the User
    providers: list  # their Users, by name
    visit_types: list
    patient_ids: list[int] = field(default_factory=list)


def load_practices() -> list[PracticeRef]:
    from django.contrib.auth import get_user_model

    from portico.charts.models import Patient
    from portico.practices.models import Practice
    from portico.scheduling import selectors

    user_model = get_user_model()
    refs = []
    for practice in Practice.objects.filter(slug__startswith=PREFIX).order_by("id"):
        index = int(practice.slug.removeprefix(PREFIX))
        refs.append(
            PracticeRef(
                index,
                practice,
                user_model.objects.get(email=FRONT_DESK.format(index)),
                [m.user for m in selectors.providers(practice)],
                list(selectors.visit_types(practice)),
                list(
                    Patient.objects.filter(practice=practice)
                    .order_by("id")
                    .values_list("id", flat=True)
                ),
            )
        )
    return refs


def monday_of(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


def today_at(practice) -> dt.date:
    import zoneinfo

    from django.utils import timezone

    return timezone.now().astimezone(zoneinfo.ZoneInfo(practice.time_zone)).date()


# ---------------------------------------------------------------------------------------------
# Part 1: open times


def part_open(args, refs: list[PracticeRef]) -> dict:
    """Every provider's open times for the next 90 days, in a random order; then more rounds."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from portico.scheduling import selectors
    from portico.scheduling.models import HOLDS_TIME, Appointment

    pairs = [(ref, user) for ref in refs for user in ref.providers]
    rng = random.Random(args.seed)  # noqa: S311
    # Warm-up (the code, not the data): a year ago, 90 days, not measured.
    for ref, user in rng.sample(pairs, min(10, len(pairs))):
        selectors.open_times(
            ref.practice,
            user,
            ref.visit_types[0],
            first_day=today_at(ref.practice) - dt.timedelta(days=365),
        )
    order = rp.Permutation(len(pairs), seed=args.seed)
    calls = max(args.open_calls, len(pairs))
    first, again, slots, cpu = [], [], [], []
    loadavg = os.getloadavg()
    backend = backend_cpu()
    started = time.perf_counter()
    for i in range(calls):
        ref, user = pairs[order.draw()]
        visit_type = rng.choice(ref.visit_types)
        t0, c0 = time.perf_counter(), time.process_time()
        found = selectors.open_times(ref.practice, user, visit_type)
        took, used = time.perf_counter() - t0, time.process_time() - c0
        (first if i < len(pairs) else again).append(took)
        slots.append(len(found))
        cpu.append(used)
    elapsed = time.perf_counter() - started
    backend_ms = (backend_cpu() - backend) * 1000 / calls if backend == backend else None
    reset_queries()
    # Queries: the providers with the fewest and the most appointments holding time ahead.
    now = timezone.now()
    ahead = {
        user.pk: Appointment.objects.filter(
            HOLDS_TIME,
            provider=user,
            start_at__gte=now,
            start_at__lt=now + dt.timedelta(days=90),
        ).count()
        for _ref, user in pairs
    }
    ranked = sorted(pairs, key=lambda pair: ahead[pair[1].pk])
    counts = []
    for ref, user in (ranked[0], ranked[-1]):
        for visit_type in (ref.visit_types[0], ref.visit_types[-1]):
            with CaptureQueriesContext(connection) as queries:
                found = selectors.open_times(ref.practice, user, visit_type)
            counts.append(
                {
                    "appointments_ahead": ahead[user.pk],
                    "visit_type": f"{visit_type.name} ({visit_type.duration_minutes} min)",
                    "open_times": len(found),
                    "queries": len(queries),
                }
            )
    everything = first + again
    result = {
        "calls": calls,
        "providers": len(pairs),
        "seconds": round(elapsed, 2),
        "first_calls": summary_ms(first),
        "later_calls": summary_ms(again) if again else None,
        "all_calls": summary_ms(everything),
        # This process' CPU time per call (Python, and SQLite's own work): what other load
        # on the machine does not move; PostgreSQL's part is in its backend, not here.
        "cpu": summary_ms(cpu),
        "cpu_ms_mean": round(1000 * sum(cpu) / len(cpu), 2),
        "database_cpu_ms_mean": None if backend_ms is None else round(backend_ms, 2),
        "open_times_mean": round(sum(slots) / len(slots)),
        "queries": counts,
        "loadavg": [round(x, 2) for x in loadavg],
    }
    print(
        f"open times: {calls} calls over {len(pairs)} providers in {elapsed:.1f} s; first calls "
        f"p50 {result['first_calls']['p50_ms']} ms p99 {result['first_calls']['p99_ms']} ms; "
        f"all p50 {result['all_calls']['p50_ms']} ms p99 {result['all_calls']['p99_ms']} ms; "
        f"this process' CPU p50 {result['cpu']['p50_ms']} ms p99 {result['cpu']['p99_ms']} ms "
        f"(mean {result['cpu_ms_mean']}"
        + (f", PostgreSQL's backend {backend_ms:.2f}" if backend_ms is not None else "")
        + f"); {result['open_times_mean']} "
        "open times a call on average",
        flush=True,
    )
    for c in counts:
        print(
            f"queries open times: {c['appointments_ahead']} appointments ahead, "
            f"{c['visit_type']}: {c['queries']} queries, {c['open_times']} open times"
        )
    return result


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (NaN on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return float("nan")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary_ms(seconds: list[float]) -> dict:
    ordered = sorted(seconds)

    def pct(p: float) -> float:
        index = min(len(ordered) - 1, int(round(p / 100 * len(ordered) + 0.5)) - 1)
        return round(ordered[max(0, index)] * 1000, 2)

    return {"n": len(ordered), "p50_ms": pct(50), "p99_ms": pct(99), "max_ms": pct(100)}


def open_targets(result: dict) -> list[dict]:
    counts = sorted({c["queries"] for c in result["queries"]})
    return [
        {
            "what": f"open times (90 days): p50 < {OPEN_P50_MS:.0f} ms",
            "value": result["all_calls"]["p50_ms"],
            "met": result["all_calls"]["p50_ms"] < OPEN_P50_MS,
        },
        {
            "what": f"open times (90 days): p99 < {OPEN_P99_MS:.0f} ms",
            "value": result["all_calls"]["p99_ms"],
            "met": result["all_calls"]["p99_ms"] < OPEN_P99_MS,
        },
        {
            "what": "open times: the same query count for the emptiest and the fullest provider",
            "value": counts,
            "met": len(counts) == 1,
        },
    ]


# ---------------------------------------------------------------------------------------------
# Part 2: the week view under load, with bookings going on


def week_path(monday: dt.date) -> str:
    from django.urls import reverse

    return f"{reverse('scheduling:schedule')}?view=week&date={monday.isoformat()}"


@dataclass(frozen=True)
class Combo:
    """One practice's week, as the week view shows it."""

    practice: int  # index in the refs
    monday: dt.date


def viewed_weeks(args, refs: list[PracticeRef]) -> tuple[list[Combo], list[Combo], Combo]:
    """(the cold mode's weeks: every practice's this week and the next ones, round the
    practices; the warm-up's weeks, further ahead; the repeat mode's week)."""
    cold = [
        Combo(ref.index, monday_of(today_at(ref.practice)) + dt.timedelta(weeks=w))
        for w in range(args.weeks_viewed)
        for ref in refs
    ]
    warm = [
        Combo(ref.index, monday_of(today_at(ref.practice)) + dt.timedelta(weeks=w))
        for w in range(args.weeks_viewed, args.weeks_viewed + 3)
        for ref in refs
    ]
    first = refs[0]
    repeat = Combo(first.index, monday_of(today_at(first.practice)) + dt.timedelta(weeks=3))
    return cold, warm, repeat


class Booker:
    """A process of its own that books appointments through the booking service, at a fixed
    rate, into the weeks it is told (this process tells it what the load client views)."""

    def __init__(self, args, log: Path) -> None:
        self.rate = args.book_rate
        env = dict(os.environ, DATABASE_URL=args.database_url)
        self.process = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--booker",
             "--database-url", args.database_url, "--book-rate", str(args.book_rate),
             "--seed", str(args.seed)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log.open("wb"), text=True,
            env=env,
        )  # fmt: skip
        if self.ask({"command": "ready"}).get("ready") is not True:
            sys.exit(f"the booker did not start:\n{log.read_text()[-3000:]}")

    def ask(self, message: dict) -> dict:
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("the booker stopped")
        return json.loads(line)

    def target(self, combos: list[Combo]) -> None:
        self.ask(
            {"command": "target", "weeks": [[c.practice, c.monday.isoformat()] for c in combos]}
        )

    def counts(self) -> dict:
        return self.ask({"command": "count"})

    def stop(self) -> dict:
        answer = self.ask({"command": "stop"})
        self.process.wait(timeout=30)
        return answer


def booker_main(args) -> int:
    """The booker process (--booker): commands as JSON lines on stdin, one answer each."""
    rp.setup_django(args.database_url)
    from django.core.exceptions import ValidationError
    from django.db import close_old_connections

    from portico.charts.models import Patient
    from portico.scheduling import selectors, services

    refs = {ref.index: ref for ref in load_practices()}
    rng = random.Random(args.seed + 7)  # noqa: S311
    state = {"weeks": [], "stop": False}
    counts = {"booked": 0, "refused": 0, "full": 0, "errors": 0}
    made: list[int] = []
    lock = threading.Lock()

    def listen() -> None:
        for line in sys.stdin:
            message = json.loads(line)
            command = message["command"]
            with lock:
                if command == "target":
                    state["weeks"] = [(p, dt.date.fromisoformat(m)) for p, m in message["weeks"]]
                    answer = {"weeks": len(state["weeks"])}
                elif command == "stop":
                    state["stop"] = True
                    answer = {**counts, "ids": list(made)}
                elif command == "ready":
                    answer = {"ready": True}
                else:
                    answer = dict(counts)
            print(json.dumps(answer), flush=True)
            if command == "stop":
                return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    interval = 1 / args.book_rate if args.book_rate > 0 else None
    next_at = time.monotonic()
    while not state["stop"]:
        with lock:
            weeks = list(state["weeks"])
        if interval is None or not weeks:
            time.sleep(0.05)
            next_at = time.monotonic()
            continue
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        practice_index, monday = rng.choice(weeks)
        ref = refs[practice_index]
        provider = rng.choice(ref.providers)
        visit_type = rng.choice(ref.visit_types)
        try:
            close_old_connections()
            free = selectors.open_times(
                ref.practice, provider, visit_type, first_day=monday, days=7
            )
            if not free:
                with lock:
                    counts["full"] += 1
                continue
            appointment = services.appointment_book(
                ref.front_desk,
                patient=Patient.objects.get(pk=rng.choice(ref.patient_ids)),
                provider=provider,
                appointment_type=visit_type,
                start_at=rng.choice(free).start,
                reason="Booked by the bench",
            )
            with lock:
                counts["booked"] += 1
                made.append(appointment.pk)
        except ValidationError:
            with lock:
                counts["refused"] += 1
        except Exception as exc:  # noqa: BLE001 (counted and shown; the bench goes on)
            print(f"booker: {type(exc).__name__}: {exc}", file=sys.stderr, flush=True)
            with lock:
                counts["errors"] += 1
    listener.join(timeout=5)
    return 0


@dataclass
class WeekPopulation:
    patients: list[rp.Chart]  # the floor's (cold)
    warm: list[rp.Chart]
    samples: list[rp.Chart]  # the floor's repeat mode
    refs: list[PracticeRef]
    cold: list[Combo]
    warm_weeks: list[Combo]
    repeat: Combo


def load_week_population(args, refs, sessions: rp.Sessions) -> WeekPopulation:
    from portico.portal.models import AccessState, PortalAccess

    rows = (
        PortalAccess.objects.filter(
            practice=refs[0].practice, state=AccessState.ACTIVE, account__isnull=False
        )
        .order_by("patient_id")
        .values_list("patient__public_id", "public_id", "account_id")
    )
    charts = [
        rp.Chart(i, str(patient), str(access), account)
        for i, (patient, access, account) in enumerate(rows.iterator(chunk_size=10000))
    ]
    if not charts:
        sys.exit("the first bench practice has no enrolled charts: rerun the data step")
    warm_count = max(50, len(charts) // 100)
    warm, measured = charts[-warm_count:], charts[:-warm_count]
    samples = measured[:: max(1, len(measured) // 12)][:12]
    for chart in samples:
        chart.session = sessions.key("sched-repeat", chart.account)
    cold, warm_weeks, repeat = viewed_weeks(args, refs)
    sessions.account_hashes([c.account for c in charts] + [r.front_desk.pk for r in refs])
    return WeekPopulation(measured, warm, samples, refs, cold, warm_weeks, repeat)


class WeekRun(mp.Run):
    """The bare view, then per mode the rules floor and the week view, with the booker booking
    into the weeks of the mode during both."""

    def __init__(self, args, port, population: WeekPopulation, sessions, orders, cpu, booker):
        super().__init__(args, port, population, sessions, orders, cpu)
        self.booker = booker
        self.turn = 0
        self.bookings: dict[tuple[str, str], list[int]] = {}

    def next_cold(self, page: str) -> mp.Planned:
        population = self.population
        if page == FLOOR:
            chart = population.patients[self.orders[FLOOR].draw()]
            return mp.Planned(rp.floor_path(chart), "patient", chart.account)
        combo = population.cold[self.turn % len(population.cold)]
        self.turn += 1
        return self.week_request(combo)

    def week_request(self, combo: Combo) -> mp.Planned:
        ref = self.population.refs[combo.practice]
        return mp.Planned(week_path(combo.monday), "staff", ref.front_desk.pk)

    def next_warm(self, page: str) -> mp.Planned:
        population = self.population
        self.warm_turn += 1
        if page == FLOOR:
            chart = population.warm[self.warm_turn % len(population.warm)]
            return mp.Planned(rp.floor_path(chart), "patient", chart.account)
        return self.week_request(population.warm_weeks[self.warm_turn % len(population.warm_weeks)])

    def rewind(self, page: str, position: int) -> None:
        if page == FLOOR:
            self.orders[FLOOR].position = position
        else:
            self.turn = position

    def drawn_count(self, page: str) -> int:
        return self.orders[FLOOR].position if page == FLOOR else self.turn

    def repeat_page(self, page: str) -> None:
        population, sessions = self.population, self.sessions
        if page == FLOOR:
            requests = [
                rp.raw_request(rp.floor_path(chart), sessions.cookie(chart.session, ""))
                for chart in population.samples
            ]
            sessions.write([("patient", c.session, c.account) for c in population.samples])
        else:
            ref = population.refs[population.repeat.practice]
            key = sessions.key("sched-staff-repeat", ref.front_desk.pk)
            sessions.write([("staff", key, ref.front_desk.pk)])
            requests = [
                rp.raw_request(week_path(population.repeat.monday), sessions.cookie(key, ""))
            ]
        self.closed("repeat", page, rp.cycle(requests), min(3.0, self.args.seconds))
        full = rp.report(self.closed("repeat", page, rp.cycle(requests), self.args.seconds))
        half = None
        if page != FLOOR:
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * self.args.seconds))
            half = rp.report(
                self.open("repeat", page, [requests[i % len(requests)] for i in range(count)], rate)
            )
        self.keep("repeat", page, full, half)

    def closed(self, mode, name, source, seconds):
        before = self.booker.counts()["booked"]
        result = super().closed(mode, name, source, seconds)
        result.bookings = self.booker.counts()["booked"] - before
        return result

    def open(self, mode, name, requests, rate):
        before = self.booker.counts()["booked"]
        result = super().open(mode, name, requests, rate)
        result.bookings = self.booker.counts()["booked"] - before
        return result

    def measure(self) -> None:
        population = self.population
        for round_ in range(self.args.rounds):
            if self.args.rounds > 1:
                print(f"-- round {round_ + 1} of {self.args.rounds}", flush=True)
            self.booker.target([])
            self.measure_bare()
            for mode in self.args.modes:
                self.booker.target(population.cold if mode == "cold" else [population.repeat])
                for page in (FLOOR, WEEK):
                    (self.cold_page if mode == "cold" else self.repeat_page)(page)
            self.booker.target([])


def count_week_queries(population: WeekPopulation, sessions: rp.Sessions) -> list[dict]:
    """Queries of the week view of the first practice on a first view and the next, for its
    fullest and its emptiest viewed week; and whether the page names every provider."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from portico.scheduling.models import Appointment

    for alias in settings.CACHES:
        caches[alias].clear()
    ref = population.refs[0]
    weeks = [c for c in population.cold if c.practice == ref.index]
    zone_days = {}
    zone = zoneinfo.ZoneInfo(ref.practice.time_zone)
    for combo in weeks:
        start = dt.datetime.combine(combo.monday, dt.time(0), tzinfo=zone)
        zone_days[combo] = Appointment.objects.filter(
            practice=ref.practice,
            start_at__gte=start,
            start_at__lt=start + dt.timedelta(days=7),
        ).count()
    ranked = sorted(weeks, key=lambda c: zone_days[c])
    found = []
    for combo in (ranked[-1], ranked[0]):
        key = sessions.key(f"sched-count-{combo.monday}", ref.front_desk.pk)
        sessions.write([("staff", key, ref.front_desk.pk)])
        client = Client()
        client.cookies[sessions.cookie_name] = key
        client.get("/healthz")  # reads the session; count the page after it
        got = []
        for _view in ("first view", "repeat"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(week_path(combo.monday))
            got.append(len(queries) if response.status_code == 200 else -response.status_code)
        body = response.content.decode(errors="replace") if response.status_code == 200 else ""
        missing = [u.full_name for u in ref.providers if u.full_name not in body]
        found.append(
            {
                "week": combo.monday.isoformat(),
                "appointments": zone_days[combo],
                "first": got[0],
                "repeat": got[1],
                "providers_missing": missing,
                "status": response.status_code,
            }
        )
        print(
            f"queries week view {combo.monday} ({zone_days[combo]} appointments): first view "
            f"{got[0]}, repeat {got[1]}; providers not named on the page: {len(missing)}",
            flush=True,
        )
    return found


def profile_week(args, refs: list[PracticeRef]) -> None:
    """--profile: first views of the week view in-process with Django's test client (each a
    new session of the practice's front desk, going round the cold mode's weeks): the SQL by
    statement and cProfile's top functions."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    sessions = rp.Sessions()
    sessions.learn("staff", refs[0].front_desk, then="/ehr/")
    sessions.account_hashes([r.front_desk.pk for r in refs])
    cold, _warm, _repeat = viewed_weeks(args, refs)
    clients = []
    for i in range(args.profile_views):
        combo = cold[i % len(cold)]
        user = refs[combo.practice].front_desk
        key = sessions.key(f"sched-profile-{time.time_ns()}", user.pk)
        sessions.write([("staff", key, user.pk)])
        client = Client()
        client.cookies[sessions.cookie_name] = key
        clients.append((client, week_path(combo.monday)))
    profiler = cProfile.Profile()
    wall = cpu = sql_ms = 0.0
    queries = 0
    by_sql: dict[str, list[float]] = {}
    for client, path in clients:
        t0, c0 = time.perf_counter(), time.process_time()
        with CaptureQueriesContext(connection) as captured:
            profiler.enable()
            response = client.get(path)
            profiler.disable()
        wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
        if response.status_code != 200:
            sys.exit(f"{path} answered {response.status_code}")
        queries += len(captured)
        for q in captured.captured_queries:
            ms = float(q["time"]) * 1000
            sql_ms += ms
            shape = re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "'…'", q["sql"]))
            by_sql.setdefault(re.sub(r"\s+", " ", shape)[:150], []).append(ms)
    n = len(clients)
    print(
        f"profile week view: {n} first views in-process, {wall / n * 1000:.1f} ms each, this "
        f"process' CPU {cpu / n * 1000:.1f} ms (under cProfile), {queries / n:.0f} queries "
        f"taking {sql_ms / n:.1f} ms"
    )
    for sql, times in sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:10]:
        print(f"  {sum(times) / n:6.2f} ms/view  x{len(times) / n:.1f}  {sql}")
    for order, restrict in (("tottime", 25), ("cumulative", "/portico/")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(order)
        if isinstance(restrict, str):
            stats.print_stats(restrict, 35)
        else:
            stats.print_stats(restrict)
        text = out.getvalue()
        print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


# ---------------------------------------------------------------------------------------------
# Part 3: the race for one time


@dataclass
class RaceRound:
    slot: str
    statuses: dict[int, int]
    held: int  # appointments holding the time in the database afterwards
    spread_ms: float  # from the first last byte sent to the last one
    answers_ms: tuple[float, float]  # first and last answer, from the release
    most_active: int | None = None  # PostgreSQL backends of the bench database at once
    most_waiting: int | None = None  # of which waiting for a lock
    refusal: str = ""  # one refusal's body
    other: list[str] = field(default_factory=list)  # bodies of unexpected answers


class Backends:
    """Polls pg_stat_activity for the bench database's backends while a round runs."""

    def __init__(self, url: str) -> None:
        import psycopg

        self.database = url.rsplit("/", 1)[-1]
        self.conn = psycopg.connect(url, autocommit=True)
        self.active = self.waiting = 0
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Backends:
        self.active = self.waiting = 0
        self.stop.clear()
        self.thread = threading.Thread(target=self.watch, daemon=True)
        self.thread.start()
        return self

    def watch(self) -> None:
        query = (
            "SELECT count(*) FILTER (WHERE state = 'active'), "
            "count(*) FILTER (WHERE state = 'active' AND wait_event_type = 'Lock') "
            "FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()"
        )
        while not self.stop.is_set():
            active, waiting = self.conn.execute(query, [self.database]).fetchone()
            self.active, self.waiting = max(self.active, active), max(self.waiting, waiting)
            time.sleep(0.001)

    def __exit__(self, *exc) -> None:
        self.stop.set()
        if self.thread:
            self.thread.join()


def rows_inserted(watcher: Backends | None) -> int | None:
    """PostgreSQL: rows ever inserted into the appointment table (aborted ones included), as
    its statistics say once the backends that wrote them have reported."""
    if watcher is None:
        return None
    for _ in range(50):
        time.sleep(0.2)
        watcher.conn.execute("SELECT pg_stat_clear_snapshot()")
        (count,) = watcher.conn.execute(
            "SELECT n_tup_ins FROM pg_stat_user_tables WHERE relname = 'scheduling_appointment'"
        ).fetchone()
        if getattr(watcher, "last_count", None) == count:
            return count
        watcher.last_count = count
    return count


async def race_round(port: int, heads: list[bytes], bodies: list[bytes]):
    """Open a connection per request, send each all but its last byte, then every last byte
    at once; the answers (status, body) and the timings."""
    connections = await asyncio.gather(
        *(asyncio.open_connection("127.0.0.1", port) for _ in bodies)
    )
    for (_reader, writer), head, body in zip(connections, heads, bodies, strict=True):
        writer.write(head + body[:-1])
    await asyncio.gather(*(writer.drain() for _r, writer in connections))
    await asyncio.sleep(0.5)  # the server's threads are now each waiting for a last byte
    released = time.perf_counter()
    for (_reader, writer), body in zip(connections, bodies, strict=True):
        writer.write(body[-1:])
    spread = time.perf_counter() - released
    answered: list[float] = []

    async def answer(reader, writer) -> tuple[int, str]:
        data = await reader.read()
        answered.append(time.perf_counter() - released)
        writer.close()
        head, _, body = data.partition(b"\r\n\r\n")
        status = int(head.split()[1]) if head else 0
        return status, body.decode(errors="replace")

    results = await asyncio.gather(*(answer(r, w) for r, w in connections))
    return results, spread, (min(answered), max(answered))


def part_race(args, refs: list[PracticeRef]) -> dict:
    from django.db import connections

    from portico.accounts.services import api_token_create
    from portico.charts.models import Patient
    from portico.scheduling import selectors
    from portico.scheduling.models import HOLDS_TIME, Appointment

    ref = refs[0]
    rng = random.Random(args.seed + 3)  # noqa: S311
    _token, key = api_token_create(
        ref.front_desk, practice=ref.practice, name=f"bench race {int(time.time())}"
    )
    patients = list(Patient.objects.filter(pk__in=rng.sample(ref.patient_ids, args.race_requests)))
    visit_type = next(v for v in ref.visit_types if v.duration_minutes == 20)
    plans = []
    monday = monday_of(today_at(ref.practice)) + dt.timedelta(weeks=4)
    for _ in range(args.race_rounds):
        while True:
            provider = rng.choice(ref.providers)
            free = selectors.open_times(
                ref.practice, provider, visit_type, first_day=monday, days=7
            )
            if free:
                break
        slot = rng.choice(free).start
        plans.append((provider, slot))
    connections.close_all()
    port = rp.free_port()
    handlers = args.race_workers * args.race_threads
    server = rp.start_gunicorn(
        args.database_url,
        port,
        args.race_workers,
        rp.REPO / "var" / "bench_scheduling_race.log",
        {"GUNICORN_CMD_ARGS": f"--worker-class gthread --threads {args.race_threads}"},
    )
    zone = zoneinfo.ZoneInfo(ref.practice.time_zone)
    rounds = []
    watcher = Backends(args.database_url) if postgres(args.database_url) else None
    inserts_before = rows_inserted(watcher)
    try:
        for provider, slot in plans:
            bodies = [
                json.dumps(
                    {
                        "patient_id": str(patient.public_id),
                        "provider_id": str(provider.public_id),
                        "visit_type_id": str(visit_type.public_id),
                        "start_at": slot.astimezone(zone).isoformat(),
                        "reason": "Follow-up",
                    }
                ).encode()
                for patient in patients
            ]
            heads = [
                (
                    f"POST {API_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
                    f"Authorization: Bearer {key}\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode()
                for body in bodies
            ]
            if watcher:
                with watcher:
                    answers, spread, times = asyncio.run(race_round(port, heads, bodies))
            else:
                answers, spread, times = asyncio.run(race_round(port, heads, bodies))
            statuses: dict[int, int] = {}
            for status, _body in answers:
                statuses[status] = statuses.get(status, 0) + 1
            held = Appointment.objects.filter(
                HOLDS_TIME, provider=provider, start_at__lt=slot + dt.timedelta(minutes=20),
                end_at__gt=slot,
            ).count()  # fmt: skip
            one = RaceRound(
                slot.astimezone(zone).isoformat(),
                dict(sorted(statuses.items())),
                held,
                round(spread * 1000, 2),
                (round(times[0] * 1000, 1), round(times[1] * 1000, 1)),
                watcher.active if watcher else None,
                watcher.waiting if watcher else None,
                next((b for s, b in answers if s == 409), "")[:300],
                [f"{s}: {b[:200]}" for s, b in answers if s not in (200, 201, 409)][:3],
            )
            rounds.append(one)
            print(
                f"race {one.slot}: answers {one.statuses}, {held} appointment(s) hold the "
                f"time; last bytes sent within {one.spread_ms} ms, answers from "
                f"{one.answers_ms[0]} to {one.answers_ms[1]} ms"
                + (
                    f"; at most {one.most_active} backends active at once, "
                    f"{one.most_waiting} waiting for a lock"
                    if watcher
                    else ""
                ),
                flush=True,
            )
            if one.other:
                print(f"race: unexpected answers, e.g. {one.other}", flush=True)
    finally:
        rp.stop(server)
    # The server's database connections have ended, so their statistics are in: every row an
    # INSERT tried, kept or not. Beyond one per round, these are requests that passed the
    # service's check while the winner had not committed yet, refused by the constraint.
    inserts = rows_inserted(watcher) - inserts_before if watcher else None
    if watcher:
        watcher.conn.close()
    if rounds:
        print(f"race: a refusal (409) reads {rounds[0].refusal[:240]}", flush=True)
    if inserts is not None:
        print(
            f"race: {inserts} rows were inserted into the appointment table in "
            f"{len(rounds)} rounds: {inserts - len(rounds)} requests got past the service's "
            "check while another's booking was not committed, and were refused by the "
            "exclusion constraint",
            flush=True,
        )
    return {
        "constraint_refusals": None if inserts is None else inserts - len(rounds),
        "requests": args.race_requests,
        "handlers": f"{args.race_workers} gthread workers x {args.race_threads} threads "
        f"= {handlers}",
        "rounds": [r.__dict__ for r in rounds],
        "refusal_example": rounds[0].refusal if rounds else "",
    }


def race_targets(result: dict) -> list[dict]:
    targets = []
    for i, r in enumerate(result["rounds"]):
        created = r["statuses"].get(201, 0) + r["statuses"].get(200, 0)
        refused = r["statuses"].get(409, 0)
        errors = sum(n for s, n in r["statuses"].items() if s >= 500 or s == 0)
        targets.append(
            {
                "what": f"race round {i + 1}: 1 created, {result['requests'] - 1} refused "
                "with 409, no 5xx, 1 appointment holds the time",
                "value": f"{created} created, {refused} refused, {errors} errors 5xx, "
                f"{r['held']} held",
                "met": created == 1
                and refused == result["requests"] - 1
                and errors == 0
                and r["held"] == 1,
            }
        )
    return targets


# ---------------------------------------------------------------------------------------------
# Part 4: the reminder job and the outbox drain, killed half-way


# A counting SMTP server in its own process: messages, distinct Message-IDs, and how many carry
# a List-Unsubscribe header; one line per line read on stdin.
SMTP_SINK = """
import sys
from aiosmtpd.controller import Controller

class Sink:
    total = 0
    unsubscribe = 0
    ids = set()

    async def handle_DATA(self, server, session, envelope):
        Sink.total += 1
        head = envelope.content.split(b"\\r\\n\\r\\n", 1)[0]
        for line in head.split(b"\\r\\n"):
            name = line.split(b":", 1)[0].lower()
            if name == b"message-id":
                Sink.ids.add(line.split(b":", 1)[1].strip())
            elif name == b"list-unsubscribe":
                Sink.unsubscribe += 1
        return "250 Message accepted"

controller = Controller(Sink(), hostname="127.0.0.1", port=int(sys.argv[1]))
controller.start()
print("ready", flush=True)
for _ in sys.stdin:
    print(Sink.total, len(Sink.ids), Sink.unsubscribe, flush=True)
"""


def reminders_url(url: str) -> str:
    if postgres(url):
        return url + "_reminders"
    return f"sqlite:///{rp.REPO / 'var' / 'bench_scheduling_reminders.sqlite3'}"


def fresh_database(url: str) -> None:
    """A new, empty database: PostgreSQL's dropped and made again, SQLite's file removed."""
    if postgres(url):
        from urllib.parse import urlsplit

        import psycopg
        from psycopg import sql

        parts = urlsplit(url)
        name = parts.path.lstrip("/")
        with psycopg.connect(parts._replace(path="/postgres").geturl(), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    else:
        path = url.removeprefix("sqlite:///")
        for suffix in ("", "-wal", "-shm"):
            Path(path + suffix).unlink(missing_ok=True)


def due_now() -> dict[str, list[int]]:
    """The appointments whose reminder is due now, by kind (the reminder job's own query)."""
    from django.utils import timezone

    from portico.scheduling import reminders

    now = timezone.now()
    return {
        kind: [row[0] for row in reminders._due(kind, opens, closes, now)]  # noqa: SLF001
        for kind, opens, closes in reminders.WINDOWS
    }


def reminders_data(args) -> dict:
    """Practices of --providers-per-practice providers with reminders on and appointments
    from the day after tomorrow to six days ahead (each booked at least 8 days before, so every
    confirmed one is due for its week reminder, and none enters the day reminder's window while
    the bench runs), as many as --reminders needs; the confirmed appointments past that number
    are made tentative (tentative ones get no reminder)."""
    from django.contrib.auth.hashers import make_password
    from django.db.models import CharField, Value
    from django.db.models.functions import Cast, Concat

    from portico.charts.models import Patient
    from portico.demo import bulk_appointments as ba
    from portico.demo.bulk_messages import bulk_patients
    from portico.scheduling.models import Appointment, AppointmentStatus
    from tests import factories

    started = time.monotonic()
    password_hash = make_password(PASSWORD_HASH_OF)
    due = 0
    index = 0
    while due < args.reminders:
        practice = factories.make_practice(
            f"Bench Reminders {index}",
            slug=f"bench-reminders-{index}",
            time_zone=TIME_ZONES[index % len(TIME_ZONES)],
            reminders_enabled=True,
        )
        factories.make_staff(practice, email=FRONT_DESK.format(index), full_name="Front Desk")
        providers = ba.bulk_providers(
            practice,
            count=args.providers_per_practice,
            password_hash=password_hash,
            email_prefix=PROVIDER_EMAIL.format(index),
        )
        bulk_patients(practice, count=args.reminder_patients, start=index * 1_000_000)
        Patient.objects.filter(practice=practice).update(
            email=Concat(Value("patient"), Cast("id", CharField()), Value("@bench.test"))
        )
        patients = list(Patient.objects.filter(practice=practice).values_list("id", flat=True))
        today = today_at(practice)
        first_day, last_day = today + dt.timedelta(days=2), today + dt.timedelta(days=6)
        book = ba.bulk_schedule(
            practice, providers=providers, first_day=first_day, last_day=last_day,
            vacation_weeks=0, seed=index,
        )  # fmt: skip
        days = sum(
            1
            for p in book.providers
            for n in range((last_day - first_day).days + 1)
            if (first_day + dt.timedelta(days=n)).weekday() in p.week
            and first_day + dt.timedelta(days=n) not in book.holidays
        )
        ba.bulk_generate_appointments(
            book,
            patients=patients,
            appointments=days * 18,
            first_day=first_day,
            last_day=last_day,
            fill=lambda day: 1.0,
            lead_days=(8, 60),
            seed=index,
        )
        due = sum(len(ids) for ids in due_now().values())
        index += 1
        if index % 10 == 0:
            print(f"reminders data: {index} practices, {due:,} reminders due", flush=True)
    surplus = due - args.reminders
    if surplus:
        newest = sorted(
            Appointment.objects.filter(
                id__in=[i for ids in due_now().values() for i in ids]
            ).values_list("start_at", "id"),
            reverse=True,
        )[:surplus]
        Appointment.objects.filter(id__in=[pk for _s, pk in newest]).update(
            status=AppointmentStatus.PROPOSED
        )
    counted = due_now()
    rp.analyze_if_needed()
    took = time.monotonic() - started
    print(
        f"reminders data: {index} practices, {Appointment.objects.count():,} appointments, "
        f"{sum(len(v) for v in counted.values()):,} reminders due "
        f"({', '.join(f'{k}: {len(v):,}' for k, v in counted.items())}) in {took:.0f} s",
        flush=True,
    )
    return {
        "practices": index,
        "appointments": Appointment.objects.count(),
        "due": {k: len(v) for k, v in counted.items()},
        "seconds": round(took, 1),
    }


def own_memory_kb() -> dict[str, int]:
    status = Path("/proc/self/status").read_text()
    return {k: int(v) for k, v in re.findall(r"^(VmRSS|VmHWM):\s+(\d+)", status, re.M)}


def process_rss_kb(group: int) -> int:
    """The resident memory of the processes of a process group (kB, from /proc)."""
    total = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
            if int(stat[stat.rindex(")") + 2 :].split()[2]) != group:
                continue
            status = Path(entry.path, "status").read_text()
        except (OSError, ValueError, IndexError):
            continue
        found = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
        total += int(found.group(1)) if found else 0
    return total


class Sink:
    def __init__(self) -> None:
        self.port = rp.free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-c", SMTP_SINK, str(self.port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        if self.process.stdout.readline().strip() != "ready":
            sys.exit("the SMTP sink did not start")

    def counts(self) -> tuple[int, int, int]:
        """(messages received, distinct Message-IDs, with List-Unsubscribe)"""
        self.process.stdin.write("count\n")
        self.process.stdin.flush()
        total, distinct, unsubscribe = self.process.stdout.readline().split()
        return int(total), int(distinct), int(unsubscribe)

    def cpu_seconds(self) -> float:
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        fields = stat[stat.rindex(")") + 2 :].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def worker_env(args, smtp_port: int) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "DJANGO_")) and k not in {"DEBUG", "EMAIL_URL"}
    }
    env.update(
        DATABASE_URL=args.database_url,
        SECRET_KEY=os.environ.get("SECRET_KEY", rp.SECRET_KEY),
        DEBUG="0",
        ALLOWED_HOSTS="127.0.0.1",
        PORTICO_BASE_URL="https://portal.bench.test",
        PORTICO_VAR_DIR=str(rp.REPO / "var"),
        EMAIL_URL=f"smtp://127.0.0.1:{smtp_port}",
        PORTICO_TASKS_BACKEND="database",
        # A killed sender's claimed messages are taken over once their lease has run out.
        PORTICO_EMAIL_LEASE_SECONDS=str(args.lease_seconds),
        LOG_LEVEL="WARNING",
        PYTHONPATH=os.pathsep.join(p for p in (str(rp.CODE), os.environ.get("PYTHONPATH")) if p),
    )
    return env


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "portico", "db_worker", "--no-reload", "--interval", "0.1",
         "--no-startup-delay"],
        cwd=rp.CODE, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip


def part_reminders(args) -> dict:
    """(In its own process, on its own database.) Make the data, queue the reminders, send
    them with the task worker, kill it half-way, start it again, count at the sink."""
    from django.core.management import call_command
    from django.db import connection, connections
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from portico.notifications.models import OutboundEmail
    from portico.scheduling import reminders

    fresh_database(args.database_url)
    call_command("migrate", verbosity=0)
    data = reminders_data(args)
    sink = Sink()
    log = rp.REPO / "var" / "bench_scheduling_worker.log"
    log.write_bytes(b"")
    env = worker_env(args, sink.port)
    # The job, in this process (as `portico run_periodic` runs it). Its memory: this
    # process' peak RSS, reset just before (Linux: 5 in /proc/self/clear_refs).
    Path("/proc/self/clear_refs").write_text("5")
    rss_before = own_memory_kb()
    started, cpu_started = time.perf_counter(), time.process_time()
    with CaptureQueriesContext(connection) as queries:
        queued = reminders.reminders_queue_due()
    job = {
        "queued": queued,
        "seconds": round(time.perf_counter() - started, 2),
        "cpu_seconds": round(time.process_time() - cpu_started, 2),
        "queries": len(queries),
        "rss_before_mb": round(rss_before["VmRSS"] / 1024, 1),
        "peak_rss_growth_mb": round((own_memory_kb()["VmHWM"] - rss_before["VmRSS"]) / 1024, 1),
    }
    print(
        f"reminder job: {queued:,} reminders queued in {job['seconds']} s "
        f"({queued / max(job['seconds'], 1e-6):,.0f}/s, {job['queries']} queries, this "
        f"process' peak RSS {job['peak_rss_growth_mb']:+} MB over the "
        f"{job['rss_before_mb']} MB it held)",
        flush=True,
    )
    connections.close_all()
    samples: list[tuple[float, int, int, int]] = []  # (seconds, received, distinct, RSS kB)
    kills: list[dict] = []
    workers = [start_worker(env, log) for _ in range(args.senders)]
    periodic = None
    t0 = time.perf_counter()
    first_at = None
    database = args.database_url.rsplit("/", 1)[-1] if postgres(args.database_url) else None
    # The database's backends are counted once, with the first sender.
    cpus = [rp.ServerCpu(w.pid, database if i == 0 else None) for i, w in enumerate(workers)]
    cpu_before: list[dict] = []
    sink_cpu_before = 0.0
    cpu_per_email: tuple[float, float, float] | None = None
    deadline = t0 + max(600, 4 * queued / 100)
    try:
        while time.perf_counter() < deadline:
            time.sleep(0.5)
            received, distinct, _u = sink.counts()
            now = time.perf_counter() - t0
            if first_at is None and received:
                first_at = now
                cpu_before = [cpu.start() for cpu in cpus]
                sink_cpu_before = sink.cpu_seconds()
                first_count = received
            rss = sum(process_rss_kb(w.pid) for w in workers)
            samples.append((round(now, 1), received, distinct, rss))
            if not kills and received >= queued // 2:
                # CPU per email of the senders (and the database's part), and the sink's.
                used = [
                    cpu.used(b, received - first_count)
                    for cpu, b in zip(cpus, cpu_before, strict=True)
                ]
                sink_ms = (sink.cpu_seconds() - sink_cpu_before) * 1000 / (received - first_count)
                cpu_per_email = (sum(u[0] for u in used), used[0][1], sink_ms)
                for w in workers:
                    os.killpg(w.pid, signal.SIGKILL)
                    w.wait(timeout=10)
                at_kill = sink.counts()
                kills.append(
                    {"at_seconds": round(now, 1), "received": at_kill[0], "senders": len(workers)}
                )
                print(
                    f"sender(s) killed (SIGKILL) at {now:.1f} s, {at_kill[0]:,} received; "
                    "started again, and the periodic job run once (as cron would)",
                    flush=True,
                )
                workers = [start_worker(env, log) for _ in range(args.senders)]
                periodic = subprocess.Popen(
                    [sys.executable, "-m", "portico", "run_periodic"],
                    cwd=rp.CODE, env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                    start_new_session=True,
                )  # fmt: skip
            if distinct >= queued and kills:
                pending = OutboundEmail.objects.exclude(state="sent").count()
                connections.close_all()
                if not pending:
                    break
        time.sleep(2)  # anything sent twice would arrive now
        received, distinct, unsubscribe = sink.counts()
        finished = time.perf_counter() - t0
    finally:
        for w in workers:
            rp.stop(w)
        if periodic is not None:
            rp.stop(periodic)
        sink.stop()
    states = dict(
        OutboundEmail.objects.values_list("state").annotate(n=Count("id")).values_list("state", "n")
    )
    stored = sum(states.values())  # the job's, and any the periodic run queued since
    connections.close_all()
    last_at = next((s[0] for s in samples if s[2] >= queued), finished)
    first_half = (
        kills[0]["received"] / max(1e-6, kills[0]["at_seconds"] - (first_at or 0)) if kills else 0
    )
    resumed = next(
        (
            s[0]
            for s in samples
            if kills and s[0] > kills[0]["at_seconds"] and s[1] > kills[0]["received"] + 1
        ),
        None,
    )
    result = {
        "data": data,
        "job": job,
        "received": received,
        "distinct": distinct,
        "duplicates": received - distinct,
        "stored": stored,
        "lost": stored - distinct,
        "with_list_unsubscribe": unsubscribe,
        "kills": kills,
        "rate_before_kill": round(first_half, 1),
        "rate_overall": round(distinct / max(1e-6, last_at - (first_at or 0)), 1),
        "restart_gap_seconds": round(resumed - kills[0]["at_seconds"], 1)
        if resumed and kills
        else None,
        "seconds": round(last_at, 1),
        "states": states,
        "rss_samples": samples[:: max(1, len(samples) // 40)],
        "lease_seconds": args.lease_seconds,
        "senders": args.senders,
        "cpu_ms_per_email": None
        if cpu_per_email is None
        else {
            "sender": round(cpu_per_email[0], 2),
            "of_which_database": None
            if cpu_per_email[1] != cpu_per_email[1]
            else round(cpu_per_email[1], 2),
            "smtp_sink": round(cpu_per_email[2], 2),
        },
    }
    result["rss"] = rss_summary(samples, kills)
    print(
        f"sink: {received:,} received, {distinct:,} distinct Message-IDs, {received - distinct} "
        f"twice, {stored - distinct} of the {stored:,} stored emails missing, {unsubscribe:,} "
        "with List-Unsubscribe; "
        f"{result['rate_before_kill']:.0f} emails/s before the kill, {result['rate_overall']:.0f} "
        f"emails/s overall ({result['seconds']:.0f} s, the restart included); outbox {states}",
        flush=True,
    )
    print(
        f"sending resumed {result['restart_gap_seconds']} s after the kill (the killed sender's "
        f"claimed messages wait out their {args.lease_seconds} s lease); CPU per email before "
        f"the kill {result['cpu_ms_per_email']} ms; worker RSS: {result['rss']}",
        flush=True,
    )
    return result


def rss_summary(samples, kills) -> dict:
    """Each worker's RSS once it had sent a tenth of what it sent in all, its peak from then
    on and at its end (MB): growth after the first tenth is what sending costs over time."""
    kill_at = kills[0]["at_seconds"] if kills else float("inf")
    lives = [
        [s for s in samples if s[0] < kill_at and s[3]],
        [s for s in samples if s[0] > kill_at and s[3]],
    ]
    found = {}
    for name, life in zip(("before the kill", "after the restart"), lives, strict=True):
        if len(life) < 3:
            continue
        start = kills[0]["received"] if name == "after the restart" else 0
        tenth = start + (life[-1][1] - start) / 10
        early = next((s for s in life if s[1] >= tenth), life[0])
        later = life[life.index(early) :]
        found[name] = {
            "early_mb": round(early[3] / 1024, 1),
            "peak_mb": round(max(s[3] for s in later) / 1024, 1),
            "end_mb": round(life[-1][3] / 1024, 1),
            "growth_mb": round((max(s[3] for s in later) - early[3]) / 1024, 1),
        }
    return found


def reminder_targets(result: dict, args) -> list[dict]:
    queued = result["job"]["queued"]
    due = sum(result["data"]["due"].values())
    growth = max((w["growth_mb"] for w in result["rss"].values()), default=None)
    return [
        {
            "what": f"reminder job: every due reminder queued ({args.reminders:,})",
            "value": f"{queued:,} queued of {due:,} due",
            "met": queued == due == args.reminders,
        },
        {
            "what": f"reminders sent at >= 200 emails/s ({result['senders']} sender(s), before "
            "the kill)",
            "value": result["rate_before_kill"],
            "met": result["rate_before_kill"] >= 200,
        },
        {
            "what": f"the senders' memory flat (RSS growth < {args.memory_limit_mb:g} MB after "
            "their first tenth)",
            "value": result["rss"],
            "met": growth is not None and growth < args.memory_limit_mb,
        },
        {
            "what": "killed half-way and started again: none lost, none twice but the one in "
            "flight at the kill per sender (same Message-ID)",
            "value": f"{result['lost']} lost, {result['duplicates']} twice",
            "met": result["lost"] == 0
            and len(result["kills"]) == 1
            and result["duplicates"] <= result["kills"][0]["senders"],
        },
        {
            "what": "every reminder carries List-Unsubscribe",
            "value": result["with_list_unsubscribe"],
            "met": result["with_list_unsubscribe"] >= result["distinct"],
        },
    ]


# ---------------------------------------------------------------------------------------------
# Output


def week_table(run: WeekRun, counts: list[dict]) -> tuple[list[str], list[dict], list[dict]]:
    lines = [
        "| Mode | Page | req/s | % of floor | p50 / p99 at half load (ms) | Half load (req/s) "
        "| Server CPU per request (ms) | Floor's CPU / page's | Bookings during closed / open "
        "loop | Requests |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    figures, targets = [], []
    results = run.results
    bares = [full for full, _h in results.get(("-", BARE), [])]
    for (mode, page), rounds in results.items():
        floors = [full for full, _h in results.get((mode, FLOOR), [])]
        if page == WEEK:
            shares = [
                rp.share(f.throughput, fl.throughput)
                for (f, _h), fl in zip(rounds, floors, strict=True)
            ]
        elif page == FLOOR:
            shares = [
                rp.share(f.throughput, b.throughput)
                for (f, _h), b in zip(rounds, bares, strict=True)
            ]
        else:
            shares = []
        pct = rp.median(shares) if shares else None
        full, half = sorted(rounds, key=lambda r: r[0].throughput)[(len(rounds) - 1) // 2]
        p50 = rp.median([h.pct(50) for _f, h in rounds if h]) if half else float("nan")
        p99 = rp.median([h.pct(99) for _f, h in rounds if h]) if half else float("nan")
        cpu = rp.median([f.cpu_ms for f, _h in rounds])
        db = rp.median([f.db_cpu_ms for f, _h in rounds])
        cpu_shares = (
            [rp.share(fl.cpu_ms, f.cpu_ms) for (f, _h), fl in zip(rounds, floors, strict=True)]
            if page == WEEK
            else []
        )
        spread = f" ({min(shares):.0f}–{max(shares):.0f})" if len(shares) > 1 else ""
        pct_col = (
            f"**{pct:.0f}%**{spread}"
            if page == WEEK
            else f"— ({pct:.0f}% of bare)"
            if page == FLOOR
            else "—"
        )
        booked = (
            f"{getattr(full, 'bookings', 0)} / {getattr(half, 'bookings', 0) if half else '—'}"
            if page != BARE
            else "—"
        )
        requests = sum(
            len(f.latencies) + f.errors + (len(h.latencies) if h else 0) for f, h in rounds
        )
        lines.append(
            f"| {mode} | {page} | {full.throughput:.0f} | {pct_col} | "
            + (f"{p50:.1f} / **{p99:.1f}** | {half.throughput:.0f}" if half else "— | —")
            + f" | {cpu:.2f}"
            + (f" ({db:.2f} database)" if db == db else "")
            + (f" | {rp.median(cpu_shares):.0f}%" if cpu_shares else " | —")
            + f" | {booked} | {requests:,} |"
        )
        figures.append(
            {
                "mode": mode,
                "page": page,
                "throughput": round(full.throughput, 1),
                "pct": None if pct is None else round(pct, 1),
                "p50_half_ms": None if not half else round(p50, 2),
                "p99_half_ms": None if not half else round(p99, 2),
                "server_cpu_ms_per_request": round(cpu, 3),
                "database_cpu_ms_per_request": round(db, 3),
                "bookings": [
                    [getattr(f, "bookings", 0), getattr(h, "bookings", 0) if h else None]
                    for f, h in rounds
                ],
                "rounds": [
                    {"full": f.summary(), "half": h.summary() if h else None} for f, h in rounds
                ],
            }
        )
        if any(f.errors or (h and h.errors) for f, h in rounds):
            targets.append({"what": f"{mode} {page}: no error answers", "met": False})
        if page == WEEK and mode == "cold":
            targets.append(
                {
                    "what": f"week view (first views): throughput >= {TARGET_SHARE:.0f}% of the "
                    "rules floor's, bookings going on",
                    "value": round(pct, 1),
                    "met": pct >= TARGET_SHARE,
                }
            )
            targets.append(
                {
                    "what": f"week view (first views): p99 < {P99_LIMIT_MS:.0f} ms at half load",
                    "value": round(p99, 1),
                    "met": p99 < P99_LIMIT_MS,
                }
            )
    values = sorted({n for c in counts for n in (c["first"], c["repeat"])})
    targets.append(
        {
            "what": "week view: the same query count for the fullest and the emptiest week",
            "value": [
                f"{c['appointments']} appointments: {c['first']} / {c['repeat']}" for c in counts
            ],
            "met": len(values) == 1 and values[0] > 0,
        }
    )
    missing = sorted({name for c in counts for name in c["providers_missing"]})
    targets.append(
        {
            "what": "week view: the page names every provider of the practice",
            "value": f"{len(missing)} missing" if missing else None,
            "met": not missing and all(c["status"] == 200 for c in counts),
        }
    )
    return lines, figures, targets


def part_week(args, refs: list[PracticeRef]) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import connections

    from portico.scheduling.models import Appointment

    sessions = rp.Sessions()
    population = load_week_population(args, refs, sessions)
    user_model = get_user_model()
    sessions.learn("patient", user_model.objects.get(pk=population.warm[0].account))
    sessions.learn("staff", refs[0].front_desk, then="/ehr/")
    counts = count_week_queries(population, sessions)
    connections.close_all()
    seed = int(time.time())
    orders = {FLOOR: rp.Permutation(len(population.patients), seed=seed)}
    booker = Booker(args, rp.REPO / "var" / "bench_scheduling_booker.log")
    port = rp.free_port()
    server = rp.start_gunicorn(
        args.database_url, port, args.workers, rp.REPO / "var" / "bench_scheduling_gunicorn.log", {}
    )
    database = args.database_url.rsplit("/", 1)[-1] if postgres(args.database_url) else None
    run = WeekRun(
        args, port, population, sessions, orders, rp.ServerCpu(server.pid, database), booker
    )
    try:
        run.measure()
    finally:
        rp.stop(server)
        booked = booker.stop()
        deleted, _ = Appointment.objects.filter(pk__in=booked["ids"]).delete()
        connections.close_all()
    rp.vacuum_sessions(sessions.model)
    print(
        f"booker: {booked['booked']} booked, {booked['refused']} refused, {booked['full']} "
        f"weeks found full, {booked['errors']} errors; its {deleted} appointments deleted",
        flush=True,
    )
    lines, figures, targets = week_table(run, counts)
    if booked["errors"]:
        targets.append({"what": "the booker's bookings: no errors", "met": False})
    return {
        "lines": lines,
        "figures": figures,
        "targets": targets,
        "queries": counts,
        "booker": {k: v for k, v in booked.items() if k != "ids"},
        "weeks_viewed": len(population.cold),
        "book_rate": args.book_rate,
    }


def run_reminders_child(args) -> dict | None:
    """Part 4 in a child process on the reminders database (see part_reminders)."""
    out = rp.REPO / "var" / "bench_scheduling_reminders.json"
    out.unlink(missing_ok=True)
    url = reminders_url(args.database_url)
    command = [
        sys.executable, str(Path(__file__).resolve()), "--database-url", url,
        "--reminders-child", str(out), "--reminders", str(args.reminders),
        "--reminder-patients", str(args.reminder_patients),
        "--providers-per-practice", str(args.providers_per_practice),
        "--lease-seconds", str(args.lease_seconds), "--senders", str(args.senders),
    ]  # fmt: skip
    print(f"-- reminders: on {url.split('://')[0]} database {url.rsplit('/', 1)[-1]}", flush=True)
    if subprocess.run(command, check=False).returncode != 0 or not out.exists():
        return None
    return json.loads(out.read_text())


def main() -> int:
    default_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{rp.REPO / 'var' / 'bench_scheduling.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--parts", default=",".join(PARTS), help="of " + ", ".join(PARTS))
    parser.add_argument("--practices", type=int, help="default 10 (PostgreSQL), 1 (SQLite)")
    parser.add_argument("--providers-per-practice", type=int, default=20)
    parser.add_argument("--patients-per-practice", type=int, help="default 20,000, 10,000")
    parser.add_argument("--appointments", type=int, help="default 2,000,000, 100,000")
    parser.add_argument("--years", type=float, help="of history: default 2, 1")
    parser.add_argument("--weeks-ahead", type=int, default=16)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--open-calls", type=int, default=1000)
    parser.add_argument("--weeks-viewed", type=int, default=8)
    parser.add_argument("--book-rate", type=float, default=5.0, help="part 2's bookings/s")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--modes", default="cold,repeat")
    parser.add_argument("--race-requests", type=int, default=100)
    parser.add_argument("--race-rounds", type=int, default=5)
    parser.add_argument("--race-workers", type=int, default=4)
    parser.add_argument("--race-threads", type=int, default=15)
    parser.add_argument("--reminders", type=int, default=100_000, help="part 4's due reminders")
    parser.add_argument("--reminder-patients", type=int, default=2000, help="per practice")
    parser.add_argument("--lease-seconds", type=int, default=20, help="part 4's email lease")
    parser.add_argument("--senders", type=int, default=1, help="part 4's task workers")
    parser.add_argument("--memory-limit-mb", type=float, default=10.0)
    parser.add_argument("--reminders-child", help=argparse.SUPPRESS)
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the week view instead")
    parser.add_argument("--profile-views", type=int, default=100)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--booker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.booker:
        return booker_main(args)
    if args.reminders_child:  # part 4, in a process of its own on its own database
        rp.setup_django(args.database_url)
        Path(args.reminders_child).write_text(json.dumps(part_reminders(args), default=str))
        return 0
    big = postgres(args.database_url)
    args.practices = args.practices or (10 if big else 1)
    args.patients_per_practice = args.patients_per_practice or (20_000 if big else 10_000)
    args.appointments = args.appointments or (2_000_000 if big else 100_000)
    args.years = args.years or (2 if big else 1)
    args.modes = [m for m in ("cold", "repeat") if m in args.modes.split(",")]
    parts = [p for p in PARTS if p in args.parts.split(",")]
    loadavg_start = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC)

    (rp.REPO / "var").mkdir(exist_ok=True)
    rp.setup_django(args.database_url)
    summary: dict = {"parts": {}}
    targets: list[dict] = []
    tables: list[str] = []
    if any(p in parts for p in ("open", "week", "race")):
        ensure_data(args)
        if args.data_only:
            return 0
        refs = load_practices()
        if args.profile:
            profile_week(args, refs)
            return 0
        if "open" in parts:
            result = part_open(args, refs)
            summary["parts"]["open"] = result
            targets += open_targets(result)
        if "week" in parts:
            result = part_week(args, refs)
            summary["parts"]["week"] = {k: v for k, v in result.items() if k != "lines"}
            targets += result["targets"]
            tables += result["lines"]
        if "race" in parts:
            result = part_race(args, refs)
            summary["parts"]["race"] = result
            targets += race_targets(result)
    if "reminders" in parts:
        from django.db import connections

        connections.close_all()
        result = run_reminders_child(args)
        summary["parts"]["reminders"] = result
        targets += (
            reminder_targets(result, args)
            if result
            else [{"what": "reminders part ran", "met": False}]
        )
    loadavg_end = os.getloadavg()
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}); code "
        f"{rp.CODE} at {rp.git_commit(rp.CODE)}; database {args.database_url.split('://')[0]}"
        + (
            f", {args.practices} practice(s) x {args.providers_per_practice} providers, "
            f"{args.appointments:,} appointments"
            if parts != ["reminders"]
            else ""
        )
        + (f", {args.reminders:,} reminders" if "reminders" in parts else "")
        + f"; parts {', '.join(parts)}; load average "
        f"{' '.join(f'{x:.2f}' for x in loadavg_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in loadavg_end)} at the end"
    )
    if tables:
        print()
        print("\n".join(tables))
    print()
    ok = rp.print_targets(targets)
    if args.json:
        summary.update(
            started=f"{started_at:%Y-%m-%dT%H:%M:%SZ}",
            host=platform.node(),
            cpus=os.cpu_count(),
            code=f"{rp.CODE} at {rp.git_commit(rp.CODE)}",
            database=args.database_url.split("://")[0],
            sizes={
                "practices": args.practices,
                "providers": args.practices * args.providers_per_practice,
                "patients": args.practices * args.patients_per_practice,
                "appointments": args.appointments,
            },
            **rp.run_settings(args, loadavg_start, loadavg_end),
            targets=targets,
            ok=ok,
        )
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
