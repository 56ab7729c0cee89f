"""Benchmark: the secure messaging pages under load, and the memory of a 25 MB upload (issue 14).

    .venv/bin/python bench/messaging_pages.py                    # SQLite, 100,000 messages (var/)
    .venv/bin/python bench/messaging_pages.py \
        --database-url postgres://postgres@127.0.0.1:5432/portico_bench_msg   # 1,000,000 messages

What it does, in one run (the server, the client, the sessions and the rules floor are those of
bench/record_pages.py, imported from it):
1. migrates the database and, if the practice "bench-messaging" is not there yet, makes it:
   messaging on, an administrator, --providers providers (MD, DO, NP, PA) and one staff member
   allowed to answer messages, --patients bare charts each with an enrolled portal account
   (record_pages.ensure_accounts), and --threads threads holding --messages messages in all
   between them (`portico.demo.bulk_messages.bulk_generate_messages`: inserted in bulk, most
   threads with several messages, ~2% of messages with an attachment row, renewal requests,
   the last 45 days' threads open). Made once and kept: a later run reuses it. On PostgreSQL
   it gathers the planner's statistics where tables have none (record_pages.analyze_if_needed);
2. counts the SQL queries of each page in-process (Django's test client) on a first view and on
   the next, for a small and a large inbox, patient and thread: the two list pages must read
   the same number whatever the sizes;
3. starts gunicorn (`gunicorn.conf.py`, 2 x CPUs sync workers, bench/floor_wsgi.py's routes)
   and measures, each page after the rules floor of the same mode:
   * **cold mode** (first views): every request is the first of a new signed-in session (its
     own session row, written just before the measurement, as a sign-in leaves it); the
     provider inbox (default filters) and its page 2 go round every provider's inbox, each
     request a new session of that provider; a patient's message list is drawn from one random
     permutation of the patients (each patient once) with that patient's own account; the
     thread pages (the patient's and the practice's) draw from one random permutation of the
     threads, so no thread is opened twice in the run (the patient's page with the thread's
     patient's account, the practice's with its assigned provider). The rules floor goes over
     the patients' accounts with new sessions too. Warm-up requests use the warm-up patients'
     threads (never measured) and, for the inbox, the practice-wide inbox of the staff member;
   * **repeat mode**: 12 sample patients (their list and newest thread) and one provider's
     inbox, requested in turn with one session each.
   Each page: a closed loop at --concurrency (throughput), then an open loop at half of it
   (p50/p99 counted from each request's planned start), with the server's CPU per request;
4. memory: a gunicorn with one worker; a patient posts a new message with a 25 MB PDF to
   `messaging:patient_new` (multipart, streamed from disk by the client), three times, after
   a small one (so the code paths are loaded). The worker's peak RSS (VmHWM in /proc) is read
   before and after each: its growth is what the upload cost the web process. Then a worker
   tracing Python's allocations (BENCH_TRACEMALLOC, bench/floor_wsgi.py) takes a small and a
   25 MB message: the peak of Python's own allocations during each.

Targets (exit 1 if one is missed): every page p99 < 50 ms at half load and >= 25% of the rules
floor's throughput in the same mode and run; list pages at a fixed query count; the 25 MB
upload grows the worker's peak RSS by far less than 25 MB (limit: --memory-limit-mb, 5).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import socket
import sys
import time
import uuid
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import record_pages as rp

PRACTICE_SLUG = "bench-messaging"
ADMIN_EMAIL = "admin@bench.test"  # record_pages.ensure_accounts invites with this account
HELPER_EMAIL = "helper@bench.test"
SAMPLES = 12
CREDENTIALS = ("MD", "DO", "NP", "PA")
INBOX = "provider inbox"
INBOX2 = "provider inbox, page 2"
PLIST = "patient message list"
PTHREAD = "patient thread"
STHREAD = "staff thread"
PAGES = (INBOX, INBOX2, PLIST, PTHREAD, STHREAD)
SHORT = dict(zip(("inbox", "inbox2", "list", "pthread", "sthread"), PAGES, strict=True))
STAFF_PAGES = (INBOX, INBOX2, STHREAD)
LIST_PAGES = (INBOX, INBOX2, PLIST)  # a fixed query count whatever the sizes
FLOOR, BARE = rp.FLOOR, rp.BARE
TARGET_SHARE = 25.0  # % of the rules floor
P99_LIMIT_MS = 50.0


def postgres(url: str) -> bool:
    return url.startswith("postgres")


# ---------------------------------------------------------------------------------------------
# Data


def ensure_data(args) -> None:
    from django.core.management import call_command

    from portico.practices.models import Practice

    started = time.monotonic()
    if postgres(args.database_url):
        ensure_postgres_database(args.database_url)
    call_command("migrate", verbosity=0)
    practice = Practice.objects.filter(slug=PRACTICE_SLUG).first()
    if practice is None:
        generate(args)
    else:
        check_sizes(practice, args)
    rp.analyze_if_needed()
    print(f"data: ready in {time.monotonic() - started:,.0f} s", flush=True)


def ensure_postgres_database(url: str) -> None:
    sys.path.insert(0, str(rp.REPO / "scripts"))
    import ensure_postgres_db

    ensure_postgres_db.main(url)


def check_sizes(practice, args) -> None:
    from portico.charts.models import Patient
    from portico.messaging.models import Message, Thread

    have = {
        "patients": Patient.objects.filter(practice=practice).count(),
        "threads": Thread.objects.filter(practice=practice).count(),
        "messages": Message.objects.filter(thread__practice=practice).count(),
    }
    wanted = {"patients": args.patients, "threads": args.threads, "messages": args.messages}
    # Each run's upload test adds a few threads (one patient's, never measured).
    if have["patients"] != wanted["patients"] or any(
        not wanted[k] <= have[k] <= wanted[k] + 1000 for k in ("threads", "messages")
    ):
        sys.exit(
            f"practice {PRACTICE_SLUG} holds {have}, not {wanted}: drop the database (or the "
            "SQLite file) to make it again, or pass the sizes it holds"
        )
    print(
        f"data: reusing {have['patients']:,} charts, {have['threads']:,} threads, "
        f"{have['messages']:,} messages (of which {have['threads'] - args.threads} threads "
        "from earlier runs' upload tests)",
        flush=True,
    )


def generate(args) -> None:
    from django.contrib.auth import get_user_model

    from portico.demo.bulk_messages import Correspondent, bulk_generate_messages, bulk_patients
    from portico.portal.models import PortalAccess
    from portico.practices.models import Role
    from tests import factories

    timings = {}
    started = time.monotonic()
    practice = factories.make_practice(
        "Bench Messaging Clinic",
        slug=PRACTICE_SLUG,
        time_zone="America/Chicago",
        messaging_enabled=True,
    )
    factories.make_admin(practice, email=ADMIN_EMAIL, full_name="Bench Admin")
    for i in range(args.providers):
        factories.make_staff(
            practice,
            role=Role.PROVIDER,
            credential=CREDENTIALS[i % len(CREDENTIALS)],
            email=f"provider{i}@bench.test",
            full_name=f"Dr. Bench Provider {i}",
        )
    factories.make_staff(
        practice, email=HELPER_EMAIL, full_name="Bench Helper", may_answer_messages=True
    )
    bulk_patients(practice, count=args.patients)
    timings["charts"] = time.monotonic() - started
    started = time.monotonic()
    rp.ensure_accounts(practice)
    timings["portal accounts"] = time.monotonic() - started
    started = time.monotonic()
    user_model = get_user_model()
    providers = [
        Correspondent(user.pk, user.full_name)
        for user in user_model.objects.filter(email__startswith="provider").order_by("pk")
    ]
    patients = [
        Correspondent(account, f"{first} {last}", patient)
        for patient, account, first, last in PortalAccess.objects.filter(practice=practice)
        .order_by("patient_id")
        .values_list(
            "patient_id", "account_id", "patient__legal_first_name", "patient__legal_last_name"
        )
    ]

    def progress(threads: int, messages: int) -> None:
        if threads % 50_000 < 5000 or threads == args.threads:
            rate = messages / max(1e-6, time.monotonic() - started)
            print(f"data: {threads:,} threads, {messages:,} messages ({rate:,.0f}/s)", flush=True)

    threads, messages, attachments = bulk_generate_messages(
        practice,
        providers=providers,
        patients=patients,
        threads=args.threads,
        messages=args.messages,
        progress=progress,
    )
    timings["threads and messages"] = time.monotonic() - started
    print(
        f"data: made {args.patients:,} charts with portal accounts, {threads:,} threads, "
        f"{messages:,} messages, {attachments:,} attachment rows in "
        + ", ".join(f"{what} {s:,.0f} s" for what, s in timings.items())
        + f" (total {sum(timings.values()):,.0f} s)",
        flush=True,
    )


# ---------------------------------------------------------------------------------------------
# Who and what is requested


@dataclass
class ThreadRef:
    public_id: str
    patient: rp.Chart  # the thread's patient (their access and account)
    provider: int  # pk of the assigned provider
    messages: int


@dataclass
class Provider:
    pk: int
    threads: int  # all of its threads
    repeat_key: str = ""


@dataclass
class Population:
    patients: list[rp.Chart]  # measured (cold)
    warm: list[rp.Chart]  # warm-up patients, never measured
    threads: list[ThreadRef]  # measured threads (of measured patients)
    warm_threads: list[ThreadRef]
    providers: list[Provider]
    helper: int  # pk of the staff member who answers messages (practice-wide inbox)
    samples: list[rp.Chart] = field(default_factory=list)
    sample_threads: list[ThreadRef] = field(default_factory=list)
    memory_chart: rp.Chart | None = None  # the patient who posts the 25 MB file
    threads_of: dict[int, int] = field(default_factory=dict)  # account pk -> threads


def load_population(args, sessions: rp.Sessions) -> Population:
    from django.contrib.auth import get_user_model
    from django.db.models import Count

    from portico.messaging.models import Thread
    from portico.portal.models import AccessState, PortalAccess
    from portico.practices.models import Practice

    practice = Practice.objects.get(slug=PRACTICE_SLUG)
    rows = (
        PortalAccess.objects.filter(
            practice=practice, state=AccessState.ACTIVE, account__isnull=False
        )
        .order_by("patient_id")
        .values_list("patient_id", "patient__public_id", "public_id", "account_id")
    )
    charts = {
        patient_pk: rp.Chart(i, str(patient), str(access), account)
        for i, (patient_pk, patient, access, account) in enumerate(rows.iterator(chunk_size=10000))
    }
    ordered = list(charts.values())
    warm_count = max(50, len(ordered) // 100)
    warm, measured = ordered[-warm_count:], ordered[:-warm_count]
    memory_chart = measured.pop()  # posts the 25 MB file; measured nowhere else
    warm_ids = {id(c) for c in warm}
    threads, warm_threads = [], []
    thread_rows = (
        Thread.objects.filter(practice=practice)
        .order_by("id")
        .values_list("public_id", "patient_id", "provider_id", "message_count")
    )
    per_account: dict[int, int] = {}
    for public_id, patient_pk, provider_pk, count in thread_rows.iterator(chunk_size=20000):
        chart = charts[patient_pk]
        per_account[chart.account] = per_account.get(chart.account, 0) + 1
        if chart is memory_chart:
            continue
        ref = ThreadRef(str(public_id), chart, provider_pk, count)
        (warm_threads if id(chart) in warm_ids else threads).append(ref)
    user_model = get_user_model()
    counts = dict(
        Thread.objects.filter(practice=practice)
        .values("provider")
        .annotate(n=Count("id"))
        .values_list("provider", "n")
    )
    providers = [
        Provider(pk, counts.get(pk, 0))
        for pk in user_model.objects.filter(email__startswith="provider")
        .order_by("pk")
        .values_list("pk", flat=True)
    ]
    helper = user_model.objects.get(email=HELPER_EMAIL).pk
    step = max(1, len(measured) // SAMPLES)
    samples = [c for c in measured[::step] if per_account.get(c.account)][:SAMPLES]
    newest: dict[int, ThreadRef] = {}
    for ref in threads:  # by id: the last one seen is the newest created
        newest[ref.patient.account] = ref
    population = Population(
        measured,
        warm,
        threads,
        warm_threads,
        providers,
        helper,
        samples=samples,
        sample_threads=[newest[c.account] for c in samples],
        memory_chart=memory_chart,
        threads_of=per_account,
    )
    for chart in samples:
        chart.session = sessions.key("msg-repeat", chart.account)
        chart.csrf = sessions.new_csrf()
    for provider in providers:
        provider.repeat_key = sessions.key("msg-staff-repeat", provider.pk)
    sessions.account_hashes([c.account for c in ordered] + [p.pk for p in providers] + [helper])
    return population


# Paths (the URL names' patterns, see portico/messaging/urls.py; checked by resolve() once).


def inbox_path(page: int = 1) -> str:
    return "/ehr/messages/" + (f"?page={page}" if page > 1 else "")


def list_path(chart: rp.Chart) -> str:
    return f"/portal/records/{chart.access}/messages/"


def new_message_path(chart: rp.Chart) -> str:
    return f"/portal/records/{chart.access}/messages/new/"


def patient_thread_path(ref: ThreadRef) -> str:
    return f"/portal/records/{ref.patient.access}/messages/{ref.public_id}/"


def staff_thread_path(ref: ThreadRef) -> str:
    return f"/ehr/messages/{ref.public_id}/"


def check_paths(population: Population) -> None:
    """The bench's paths are those of the URL names it means to measure."""
    from django.urls import reverse

    chart, ref = population.samples[0], population.sample_threads[0]
    pairs = [
        (inbox_path(), reverse("messaging:inbox")),
        (list_path(chart), reverse("messaging:patient_list", args=[chart.access])),
        (new_message_path(chart), reverse("messaging:patient_new", args=[chart.access])),
        (
            patient_thread_path(ref),
            reverse("messaging:patient_thread", args=[ref.patient.access, ref.public_id]),
        ),
        (staff_thread_path(ref), reverse("messaging:staff_thread", args=[ref.public_id])),
    ]
    for mine, theirs in pairs:
        if mine != theirs:
            sys.exit(f"bench path {mine} is not the URL name's {theirs}")


