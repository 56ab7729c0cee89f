"""Benchmark: the public online profiles, the search page and the booking race (issue 16).

    .venv/bin/python bench/booking.py                          # SQLite (var/), 5,000 providers
    .venv/bin/python bench/booking.py \\
        --database-url postgres://postgres@127.0.0.1:5432/portico_bench_booking   # PostgreSQL
    .venv/bin/python bench/booking.py --parts pages            # some parts only
    # --parts pages,race (default both), --seconds S, --rounds N, --json F, --data-only,
    # --pages profile,search, --modes cold,repeat, --race-requests N, --race-rounds N;
    # --profile profiles the pages' first views in-process (cProfile, SQL by statement).

The data (made once by `portico.demo.bulk_profiles` and kept; a later run reuses it):
--providers providers (5,000) with a public online profile and --hidden more whose profile the
public must not see (Off, or an NPI nobody attested), in practices of 1 to 30 providers spread
over ~30 US cities (one to three locations each, at different ZIP codes, in five time zones);
each provider with specialties, languages, insurance plans, a biography, visit types offered
online and an attested NPI, working Monday to Friday, practice holidays and vacations blocked;
appointments from last week to five weeks ahead filling the busiest days (this week) to 60% of
their working time and the weeks ahead less (85%, 70%, 50%, 35% of that). On PostgreSQL the bench
runs ANALYZE where tables have no statistics (record_pages.analyze_if_needed).

Parts:
1. **pages** — served by gunicorn exactly as the other page benches serve theirs
   (record_pages.start_gunicorn: `gunicorn.conf.py`, 2 x CPUs sync workers, DEBUG=0, with
   bench/floor_wsgi.py's routes), beside the **bare view** (`/healthz`: the whole middleware
   stack and "ok") measured in the same run. No session: the public pages are for visitors.
   * public profile (`booking:profile`, `/doctor/<slug>`): **first views** — every request is
     for a profile not requested before in the run, drawn from a random permutation of the
     public profiles (warm-up requests go to profiles kept apart for it); **repeat views** —
     12 profiles requested in turn;
   * search page (`booking:search`): **spread** — every request is another search with the
     typical filters (specialty, city, ZIP, language, name, accepting new patients, alone and
     combined), drawn from a random permutation of a few thousand different searches;
     **repeat** — the same three searches in turn.
   Each: a closed loop (8 requests at a time, one connection each) for throughput, then an open
   loop at half that page's own throughput for p50/p99 counted from each request's planned
   start. CPU time of the server (gunicorn's processes and the bench database's PostgreSQL
   backends) per request beside it. Queries counted in-process (Django's test client) for a
   first view and the next, for the profiles with the most and the fewest appointments ahead,
   and for the searches with the most and the fewest results. A schedule change must show at
   once: the bench books (through the booking service) one of the times a profile page offers,
   then asks every server process for the page again; the time must be gone from each.
   Targets: p99 < 50 ms at half load; throughput >= 50% of the bare view's in the same run.
2. **race** — one open time of one public profile; --race-requests (100) visitors ask for it
   at once (POST to `booking:book` on gunicorn with threaded workers when the page exists,
   otherwise `booking.services.request_submit` in as many threads, each with its own
   database connection), then staff approve all of those requests at once
   (`booking.services.request_approve` in as many threads, each its own connection; half
   matching an existing chart, half adding a new one). Afterwards the database is asked how
   many appointments hold the time: exactly one, one request approved, the others still
   pending with the book's message, no chart added but the winner's. --race-rounds rounds on
   other times; what the rounds made is deleted afterwards.

Exit 1 if a target is missed. Prints Markdown tables for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import re
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import record_pages as rp

import scheduling as sb  # isort: skip

PREFIX = "bench-public-"
BARE = rp.BARE
PROFILE = "public profile"
SEARCH = "search page"
PUBLIC_FLOOR = "public floor"
ONE_ROW = "one row"
REFERENCES = (PUBLIC_FLOOR, ONE_ROW)  # measured for throughput only, no target
PAGES = {"profile": PROFILE, "search": SEARCH}
MODE_LABEL = {
    (PROFILE, "cold"): "first views",
    (PROFILE, "repeat"): "repeat views",
    (PUBLIC_FLOOR, "cold"): "first views",
    (PUBLIC_FLOOR, "repeat"): "repeat views",
    (ONE_ROW, "cold"): "first views",
    (ONE_ROW, "repeat"): "repeat views",
    (SEARCH, "cold"): "spread",
    (SEARCH, "repeat"): "repeat",
}
P99_LIMIT_MS = 50.0
TARGET_SHARE = 50.0  # % of the bare view's throughput
WARM_PROFILES = 200  # profiles kept for the warm-up, never measured
SAMPLES = 12  # the repeat mode's profiles
PARTS = ("pages", "race")


postgres = sb.postgres


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(args) -> None:
    sb.ensure_bench_data(args, prefix=PREFIX, generate=generate, check_sizes=check_sizes)


def generate(args) -> None:
    from django.contrib.auth.hashers import make_password

    from portico.demo import bulk_profiles as bp

    started = time.monotonic()

    def progress(message: str) -> None:
        print(f"data: {message} ({time.monotonic() - started:,.0f} s)", flush=True)

    made = bp.bulk_profiles(
        providers=args.providers,
        hidden=args.hidden,
        prefix=PREFIX,
        password_hash=make_password(rp.BENCH_PASSWORD),
        fill=args.fill,
        seed=args.seed,
        progress=progress,
    )
    print(
        f"data: made {made.practices} practices, {made.providers:,} public profiles and "
        f"{made.hidden} hidden ones, {made.patients:,} charts, {made.appointments:,} "
        f"appointments from {made.first_day} to {made.last_day} in "
        f"{time.monotonic() - started:,.0f} s",
        flush=True,
    )


def check_sizes(args) -> None:
    from portico.booking import selectors
    from portico.booking.models import ProviderProfile
    from portico.scheduling.models import Appointment

    public = selectors.public_profiles().filter(practice__slug__startswith=PREFIX).count()
    every = ProviderProfile.objects.filter(practice__slug__startswith=PREFIX).count()
    if public != args.providers or every != args.providers + args.hidden:
        sys.exit(
            f"the bench practices hold {public} public profiles of {every}, not "
            f"{args.providers} of {args.providers + args.hidden}: drop the database (or the "
            "SQLite file) to make it again, or pass the sizes it holds"
        )
    appointments = Appointment.objects.filter(practice__slug__startswith=PREFIX).count()
    print(
        f"data: reusing {public:,} public profiles ({every - public} hidden), "
        f"{appointments:,} appointments",
        flush=True,
    )


# ---------------------------------------------------------------------------------------------
# What is requested


@dataclass
class Profile:
    number: str
    path: str
    provider_id: int
    practice_id: int
    ahead: int = 0  # appointments holding time in the booking window


# The search page's query parameters, by what they filter on.
SEARCH_PARAMS = {
    "name": "name",
    "specialty": "specialty",
    "where": "place",  # city or ZIP code
    "language": "language",
    "new": "new_patients",
}


@dataclass
class Population:
    cold: list[Profile]
    warm: list[Profile]
    samples: list[Profile]
    searches: list[str]  # paths, spread mode
    warm_searches: list[str]
    repeat_searches: list[str]


def public_profiles() -> list[Profile]:
    """Every public bench profile with its canonical address (selectors.profile_slug), by
    number."""
    from django.urls import reverse

    from portico.booking import selectors
    from portico.practices.models import Membership

    credentials = dict(
        (
            (practice_id, user_id),
            credential,
        )
        for practice_id, user_id, credential in Membership.objects.filter(
            practice__slug__startswith=PREFIX
        ).values_list("practice_id", "user_id", "credential")
    )
    found = []
    for profile in (
        selectors.public_profiles().filter(practice__slug__startswith=PREFIX).order_by("number")
    ):
        slug = selectors.profile_slug(
            profile, credentials.get((profile.practice_id, profile.provider_id), "")
        )
        found.append(
            Profile(
                profile.number,
                reverse("booking:profile", kwargs={"slug": slug}),
                profile.provider_id,
                profile.practice_id,
            )
        )
    return found


def appointments_ahead(profiles: list[Profile]) -> None:
    from django.db.models import Count
    from django.utils import timezone

    from portico.booking.services import BOOKING_DAYS
    from portico.scheduling.models import HOLDS_TIME, Appointment

    now = timezone.now()
    counts = dict(
        Appointment.objects.filter(
            HOLDS_TIME,
            practice__slug__startswith=PREFIX,
            start_at__gte=now,
            start_at__lt=now + dt.timedelta(days=BOOKING_DAYS),
        )
        .values_list("provider_id")
        .annotate(n=Count("id"))
        .values_list("provider_id", "n")
    )
    for profile in profiles:
        profile.ahead = counts.get(profile.provider_id, 0)


def search_queries(seed: int, count: int) -> list[dict[str, str]]:
    """`count` different searches of the kinds visitors make: a specialty, a city or a ZIP
    code, a language, a name (a last name, or a first and last name), accepting new patients,
    alone and combined; drawn from the values the bench profiles have."""
    from portico.booking.models import ProfileLanguage, ProfileSpecialty
    from portico.scheduling.models import Location

    rng = random.Random(seed)  # noqa: S311
    specialties = sorted(
        set(
            ProfileSpecialty.objects.filter(profile__practice__slug__startswith=PREFIX).values_list(
                "code", flat=True
            )
        )
    )
    languages = sorted(
        set(
            ProfileLanguage.objects.filter(profile__practice__slug__startswith=PREFIX)
            .exclude(code="en")
            .values_list("code", flat=True)
        )
    )
    places = set(
        Location.objects.filter(practice__slug__startswith=PREFIX).values_list(
            "city", "postal_code"
        )
    )
    cities = sorted({c for c, _z in places})
    zips = sorted({z for _c, z in places})
    from django.contrib.auth import get_user_model

    names = sorted(
        set(
            get_user_model()
            .objects.filter(email__startswith=f"{PREFIX}p")
            .values_list("full_name", flat=True)
        )
    )
    last_names = sorted({n.split()[-1] for n in names})
    kinds = (
        # (weight, builder)
        (20, lambda: {"specialty": rng.choice(specialties), "where": rng.choice(cities)}),
        (12, lambda: {"specialty": rng.choice(specialties)}),
        (10, lambda: {"where": rng.choice(cities)}),
        (8, lambda: {"where": rng.choice(zips)}),
        (8, lambda: {"specialty": rng.choice(specialties), "where": rng.choice(zips)}),
        (10, lambda: {"name": rng.choice(last_names)}),
        (6, lambda: {"name": rng.choice(names)}),
        (
            8,
            lambda: {
                "specialty": rng.choice(specialties),
                "where": rng.choice(cities),
                "language": rng.choice(languages),
            },
        ),
        (6, lambda: {"language": rng.choice(languages), "where": rng.choice(cities)}),
        (
            6,
            lambda: {
                "specialty": rng.choice(specialties),
                "where": rng.choice(cities),
                "new": "1",
            },
        ),
        (6, lambda: {"name": rng.choice(last_names), "where": rng.choice(cities)}),
    )
    weights = [w for w, _b in kinds]
    seen: set[tuple] = set()
    found: list[dict[str, str]] = []
    attempts = 0
    while len(found) < count and attempts < count * 50:
        attempts += 1
        query = rng.choices(kinds, weights=weights)[0][1]()
        key = tuple(sorted(query.items()))
        if key not in seen:
            seen.add(key)
            found.append(query)
    return found


def search_path(query: dict[str, str]) -> str:
    from django.urls import reverse

    return f"{reverse('booking:search')}?" + urlencode(
        {SEARCH_PARAMS[k]: v for k, v in query.items()}
    )


def load_population(args) -> Population:
    profiles = public_profiles()
    warm_count = max(20, min(WARM_PROFILES, len(profiles) // 10))
    if len(profiles) < warm_count + SAMPLES + 50:
        sys.exit(f"only {len(profiles)} public bench profiles: rerun the data step")
    appointments_ahead(profiles)
    rng = random.Random(args.seed)  # noqa: S311
    rng.shuffle(profiles)
    warm, samples, cold = (
        profiles[:warm_count],
        profiles[warm_count : warm_count + SAMPLES],
        profiles[warm_count + SAMPLES :],
    )
    queries = search_queries(args.seed, args.searches + 300)
    paths = [search_path(q) for q in queries]
    repeat = [
        search_path({"specialty": "family-medicine", "where": "Chicago"}),
        search_path({"specialty": "pediatrics"}),
        search_path({"name": "Nguyen"}),
    ]
    return Population(cold, warm, samples, paths[300:], paths[:300], repeat)


# ---------------------------------------------------------------------------------------------
# Part 1: the pages under load


class PublicRun(rp.Run):
    """The bare view, then each page in each mode: a closed loop, then an open loop at half of
    it. No sessions: every request is a visitor's."""

    def __init__(self, args, port, population: Population, cpu):
        super().__init__(args, port, population, None, {}, cpu)
        self.orders = {
            PROFILE: rp.Permutation(len(population.cold), seed=args.seed + 1),
            SEARCH: rp.Permutation(len(population.searches), seed=args.seed + 2),
            PUBLIC_FLOOR: rp.Permutation(len(population.cold), seed=args.seed + 3),
            ONE_ROW: rp.Permutation(len(population.cold), seed=args.seed + 4),
        }
        self.warm_turn = 0

    def cold_path(self, page: str) -> str:
        population = self.population
        if page == PROFILE:
            return population.cold[self.orders[PROFILE].draw()].path
        if page in REFERENCES:
            return floor_path(page, population.cold[self.orders[page].draw()])
        return population.searches[self.orders[SEARCH].draw()]

    def warm_path(self, page: str) -> str:
        self.warm_turn += 1
        population = self.population
        if page == PROFILE:
            return population.warm[self.warm_turn % len(population.warm)].path
        if page in REFERENCES:
            return floor_path(page, population.warm[self.warm_turn % len(population.warm)])
        return population.warm_searches[self.warm_turn % len(population.warm_searches)]

    def repeat_paths(self, page: str) -> list[str]:
        population = self.population
        if page == PROFILE:
            return [p.path for p in population.samples]
        if page in REFERENCES:
            return [floor_path(page, p) for p in population.samples]
        return list(population.repeat_searches)

    def page(self, mode: str, page: str) -> None:
        args = self.args
        if mode == "cold":
            order = self.orders[page]
            self.closed(
                mode,
                page,
                lambda: rp.raw_request(self.warm_path(page), None),
                min(3.0, args.seconds),
            )
            before = order.position
            full = self.closed(
                mode, page, lambda: rp.raw_request(self.cold_path(page), None), args.seconds
            )
            self.drawn(full, order, before)
            rp.report(full)
            if page in REFERENCES:  # a reference: throughput only
                self.keep(mode, page, full, None)
                return
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * args.seconds))
            before = order.position
            requests = [rp.raw_request(self.cold_path(page), None) for _ in range(count)]
            half = self.open(mode, page, requests, rate)
            self.drawn(half, order, before)
        else:
            requests = [rp.raw_request(path, None) for path in self.repeat_paths(page)]
            self.closed(mode, page, rp.cycle(requests), min(3.0, args.seconds))
            full = rp.report(self.closed(mode, page, rp.cycle(requests), args.seconds))
            if page in REFERENCES:
                self.keep(mode, page, full, None)
                return
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * args.seconds))
            half = self.open(mode, page, [requests[i % len(requests)] for i in range(count)], rate)
        rp.report(half)
        self.keep(mode, page, full, half)

    def measure(self) -> None:
        for round_ in range(self.args.rounds):
            if self.args.rounds > 1:
                print(f"-- round {round_ + 1} of {self.args.rounds}", flush=True)
            self.measure_bare()
            for page in self.args.pages:
                for mode in self.args.modes:
                    if page == PROFILE:
                        self.page(mode, ONE_ROW)
                        self.page(mode, PUBLIC_FLOOR)
                    self.page(mode, page)


