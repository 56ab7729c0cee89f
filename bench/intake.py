"""Benchmark: patient intake (issue 18) — saving a page of answers, and the staff's day list.

    .venv/bin/python bench/intake.py                      # SQLite (var/bench_intake.sqlite3)
    .venv/bin/python bench/intake.py --database-url postgres://postgres@127.0.0.1:5432/portico_bench_intake
    # --parts save,day (default both), --seconds S, --json F, --data-only,
    # --save-path bench|page (see "Where the save goes" below)

The data (made once and kept; a later run reuses it), in two practices:
* "bench-intake-save": --patients (24) charts with a registered portal account, each with an
  upcoming appointment and two open forms: one of a 60-question template (5 sections of 12:
  short and long text, yes/no, single and multiple choice, date, number, in turn) and one of
  a 10-question template of the same kinds;
* "bench-intake-day": --appointments (2,000) appointments on one day (50 providers, 15-minute
  visits, one chart each), three in four with a form (waiting, started, submitted, processed
  in turn), and 20 appointments with forms on the next day.

Parts:
1. **save** — served by gunicorn as the other page benches serve theirs (`gunicorn.conf.py`,
   2 x CPUs sync workers, DEBUG=0, bench/floor_wsgi.py's routes), each request a signed-in
   patient (a session written as rp.Sessions writes them) POSTing one section (12 answers) of
   their 60-question form; forms drawn in turn so that no two requests at a time lock one form.
   Measured beside the bare view (`/healthz`) and the **rules floor** (`/bench-floor/<access>/`:
   middleware, the record pages' access check, one audit row, "ok"). A closed loop (8 at a
   time) for throughput, then an open loop at half of it for p50/p99 from each request's
   planned start. Queries are counted in-process (Django's test client, same route and
   session) for saving every answer of the 10-question form and of the 60-question form: the
   same number is the target. Targets: p99 < 50 ms at half load; the same query count.
2. **day** — `intake.selectors.intake_day` (what the staff "Intake" list and
   GET /api/v1/intake/forms read) for the day of 2,000 appointments and for the day of 20:
   queries counted (the same: the target), and the time of the call with its rows iterated
   (every appointment, its patient, provider and forms touched), in-process, p50 / p99 of
   --day-calls calls.

Where the save goes (--save-path):
* `bench` (what the page does, without its template, for comparison): this module, loaded
  by gunicorn as `intake:application` (floor_wsgi plus one route), adds
  `/bench-intake-save/<access id>/<form id>/`: the record pages' own access check
  (records.views.patient_record_view, through bench/compat.py), the form looked up through
  `intake.selectors.form_of_patient`, the posted fields read as answers, and
  `intake.services.form_save` — what the page does, without its template. CSRF-exempt.
* `page` (the default): POST to `intake:patient_form`
  (`portal/records/<access id>/check-in/<form id>/`), the real page, with the CSRF cookie
  and `csrfmiddlewaretoken`: one section's answers under the page's field names
  (`intake.fill.field_name`), its section number and "Save and continue"
  (`section_fields()`). A redirect (the page's answer to a good save) counts as success.
  Its queries are counted for the first section of each form (10 questions of a 10-question
  form, 12 of a 60-question form).

Exit 1 if a target is missed. Prints Markdown tables for docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import types
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

BENCH_DIR = Path(__file__).resolve().parent
if str(BENCH_DIR) not in sys.path:
    sys.path.insert(0, str(BENCH_DIR))

SAVE_PREFIX = "bench-intake-save"
DAY_PREFIX = "bench-intake-day"
BIG, SMALL = "Bench 60 questions", "Bench 10 questions"
KINDS = ("short_text", "long_text", "yes_no", "single_choice", "multiple_choice", "date", "number")
SECTION_SIZE = 12
P99_LIMIT_MS = 50.0
SAVE = "save a page (12 answers)"
FLOOR_NAME = "rules floor"
DAY = dt.date(2031, 3, 4)  # a Tuesday, far enough ahead to stay upcoming
SMALL_DAY_COUNT = 20
PROVIDERS = 50


# ---------------------------------------------------------------------------------------------
# Served by gunicorn: floor_wsgi's application plus the bench's save route


def _install_save_route() -> None:
    from django.core.exceptions import PermissionDenied
    from django.http import Http404, HttpResponse
    from django.urls import clear_url_caches, path
    from django.views.decorators.csrf import csrf_exempt
    from django.views.decorators.http import require_POST

    import compat  # isort: skip
    import portico.urls  # isort: skip
    from portico.intake import definition as defs
    from portico.intake import selectors, services

    patient_record_view = compat.patient_record_view()

    @csrf_exempt
    @require_POST
    @patient_record_view
    def save(request, access, _accesses, form_id):
        form = selectors.form_of_patient(access.patient, form_id)
        if form is None:
            raise Http404
        by_key = defs.question_map(form.definition)
        answers = {}
        for key in request.POST:
            if key == "csrfmiddlewaretoken":
                continue
            question = by_key.get(key)
            multiple = question is not None and question["type"] == "multiple_choice"
            answers[key] = request.POST.getlist(key) if multiple else request.POST.get(key)
        try:
            services.form_save(request.user, form=form, answers=answers)
        except defs.AnswerErrors as exc:
            return HttpResponse(json.dumps(exc.errors), status=400, content_type="text/plain")
        except PermissionDenied:
            return HttpResponse("closed", status=409, content_type="text/plain")
        return HttpResponse("ok", content_type="text/plain")

    if not any(getattr(p, "name", "") == "bench_intake_save" for p in portico.urls.urlpatterns):
        portico.urls.urlpatterns.append(
            path(
                "bench-intake-save/<uuid:access_id>/<uuid:form_id>/",
                save,
                name="bench_intake_save",
            )
        )
        clear_url_caches()


if __name__ != "__main__":  # gunicorn: `--pythonpath bench intake:application`
    from floor_wsgi import application  # noqa: F401 (Portico's app with the floor routes)

    _install_save_route()


# ---------------------------------------------------------------------------------------------
# Data


def definition(questions: int) -> dict:
    sections = []
    for s in range(0, questions, SECTION_SIZE):
        qs = []
        for n in range(s, min(s + SECTION_SIZE, questions)):
            kind = KINDS[n % len(KINDS)]
            q = {"key": f"q{n}", "type": kind, "text": f"Question {n}", "required": n % 3 == 0}
            if kind in ("single_choice", "multiple_choice"):
                q["choices"] = [{"value": f"c{i}", "label": f"Choice {i}"} for i in range(5)]
            if kind == "number":
                q.update(unit="kg", min="0", max="500", decimals=1)
            qs.append(q)
        sections.append({"key": f"s{s // SECTION_SIZE}", "title": f"Part {s // SECTION_SIZE}",
                         "questions": qs})  # fmt: skip
    return {"sections": sections}


def section_fields(args, row: dict, index: int, turn: int) -> list[tuple[str, str]]:
    """The POST body saving section `index` of a form: the page's own field names, its section
    number and its "Save and continue" (--save-path page), or the bare answers (bench)."""
    fields = answer_fields(row["sections"][index], turn)
    if args.save_path != "page":
        return fields
    from portico.intake.fill import field_name

    return [(field_name(key), value) for key, value in fields] + [
        ("section", str(index + 1)),
        ("action", "continue"),
    ]


def answer_fields(questions: list[dict], turn: int) -> list[tuple[str, str]]:
    """The answers of a page, as `<question key>=<value>` (a multiple choice repeated)."""
    fields: list[tuple[str, str]] = []
    for q in questions:
        kind = q["type"]
        if kind == "short_text":
            fields.append((q["key"], f"Answer {turn}"))
        elif kind == "long_text":
            fields.append((q["key"], f"A longer answer, number {turn}.\nWith a second line."))
        elif kind == "yes_no":
            fields.append((q["key"], "yes" if turn % 2 else "no"))
        elif kind == "single_choice":
            fields.append((q["key"], f"c{turn % 5}"))
        elif kind == "multiple_choice":
            fields += [(q["key"], "c1"), (q["key"], f"c{2 + turn % 3}")]
        elif kind == "date":
            fields.append((q["key"], f"2025-0{1 + turn % 9}-1{turn % 10}"))
        elif kind == "number":
            fields.append((q["key"], f"{60 + turn % 40}.5"))
    return fields


def ensure_data(args) -> None:
    import scheduling as sb

    from portico.practices.models import Practice

    sb.ensure_bench_data(
        args,
        prefix="bench-intake",
        generate=lambda a: (make_save_data(a), make_day_data(a)),
        check_sizes=lambda a: print(
            f"data: reusing {Practice.objects.filter(slug__startswith='bench-intake').count()} "
            "bench intake practices",
            flush=True,
        ),
    )


def make_save_data(args) -> None:
    from django.utils import timezone

    from portico.intake import services
    from portico.intake.models import IntakeForm
    from portico.practices.models import Role
    from portico.scheduling.models import Appointment
    from tests import factories

    practice = factories.make_practice("Bench intake save", slug=SAVE_PREFIX)
    admin = factories.make_admin(practice, email="admin@bench-intake.test")
    provider = factories.make_staff(practice, role=Role.PROVIDER, credential="MD")
    big = services.template_create(admin, practice=practice, name=BIG, definition=definition(60))
    small = services.template_create(
        admin, practice=practice, name=SMALL, definition=definition(10)
    )
    start = timezone.now() + dt.timedelta(days=30)
    for n in range(args.patients):
        patient = factories.make_patient(practice)
        factories.enroll(admin, patient, email=f"bench-intake-{n}@example.test")
        appointment = Appointment.objects.create(
            practice=practice, patient=patient, provider=provider, visit_type="New patient",
            start_at=start + dt.timedelta(minutes=30 * n),
            end_at=start + dt.timedelta(minutes=30 * n + 20), status="booked",
        )  # fmt: skip
        for template in (big, small):
            IntakeForm.objects.create(
                practice=practice, patient=patient, appointment=appointment, template=template,
                version=template.current_version,
            )  # fmt: skip
    print(f"data: {args.patients} enrolled charts with a 60- and a 10-question form", flush=True)


def make_day_data(args) -> None:
    import zoneinfo

    from django.contrib.auth.hashers import make_password

    from portico.accounts.models import User
    from portico.charts.models import Patient
    from portico.intake import services
    from portico.intake.models import FormStatus, IntakeForm
    from portico.practices.models import Membership, Role
    from portico.scheduling.models import Appointment
    from tests import factories

    practice = factories.make_practice("Bench intake day", slug=DAY_PREFIX)
    admin = factories.make_admin(practice, email="admin@bench-intake-day.test")
    template = services.ready_template_install(admin, practice=practice, which="new_patient")
    password = make_password("bench-password-never-used-to-sign-in")
    users = User.objects.bulk_create(
        User(
            email=f"provider{n}@bench-intake-day.test", full_name=f"Provider {n}", password=password
        )  # fmt: skip
        for n in range(PROVIDERS)
    )
    Membership.objects.bulk_create(
        Membership(user=u, practice=practice, role=Role.PROVIDER, credential="MD") for u in users
    )
    total = args.appointments + SMALL_DAY_COUNT
    patients = Patient.objects.bulk_create(
        Patient(practice=practice, legal_first_name="Pat", legal_last_name=f"Day{n:05d}",
                date_of_birth=dt.date(1950 + n % 60, 1 + n % 12, 1 + n % 28), sex="female")
        for n in range(total)
    )  # fmt: skip
    zone = zoneinfo.ZoneInfo(practice.time_zone)
    appointments = []
    per_provider = -(-args.appointments // PROVIDERS)  # a provider's visits in the day
    for n, patient in enumerate(patients):
        day = DAY if n < args.appointments else DAY + dt.timedelta(days=1)
        index = n if n < args.appointments else n - args.appointments
        # One provider's visits one after the other: none overlaps (PostgreSQL's exclusion
        # constraint would refuse the batch).
        slot, provider = index % per_provider, users[index // per_provider]
        start = dt.datetime.combine(day, dt.time(7), tzinfo=zone) + dt.timedelta(minutes=15 * slot)
        appointments.append(
            Appointment(practice=practice, patient=patient, provider=provider,
                        visit_type="New patient", start_at=start,
                        end_at=start + dt.timedelta(minutes=15), status="booked")
        )  # fmt: skip
    appointments = Appointment.objects.bulk_create(appointments, batch_size=500)
    statuses = [FormStatus.SENT, FormStatus.STARTED, FormStatus.SUBMITTED, FormStatus.PROCESSED]
    IntakeForm.objects.bulk_create(
        (
            IntakeForm(practice=practice, patient_id=a.patient_id, appointment=a,
                       template=template, version=template.current_version,
                       status=statuses[n % 4])
            for n, a in enumerate(appointments)
            if n % 4 != 3
        ),
        batch_size=500,
    )  # fmt: skip
    print(
        f"data: {args.appointments:,} appointments on {DAY} and {SMALL_DAY_COUNT} the day after",
        flush=True,
    )


# ---------------------------------------------------------------------------------------------
# Part 1: saving a page


def save_population(args, sessions):
    """(access public id, form public id, session key, csrf, questions by section) for each
    enrolled chart's 60-question form, plus the same for the 10-question forms."""
    from portico.intake import definition as defs
    from portico.intake.models import IntakeForm
    from portico.portal.models import PortalAccess

    accesses = {
        a.patient_id: a
        for a in PortalAccess.objects.filter(patient__practice__slug=SAVE_PREFIX).select_related(
            "account"
        )
    }
    first = next(iter(accesses.values()))
    sessions.learn("patient", first.account)
    sessions.account_hashes([a.account_id for a in accesses.values()])
    rows = {BIG: [], SMALL: []}
    forms = IntakeForm.objects.filter(practice__slug=SAVE_PREFIX).select_related(
        "version", "template"
    )
    entries = []
    for form in forms.order_by("id"):
        access = accesses[form.patient_id]
        key = sessions.key("patient", access.account_id)
        csrf = sessions.new_csrf()
        entries.append(("patient", key, access.account_id))
        rows[form.template.name].append(
            {
                "access": str(access.public_id),
                "form": str(form.public_id),
                "session": key,
                "csrf": csrf,
                "sections": [s["questions"] for s in defs.sections(form.version.definition)],
            }
        )
    sessions.write(entries)
    return rows