# ---------------------------------------------------------------------------------------------
# Query counts


def count_queries(population: Population, sessions: rp.Sessions) -> dict[str, list[list]]:
    """[what, size, first view, repeat] of each page for a small and a large case: the
    providers with the fewest and the most threads (inbox), the sample patients with the
    fewest and the most threads (list), the sample threads with the fewest and the most
    messages (thread pages)."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    for alias in settings.CACHES:
        caches[alias].clear()

    def client_for(key: str, csrf: str) -> Client:
        client = Client()
        client.cookies[sessions.cookie_name] = key
        client.cookies[sessions.csrf_cookie_name] = csrf
        client.get("/healthz")  # reads the session; count the pages after it
        return client

    # The sessions the bench writes are signed in: a provider's opens the EHR's home, a
    # patient's their record (checked here, so a 404 below is the page's, not the session's).
    sessions.write([("patient", c.session, c.account) for c in population.samples])
    provider = population.providers[0]
    key = sessions.key("msg-count", provider.pk)
    sessions.write([("staff", key, provider.pk)])
    chart = population.samples[0]
    for path, session in (("/ehr/", key), (f"/portal/records/{chart.access}/", chart.session)):
        status = client_for(session, "").get(path).status_code
        if status != 200:
            sys.exit(f"a bench session is not signed in: {path} answered {status}")
    providers = sorted(population.providers, key=lambda p: p.threads)
    charts = sorted(population.samples, key=lambda c: population.threads_of[c.account])
    refs = sorted(population.sample_threads, key=lambda r: r.messages)
    cases = []
    for provider in (providers[0], providers[-1]):
        key = sessions.key("msg-count", provider.pk)
        sessions.write([("staff", key, provider.pk)])
        for page, path in ((INBOX, inbox_path()), (INBOX2, inbox_path(2))):
            cases.append((page, f"{provider.threads} threads", key, path, "staff"))
    for chart in (charts[0], charts[-1]):
        size = f"{population.threads_of[chart.account]} threads"
        cases.append((PLIST, size, chart.session, list_path(chart), "patient"))
    for ref in (refs[0], refs[-1]):
        size = f"{ref.messages} messages"
        cases.append((PTHREAD, size, ref.patient.session, patient_thread_path(ref), "patient"))
        provider_key = sessions.key("msg-count", ref.provider)
        sessions.write([("staff", provider_key, ref.provider)])
        cases.append((STHREAD, size, provider_key, staff_thread_path(ref), "staff"))
    counts: dict[str, list[list]] = {page: [] for page in PAGES}
    for page, size, key, path, _kind in cases:
        client = client_for(key, "")
        got = []
        for _view in ("first view", "repeat"):
            with CaptureQueriesContext(connection) as queries:
                response = client.get(path)
            got.append(len(queries) if response.status_code == 200 else -response.status_code)
        counts[page].append([size, *got])
    return counts


# ---------------------------------------------------------------------------------------------
# The measurements


@dataclass
class Planned:
    path: str
    kind: str  # session template: "patient" or "staff"
    account: int


class Run(rp.Run):
    """The bare view, then per mode the rules floor and the five pages (each after the floor)."""

    def __init__(self, args, port, population: Population, sessions, orders, cpu):
        super().__init__(args, port, population, sessions, orders, cpu)
        self.inbox_turn = 0
        self.warm_turn = 0
        self.floor_rate: dict[str, float] = {}
        self.reused: dict[tuple[str, str], int] = {}

    # What each page asks for, in cold mode: the next item of its order.

    def next_cold(self, page: str) -> Planned:
        population = self.population
        if page in (INBOX, INBOX2):
            provider = population.providers[self.inbox_turn % len(population.providers)]
            self.inbox_turn += 1
            return Planned(inbox_path(2 if page == INBOX2 else 1), "staff", provider.pk)
        if page in (PTHREAD, STHREAD):
            ref = population.threads[self.orders["threads"].draw()]
            if page == PTHREAD:
                return Planned(patient_thread_path(ref), "patient", ref.patient.account)
            return Planned(staff_thread_path(ref), "staff", ref.provider)
        chart = population.patients[self.orders[page].draw()]
        path = rp.floor_path(chart) if page == FLOOR else list_path(chart)
        return Planned(path, "patient", chart.account)

    def next_warm(self, page: str) -> Planned:
        population = self.population
        self.warm_turn += 1
        if page in (INBOX, INBOX2):  # the practice-wide inbox of the staff member
            return Planned(inbox_path(3 + self.warm_turn % 20), "staff", population.helper)
        if page in (PTHREAD, STHREAD):
            ref = population.warm_threads[self.warm_turn % len(population.warm_threads)]
            if page == PTHREAD:
                return Planned(patient_thread_path(ref), "patient", ref.patient.account)
            return Planned(staff_thread_path(ref), "staff", ref.provider)
        chart = population.warm[self.warm_turn % len(population.warm)]
        path = rp.floor_path(chart) if page == FLOOR else list_path(chart)
        return Planned(path, "patient", chart.account)

    def fresh_sessions(self, planned: list[Planned]) -> list[bytes]:
        """Each planned request with a session of its own, signed in and seen just now."""
        from django.utils.crypto import get_random_string

        alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
        entries, requests = [], []
        for item in planned:
            key = get_random_string(32, alphabet)
            entries.append((item.kind, key, item.account))
            requests.append(rp.raw_request(item.path, self.sessions.cookie(key, "")))
        self.sessions.write(entries)
        return requests

    def source(self, mode: str, page: str, requests: list[bytes]):
        """Requests in order; past the end, from the start again (counted: no longer first
        views of a session)."""
        position = 0

        def next_request() -> bytes:
            nonlocal position
            position += 1
            if position > len(requests):
                self.reused[(mode, page)] = self.reused.get((mode, page), 0) + 1
            return requests[(position - 1) % len(requests)]

        return next_request

    def cold_page(self, page: str) -> None:
        args = self.args
        warm = self.fresh_sessions([self.next_warm(page) for _ in range(300)])
        warmed = self.closed("cold", page, self.source("warm", page, warm), min(3.0, args.seconds))
        # Sessions for twice what the warm-up's pace would send, or for 1.5 times the floor's
        # pace in this mode (the rest are never used; a run that outpaces them reuses some,
        # counted and reported).
        pace = (len(warmed.latencies) + warmed.errors) / warmed.seconds
        ceiling = max(1.0, 2 * pace, 1.5 * self.floor_rate.get("cold", 0.0))
        budget = int(ceiling * args.seconds) + 4 * args.concurrency
        before = self.drawn_count(page)
        requests = self.fresh_sessions([self.next_cold(page) for _ in range(budget)])
        full = self.closed("cold", page, self.source("cold", page, requests), args.seconds)
        full.charts = min(budget, len(full.latencies) + full.errors)
        self.rewind(page, before + full.charts)  # what was planned but not sent: drawn later
        rp.report(full)
        half = None
        if page == FLOOR:
            self.floor_rate["cold"] = full.throughput
        else:
            rate = max(1.0, full.throughput / 2)
            count = max(1, int(rate * args.seconds))
            requests = self.fresh_sessions([self.next_cold(page) for _ in range(count)])
            half = self.open("cold", page, requests, rate)
            half.charts = count
            rp.report(half)
        self.keep("cold", page, full, half)

    def rewind(self, page: str, position: int) -> None:
        if page in (INBOX, INBOX2):
            self.inbox_turn = position
        else:
            self.orders["threads" if page in (PTHREAD, STHREAD) else page].position = position

    def drawn_count(self, page: str) -> int:
        if page in (INBOX, INBOX2):
            return self.inbox_turn
        order = self.orders["threads" if page in (PTHREAD, STHREAD) else page]
        return order.position

    def repeat_page(self, page: str) -> None:
        population, sessions = self.population, self.sessions
        provider = population.providers[0]
        if page in (INBOX, INBOX2):
            path = inbox_path(2 if page == INBOX2 else 1)
            requests = [rp.raw_request(path, sessions.cookie(provider.repeat_key, ""))]
        elif page == STHREAD:
            by_pk = {p.pk: p for p in population.providers}
            requests = [
                rp.raw_request(
                    staff_thread_path(ref), sessions.cookie(by_pk[ref.provider].repeat_key, "")
                )
                for ref in population.sample_threads
            ]
        else:
            paths = {
                FLOOR: [rp.floor_path(c) for c in population.samples],
                PLIST: [list_path(c) for c in population.samples],
                PTHREAD: [patient_thread_path(r) for r in population.sample_threads],
            }[page]
            requests = [
                rp.raw_request(path, sessions.cookie(chart.session, ""))
                for path, chart in zip(paths, population.samples, strict=True)
            ]
        sessions.write(
            [("patient", c.session, c.account) for c in population.samples]
            + [("staff", p.repeat_key, p.pk) for p in population.providers]
        )
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

    def measure(self) -> None:
        for round_ in range(self.args.rounds):
            if self.args.rounds > 1:
                print(f"-- round {round_ + 1} of {self.args.rounds}", flush=True)
            self.measure_bare()
            for mode in self.args.modes:
                for page in (FLOOR, *self.args.pages):
                    (self.cold_page if mode == "cold" else self.repeat_page)(page)


# ---------------------------------------------------------------------------------------------
# Memory of a 25 MB upload


class FormFields(HTMLParser):
    """The fields of the first form with a file input: names, the first real option of each
    select, the hidden inputs' values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self.select: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "fields": {}, "file": None, "selects": {}}
            )
        if not self.forms:
            return
        form = self.forms[-1]
        if tag == "input" and a.get("name"):
            kind = (a.get("type") or "text").lower()
            if kind == "file":
                form["file"] = a["name"]
            elif kind == "hidden" or (
                kind in ("radio", "checkbox")
                and ("checked" in a or a["name"] not in form["fields"])
            ):
                form["fields"][a["name"]] = a.get("value") or ""
        elif tag == "select":
            self.select = a.get("name")
        elif tag == "option" and self.select and a.get("value"):
            form["selects"].setdefault(self.select, a["value"])

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self.select = None

    def upload_form(self) -> dict | None:
        return next((f for f in self.forms if f["file"]), None)