def floor_path(page: str, profile: Profile) -> str:
    if page == ONE_ROW:
        return f"/bench-one-row/{profile.number}/"
    return f"/bench-public-floor/{profile.number}/"


def count_queries(population: Population) -> list[dict]:
    """Queries of each page on a first view and the next (Django's test client, in-process,
    caches emptied first): the profiles with the most and the fewest appointments ahead, and
    the searches with the most and the fewest results (as the page's size lets it count)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for alias in settings.CACHES:
        caches[alias].clear()
    client = Client()
    found = []

    def count(page: str, label: str, path: str) -> dict:
        got, sizes = [], []
        for _view in ("first view", "repeat"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            got.append(len(queries) if response.status_code == 200 else -response.status_code)
            sizes.append(len(response.content))
        entry = {
            "page": page,
            "what": label,
            "path": path,
            "first": got[0],
            "repeat": got[1],
            "status": response.status_code,
            "bytes": sizes[0],
            # Whether the page lists anything (a search without a match reads less).
            "results": page != SEARCH or b"/doctor/" in response.content,
        }
        print(
            f"queries {page} ({label}): first view {got[0]}, repeat {got[1]}; "
            f"{response.status_code}, {sizes[0]:,} bytes",
            flush=True,
        )
        return entry

    everyone = population.cold + population.samples
    ranked = sorted(everyone, key=lambda p: p.ahead)
    for label, profile in (
        (f"most appointments ahead: {ranked[-1].ahead}", ranked[-1]),
        (f"fewest appointments ahead: {ranked[0].ahead}", ranked[0]),
    ):
        found.append(count(PROFILE, label, profile.path))
    # Searches: the widest (one specialty) and a narrow one (a name in one city).
    for label, path in (
        ("a whole specialty", search_path({"specialty": "family-medicine"})),
        ("a specialty in a city", population.repeat_searches[0]),
        ("a name, no match", search_path({"name": "Nobody Atall"})),
    ):
        found.append(count(SEARCH, label, path))
    return found


def schedule_change_shows(port: int, population: Population, workers: int) -> dict:
    """Book one of the times a profile page offers (through the booking service, as staff
    would), then ask for the page again, as many times as there are server processes and
    more: no answer may offer the time any more."""
    import urllib.request

    from django.db import close_old_connections
    from django.utils import timezone

    from portico.booking import selectors
    from portico.charts.models import Patient
    from portico.practices.models import Membership, Role
    from portico.scheduling import selectors as scheduling_selectors
    from portico.scheduling import services as scheduling

    profile_ref = population.samples[0]
    url = f"http://127.0.0.1:{port}{profile_ref.path}"

    def fetch() -> str:
        with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310
            return answer.read().decode()

    for _ in range(4 * workers):  # every process has seen (and may keep) the page
        fetch()
    close_old_connections()
    profile = selectors.public_profile_by_number(profile_ref.number)
    visit_type = profile.online_visit_types.filter(is_active=True).order_by("id").first()
    zone = scheduling.zone_of(profile.practice)
    times = scheduling_selectors.open_times(
        profile.practice,
        profile.provider,
        visit_type,
        first_day=timezone.now().astimezone(zone).date(),
        days=7,
    )
    page = fetch()
    shown = [t for t in times if time_marks(t.start, zone) & marks_in(page)]
    if not shown:
        return {"checked": False, "why": "no open time of the first visit type found on the page"}
    slot = shown[0].start
    staff = (
        Membership.objects.filter(practice=profile.practice, role=Role.STAFF)
        .select_related("user")
        .first()
        .user
    )
    patient = Patient.objects.filter(practice=profile.practice).order_by("id").first()
    appointment = scheduling.appointment_book(
        staff,
        patient=patient,
        provider=profile.provider,
        appointment_type=visit_type,
        start_at=slot,
        reason="Booked by the bench",
        notify=False,
    )
    try:
        still = sum(1 for _ in range(4 * workers) if time_marks(slot, zone) & marks_in(fetch()))
    finally:
        appointment.delete()
    result = {
        "checked": True,
        "profile": profile_ref.path,
        "time": slot.astimezone(zone).isoformat(),
        "answers": 4 * workers,
        "still_offered": still,
    }
    print(
        f"schedule change: booked {result['time']} shown on {profile_ref.path}; "
        f"{still} of {4 * workers} answers after it still offered the time",
        flush=True,
    )
    return result


def time_marks(start: dt.datetime, zone) -> set[str]:
    """The ways a page may write an open time in its links or form values."""
    local = start.astimezone(zone)
    return {
        local.isoformat(),
        local.strftime("%Y-%m-%dT%H:%M"),
        start.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
        start.astimezone(dt.UTC).isoformat(),
        start.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"),
        str(int(start.timestamp())),
    }


def marks_in(page: str) -> set[str]:
    """Every value of a link's query or a form field on the page (unescaped)."""
    import html

    text = html.unescape(page)
    found = set(re.findall(r'value="([^"]+)"', text))
    for query in re.findall(r'href="[^"?]*\?([^"]+)"', text):
        for pair in query.split("&"):
            found.add(pair.partition("=")[2])
    from urllib.parse import unquote

    return {unquote(v) for v in found} | found