def save_path(args, row: dict) -> str:
    if args.save_path == "page":
        from django.urls import reverse

        return reverse(
            "intake:patient_form", kwargs={"access_id": row["access"], "form_id": row["form"]}
        )
    return f"/bench-intake-save/{row['access']}/{row['form']}/"


def post_request(path: str, cookies: str, fields: list[tuple[str, str]], csrf: str) -> bytes:
    body = urlencode([("csrfmiddlewaretoken", csrf), *fields]).encode()
    head = [
        f"POST {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Connection: close",
        f"Cookie: {cookies}",
        "Content-Type: application/x-www-form-urlencoded",
        f"Content-Length: {len(body)}",
        "Origin: http://127.0.0.1",
        "Referer: http://127.0.0.1/",
    ]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def count_save_queries(args, rows, sessions) -> dict[str, int]:
    """Queries of saving every answer of a form, in-process through the same route."""
    from django.conf import settings
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if args.save_path == "bench":
        import floor_wsgi  # noqa: F401 (the floor routes, in this process too)

        _install_save_route()
    counts = {}
    for name in (SMALL, BIG):
        row = rows[name][-1]
        client = Client(enforce_csrf_checks=False)
        client.cookies[settings.SESSION_COOKIE_NAME] = row["session"]
        if args.save_path == "page":  # the page saves one section: the first of each form
            fields = section_fields(args, row, 0, 7)
        else:
            fields = answer_fields([q for s in row["sections"] for q in s], 7)
        data: dict[str, list[str]] = {}
        for key, value in fields:
            data.setdefault(key, []).append(value)
        client.post(save_path(args, row), data)  # the first use of the code, not counted
        with CaptureQueriesContext(connection) as queries:
            response = client.post(save_path(args, row), data)
        if response.status_code not in (200, 302, 303):
            sys.exit(f"saving {name} answered {response.status_code}: {response.content[:300]!r}")
        where = response.get("Location", "")
        if args.save_path == "page" and "/check-in/" not in where:
            sys.exit(f"saving {name} did not move on to the form's next page: {where!r}")
        counts[name] = len(queries)
    return counts