def http(port: int, request: bytes, body_file: Path | None = None, tail: bytes = b""):
    """Send a request (with a file streamed from disk between its head and `tail`); the status,
    the headers and the body of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(request)
        if body_file is not None:
            with body_file.open("rb") as f:
                sock.sendfile(f)
            sock.sendall(tail)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1]) if lines and lines[0] else 0
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return status, headers, body


def worker_memory(master: int) -> dict[int, dict[str, int]]:
    """The gunicorn workers' VmHWM and VmRSS in kB (from /proc)."""
    found = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            status = Path(entry.path, "status").read_text()
        except OSError:
            continue
        values = dict(re.findall(r"^(\w+):\s+(\d+)", status, re.M))
        if values.get("PPid") == str(master):
            found[int(entry.name)] = {
                k: int(values[k]) for k in ("VmHWM", "VmRSS", "RssAnon", "RssFile")
            }
    return found


def multipart(form, csrf: str, file_path: Path, label: str) -> tuple[str, bytes, bytes]:
    """(boundary, what comes before the file, what comes after it) of the compose form's
    multipart body: its hidden fields, the first choice of each list, a subject and a text."""
    boundary = f"----bench{uuid.uuid4().hex}"
    parts = []
    fields = dict(form["fields"])
    fields.update({name: value for name, value in form["selects"].items()})
    fields.update(subject=f"Bench upload ({label})", body="Please see the attached file.")
    fields["csrfmiddlewaretoken"] = csrf
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{form["file"]}"; '
        f'filename="{file_path.name}"\r\nContent-Type: application/pdf\r\n\r\n'
    )
    return boundary, "".join(parts).encode(), f"\r\n--{boundary}--\r\n".encode()