# ---------------------------------------------------------------------------------------------
# Part 2: the race for one time


def in_threads(count: int, work, threads: int | None = None) -> tuple[list, float]:
    """Run work(0) … work(count - 1) in `threads` threads (default: one each) started together
    (a barrier), each thread with its own database connection (Django's are per thread),
    closed at the end; the results (or the exceptions) in order, and the seconds from the
    release to the last one done."""
    from django.db import connection

    threads = min(count, threads or count)
    barrier = threading.Barrier(threads + 1)
    results: list = [None] * count

    def run(first: int) -> None:
        try:
            connection.ensure_connection()  # connected before the start, not in the race
            barrier.wait()
            for i in range(first, count, threads):
                try:
                    results[i] = work(i)
                except Exception as exc:  # noqa: BLE001 (each outcome is counted)
                    results[i] = exc
        finally:
            connection.close()

    started_threads = [threading.Thread(target=run, args=(t,)) for t in range(threads)]
    for thread in started_threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in started_threads:
        thread.join()
    return results, time.perf_counter() - started


def connections_free() -> int | None:
    """PostgreSQL: connections the server still allows (max_connections less those in use,
    less a margin for everyone else's); None on SQLite."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int - "
            "(SELECT count(*) FROM pg_stat_activity)"
        )
        (free,) = cursor.fetchone()
    return max(2, free - 10)


@dataclass
class RaceSlot:
    number: str  # the profile's
    path: str  # its address
    visit_type_id: int
    visit_type_public_id: str
    slot: dt.datetime
    staff: object  # a front-desk User of the practice
    practice_id: int
    provider_id: int
    accepts_new: bool


def submit_over_http(args, race: RaceSlot, tag: str) -> dict:
    """The visitors' requests through the real booking page: each POSTed to `booking:book`
    over its own connection from another address (X-Forwarded-For behind one trusted proxy:
    the page limits requests per address), all but the last byte first, then every last byte
    at once (bench/scheduling.py's race_round), on gunicorn with threaded workers."""
    from django.db import connections

    from portico.booking.models import PatientKind

    n = args.race_requests
    bodies = [
        urlencode(
            {
                "visit_type": race.visit_type_public_id,
                "start_at": race.slot.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%MZ"),
                "patient_kind": PatientKind.NEW if race.accepts_new else PatientKind.EXISTING,
                "first_name": f"Racer{i}",
                "last_name": tag,
                "date_of_birth": dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28).isoformat(),
                "email": f"{tag}-{i}@bench.test",
                "phone": "(217) 555-0134",
                "reason": "Annual check",
                "website": "",
            }
        ).encode()
        for i in range(n)
    ]
    path = race.path + "/book"
    heads = [
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
            f"X-Forwarded-For: 10.16.{i // 250}.{i % 250 + 1}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        for i, body in enumerate(bodies)
    ]
    connections.close_all()
    port = rp.free_port()
    server = rp.start_gunicorn(
        args.database_url,
        port,
        args.race_workers,
        rp.REPO / "var" / "bench_booking_race.log",
        {
            "GUNICORN_CMD_ARGS": f"--worker-class gthread --threads {args.race_threads}",
            "PORTICO_TRUSTED_PROXY_HOPS": "1",
        },
    )
    try:
        answers, spread, times = rp.asyncio.run(sb.race_round(port, heads, bodies))
    finally:
        rp.stop(server)
    statuses: dict[int, int] = {}
    for status, _body in answers:
        statuses[status] = statuses.get(status, 0) + 1
    return {
        "statuses": dict(sorted(statuses.items())),
        "spread_ms": round(spread * 1000, 2),
        "answers_ms": [round(times[0] * 1000, 1), round(times[1] * 1000, 1)],
        "handlers": f"{args.race_workers} gthread workers x {args.race_threads} threads",
        "other": [f"{s}: {b[:200]}" for s, b in answers if s != 303][:3],
    }