def start_server(args, port: int):
    import record_pages as rp

    if args.save_path == "page":
        # The page answers a good save with a redirect to the next section (the in-process
        # count above checked that it is that redirect, not one to the sign-in page).
        rp.OK_STATUSES = {200, 302}
        return rp.start_gunicorn(
            args.database_url, port, args.workers, rp.REPO / "var" / "bench_intake.log", {}
        )
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PORTICO_", "DJANGO_")) and k not in {"DEBUG", "ALLOWED_HOSTS"}
    }
    env.update(
        DATABASE_URL=args.database_url, SECRET_KEY=os.environ.get("SECRET_KEY", rp.SECRET_KEY),
        DEBUG="0", ALLOWED_HOSTS="127.0.0.1", PORTICO_BASE_URL=f"http://127.0.0.1:{port}",
        PORTICO_VAR_DIR=str(rp.REPO / "var"), SESSION_COOKIE_SECURE="0", LOG_LEVEL="WARNING",
    )  # fmt: skip
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(rp.CODE), env.get("PYTHONPATH")) if p)
    command = [
        sys.executable, "-m", "gunicorn", "intake:application", "--pythonpath", str(BENCH_DIR),
        "-c", str(rp.CODE / "gunicorn.conf.py"), "--bind", f"127.0.0.1:{port}",
        "--workers", str(args.workers), "--no-control-socket",
    ]  # fmt: skip
    log = rp.REPO / "var" / "bench_intake.log"
    process = subprocess.Popen(  # noqa: S603
        command, cwd=rp.CODE, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"gunicorn exited:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/bench-code/", timeout=2):  # noqa: S310
                return process
        except OSError:
            time.sleep(0.3)
    rp.stop(process)
    sys.exit("gunicorn did not start")