def post_message(port, sessions, chart, csrf, form, file_path: Path, label: str) -> int:
    boundary, preamble, tail = multipart(form, csrf, file_path, label)
    length = len(preamble) + file_path.stat().st_size + len(tail)
    path = form["action"] or new_message_path(chart)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        f"Cookie: {sessions.cookie(chart.session, csrf)}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
        f"Content-Length: {length}\r\n\r\n"
    ).encode()
    status, headers, body = http(port, head + preamble, file_path, tail)
    if status not in (302, 303):
        errors = re.findall(rb'class="[^"]*error[^"]*"[^>]*>([^<]{0,200})', body)
        print(f"memory: posting {label}: answer {status} {errors[:3]}", flush=True)
    return status


def measure_memory(args, population: Population, sessions: rp.Sessions) -> dict:
    """A one-worker server: a small message, then three with 25 MB each; the worker's peak RSS
    before and after each. Then a second one-worker server tracing Python's allocations
    (BENCH_TRACEMALLOC, bench/floor_wsgi.py): a small message, then one of 25 MB, and the
    peak of Python's own allocations during each."""
    from django.db import connections

    from portico.messaging import attachments
    from portico.messaging.models import Attachment

    chart = population.memory_chart
    chart.session = sessions.key("msg-memory", chart.account)
    csrf = sessions.new_csrf()
    sessions.write([("patient", chart.session, chart.account)])
    folder = rp.REPO / "var" / "bench_messaging_files"
    folder.mkdir(parents=True, exist_ok=True)
    small, big = folder / "small.pdf", folder / "large.pdf"
    pdf_head = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    small.write_bytes(pdf_head + b"%" + b"x" * 2000 + b"\n%%EOF\n")
    if not big.exists() or big.stat().st_size != attachments.MAX_BYTES:
        with big.open("wb") as f:  # exactly the limit: 25 MB
            f.write(pdf_head)
            block = (b"% " + b"bench padding " * 4680 + b"\n")[:65536]
            left = attachments.MAX_BYTES - len(pdf_head) - 7
            while left > 0:
                f.write(block[:left])
                left -= min(left, len(block))
            f.write(b"\n%%EOF\n")
    result: dict = {"file_bytes": big.stat().st_size}
    before_count = Attachment.objects.count()
    connections.close_all()
    for traced, steps in (
        (False, [("small", small), ("25 MB", big), ("25 MB again", big), ("25 MB third", big)]),
        (True, [("small", small), ("25 MB", big)]),
    ):
        port = rp.free_port()
        server = rp.start_gunicorn(
            args.database_url,
            port,
            1,
            rp.REPO / "var" / "bench_messaging_memory.log",
            {"BENCH_TRACEMALLOC": "1"} if traced else {},
        )
        try:
            readings = upload_steps(port, server.pid, sessions, chart, csrf, steps, traced)
        finally:
            rp.stop(server)
        if isinstance(readings, str):
            result["error"] = readings
            return result
        result["traced" if traced else "readings"] = readings
    stored = list(
        Attachment.objects.filter(id__gt=0)
        .order_by("-id")
        .values_list("file", "size")[: Attachment.objects.count() - before_count]
    )
    files = [rp.REPO / "var" / "attachments" / name for name, _size in stored]
    sizes = [f.stat().st_size for f in files if f.exists()]
    result.update(attachments_made=len(stored), stored_sizes=sizes)
    print(f"memory: {len(stored)} attachments made, files stored of {sizes} bytes", flush=True)
    for f in files:  # the bench's own files: removed (the rows stay, like the bulk ones)
        f.unlink(missing_ok=True)
    connections.close_all()
    return result