def submit_in_threads(args, race: RaceSlot, tag: str) -> dict:
    """The visitors' requests through the service the page calls, in as many threads."""
    from portico.booking import selectors, services
    from portico.booking.models import PatientKind
    from portico.scheduling.models import VisitType

    def submit(i: int):
        profile = selectors.public_profile_by_number(race.number)
        return services.request_submit(
            profile=profile,
            visit_type=VisitType.objects.get(pk=race.visit_type_id),
            start_at=race.slot,
            patient_kind=PatientKind.NEW if race.accepts_new else PatientKind.EXISTING,
            first_name=f"Racer{i}",
            last_name=tag,
            date_of_birth=dt.date(1950 + i % 50, 1 + i % 12, 1 + i % 28),
            email=f"{tag}-{i}@bench.test",
            phone="(217) 555-0134",
            reason="Annual check",
        ).pk

    results, seconds = in_threads(args.race_requests, submit, args.threads_allowed)
    errors = [r for r in results if not isinstance(r, int)]
    return {
        "seconds": round(seconds, 2),
        "errors": [f"{type(e).__name__}: {e}"[:200] for e in errors][:3],
    }


def race_round(args, race: RaceSlot, through: str) -> dict:
    from django.core.exceptions import ValidationError
    from django.db import close_old_connections

    from portico.booking import services
    from portico.booking.models import AppointmentRequest, RequestStatus
    from portico.charts.models import Patient
    from portico.scheduling.models import HOLDS_TIME, Appointment, VisitType
    from portico.scheduling.services import is_taken

    tag = f"race{int(time.time() * 1000)}"
    submitted = (
        submit_over_http(args, race, tag)
        if through == "http"
        else submit_in_threads(args, race, tag)
    )
    close_old_connections()
    request_ids = list(
        AppointmentRequest.objects.filter(
            practice_id=race.practice_id, start_at=race.slot, last_name=tag
        ).values_list("id", flat=True)
    )
    charts = list(
        Patient.objects.filter(practice_id=race.practice_id)
        .order_by("id")
        .values_list("id", flat=True)[: len(request_ids)]
    )
    charts_before = Patient.objects.filter(practice_id=race.practice_id).count()

    def approve(i: int):
        request = AppointmentRequest.objects.get(pk=request_ids[i])
        # Half match an existing chart, half add a new one from what the visitor typed.
        patient = Patient.objects.get(pk=charts[i]) if i % 2 else None
        try:
            appointment = services.request_approve(race.staff, request=request, patient=patient)
        except ValidationError as exc:
            return ("refused, taken" if is_taken(exc) else "refused, other", str(exc)[:200])
        return ("approved", appointment.pk)

    approved, approve_seconds = in_threads(len(request_ids), approve, args.threads_allowed)
    close_old_connections()
    outcomes: dict[str, int] = {}
    refusal = ""
    other: list[str] = []
    for outcome in approved:
        if isinstance(outcome, Exception):
            outcomes["error"] = outcomes.get("error", 0) + 1
            other.append(f"{type(outcome).__name__}: {outcome}"[:200])
        else:
            outcomes[outcome[0]] = outcomes.get(outcome[0], 0) + 1
            if outcome[0] == "refused, taken" and not refusal:
                refusal = outcome[1]
            elif outcome[0] == "refused, other":
                other.append(outcome[1])
    minutes = VisitType.objects.get(pk=race.visit_type_id).duration_minutes
    held_ids = list(
        Appointment.objects.filter(
            HOLDS_TIME,
            provider_id=race.provider_id,
            start_at__lt=race.slot + dt.timedelta(minutes=minutes),
            end_at__gt=race.slot,
        ).values_list("id", flat=True)
    )
    statuses = {
        s: AppointmentRequest.objects.filter(pk__in=request_ids, status=s).count()
        for s in RequestStatus.values
    }
    charts_added = Patient.objects.filter(practice_id=race.practice_id).count() - charts_before
    result = {
        "slot": race.slot.isoformat(),
        "profile": race.path,
        "through": through,
        "submitted": submitted,
        "requests_stored": len(request_ids),
        "approvals": dict(sorted(outcomes.items())),
        "approve_threads": min(len(request_ids), args.threads_allowed or len(request_ids)),
        "approve_seconds": round(approve_seconds, 2),
        "held": len(held_ids),
        "requests_by_status": {k: v for k, v in statuses.items() if v},
        "charts_added": charts_added,
        "refusal": refusal,
        "other": other[:3],
    }
    print(
        f"race {race.slot.isoformat()} ({through}): submitted "
        + (
            f"{submitted['statuses']} (last bytes within {submitted['spread_ms']} ms)"
            if through == "http"
            else f"in {submitted['seconds']} s, {len(submitted['errors'])} failed"
        )
        + f"; {len(request_ids)} requests stored; approvals {result['approvals']} in "
        f"{approve_seconds:.2f} s ({result['approve_threads']} threads); {len(held_ids)} "
        f"appointment(s) hold the time; requests {result['requests_by_status']}; charts added "
        f"{charts_added}",
        flush=True,
    )
    if other:
        print(f"race: unexpected outcomes, e.g. {other[:2]}", flush=True)
    # Put the book back as it was (the charts stay: audit events point at them).
    Appointment.objects.filter(pk__in=held_ids, reason="Annual check").delete()
    AppointmentRequest.objects.filter(pk__in=request_ids).delete()
    return result