def part_save(args) -> dict:
    import record_pages as rp
    from django.db import connections

    sessions = rp.Sessions()
    rows = save_population(args, sessions)
    counts = count_save_queries(args, rows, sessions)
    big = rows[BIG]
    # The requests: each form's sections in turn, forms interleaved (no two at a time on one).
    saves, floors = [], []
    for turn in range(40):
        for row in big:
            index = turn % len(row["sections"])
            cookies = sessions.cookie(row["session"], row["csrf"])
            body = section_fields(args, row, index, turn)
            saves.append(post_request(save_path(args, row), cookies, body, row["csrf"]))
            if turn == 0:
                floors.append(rp.raw_request(f"/bench-floor/{row['access']}/", cookies))
    connections.close_all()
    port = rp.free_port()
    server = start_server(args, port)
    run = rp.Run(args, port, types.SimpleNamespace(warm=[]), sessions, {}, rp.ServerCpu(
        server.pid, None))  # fmt: skip
    results = {}
    try:
        for name, requests in ((rp.BARE, [rp.raw_request("/healthz", None)]), (FLOOR_NAME, floors),
                               (SAVE, saves)):  # fmt: skip
            status = asyncio.run(rp.fetch(port, requests[0]))
            if status not in (200, 302, 303):
                sys.exit(f"{name} answered {status}: see var/bench_intake.log")
            run.closed("-", name, rp.cycle(requests), min(2.0, args.seconds))  # warm-up
            full = rp.report(run.closed("-", name, rp.cycle(requests), args.seconds))
            rate = max(1.0, full.throughput / 2)
            count = max(20, int(rate * args.seconds))
            planned = [requests[i % len(requests)] for i in range(count)]
            half = rp.report(run.open("-", name, planned, rate))
            results[name] = (full, half)
    finally:
        rp.stop(server)
    return {"results": results, "queries": counts}