def upload_steps(port, master, sessions, chart, csrf, steps, traced: bool) -> list[dict] | str:
    """Post each (label, file) as a new message from the compose page's form; per post the
    worker's memory from /proc, and with `traced` Python's peak (/bench-memory/)."""
    status, _h, body = http(
        port, rp.raw_request(new_message_path(chart), sessions.cookie(chart.session, csrf))
    )
    parser = FormFields()
    parser.feed(body.decode(errors="replace"))
    form = parser.upload_form() if status == 200 else None
    if form is None:
        print(f"memory: the compose page answers {status} without an upload form", flush=True)
        return f"compose page answered {status}, no upload form"
    if not traced:
        print(f"memory: compose form fields {sorted(form['fields'])} {form['selects']}")
    (pid,) = worker_memory(master)
    readings = []
    for label, file_path in steps:
        held = 0
        if traced:  # what the worker holds now (and the peak reset)
            _s, _h, answer = http(port, rp.raw_request("/bench-memory/", None))
            held = int(answer.split()[0])
        before = worker_memory(master)[pid]
        started = time.monotonic()
        status = post_message(port, sessions, chart, csrf, form, file_path, label)
        took = time.monotonic() - started
        after = worker_memory(master).get(pid)
        if after is None:
            return f"the worker was replaced during {label}"
        reading = {
            "what": label,
            "status": status,
            "seconds": round(took, 2),
            "hwm_before_kb": before["VmHWM"],
            "hwm_after_kb": after["VmHWM"],
            "hwm_growth_kb": after["VmHWM"] - before["VmHWM"],
            "rss_after_kb": after["VmRSS"],
            "anon_growth_kb": after["RssAnon"] - before["RssAnon"],
        }
        line = (
            f"memory: {label:>12}: answer {status} in {took:.2f} s; worker peak RSS "
            f"{before['VmHWM'] / 1024:.1f} -> {after['VmHWM'] / 1024:.1f} MB (RSS now "
            f"{after['VmRSS'] / 1024:.1f} MB, anonymous "
            f"{(after['RssAnon'] - before['RssAnon']) / 1024:+.1f})"
        )
        if traced:
            _s, _h, answer = http(port, rp.raw_request("/bench-memory/", None))
            current, peak = (int(x) for x in answer.split())
            reading["python_peak_kb"] = (peak - held) // 1024
            line = (
                f"memory: {label:>12} (traced worker): answer {status}; Python's allocations "
                f"peaked at {(peak - held) / 1024 / 1024:.2f} MB above what the worker held "
                f"before ({held / 1024 / 1024:.1f} MB; {current / 1024 / 1024:.1f} MB after)"
            )
        readings.append(reading)
        print(line, flush=True)
    return readings