def booking_page_exists(population: Population) -> bool:
    from django.test import Client

    response = Client().get(population.samples[0].path + "/book")
    return response.status_code == 200  # not the placeholder's 501


def part_race(args, population: Population) -> dict:
    from django.db import connections
    from django.utils import timezone

    from portico.booking import selectors
    from portico.practices.models import Membership, Role
    from portico.scheduling import selectors as scheduling_selectors
    from portico.scheduling import services as scheduling

    through = args.race_through
    if through == "auto":
        through = "http" if booking_page_exists(population) else "service"
    rng = random.Random(args.seed + 3)  # noqa: S311
    args.threads_allowed = connections_free()
    if args.threads_allowed is not None:
        args.threads_allowed = min(args.threads_allowed, args.race_requests)
    watcher = sb.Backends(args.database_url) if postgres(args.database_url) else None
    inserts_before = sb.rows_inserted(watcher)
    rounds = []
    for _ in range(args.race_rounds):
        while True:
            ref = rng.choice(population.cold)
            profile = selectors.public_profile_by_number(ref.number)
            visit_type = profile.online_visit_types.filter(is_active=True).order_by("?").first()
            zone = scheduling.zone_of(profile.practice)
            times = scheduling_selectors.open_times(
                profile.practice,
                profile.provider,
                visit_type,
                first_day=timezone.now().astimezone(zone).date() + dt.timedelta(days=2),
                days=14,
            )
            if times:
                break
        staff = (
            Membership.objects.filter(practice=profile.practice, role=Role.STAFF)
            .select_related("user")
            .first()
            .user
        )
        race = RaceSlot(
            profile.number,
            ref.path,
            visit_type.pk,
            str(visit_type.public_id),
            rng.choice(times).start,
            staff,
            profile.practice_id,
            profile.provider_id,
            profile.accepts_new_patients,
        )
        connections.close_all()
        if watcher:
            with watcher:
                one = race_round(args, race, through)
            one["most_active"], one["most_waiting"] = watcher.active, watcher.waiting
        else:
            one = race_round(args, race, through)
        rounds.append(one)
    inserts = sb.rows_inserted(watcher) - inserts_before if watcher else None
    if watcher:
        watcher.conn.close()
    if rounds:
        print(f"race: a refused approval reads {rounds[0]['refusal']}", flush=True)
    if inserts is not None:
        print(
            f"race: {inserts} rows were inserted into the appointment table in {len(rounds)} "
            f"rounds: {inserts - len(rounds)} approvals got past the book's check while "
            "another's booking was not committed, and were refused by the exclusion "
            "constraint",
            flush=True,
        )
    return {
        "requests": args.race_requests,
        "through": through,
        "approve_threads": args.threads_allowed or args.race_requests,
        "rounds": rounds,
        "constraint_refusals": None if inserts is None else inserts - len(rounds),
    }