# ---------------------------------------------------------------------------------------------
# Part 2: the day list


def part_day(args) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portico.intake import selectors
    from portico.practices.models import Practice

    practice = Practice.objects.get(slug=DAY_PREFIX)

    def call(day):
        rows = selectors.intake_day(practice, day)
        touched = 0
        for row in rows:  # what the list shows of each row
            touched += len(row.forms) + len(row.appointment.patient.legal_last_name)
            touched += len(row.appointment.provider.full_name) + len(row.bucket)
            for form in row.forms:
                touched += len(form.template.name)
        return rows

    out = {}
    for label, day in (("2,000 appointments", DAY), ("20 appointments", DAY + dt.timedelta(1))):
        call(day)
        with CaptureQueriesContext(connection) as queries:
            rows = call(day)
        times = []
        for _ in range(args.day_calls):
            t0 = time.perf_counter()
            call(day)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        out[label] = {
            "rows": len(rows),
            "forms": sum(len(r.forms) for r in rows),
            "queries": len(queries),
            "p50_ms": round(statistics.median(times), 1),
            "p99_ms": round(times[min(len(times) - 1, int(len(times) * 0.99))], 1),
        }
        print(f"day {label}: {out[label]}", flush=True)
    return out


# ---------------------------------------------------------------------------------------------