# ---------------------------------------------------------------------------------------------
# Where the time goes (--profile PAGE): first views in-process, under cProfile


def profile_page(args, population: Population, sessions: rp.Sessions) -> None:
    """`--profile-views` first views of one page in-process with Django's test client (each a
    new session, as in cold mode): the time in SQL (each query's own time), the queries, and
    cProfile's top functions by their own time and cumulative time."""
    import cProfile
    import io
    import pstats

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    page = SHORT[args.profile]
    run = Run.__new__(Run)  # only its cold draws
    run.population, run.inbox_turn = population, 0
    seed = int(time.time())
    run.orders = {
        PLIST: rp.Permutation(len(population.patients), seed=seed),
        "threads": rp.Permutation(len(population.threads), seed=seed + 1),
    }
    clients = []
    for _ in range(args.profile_views):
        item = run.next_cold(page)
        key = sessions.key(f"msg-profile-{time.time_ns()}", item.account)
        sessions.write([(item.kind, key, item.account)])
        client = Client()
        client.cookies[sessions.cookie_name] = key
        clients.append((client, item.path))
    profiler = cProfile.Profile()
    sql_ms, queries, wall = 0.0, 0, 0.0
    by_sql: dict[str, list[float]] = {}
    for client, path in clients:
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as captured:
            profiler.enable()
            response = client.get(path)
            profiler.disable()
        wall += time.perf_counter() - started
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
        f"profile {page}: {n} first views in-process, {wall / n * 1000:.1f} ms each "
        f"(under cProfile), {queries / n:.0f} queries taking {sql_ms / n:.1f} ms (as timed by "
        "Django's debug cursor, the SQL and fetching the rows)"
    )
    for sql, times in sorted(by_sql.items(), key=lambda kv: -sum(kv[1]))[:12]:
        print(f"  {sum(times) / n:6.2f} ms/view  x{len(times) / n:.1f}  {sql}")
    for order, restrict in (("tottime", 25), ("cumulative", 30), ("cumulative", "/portico/")):
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats(order)
        if isinstance(restrict, str):  # Portico's own functions, then the first 30
            stats.print_stats(restrict, 30)
        else:
            stats.print_stats(restrict)
        text = out.getvalue()
        print(text[text.index("   ncalls") :] if "   ncalls" in text else text)