def race_targets(result: dict) -> list[dict]:
    targets = []
    n = result["requests"]
    for i, r in enumerate(result["rounds"]):
        taken = r["approvals"].get("refused, taken", 0)
        targets.append(
            {
                "what": f"race round {i + 1} ({r['through']}): {n} requests for one time all "
                f"stored, {n} approvals at once: exactly one appointment holds the time, the "
                "others refused as taken, no error",
                "value": f"{r['requests_stored']} requests, approvals {r['approvals']}, "
                f"{r['held']} held, charts added {r['charts_added']}",
                "met": r["requests_stored"] == n
                and r["held"] == 1
                and r["approvals"].get("approved", 0) == 1
                and taken == n - 1
                and r["charts_added"] <= 1,
            }
        )
    return targets


def part_pages(args, population: Population) -> dict:
    from django.db import connections

    counts = count_queries(population)
    connections.close_all()
    port = rp.free_port()
    server = rp.start_gunicorn(
        args.database_url, port, args.workers, rp.REPO / "var" / "bench_booking_gunicorn.log", {}
    )
    database = args.database_url.rsplit("/", 1)[-1] if postgres(args.database_url) else None
    run = PublicRun(args, port, population, rp.ServerCpu(server.pid, database))
    change: dict = {}
    try:
        for page in args.pages:  # each page answers 200 before it is measured
            path = population.cold[0].path if page == PROFILE else population.searches[0]
            status = rp.asyncio.run(rp.fetch(port, rp.raw_request(path, None)))
            if status != 200:
                sys.exit(f"{path} answered {status}: is the page there yet?")
        run.measure()
        if PROFILE in args.pages:
            change = schedule_change_shows(port, population, args.workers)
    finally:
        rp.stop(server)
        connections.close_all()
    lines, figures, targets = tabulate(run, counts)
    if change:
        targets.append(
            {
                "what": "a schedule change shows at once (every server process, next request)",
                "value": f"{change.get('still_offered')} of {change.get('answers')} answers "
                "still offered the booked time"
                if change.get("checked")
                else change.get("why"),
                "met": bool(change.get("checked")) and change["still_offered"] == 0,
            }
        )
    return {
        "lines": lines,
        "figures": figures,
        "targets": targets,
        "queries": counts,
        "schedule_change": change,
    }


