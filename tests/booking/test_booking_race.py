"""SPEC §8.8 and the issue's booking race: many visitors ask for the same time at once (requests
hold no time, so every one is taken), then staff approve all of them at once, each in its own
database connection: exactly one becomes an appointment, every other approval is refused with
the appointment book's "already booked" message and changes nothing. Runs on SQLite (one writer
at a time) and on PostgreSQL (the exclusion constraint refuses the loser of a true race).
The benchmark (bench/) runs the same race with 100 requests over HTTP.

SQLite's in-memory test database is shared between connections through its shared cache, whose
table locks fail at once ("database table is locked") where the production file database waits
(WAL, IMMEDIATE transactions, a busy timeout). So on SQLite the racers use a file copy of the
test database with the production connection settings, and the test reads the outcome there."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sqlite3
import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.db.utils import load_backend

from portico.booking import services
from portico.booking.models import AppointmentRequest, RequestStatus
from portico.charts.models import Patient
from portico.scheduling.models import Appointment, AppointmentStatus
from portico.scheduling.services import TAKEN_CODE
from tests import factories
from tests.booking.service_helpers import TUESDAY, at

# Quick enough for every run; PORTICO_BOOKING_RACERS=N races more (on PostgreSQL, each racer
# holds a connection: N stays under the server's max_connections).
RACERS = int(os.environ.get("PORTICO_BOOKING_RACERS", "10"))
TAKEN = "That time is already booked. Choose one of the open times."


def _file_copy(directory) -> dict | None:
    """On SQLite's in-memory test database: the settings of a file copy of it (else None)."""
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        return None
    path = directory / "race.sqlite3"
    connection.ensure_connection()
    with contextlib.closing(sqlite3.connect(path)) as target:
        connection.connection.backup(target)
    return {**connection.settings_dict, "NAME": str(path)}


def _use(settings_dict: dict | None) -> None:
    """Point this thread's default connection at `settings_dict` (None: leave it)."""
    if settings_dict is not None:
        backend = load_backend(settings_dict["ENGINE"])
        connections["default"] = backend.DatabaseWrapper(dict(settings_dict), "default")


@contextlib.contextmanager
def _reading(settings_dict: dict | None):
    """Read through the racers' database in the test's own thread."""
    if settings_dict is None:
        yield
        return
    own = connections["default"]
    _use(settings_dict)
    try:
        yield
    finally:
        connections["default"].close()
        connections["default"] = own


def _race(work, count: int, database: dict | None) -> tuple[list, list[BaseException]]:
    """Run work(i) in `count` threads started together, each with its own connection; returns
    their results and errors."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            _use(database)
            barrier.wait(timeout=30)
            results[i] = work(i)
        except BaseException as exc:  # noqa: BLE001 (the test asserts there were none)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return results, errors


@pytest.mark.django_db(transaction=True)
def test_of_requests_for_one_time_approved_at_once_exactly_one_becomes_an_appointment(
    profile, follow_up, practice, provider, tmp_path
):
    staff = [factories.make_staff(practice) for _ in range(RACERS)]
    matched = [factories.make_patient(practice) for _ in range(RACERS // 2)]
    charts_before = Patient.objects.count()
    slot = at(TUESDAY, 9)
    database = _file_copy(tmp_path)

    def submit(i: int) -> AppointmentRequest:
        return services.request_submit(
            profile=profile,
            visit_type=follow_up,
            start_at=slot,
            patient_kind="new",
            first_name=f"Visitor{i}",
            last_name="Racer",
            date_of_birth=dt.date(1990, 1, 1) + dt.timedelta(days=i),
            email=f"visitor{i}@example.org",
            reason="Check-up",
        )

    requests, errors = _race(submit, RACERS, database)
    assert errors == []

    def approve(i: int) -> str:
        # Half are matched to existing charts; the other half would each make a new chart.
        patient = matched[i] if i < len(matched) else None
        try:
            services.request_approve(staff[i], request=requests[i], patient=patient)
        except ValidationError as exc:
            refusal = exc.error_dict["start_at"][0]
            assert refusal.message == TAKEN
            return refusal.code
        return "booked"

    outcomes, errors = _race(approve, RACERS, database)

    assert errors == []
    assert sorted(outcomes) == ["booked"] + [TAKEN_CODE] * (RACERS - 1)
    with _reading(database):
        _assert_one_appointment(provider, slot, matched, charts_before)


def _assert_one_appointment(provider, slot, matched, charts_before) -> None:
    assert AppointmentRequest.objects.count() == RACERS
    booked = Appointment.objects.get(provider=provider)
    assert (booked.start_at, booked.status) == (slot, AppointmentStatus.BOOKED)
    winner = AppointmentRequest.objects.get(status=RequestStatus.APPROVED)
    assert winner.appointment == booked and winner.patient == booked.patient
    losers = AppointmentRequest.objects.exclude(pk=winner.pk)
    assert set(losers.values_list("status", flat=True)) == {RequestStatus.PENDING}
    assert not losers.filter(patient__isnull=False).exists()
    # A loser's new chart went with its refused approval.
    new_charts = Patient.objects.count() - charts_before
    assert new_charts == (0 if booked.patient in matched else 1)


@pytest.mark.django_db(transaction=True)
def test_staff_answering_one_request_at_once_answer_it_once(
    profile, follow_up, practice, provider, patient, tmp_path
):
    request = services.request_submit(
        profile=profile,
        visit_type=follow_up,
        start_at=at(TUESDAY, 9),
        patient_kind="existing",
        first_name="Rosa",
        last_name="Rivera",
        date_of_birth=dt.date(1980, 4, 2),
        email="rosa@example.org",
        reason="Knee pain",
    )
    staff = [factories.make_staff(practice) for _ in range(RACERS)]
    database = _file_copy(tmp_path)

    def answer(i: int) -> str:
        try:
            if i % 2:
                services.request_deny(staff[i], request=request, reason="Full")
            else:
                services.request_approve(staff[i], request=request, patient=patient)
        except ValidationError as exc:
            assert "already answered" in exc.message_dict["status"][0]
            return "refused"
        return "answered"

    outcomes, errors = _race(answer, RACERS, database)

    assert errors == []
    assert sorted(outcomes) == ["answered"] + ["refused"] * (RACERS - 1)
    with _reading(database):
        request.refresh_from_db()
        booked = Appointment.objects.filter(provider=provider).count()
        if request.status == RequestStatus.APPROVED:
            assert booked == 1 and request.appointment is not None
        else:
            assert request.status == RequestStatus.DENIED and booked == 0