# ---------------------------------------------------------------------------------------------
# Output


def tabulate(run: Run | None, counts, memory, args) -> tuple[list[str], list[dict], list[dict]]:
    lines = [
        "| Mode | Page | req/s | % of floor | p50 / p99 at half load (ms) | Half load (req/s) "
        "| Server CPU per request (ms) | Floor's CPU / page's | Queries first view / repeat "
        "| Drawn |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    figures, targets = [], []
    results = run.results if run is not None else {}
    bares = [full for full, _h in results.get(("-", BARE), [])]
    for (mode, page), rounds in results.items():
        floors = [full for full, _h in results.get((mode, FLOOR), [])]
        shares = (
            [
                rp.share(f.throughput, fl.throughput)
                for (f, _h), fl in zip(rounds, floors, strict=True)
            ]
            if page in PAGES
            else [
                rp.share(f.throughput, b.throughput)
                for (f, _h), b in zip(rounds, bares, strict=True)
            ]
            if page == FLOOR
            else []
        )
        pct = rp.median(shares) if shares else None
        full, half = sorted(rounds, key=lambda r: r[0].throughput)[(len(rounds) - 1) // 2]
        p50 = rp.median([h.pct(50) for _f, h in rounds if h]) if half else float("nan")
        p99 = rp.median([h.pct(99) for _f, h in rounds if h]) if half else float("nan")
        cpu = rp.median([f.cpu_ms for f, _h in rounds])
        cpu_shares = (
            [rp.share(fl.cpu_ms, f.cpu_ms) for (f, _h), fl in zip(rounds, floors, strict=True)]
            if page in PAGES
            else []
        )
        db = rp.median([f.db_cpu_ms for f, _h in rounds])
        spread = f" ({min(shares):.0f}–{max(shares):.0f})" if len(shares) > 1 else ""
        if page in PAGES:
            pct_col = f"**{pct:.0f}%**{spread}"
        elif page == FLOOR:
            pct_col = f"— ({pct:.0f}% of bare)"
        else:
            pct_col = "—"
        queries = (
            ", ".join(f"{size}: {first} / {again}" for size, first, again in counts.get(page, []))
            or "—"
        )
        drawn = "—"
        if mode == "cold" and page != BARE:
            n = sum(f.charts + (h.charts if h else 0) for f, h in rounds)
            again = run.reused.get((mode, page), 0)
            drawn = f"{n:,}" + (f" ({again:,} sessions reused)" if again else "")
        lines.append(
            f"| {mode} | {page} | {full.throughput:.0f} | {pct_col} | "
            + (f"{p50:.1f} / **{p99:.1f}** | {half.throughput:.0f}" if half else "— | —")
            + f" | {cpu:.2f}"
            + (f" ({db:.2f} database)" if db == db else "")
            + (f" | {rp.median(cpu_shares):.0f}%" if cpu_shares else " | —")
            + f" | {queries if mode != 'repeat' else '″'} | {drawn} |"
        )
        figures.append(
            {
                "mode": mode,
                "page": page,
                "throughput": round(full.throughput, 1),
                "pct_floor": None if pct is None or page not in PAGES else round(pct, 1),
                "p50_half_ms": None if not half else round(p50, 2),
                "p99_half_ms": None if not half else round(p99, 2),
                "server_cpu_ms_per_request": round(cpu, 3),
                "database_cpu_ms_per_request": round(db, 3),
                "floor_cpu_pct_of_page": round(rp.median(cpu_shares), 1) if cpu_shares else None,
                "rounds": [
                    {"full": f.summary(), "half": h.summary() if h else None} for f, h in rounds
                ],
            }
        )
        if any(f.errors or (h and h.errors) for f, h in rounds):
            targets.append({"what": f"{mode} {page}: no error answers", "met": False})
        if page in PAGES:
            targets.append(
                {
                    "what": f"{mode} {page}: throughput >= {TARGET_SHARE:.0f}% of the rules floor",
                    "value": round(pct, 1),
                    "met": pct >= TARGET_SHARE,
                }
            )
            targets.append(
                {
                    "what": f"{mode} {page}: p99 < {P99_LIMIT_MS:.0f} ms at half load",
                    "value": round(p99, 1),
                    "met": p99 < P99_LIMIT_MS,
                }
            )
    for page in LIST_PAGES:
        cases = counts.get(page, [])
        values = sorted({n for _s, first, again in cases for n in (first, again)})
        firsts = sorted({first for _s, first, _a in cases})
        agains = sorted({again for _s, _f, again in cases})
        if cases:
            targets.append(
                {
                    "what": f"queries of the {page} fixed whatever the sizes",
                    "value": values,
                    "met": len(firsts) == 1 and len(agains) == 1 and min(values) > 0,
                }
            )
    if memory is not None:
        large = [r for r in memory.get("readings", []) if r["what"].startswith("25 MB")]
        traced = [r for r in memory.get("traced", []) if r["what"].startswith("25 MB")]
        ok = bool(large) and all(r["status"] in (302, 303) for r in large + traced)
        ok = ok and memory.get("stored_sizes", []).count(memory["file_bytes"]) == 4
        growth = max((r["hwm_growth_kb"] for r in large), default=None)
        python = max((r["python_peak_kb"] for r in traced), default=None)
        targets.append(
            {
                "what": "a 25 MB attachment is stored whole and grows the web worker's peak RSS "
                f"by less than {args.memory_limit_mb:g} MB",
                "value": None
                if growth is None
                else f"{growth / 1024:.1f} MB at most over three; Python's own allocations "
                f"peaked {(python or 0) / 1024:.2f} MB above what the worker held",
                "met": ok and growth is not None and growth < args.memory_limit_mb * 1024,
            }
        )
    return lines, figures, targets


def main() -> int:
    default_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{rp.REPO / 'var' / 'bench_messaging.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--patients", type=int, help="default 40,000 (PostgreSQL), 4,000")
    parser.add_argument("--threads", type=int, help="default 200,000 (PostgreSQL), 20,000")
    parser.add_argument("--messages", type=int, help="default 1,000,000 (PostgreSQL), 100,000")
    parser.add_argument("--providers", type=int, default=12)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--modes", default="cold,repeat")
    parser.add_argument(
        "--pages", default=",".join(SHORT), help=f"of {', '.join(SHORT)} (comma-separated)"
    )
    parser.add_argument("--memory-limit-mb", type=float, default=5.0)
    parser.add_argument("--no-memory", action="store_true", help="skip the 25 MB upload")
    parser.add_argument("--no-load", action="store_true", help="only data, queries and memory")
    parser.add_argument("--data-only", action="store_true", help="prepare the data and stop")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--profile", choices=SHORT, help="profile this page's first views")
    parser.add_argument("--profile-views", type=int, default=200)
    args = parser.parse_args()
    big = postgres(args.database_url)
    args.patients = args.patients or (40_000 if big else 4_000)
    args.threads = args.threads or (200_000 if big else 20_000)
    args.messages = args.messages or (1_000_000 if big else 100_000)
    args.modes = [m for m in ("cold", "repeat") if m in args.modes.split(",")]
    args.pages = [SHORT[p] for p in SHORT if p in args.pages.split(",")]
    loadavg_start = os.getloadavg()
    started_at = dt.datetime.now(dt.UTC)

    (rp.REPO / "var").mkdir(exist_ok=True)
    rp.setup_django(args.database_url)
    ensure_data(args)
    if args.data_only:
        return 0
    from django.contrib.auth import get_user_model
    from django.db import connections

    sessions = rp.Sessions()
    population = load_population(args, sessions)
    check_paths(population)
    user_model = get_user_model()
    sessions.learn("patient", user_model.objects.get(pk=population.warm[0].account))
    sessions.learn("staff", user_model.objects.get(pk=population.providers[0].pk), then="/ehr/")
    print(
        f"population: {len(population.patients):,} patients and {len(population.threads):,} "
        f"threads measured, {len(population.warm):,} warm-up patients "
        f"({len(population.warm_threads):,} threads), {len(population.providers)} providers",
        flush=True,
    )
    if args.profile:
        profile_page(args, population, sessions)
        return 0
    counts = count_queries(population, sessions)
    for page, cases in counts.items():
        print(
            f"queries {page}: "
            + ", ".join(f"{size}: {first} / {again}" for size, first, again in cases)
        )
    connections.close_all()

    run = None
    if not args.no_load:
        seed = int(time.time())
        orders = {
            FLOOR: rp.Permutation(len(population.patients), seed=seed),
            PLIST: rp.Permutation(len(population.patients), seed=seed + 1),
            "threads": rp.Permutation(len(population.threads), seed=seed + 2),
        }
        port = rp.free_port()
        server = rp.start_gunicorn(
            args.database_url,
            port,
            args.workers,
            rp.REPO / "var" / "bench_messaging_gunicorn.log",
            {},
        )
        database = args.database_url.rsplit("/", 1)[-1] if big else None
        run = Run(args, port, population, sessions, orders, rp.ServerCpu(server.pid, database))
        try:
            run.measure()
        finally:
            rp.stop(server)
            connections.close_all()
        rp.vacuum_sessions(sessions.model)

    memory = None if args.no_memory else measure_memory(args, population, sessions)
    loadavg_end = os.getloadavg()
    lines, figures, targets = tabulate(run, counts, memory, args)
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"{platform.python_implementation()} {platform.python_version()}); code "
        f"{rp.CODE} at {rp.git_commit(rp.CODE)}; database {args.database_url.split('://')[0]}, "
        f"{args.patients:,} charts, {args.threads:,} threads, {args.messages:,} messages, "
        f"{args.providers} providers; gunicorn {args.workers} sync workers, client concurrency "
        f"{args.concurrency}, {args.seconds:g} s per measurement, {args.rounds} round(s); load "
        f"average {' '.join(f'{x:.2f}' for x in loadavg_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in loadavg_end)} at the end"
    )
    print()
    print("\n".join(lines))
    print()
    ok = rp.print_targets(targets)
    if args.json:
        summary = {
            "started": f"{started_at:%Y-%m-%dT%H:%M:%SZ}",
            "host": platform.node(),
            "cpus": os.cpu_count(),
            "code": f"{rp.CODE} at {rp.git_commit(rp.CODE)}",
            "database": args.database_url.split("://")[0],
            "sizes": {
                "patients": args.patients,
                "threads": args.threads,
                "messages": args.messages,
                "providers": args.providers,
            },
            **rp.run_settings(args, loadavg_start, loadavg_end),
            "rounds": args.rounds,
            "queries": counts,
            "figures": figures,
            "memory": memory,
            "targets": targets,
            "ok": ok,
        }
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