def tabulate(run: PublicRun, counts: list[dict]) -> tuple[list[str], list[dict], list[dict]]:
    lines = [
        "| Page | Mode | req/s | % of bare | p50 / p99 at half load (ms) | Half load (req/s) "
        "| Server CPU per request (ms) | Requests | Queries first / repeat view |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    figures, targets = [], []
    results = run.results
    bares = [full for full, _h in results.get(("-", BARE), [])]
    for (mode, page), rounds in results.items():
        shares = (
            [rp.share(f.throughput, b.throughput) for (f, _h), b in zip(rounds, bares, strict=True)]
            if page != BARE
            else []
        )
        pct = rp.median(shares) if shares else None
        full, half = sorted(rounds, key=lambda r: r[0].throughput)[(len(rounds) - 1) // 2]
        p50 = rp.median([h.pct(50) for _f, h in rounds if h]) if half else float("nan")
        p99 = rp.median([h.pct(99) for _f, h in rounds if h]) if half else float("nan")
        cpu = rp.median([f.cpu_ms for f, _h in rounds])
        db = rp.median([f.db_cpu_ms for f, _h in rounds])
        spread = f" ({min(shares):.0f}–{max(shares):.0f})" if len(shares) > 1 else ""
        requests = sum(
            len(f.latencies) + f.errors + (len(h.latencies) + h.errors if h else 0)
            for f, h in rounds
        )
        drawn = sum(f.charts + (h.charts if h else 0) for f, h in rounds)
        again = sum(f.repeats + (h.repeats if h else 0) for f, h in rounds)
        mine = [c for c in counts if c["page"] == page]
        queries = ", ".join(f"{c['first']} / {c['repeat']}" for c in mine) if mine else "—"
        label = MODE_LABEL.get((page, mode), "—")
        lines.append(
            f"| {page} | {label} | {full.throughput:.0f} | "
            + (f"**{pct:.0f}%**{spread}" if pct is not None else "—")
            + " | "
            + (f"{p50:.1f} / **{p99:.1f}** | {half.throughput:.0f}" if half else "— | —")
            + f" | {cpu:.2f}"
            + (f" ({db:.2f} database)" if db == db else "")
            + f" | {requests:,}"
            + (f" ({drawn:,} different" + (f", {again:,} drawn again" if again else "") + ")")
            * bool(mode == "cold")
            + f" | {queries} |"
        )
        errors = sum(f.errors + (h.errors if h else 0) for f, h in rounds)
        figures.append(
            {
                "mode": mode,
                "page": page,
                "label": label,
                "throughput": round(full.throughput, 1),
                "pct_of_bare": None if pct is None else round(pct, 1),
                "p50_half_ms": None if not half else round(p50, 2),
                "p99_half_ms": None if not half else round(p99, 2),
                "server_cpu_ms_per_request": round(cpu, 3),
                "database_cpu_ms_per_request": round(db, 3),
                "errors": errors,
                "rounds": [
                    {"full": f.summary(), "half": h.summary() if h else None} for f, h in rounds
                ],
            }
        )
        if errors:
            targets.append({"what": f"{page}, {label}: no error answers", "value": errors,
                            "met": False})  # fmt: skip
        if page not in (BARE, *REFERENCES):
            targets.append(
                {
                    "what": f"{page}, {label}: throughput >= {TARGET_SHARE:.0f}% of the bare "
                    "view's in the same run",
                    "value": round(pct, 1),
                    "met": pct >= TARGET_SHARE,
                }
            )
            targets.append(
                {
                    "what": f"{page}, {label}: p99 < {P99_LIMIT_MS:.0f} ms at half load",
                    "value": round(p99, 1),
                    "met": p99 < P99_LIMIT_MS,
                }
            )
    # The search page: a fixed number of queries whatever the results (a search without a
    # match stops after counting them). The profile page reads the first week of the schedule,
    # and the rest of the booking window only when the week has too few days with times: its
    # counts are shown, not judged.
    for page in sorted({c["page"] for c in counts} - {PROFILE}):
        mine = [c for c in counts if c["page"] == page and c["status"] == 200 and c["results"]]
        values = sorted({c["first"] for c in mine})
        targets.append(
            {
                "what": f"{page}: the same query count on a first view whatever it shows",
                "value": [
                    f"{c['what']}: {c['first']} / {c['repeat']}"
                    for c in counts
                    if c["page"] == page
                ],
                "met": len(values) == 1,
            }
        )
    return lines, figures, targets


def profile_pages(args, population: Population) -> None:
    """--profile: first views of each page in-process with Django's test client: the SQL by
    statement and cProfile's top functions."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    for page in args.pages:
        paths = (
            [p.path for p in population.cold[: args.profile_views]]
            if page == PROFILE
            else population.searches[: args.profile_views]
        )
        for path in paths[:5]:  # the code's first use, not measured
            client.get(path)
        profiler = cProfile.Profile()
        wall = cpu = sql_ms = 0.0
        queries = 0
        by_sql: dict[str, list[float]] = {}
        for path in paths[5:]:
            t0, c0 = time.perf_counter(), time.process_time()
            with CaptureQueriesContext(connection) as captured:
                if not args.plain:
                    profiler.enable()
                response = client.get(path)
                if not args.plain:
                    profiler.disable()
            wall, cpu = wall + time.perf_counter() - t0, cpu + time.process_time() - c0
            if response.status_code != 200:
                sys.exit(f"{path} answered {response.status_code}")
            queries += len(captured)
            for q in captured.captured_queries:
                ms = float(q["time"]) * 1000
                sql_ms += ms
                shape = re.sub(r"\b\d+\b", "N", re.sub(r"'[^']*'", "'…'", q["sql"]))
                by_sql.setdefault(re.sub(r"\s+", " ", shape)[:160], []).append(ms)
        n = max(1, len(paths) - 5)
        print(
            f"profile {page}: {n} first views in-process, {wall / n * 1000:.1f} ms each, this "
            f"process' CPU {cpu / n * 1000:.1f} ms"
            + (" (Python's own clock, no profiler)" if args.plain else " (under cProfile)")
            + f", {queries / n:.1f} queries taking {sql_ms / n:.1f} ms"
        )
        if args.plain:
            continue
        for sql, times in sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:12]:
            print(f"  {sum(times) / n:6.2f} ms/view  x{len(times) / n:.1f}  {sql}")
        for order, restrict in (("tottime", 30), ("cumulative", "/portico/")):
            out = io.StringIO()
            stats = pstats.Stats(profiler, stream=out).sort_stats(order)
            if isinstance(restrict, str):
                stats.print_stats(restrict, 40)
            else:
                stats.print_stats(restrict)
            text = out.getvalue()
            print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


# ---------------------------------------------------------------------------------------------


def main() -> int:
    default_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{rp.REPO / 'var' / 'bench_booking.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--parts", default=",".join(PARTS), help="of " + ", ".join(PARTS))
    parser.add_argument("--pages", default="profile,search", help="of profile, search")
    parser.add_argument("--modes", default="cold,repeat")
    parser.add_argument("--providers", type=int, default=5000)
    parser.add_argument("--hidden", type=int, default=250)
    parser.add_argument("--fill", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--searches", type=int, default=3000, help="different searches")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--race-requests", type=int, default=100)
    parser.add_argument("--race-rounds", type=int, default=3)
    parser.add_argument("--race-through", default="auto", help="http, service or auto")
    parser.add_argument("--race-workers", type=int, default=4)
    parser.add_argument("--race-threads", type=int, default=15)
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("--profile", action="store_true", help="profile the pages instead")
    parser.add_argument("--profile-views", type=int, default=200)
    parser.add_argument("--plain", action="store_true", help="--profile without the profiler")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--code-dir", help="measure another checkout's code (same bench, data)")
    args = parser.parse_args()
    rp.reexec(args.code_dir)
    args.pages = [PAGES[p] for p in args.pages.split(",") if p in PAGES]
    args.modes = [m for m in ("cold", "repeat") if m in args.modes.split(",")]
    parts = [p for p in PARTS if p in args.parts.split(",")]
    loadavg_start = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC)

    (rp.REPO / "var").mkdir(exist_ok=True)
    rp.setup_django(args.database_url)
    ensure_data(args)
    if args.data_only:
        return 0
    population = load_population(args)
    if args.profile:
        profile_pages(args, population)
        return 0
    summary: dict = {"parts": {}}
    targets: list[dict] = []
    tables: list[str] = []
    if "pages" in parts:
        result = part_pages(args, population)
        summary["parts"]["pages"] = {k: v for k, v in result.items() if k != "lines"}
        targets += result["targets"]
        tables += result["lines"]
    if "race" in parts:
        result = part_race(args, population)
        summary["parts"]["race"] = result
        targets += race_targets(result)
    loadavg_end = os.getloadavg()
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}); code "
        f"{rp.CODE} at {rp.git_commit(rp.CODE)}; database {args.database_url.split('://')[0]}, "
        f"{args.providers:,} public profiles; parts {', '.join(parts)}; load average "
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
            providers=args.providers,
            **rp.run_settings(args, loadavg_start, loadavg_end),
            targets=targets,
            ok=ok,
        )
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