def main() -> int:
    import record_pages as rp

    default_url = os.environ.get("DATABASE_URL") or (
        f"sqlite:///{rp.REPO / 'var' / 'bench_intake.sqlite3'}"
    )
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=default_url)
    parser.add_argument("--parts", default="save,day")
    parser.add_argument("--save-path", default="page", choices=("page", "bench"))
    parser.add_argument("--patients", type=int, default=24)
    parser.add_argument("--appointments", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--day-calls", type=int, default=30)
    parser.add_argument("--data-only", action="store_true")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    parts = args.parts.split(",")
    started_at = dt.datetime.now(dt.UTC)
    (rp.REPO / "var").mkdir(exist_ok=True)
    rp.setup_django(args.database_url)
    ensure_data(args)
    if args.data_only:
        return 0
    targets: list[dict] = []
    summary: dict = {}
    lines: list[str] = []
    if "save" in parts:
        save = part_save(args)
        results, counts = save["results"], save["queries"]
        bare = results[rp.BARE][0].throughput
        floor = results[FLOOR_NAME][0].throughput
        lines += [
            "| Request | req/s | % of rules floor | % of bare | p50 / p99 at half load (ms) |",
            "|---|---|---|---|---|",
        ]
        for name, (full, half) in results.items():
            lines.append(
                f"| {name} | {full.throughput:.0f} | {rp.share(full.throughput, floor):.0f}% | "
                f"{rp.share(full.throughput, bare):.0f}% | {half.pct(50):.1f} / "
                f"**{half.pct(99):.1f}** |"
            )
        lines.append("")
        lines.append(
            f"Queries of a save (every answer): {SMALL}: {counts[SMALL]}, {BIG}: {counts[BIG]}."
        )
        full, half = results[SAVE]
        errors = sum(r.errors for pair in results.values() for r in pair)
        targets += [
            {"what": "save a page: p99 < 50 ms at half load", "value": round(half.pct(99), 1),
             "met": half.pct(99) < P99_LIMIT_MS},
            {"what": "save: the same query count for 10 and 60 questions", "value": counts,
             "met": counts[SMALL] == counts[BIG]},
            {"what": "no error answers", "value": errors, "met": errors == 0},
        ]  # fmt: skip
        summary["save"] = {
            "queries": counts,
            "floor_share_pct": round(rp.share(full.throughput, floor), 1),
            "results": {
                n: {"full": f.summary(), "half": h.summary()} for n, (f, h) in results.items()
            },  # fmt: skip
        }
    if "day" in parts:
        day = part_day(args)
        lines += ["", "| Day | Rows | Forms | Queries | p50 / p99 (ms, in-process) |",
                  "|---|---|---|---|---|"]  # fmt: skip
        for label, d in day.items():
            lines.append(
                f"| {label} | {d['rows']:,} | {d['forms']:,} | {d['queries']} | "
                f"{d['p50_ms']} / {d['p99_ms']} |"
            )
        queries = {label: d["queries"] for label, d in day.items()}
        targets.append({"what": "intake_day: the same query count for 20 and 2,000 appointments",
                        "value": queries, "met": len(set(queries.values())) == 1})  # fmt: skip
        summary["day"] = day
    print()
    print(
        f"Run of {started_at:%Y-%m-%d %H:%M} UTC on {platform.node()} ({os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}); code at {rp.git_commit(rp.CODE)}; database "
        f"{args.database_url.split('://')[0]}; save path: {args.save_path}"
    )
    print()
    print("\n".join(lines))
    print()
    ok = rp.print_targets(targets)
    if args.json:
        summary.update(targets=targets, ok=ok, started=f"{started_at:%Y-%m-%dT%H:%M:%SZ}")
        Path(args.json).write_text(json.dumps(summary, indent=1, default=str) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
