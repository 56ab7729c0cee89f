"""The appointment book through the API (SPEC §8.4 schedule part, §8.7, §8.8): the same services
and selectors as the schedule pages, the token's practice only (another practice's ids: 404),
who may change what as the services decide (403), bad input a 4xx with a clear message and
nothing changed, a double booking a 409 with the open times, every read of patients' names
audited, and every route in the OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
import time_machine
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.practices.models import Role
from portico.scheduling import services
from portico.scheduling.calendar import Stretch
from portico.scheduling.models import (
    Appointment,
    AppointmentStatus,
    BlockedTime,
    Location,
    VisitType,
    WorkingHours,
)
from tests import factories
from tests.api.conftest import ApiClient, assert_error_body, registered_operations, token_key
from tests.api.test_bad_input import json_values
from tests.scheduling.conftest import NOW, at, weekdays

MONDAY = NOW.date()  # Monday 2026-12-07, 07:30 in New York (UTC-5)
TUESDAY = MONDAY + dt.timedelta(days=1)
TAKEN = "That time is already booked. Choose one of the open times."

SCHEDULE_OPERATIONS = [op for op in registered_operations() if op[1].startswith("/schedule")]
ID_OPERATIONS = [op for op in SCHEDULE_OPERATIONS if "{" in op[1]]


def iso(value: dt.datetime) -> str:
    return value.isoformat()


def utc(value: dt.datetime) -> str:
    """How the API writes a time: UTC, with Z."""
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


# --- The practice's book -------------------------------------------------------------------


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def follow_up(admin, practice):
    return services.visit_type_save(admin, practice=practice, name="Follow-up", duration_minutes=20)


@pytest.fixture
def hours(admin, practice, provider):
    """Monday to Friday 9–12 and 13–17, New York time."""
    return services.working_hours_set(
        admin,
        practice=practice,
        provider=provider,
        stretches=weekdays(((9, 0), (12, 0)), ((13, 0), (17, 0))),
    )


@pytest.fixture
def book(now, staff, provider, follow_up, hours):
    """book(patient, start) → an appointment through the service, as the pages would."""

    def make(patient, start, **kw):
        return services.appointment_book(
            staff,
            patient=patient,
            provider=kw.pop("provider", provider),
            appointment_type=kw.pop("visit_type", follow_up),
            start_at=start,
            **kw,
        )

    return make


@pytest.fixture
def staff_api(api_as, staff, practice):
    return api_as(staff, practice)


@pytest.fixture
def provider_api(api_as, provider, practice):
    return api_as(provider, practice)


def schedule_snapshot() -> dict:
    """Everything a schedule call could change, to prove that a refused call changed nothing."""

    def rows(queryset, *fields):
        return sorted(str(row) for row in queryset.values_list(*fields))

    return {
        "visit_types": rows(
            VisitType.objects, "public_id", "name", "duration_minutes", "is_active"
        ),
        "locations": rows(Location.objects, "public_id", "name", "city", "is_active"),
        "hours": rows(
            WorkingHours.objects, "provider_id", "weekday", "start_time", "end_time", "location_id"
        ),
        "blocked": rows(BlockedTime.objects, "public_id", "provider_id", "start_at", "end_at"),
        "appointments": rows(
            Appointment.objects,
            "public_id",
            "provider_id",
            "start_at",
            "end_at",
            "status",
            "appointment_type_id",
            "cancel_reason",
            "sequence",
        ),
        "audit": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


def booking_body(patient, provider, visit_type, start, **changes) -> dict:
    body = {
        "patient_id": str(patient.public_id),
        "provider_id": str(provider.public_id),
        "visit_type_id": str(visit_type.public_id),
        "start_at": iso(start),
        "reason": "Cough for two weeks",
    }
    body.update(changes)
    return {key: value for key, value in body.items() if value is not ...}


# --- Providers, visit types, locations ------------------------------------------------------


def test_providers_are_the_practices_providers_with_public_ids_and_names(
    staff_api, provider, practice, other_practice
):
    second = factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nell Newman"
    )
    factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")

    response = staff_api.get("/schedule/providers")

    assert response.status_code == 200
    assert response.json() == [
        {"id": str(provider.public_id), "name": "Dr. Paula Provider", "credential": "MD"},
        {"id": str(second.public_id), "name": "Nell Newman", "credential": "NP"},
    ]


def test_visit_types_are_added_listed_and_changed_through_the_service(admin_api, admin, practice):
    created = admin_api.post(
        "/schedule/visit-types", {"name": "New patient", "duration_minutes": 40}
    )

    assert created.status_code == 201
    body = created.json()
    stored = VisitType.objects.get(public_id=body["id"])
    assert body == {
        "id": str(stored.public_id),
        "name": "New patient",
        "duration_minutes": 40,
        "is_active": True,
    }
    assert stored.practice == practice
    event = AuditEvent.objects.get(action="schedule.visit_type_saved")
    assert event.actor == admin and event.details["visit_type"] == body["id"]

    changed = admin_api.call(
        "put",
        f"/schedule/visit-types/{body['id']}",
        {"name": "New patient visit", "duration_minutes": 45, "is_active": False},
    )

    assert changed.status_code == 200
    assert changed.json()["duration_minutes"] == 45 and changed.json()["is_active"] is False
    stored.refresh_from_db()
    assert (stored.name, stored.duration_minutes, stored.is_active) == (
        "New patient visit",
        45,
        False,
    )
    assert admin_api.get("/schedule/visit-types").json() == []
    listed = admin_api.get("/schedule/visit-types", {"include_inactive": "true"}).json()
    assert [v["name"] for v in listed] == ["New patient visit"]


def test_locations_are_added_listed_and_changed_through_the_service(admin_api, admin, practice):
    created = admin_api.post(
        "/schedule/locations",
        {"name": "Eastside", "address_line1": "12 Elm St", "city": "Springfield", "state": "IL"},
    )

    assert created.status_code == 201
    location = Location.objects.get(public_id=created.json()["id"])
    assert location.practice == practice and location.address_line1 == "12 Elm St"
    assert AuditEvent.objects.filter(action="schedule.location_saved", actor=admin).count() == 1

    changed = admin_api.call(
        "put", f"/schedule/locations/{location.public_id}", {"name": "Eastside Clinic"}
    )

    assert changed.status_code == 200
    location.refresh_from_db()
    # PUT replaces the whole location: the address left out is now empty.
    assert (location.name, location.address_line1) == ("Eastside Clinic", "")
    listed = admin_api.get("/schedule/locations").json()
    assert listed == [
        {
            "id": str(location.public_id),
            "name": "Eastside Clinic",
            "address_line1": "",
            "address_line2": "",
            "city": "",
            "state": "",
            "postal_code": "",
            "phone": "",
            "is_active": True,
        }
    ]


def test_only_an_administrator_changes_visit_types_and_locations(staff_api, follow_up):
    before = schedule_snapshot()
    for method, path, body in [
        ("post", "/schedule/visit-types", {"name": "Telehealth", "duration_minutes": 15}),
        (
            "put",
            f"/schedule/visit-types/{follow_up.public_id}",
            {"name": "X", "duration_minutes": 5},
        ),
        ("post", "/schedule/locations", {"name": "Eastside"}),
    ]:
        assert_error_body(staff_api.call(method, path, body), 403)
    assert schedule_snapshot() == before


# --- Working hours --------------------------------------------------------------------------


def test_working_hours_are_read_in_local_time(staff_api, provider, practice, hours):
    response = staff_api.get(f"/schedule/providers/{provider.public_id}/hours")

    assert response.status_code == 200
    body = response.json()
    assert body["provider"] == {"id": str(provider.public_id), "name": "Dr. Paula Provider"}
    assert body["time_zone"] == "America/New_York"
    assert len(body["hours"]) == 10
    assert body["hours"][:2] == [
        {"weekday": 0, "day": "Monday", "start": "09:00", "end": "12:00", "location_id": None},
        {"weekday": 0, "day": "Monday", "start": "13:00", "end": "17:00", "location_id": None},
    ]


def test_working_hours_are_replaced_through_the_service(admin_api, admin, provider, practice):
    eastside = services.location_save(admin, practice=practice, name="Eastside")

    response = admin_api.call(
        "put",
        f"/schedule/providers/{provider.public_id}/hours",
        [
            {"weekday": 2, "start": "13:00", "end": "17:30", "location_id": None},
            {
                "weekday": 2,
                "start": "08:30",
                "end": "12:00",
                "location_id": str(eastside.public_id),
            },
        ],
    )

    assert response.status_code == 200, response.content
    assert [(h["start"], h["end"], h["location_id"]) for h in response.json()["hours"]] == [
        ("08:30", "12:00", str(eastside.public_id)),
        ("13:00", "17:30", None),
    ]
    stored = WorkingHours.objects.filter(provider=provider).order_by("start_time")
    assert [(w.weekday, w.start_time, w.end_time, w.location) for w in stored] == [
        (2, dt.time(8, 30), dt.time(12), eastside),
        (2, dt.time(13), dt.time(17, 30), None),
    ]
    event = AuditEvent.objects.get(action="schedule.hours_set")
    assert event.actor == admin and event.details == {"provider": provider.pk, "stretches": 2}
    emptied = admin_api.call("put", f"/schedule/providers/{provider.public_id}/hours", [])
    assert emptied.json()["hours"] == [] and not WorkingHours.objects.exists()


def test_a_provider_sets_their_own_hours_but_not_another_providers(
    provider_api, provider, practice, hours
):
    other = factories.make_staff(practice, role=Role.PROVIDER, credential="DO")
    week = [{"weekday": 0, "start": "10:00", "end": "11:00"}]

    own = provider_api.call("put", f"/schedule/providers/{provider.public_id}/hours", week)
    before = schedule_snapshot()
    theirs = provider_api.call("put", f"/schedule/providers/{other.public_id}/hours", week)

    assert own.status_code == 200
    body = assert_error_body(theirs, 403)
    assert body["detail"] == "Only an administrator or the provider can change this schedule."
    assert schedule_snapshot() == before


BAD_HOURS = {
    "weekday-9": ([{"weekday": 9, "start": "09:00", "end": "12:00"}], "0.weekday"),
    "weekday-as-text": ([{"weekday": "Monday", "start": "09:00", "end": "12:00"}], "0.weekday"),
    "hour-25": ([{"weekday": 0, "start": "25:00", "end": "26:00"}], "0.start"),
    "no-leading-zero": ([{"weekday": 0, "start": "9:00", "end": "12:00"}], "0.start"),
    "seconds": ([{"weekday": 0, "start": "09:00", "end": "12:00:00"}], "0.end"),
    "end-before-start": ([{"weekday": 0, "start": "12:00", "end": "09:00"}], "0"),
    "overlapping": (
        [
            {"weekday": 1, "start": "09:00", "end": "12:00"},
            {"weekday": 1, "start": "11:00", "end": "13:00"},
        ],
        "1",
    ),
    "unknown-location": (
        [{"weekday": 0, "start": "09:00", "end": "12:00", "location_id": str(uuid.uuid4())}],
        "0.location_id",
    ),
    "missing-end": ([{"weekday": 0, "start": "09:00"}], "0.end"),
    "unknown-field": ([{"weekday": 0, "start": "09:00", "end": "12:00", "room": 4}], "0.room"),
    "not-a-list": ({"weekday": 0, "start": "09:00", "end": "12:00"}, "body"),
}


@pytest.mark.parametrize(("payload", "field"), BAD_HOURS.values(), ids=BAD_HOURS.keys())
def test_bad_working_hours_are_422_with_the_stretch_and_change_nothing(
    admin_api, provider, hours, payload, field
):
    before = schedule_snapshot()

    response = admin_api.call("put", f"/schedule/providers/{provider.public_id}/hours", payload)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert schedule_snapshot() == before


def test_hours_of_a_retired_or_another_practices_location_are_refused(
    admin_api, admin, practice, provider, other_practice
):
    retired = services.location_save(admin, practice=practice, name="Old site", is_active=False)
    theirs = Location.objects.create(practice=other_practice, name="Hilltop annex")
    before = schedule_snapshot()

    for location in (retired, theirs):
        response = admin_api.call(
            "put",
            f"/schedule/providers/{provider.public_id}/hours",
            [
                {
                    "weekday": 0,
                    "start": "09:00",
                    "end": "12:00",
                    "location_id": str(location.public_id),
                }
            ],
        )
        errors = assert_error_body(response, 422)["errors"]
        assert list(errors.values()) == [["Choose a location of this practice."]]
    assert schedule_snapshot() == before


# --- Blocked times --------------------------------------------------------------------------


def test_blocked_times_are_added_listed_and_removed_through_the_service(
    admin_api, admin, provider, practice, now
):
    meeting = admin_api.post(
        "/schedule/blocked-times",
        {
            "start_at": iso(at(TUESDAY, 12)),
            "end_at": iso(at(TUESDAY, 13)),
            "provider_id": str(provider.public_id),
            "label": "Staff meeting",
        },
    )
    holiday = admin_api.post(
        "/schedule/blocked-times",
        {"start_at": "2026-12-25T05:00:00Z", "end_at": "2026-12-26T05:00:00Z", "label": "Holiday"},
    )

    assert meeting.status_code == holiday.status_code == 201
    assert meeting.json() == {
        "id": meeting.json()["id"],
        "start_at": "2026-12-08T17:00:00Z",
        "end_at": "2026-12-08T18:00:00Z",
        "provider": {"id": str(provider.public_id), "name": "Dr. Paula Provider"},
        "label": "Staff meeting",
    }
    assert holiday.json()["provider"] is None
    stored = BlockedTime.objects.get(public_id=meeting.json()["id"])
    assert (stored.provider, stored.start_at) == (provider, at(TUESDAY, 12))
    assert AuditEvent.objects.filter(action="schedule.blocked_time_added").count() == 2

    def listed(**params):
        response = admin_api.get("/schedule/blocked-times", params)
        assert response.status_code == 200, response.content
        return [b["label"] for b in response.json()]

    assert listed() == ["Staff meeting", "Holiday"]
    assert listed(**{"from": "2026-12-09"}) == ["Holiday"]
    assert listed(to="2026-12-08") == ["Staff meeting"]
    assert listed(**{"from": "2026-12-25", "to": "2026-12-25"}) == ["Holiday"]
    other = factories.make_staff(practice, role=Role.PROVIDER, credential="MD")
    assert listed(provider=str(other.public_id)) == ["Holiday"]

    removed = admin_api.call("delete", f"/schedule/blocked-times/{stored.public_id}")

    assert removed.status_code == 204
    assert not BlockedTime.objects.filter(pk=stored.pk).exists()
    assert AuditEvent.objects.filter(action="schedule.blocked_time_removed").count() == 1


def test_a_provider_blocks_their_own_time_but_not_the_practices(provider_api, provider, now):
    mine = {"start_at": iso(at(TUESDAY, 12)), "end_at": iso(at(TUESDAY, 13))}

    own = provider_api.post(
        "/schedule/blocked-times", {**mine, "provider_id": str(provider.public_id)}
    )
    before = schedule_snapshot()
    practice_wide = provider_api.post("/schedule/blocked-times", mine)

    assert own.status_code == 201
    assert_error_body(practice_wide, 403)
    assert schedule_snapshot() == before


BAD_BLOCKS = {
    "naive-start": ({"start_at": "2026-12-08T12:00:00"}, "start_at"),
    "naive-end": ({"end_at": "2026-12-08T13:00"}, "end_at"),
    "end-before-start": ({"end_at": "2026-12-08T11:00:00-05:00"}, "end_at"),
    "end-at-start": ({"end_at": "2026-12-08T12:00:00-05:00"}, "end_at"),
    "over-a-year": ({"end_at": "2028-01-01T00:00:00Z"}, "end_at"),
    "not-a-date": ({"start_at": "tomorrow noon"}, "start_at"),
    "impossible-date": ({"start_at": "2026-02-30T12:00:00Z"}, "start_at"),
    "number-as-time": ({"start_at": 1765213200}, "start_at"),
    "year-9999": ({"start_at": "9999-12-31T23:00:00-05:00"}, "start_at"),
    "unknown-provider": ({"provider_id": str(uuid.uuid4())}, "provider_id"),
    "staff-as-provider": (None, "provider_id"),
    "over-long-label": ({"label": "x" * 201}, "label"),
    "nul-in-label": ({"label": "Lunch\x00"}, "label"),
    "unknown-field": ({"reason": "lunch"}, "reason"),
}


@pytest.mark.parametrize(("changes", "field"), BAD_BLOCKS.values(), ids=BAD_BLOCKS.keys())
def test_a_bad_blocked_time_is_422_with_the_field_and_changes_nothing(
    admin_api, staff, now, changes, field
):
    body = {"start_at": "2026-12-08T12:00:00-05:00", "end_at": "2026-12-08T13:00:00-05:00"}
    body.update(changes if changes is not None else {"provider_id": str(staff.public_id)})
    before = schedule_snapshot()

    response = admin_api.post("/schedule/blocked-times", body)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert schedule_snapshot() == before


def test_a_time_without_its_utc_offset_is_refused_with_a_clear_message(admin_api, now):
    response = admin_api.post(
        "/schedule/blocked-times",
        {"start_at": "2026-12-08T12:00:00", "end_at": "2026-12-08T13:00:00-05:00"},
    )
    assert assert_error_body(response, 422)["errors"] == {
        "start_at": [
            "Add the UTC offset (e.g. 2026-12-08T09:00:00-05:00 or …Z): a time without one is "
            "ambiguous."
        ]
    }


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-09", "to": "2026-12-08"}, "to"),
        ({"from": "12/08/2026"}, "from"),
        ({"to": "9999-12-31"}, "to"),
        ({"provider": "nobody"}, "provider"),
        ({"provider": str(uuid.uuid4())}, "provider"),
    ],
)
def test_a_bad_blocked_times_filter_is_422_with_the_field(admin_api, params, field):
    errors = assert_error_body(admin_api.get("/schedule/blocked-times", params), 422)["errors"]
    assert field in errors, errors


# --- Open times -----------------------------------------------------------------------------


def test_open_times_are_the_providers_free_times_for_the_visit_type_in_utc(
    staff_api, admin, practice, provider, patient, follow_up, book
):
    eastside = services.location_save(admin, practice=practice, name="Eastside")
    services.working_hours_set(
        admin,
        practice=practice,
        provider=provider,
        stretches=[Stretch(1, dt.time(9), dt.time(10), eastside.pk)],
    )
    book(patient, at(TUESDAY, 9, 20))

    response = staff_api.get(
        f"/schedule/providers/{provider.public_id}/open-times",
        {"visit_type": str(follow_up.public_id), "from": TUESDAY.isoformat(), "days": 1},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["provider"] == {"id": str(provider.public_id), "name": "Dr. Paula Provider"}
    assert body["visit_type"]["id"] == str(follow_up.public_id)
    assert body["time_zone"] == "America/New_York"
    where = str(eastside.public_id)
    assert body["open_times"] == [
        {
            "start_at": "2026-12-08T14:00:00Z",
            "end_at": "2026-12-08T14:20:00Z",
            "location_id": where,
        },
        {
            "start_at": "2026-12-08T14:40:00Z",
            "end_at": "2026-12-08T15:00:00Z",
            "location_id": where,
        },
    ]


def test_open_times_start_today_and_leave_out_the_past(staff_api, provider, follow_up, hours, now):
    with time_machine.travel(at(MONDAY, 9, 5), tick=False):
        response = staff_api.get(
            f"/schedule/providers/{provider.public_id}/open-times",
            {"visit_type": str(follow_up.public_id), "days": 1},
        )
    starts = [t["start_at"] for t in response.json()["open_times"]]
    assert starts[0] == utc(at(MONDAY, 9, 20))
    assert starts[-1] == utc(at(MONDAY, 16, 40))


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "visit_type"),
        ({"visit_type": "follow-up"}, "visit_type"),
        ({"visit_type": "unknown"}, "visit_type"),
        ({"visit_type": "retired"}, "visit_type"),
        ({"days": 0}, "days"),
        ({"days": 121}, "days"),
        ({"from": "2026-13-01"}, "from"),
        ({"from": "9999-12-31"}, "from"),
    ],
)
def test_bad_open_times_queries_are_422_with_the_field(
    staff_api, admin, practice, provider, follow_up, hours, now, params, field
):
    params = dict(params)
    if "visit_type" not in params and field != "visit_type":
        params["visit_type"] = str(follow_up.public_id)
    elif params.get("visit_type") == "unknown":
        params["visit_type"] = str(uuid.uuid4())
    elif params.get("visit_type") == "retired":
        retired = services.visit_type_save(
            admin, practice=practice, name="Old", duration_minutes=30, is_active=False
        )
        params["visit_type"] = str(retired.public_id)

    response = staff_api.get(f"/schedule/providers/{provider.public_id}/open-times", params)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors


# --- Appointments: booking ------------------------------------------------------------------


def test_booking_stores_the_appointment_audits_it_and_emails_the_patient(
    staff_api, staff, patient, provider, follow_up, hours, now
):
    response = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, at(TUESDAY, 9, 20))
    )

    assert response.status_code == 201, response.content
    body = response.json()
    appointment = Appointment.objects.get(public_id=body["id"])
    assert body == {
        "id": str(appointment.public_id),
        "patient": {"id": str(patient.public_id), "name": patient.full_name},
        "provider": {"id": str(provider.public_id), "name": "Dr. Paula Provider"},
        "visit_type_id": str(follow_up.public_id),
        "visit_type": "Follow-up",
        "start_at": "2026-12-08T14:20:00Z",
        "end_at": "2026-12-08T14:40:00Z",
        "status": "booked",
        "status_label": "Confirmed",
        "location": None,
        "reason": "Cough for two weeks",
        "cancel_reason": "",
    }
    assert (appointment.patient, appointment.provider) == (patient, provider)
    assert appointment.start_at == at(TUESDAY, 9, 20)
    event = AuditEvent.objects.get(action="appointment.create")
    assert event.actor == staff and event.patient == patient
    assert OutboundEmail.objects.get(kind="scheduling.booked").subject_id == appointment.public_id


def test_a_time_with_another_offset_is_the_same_instant(
    staff_api, patient, provider, follow_up, hours, now
):
    start = at(TUESDAY, 9).astimezone(dt.timezone(dt.timedelta(hours=1)))  # 15:00+01:00
    response = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, start)
    )
    assert response.status_code == 201
    assert response.json()["start_at"] == "2026-12-08T14:00:00Z"


def test_a_double_booking_is_409_with_the_providers_next_open_times_and_nothing_stored(
    staff_api, practice, patient, provider, follow_up, book
):
    book(patient, at(TUESDAY, 9))
    other = factories.make_patient(practice)
    before = schedule_snapshot()

    response = staff_api.post(
        "/schedule/appointments", booking_body(other, provider, follow_up, at(TUESDAY, 9, 10))
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"detail", "errors", "open_times"}
    assert body["detail"] == TAKEN
    assert body["errors"] == {"start_at": [TAKEN]}
    starts = [t["start_at"] for t in body["open_times"]]
    assert len(starts) == 10
    assert starts[:3] == [utc(at(TUESDAY, 9, 20)), utc(at(TUESDAY, 9, 40)), utc(at(TUESDAY, 10))]
    assert all(t["location_id"] is None for t in body["open_times"])
    assert schedule_snapshot() == before


def bad_booking(patient, provider, follow_up, practice, admin, other_practice, case):
    """(body, the field named in `errors`) for each kind of bad booking."""
    good = booking_body(patient, provider, follow_up, at(TUESDAY, 9))
    elsewhere_patient = factories.make_patient(other_practice)
    elsewhere_type = VisitType.objects.create(
        practice=other_practice, name="Theirs", duration_minutes=20
    )
    retired = services.visit_type_save(
        admin, practice=practice, name="Retired", duration_minutes=20, is_active=False
    )
    cases = {
        "naive-time": ({"start_at": "2026-12-08T09:00:00"}, "start_at"),
        "date-only": ({"start_at": "2026-12-08"}, "start_at"),
        "number-as-time": ({"start_at": 0}, "start_at"),
        "outside-working-hours": ({"start_at": iso(at(TUESDAY, 12, 10))}, "start_at"),
        "runs-past-the-end-of-hours": ({"start_at": iso(at(TUESDAY, 11, 50))}, "start_at"),
        "saturday": ({"start_at": iso(at(MONDAY + dt.timedelta(days=5), 10))}, "start_at"),
        "in-the-past": ({"start_at": iso(at(MONDAY - dt.timedelta(days=7), 9))}, "start_at"),
        "unknown-visit-type": ({"visit_type_id": str(uuid.uuid4())}, "visit_type_id"),
        "retired-visit-type": ({"visit_type_id": str(retired.public_id)}, "visit_type_id"),
        "another-practices-visit-type": (
            {"visit_type_id": str(elsewhere_type.public_id)},
            "visit_type_id",
        ),
        "unknown-patient": ({"patient_id": str(uuid.uuid4())}, "patient_id"),
        "another-practices-patient": (
            {"patient_id": str(elsewhere_patient.public_id)},
            "patient_id",
        ),
        "unknown-provider": ({"provider_id": str(uuid.uuid4())}, "provider_id"),
        "admin-as-provider": ({"provider_id": str(admin.public_id)}, "provider_id"),
        "malformed-id": ({"patient_id": "42"}, "patient_id"),
        "missing-start": ({"start_at": ...}, "start_at"),
        "over-long-reason": ({"reason": "x" * 301}, "reason"),
        "nul-in-reason": ({"reason": "Cough\x00"}, "reason"),
        "unknown-field": ({"status": "arrived"}, "status"),
    }
    changes, field = cases[case]
    body = {**good, **changes}
    return {k: v for k, v in body.items() if v is not ...}, field


BAD_BOOKINGS = [
    "naive-time",
    "date-only",
    "number-as-time",
    "outside-working-hours",
    "runs-past-the-end-of-hours",
    "saturday",
    "in-the-past",
    "unknown-visit-type",
    "retired-visit-type",
    "another-practices-visit-type",
    "unknown-patient",
    "another-practices-patient",
    "unknown-provider",
    "admin-as-provider",
    "malformed-id",
    "missing-start",
    "over-long-reason",
    "nul-in-reason",
    "unknown-field",
]


@pytest.mark.parametrize("case", BAD_BOOKINGS)
def test_a_bad_booking_is_422_with_the_field_and_changes_nothing(
    staff_api, admin, practice, patient, provider, follow_up, hours, other_practice, now, case
):
    body, field = bad_booking(patient, provider, follow_up, practice, admin, other_practice, case)
    before = schedule_snapshot()

    response = staff_api.post("/schedule/appointments", body)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert schedule_snapshot() == before


def test_booking_outside_working_hours_says_so(staff_api, patient, provider, follow_up, hours, now):
    response = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, at(TUESDAY, 18))
    )
    assert assert_error_body(response, 422)["errors"] == {
        "start_at": ["This time is outside Dr. Paula Provider's working hours."]
    }


def test_booking_in_a_blocked_time_is_refused(
    admin_api, staff_api, patient, provider, follow_up, hours, now
):
    admin_api.post(
        "/schedule/blocked-times",
        {"start_at": iso(at(TUESDAY, 9)), "end_at": iso(at(TUESDAY, 10)), "label": "Training"},
    )
    response = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, at(TUESDAY, 9, 20))
    )
    assert assert_error_body(response, 422)["errors"] == {
        "start_at": ["This time is blocked (Training)."]
    }
    assert not Appointment.objects.exists()


# --- Appointments: reading ------------------------------------------------------------------


def test_reading_an_appointment_shows_it_and_audits_the_chart_view(staff_api, staff, patient, book):
    appointment = book(patient, at(TUESDAY, 10), reason="Knee pain")

    response = staff_api.get(f"/schedule/appointments/{appointment.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == str(appointment.public_id) and body["reason"] == "Knee pain"
    assert body["patient"] == {"id": str(patient.public_id), "name": patient.full_name}
    event = AuditEvent.objects.filter(action="chart.view").latest("pk")
    assert event.actor == staff and event.patient == patient
    assert event.details == {"page": "api appointment"}


def test_the_appointment_list_is_in_time_order_filtered_and_audits_the_charts_shown(
    staff_api, staff, admin, practice, patient, book
):
    second = factories.make_staff(practice, role=Role.PROVIDER, credential="NP")
    services.working_hours_set(
        admin,
        practice=practice,
        provider=second,
        stretches=weekdays(((9, 0), (17, 0))),
    )
    other = factories.make_patient(practice)
    wednesday = TUESDAY + dt.timedelta(days=1)
    late = book(patient, at(wednesday, 9))
    early = book(other, at(TUESDAY, 9))
    theirs = book(patient, at(TUESDAY, 9), provider=second)
    cancelled = book(other, at(TUESDAY, 10))
    services.appointment_cancel(staff, appointment=cancelled, reason="Feeling better")

    def listed(**params):
        response = staff_api.get("/schedule/appointments", params)
        assert response.status_code == 200, response.content
        return [a["id"] for a in response.json()["items"]]

    everything = listed()
    assert everything[2:] == [str(cancelled.public_id), str(late.public_id)]
    assert set(everything[:2]) == {str(early.public_id), str(theirs.public_id)}
    event = AuditEvent.objects.filter(action="chart.list").latest("pk")
    assert event.actor == staff and event.patient is None
    assert sorted(event.details["charts"]) == sorted([str(patient.public_id), str(other.public_id)])
    assert event.details["page"] == "api appointment list, offset 0"

    assert listed(**{"from": wednesday.isoformat()}) == [str(late.public_id)]
    assert listed(to=TUESDAY.isoformat()) == everything[:3]
    assert listed(provider=str(second.public_id)) == [str(theirs.public_id)]
    assert listed(patient=str(other.public_id)) == [str(early.public_id), str(cancelled.public_id)]
    page = staff_api.get("/schedule/appointments", {"limit": 2, "offset": 2}).json()
    assert [a["id"] for a in page["items"]] == everything[2:] and page["count"] == 4
    assert AuditEvent.objects.filter(action="chart.list").latest("pk").details["charts"] == [
        str(other.public_id),
        str(patient.public_id),
    ]


def test_an_empty_appointment_list_is_audited_with_no_charts(staff_api, staff):
    assert staff_api.get("/schedule/appointments").json() == {"items": [], "count": 0}
    event = AuditEvent.objects.filter(action="chart.list").latest("pk")
    assert event.details["charts"] == []


def test_the_appointment_list_reads_a_fixed_number_of_queries_whatever_its_size(
    staff_api, practice, patient, book
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff_api.get("/schedule/appointments", {"limit": 50, "to": "2026-12-31"})
            assert response.status_code == 200
        return len(captured)

    book(patient, at(TUESDAY, 9))
    queries()  # the token's first use is recorded once
    small = queries()
    for day in range(1, 4):
        for hour in (9, 10, 13, 14):
            book(factories.make_patient(practice), at(TUESDAY + dt.timedelta(days=day), hour))
    assert queries() == small


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-12-09", "to": "2026-12-08"}, "to"),
        ({"from": "yesterday"}, "from"),
        ({"provider": str(uuid.uuid4())}, "provider"),
        ({"patient": str(uuid.uuid4())}, "patient"),
        ({"patient": "Rivera"}, "patient"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_a_bad_appointment_filter_is_422_and_audits_nothing(staff_api, params, field):
    before = AuditEvent.objects.count()
    errors = assert_error_body(staff_api.get("/schedule/appointments", params), 422)["errors"]
    assert field in errors, errors
    assert AuditEvent.objects.count() == before


# --- Appointments: moving, cancelling, marking ----------------------------------------------


def test_moving_an_appointment_changes_its_time_audits_and_emails(
    staff_api, staff, patient, provider, book
):
    appointment = book(patient, at(TUESDAY, 9))

    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/move", {"start_at": iso(at(TUESDAY, 14))}
    )

    assert response.status_code == 200, response.content
    assert response.json()["start_at"] == "2026-12-08T19:00:00Z"
    appointment.refresh_from_db()
    assert (appointment.start_at, appointment.sequence) == (at(TUESDAY, 14), 1)
    event = AuditEvent.objects.get(action="appointment.move")
    assert event.actor == staff and event.patient == patient
    assert OutboundEmail.objects.filter(kind="scheduling.moved").count() == 1


def test_moving_to_another_provider_and_visit_type(
    staff_api, admin, practice, patient, provider, book
):
    second = factories.make_staff(practice, role=Role.PROVIDER, credential="NP", full_name="Nell N")
    services.working_hours_set(
        admin, practice=practice, provider=second, stretches=weekdays(((8, 0), (12, 0)))
    )
    longer = services.visit_type_save(admin, practice=practice, name="Long", duration_minutes=60)
    appointment = book(patient, at(TUESDAY, 9))

    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/move",
        {
            "start_at": iso(at(TUESDAY, 8)),
            "provider_id": str(second.public_id),
            "visit_type_id": str(longer.public_id),
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["provider"]["id"] == str(second.public_id)
    assert (body["visit_type"], body["end_at"]) == ("Long", "2026-12-08T14:00:00Z")


def test_moving_onto_a_booked_time_is_409_with_open_times_that_count_its_own_time_free(
    staff_api, practice, patient, book
):
    appointment = book(patient, at(TUESDAY, 9))
    book(factories.make_patient(practice), at(TUESDAY, 9, 40))
    before = schedule_snapshot()

    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/move",
        {"start_at": iso(at(TUESDAY, 9, 30))},
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert body["detail"] == TAKEN and body["errors"] == {"start_at": [TAKEN]}
    starts = [t["start_at"] for t in body["open_times"]]
    # Its own 9:00 is free for it; 9:40 is the other patient's.
    assert starts[:3] == [utc(at(TUESDAY, 9)), utc(at(TUESDAY, 9, 20)), utc(at(TUESDAY, 10))]
    assert schedule_snapshot() == before


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"start_at": "2026-12-08T14:00:00"}, "start_at"),
        ({"start_at": iso(at(TUESDAY, 20))}, "start_at"),
        ({}, "start_at"),
        ({"start_at": iso(at(TUESDAY, 14)), "visit_type_id": str(uuid.uuid4())}, "visit_type_id"),
        ({"start_at": iso(at(TUESDAY, 14)), "provider_id": str(uuid.uuid4())}, "provider_id"),
        ({"start_at": iso(at(TUESDAY, 14)), "patient_id": str(uuid.uuid4())}, "patient_id"),
    ],
)
def test_a_bad_move_is_422_with_the_field_and_changes_nothing(
    staff_api, patient, book, payload, field
):
    appointment = book(patient, at(TUESDAY, 9))
    before = schedule_snapshot()
    response = staff_api.post(f"/schedule/appointments/{appointment.public_id}/move", payload)
    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert schedule_snapshot() == before


def test_a_cancelled_appointment_cannot_be_moved(staff_api, staff, patient, book):
    appointment = book(patient, at(TUESDAY, 9))
    services.appointment_cancel(staff, appointment=appointment, reason="Feeling better")
    before = schedule_snapshot()
    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/move", {"start_at": iso(at(TUESDAY, 14))}
    )
    assert assert_error_body(response, 422)["errors"] == {
        "status": ["Only a pending, tentative or confirmed appointment can be moved."]
    }
    assert schedule_snapshot() == before


def test_cancelling_keeps_the_reason_frees_the_time_and_emails_the_patient(
    staff_api, staff, patient, provider, follow_up, book
):
    appointment = book(patient, at(TUESDAY, 9))
    path = f"/schedule/appointments/{appointment.public_id}/cancel"

    response = staff_api.post(path, {"reason": "Patient called: feeling better"})

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_label"]) == ("cancelled", "Cancelled")
    assert body["cancel_reason"] == "Patient called: feeling better"
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    assert AuditEvent.objects.filter(action="appointment.cancel", actor=staff).count() == 1
    assert OutboundEmail.objects.filter(kind="scheduling.cancelled").count() == 1
    again = staff_api.post(path, {"reason": "Twice"})
    assert again.status_code == 200 and again.json()["cancel_reason"] == body["cancel_reason"]
    rebook = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, at(TUESDAY, 9))
    )
    assert rebook.status_code == 201


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "reason"), ({"reason": "   "}, "reason"), ({"reason": "x" * 301}, "reason")],
)
def test_a_cancel_without_a_reason_is_422_and_changes_nothing(
    staff_api, patient, book, payload, field
):
    appointment = book(patient, at(TUESDAY, 9))
    before = schedule_snapshot()
    response = staff_api.post(f"/schedule/appointments/{appointment.public_id}/cancel", payload)
    assert field in assert_error_body(response, 422)["errors"]
    assert schedule_snapshot() == before


@pytest.mark.parametrize(
    ("status", "label"),
    [("arrived", "Arrived"), ("fulfilled", "Completed"), ("noshow", "No-show")],
)
def test_marking_an_appointment_of_today(staff_api, staff, patient, book, status, label):
    appointment = book(patient, at(MONDAY, 9))

    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/status", {"status": status}
    )

    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["status_label"]) == (status, label)
    appointment.refresh_from_db()
    assert appointment.status == status
    event = AuditEvent.objects.get(action="appointment.status")
    assert event.details["to"] == status and event.actor == staff


@pytest.mark.parametrize("status", ["cancelled", "booked", "", None, "Arrived"])
def test_marking_with_a_status_that_is_not_a_mark_is_422(staff_api, patient, book, status):
    appointment = book(patient, at(MONDAY, 9))
    before = schedule_snapshot()
    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/status", {"status": status}
    )
    assert "status" in assert_error_body(response, 422)["errors"]
    assert schedule_snapshot() == before


def test_an_appointment_is_not_marked_before_its_day(staff_api, patient, book):
    appointment = book(patient, at(TUESDAY, 9))
    before = schedule_snapshot()
    response = staff_api.post(
        f"/schedule/appointments/{appointment.public_id}/status", {"status": "arrived"}
    )
    assert assert_error_body(response, 422)["errors"] == {
        "status": ["This can be marked on the day of the appointment or later."]
    }
    assert schedule_snapshot() == before


# --- Tenancy and authentication -------------------------------------------------------------


@pytest.fixture
def world(admin, practice, provider, patient, follow_up, book):
    """One of each thing the schedule routes name by id, at the token's practice."""
    location = services.location_save(admin, practice=practice, name="Eastside")
    blocked = services.blocked_time_add(
        admin, practice=practice, start_at=at(TUESDAY, 12), end_at=at(TUESDAY, 13)
    )
    return {
        "{visit_type_id}": follow_up.public_id,
        "{location_id}": location.public_id,
        "{provider_id}": provider.public_id,
        "{blocked_time_id}": blocked.public_id,
        "{appointment_id}": book(patient, at(MONDAY, 9)).public_id,
    }


# A valid body for each operation that takes one, so the call reaches the lookup by id.
VALID_BODIES = {
    ("put", "/schedule/visit-types/{visit_type_id}"): {"name": "Renamed", "duration_minutes": 30},
    ("put", "/schedule/locations/{location_id}"): {"name": "Renamed"},
    ("put", "/schedule/providers/{provider_id}/hours"): [
        {"weekday": 0, "start": "09:00", "end": "10:00"}
    ],
    ("post", "/schedule/appointments/{appointment_id}/move"): {"start_at": iso(at(TUESDAY, 14))},
    ("post", "/schedule/appointments/{appointment_id}/cancel"): {"reason": "Feeling better"},
    ("post", "/schedule/appointments/{appointment_id}/status"): {"status": "arrived"},
}


def concrete(path: str, ids: dict, visit_type_id) -> str:
    for placeholder, value in ids.items():
        path = path.replace(placeholder, str(value))
    if path.endswith("/open-times"):
        path += f"?visit_type={visit_type_id}"
    return path


def test_the_routes_with_ids_are_found():
    assert {path for _method, path in ID_OPERATIONS} == {
        "/schedule/visit-types/{visit_type_id}",
        "/schedule/locations/{location_id}",
        "/schedule/providers/{provider_id}/hours",
        "/schedule/providers/{provider_id}/open-times",
        "/schedule/blocked-times/{blocked_time_id}",
        "/schedule/appointments/{appointment_id}",
        "/schedule/appointments/{appointment_id}/move",
        "/schedule/appointments/{appointment_id}/cancel",
        "/schedule/appointments/{appointment_id}/status",
    }


@pytest.mark.parametrize(("method", "path"), ID_OPERATIONS, ids=str)
def test_another_practices_ids_are_404_on_every_route_and_change_nothing(
    api_as, world, other_practice, method, path
):
    elsewhere = factories.make_admin(other_practice)
    elsewhere_type = services.visit_type_save(
        elsewhere, practice=other_practice, name="Theirs", duration_minutes=20
    )
    elsewhere_api = api_as(elsewhere, other_practice)
    before = schedule_snapshot()

    response = elsewhere_api.call(
        method,
        concrete(path, world, elsewhere_type.public_id),
        VALID_BODIES.get((method, path)),
    )

    assert assert_error_body(response, 404)["detail"] == "Not found."
    assert schedule_snapshot() == before  # nothing changed, and no read audited


@pytest.mark.parametrize(("method", "path"), ID_OPERATIONS, ids=str)
def test_an_unknown_id_is_404_like_another_practices(admin_api, world, method, path):
    unknown = {placeholder: uuid.uuid4() for placeholder in world}
    response = admin_api.call(
        method, concrete(path, unknown, world["{visit_type_id}"]), VALID_BODIES.get((method, path))
    )
    assert assert_error_body(response, 404)["detail"] == "Not found."


def test_a_member_who_is_not_a_provider_has_no_hours_or_open_times(admin_api, staff, follow_up):
    for path in (
        f"/schedule/providers/{staff.public_id}/hours",
        f"/schedule/providers/{staff.public_id}/open-times?visit_type={follow_up.public_id}",
    ):
        assert_error_body(admin_api.get(path), 404)


@pytest.mark.parametrize(("method", "path"), SCHEDULE_OPERATIONS, ids=str)
def test_every_schedule_route_needs_a_token(client, world, method, path):
    no_token = ApiClient(client, None, authorization="")
    before = schedule_snapshot()

    response = no_token.call(
        method, concrete(path, world, world["{visit_type_id}"]), VALID_BODIES.get((method, path))
    )

    body = assert_error_body(response, 401)
    assert body["detail"] == "A valid staff API token is required."
    assert schedule_snapshot() == before


def test_lists_never_show_another_practices_schedule(
    admin_api, world, practice, other_practice, now
):
    elsewhere = factories.make_admin(other_practice)
    their_provider = factories.make_staff(other_practice, role=Role.PROVIDER, credential="MD")
    services.visit_type_save(elsewhere, practice=other_practice, name="Theirs", duration_minutes=9)
    services.location_save(elsewhere, practice=other_practice, name="Hilltop annex")
    services.working_hours_set(
        elsewhere,
        practice=other_practice,
        provider=their_provider,
        stretches=weekdays(((7, 0), (19, 0))),
    )
    services.appointment_book(
        elsewhere,
        patient=factories.make_patient(other_practice),
        provider=their_provider,
        appointment_type=VisitType.objects.get(name="Theirs"),
        start_at=at(TUESDAY, 9),
    )
    services.blocked_time_add(
        elsewhere, practice=other_practice, start_at=at(TUESDAY, 8), end_at=at(TUESDAY, 18)
    )

    assert [p["id"] for p in admin_api.get("/schedule/providers").json()] == [
        str(world["{provider_id}"])
    ]
    assert [v["name"] for v in admin_api.get("/schedule/visit-types").json()] == ["Follow-up"]
    assert [v["name"] for v in admin_api.get("/schedule/locations").json()] == ["Eastside"]
    assert [b["id"] for b in admin_api.get("/schedule/blocked-times").json()] == [
        str(world["{blocked_time_id}"])
    ]
    appointments = admin_api.get("/schedule/appointments").json()
    assert [a["id"] for a in appointments["items"]] == [str(world["{appointment_id}"])]
    assert appointments["count"] == 1
    # Their blocked time and appointment take nothing from our provider's open times.
    open_times = admin_api.get(
        f"/schedule/providers/{world['{provider_id}']}/open-times",
        {"visit_type": str(world["{visit_type_id}"]), "from": TUESDAY.isoformat(), "days": 1},
    ).json()["open_times"]
    assert open_times[0]["start_at"] == utc(at(TUESDAY, 9))


def test_a_malformed_id_in_the_path_is_422(admin_api):
    errors = assert_error_body(admin_api.get("/schedule/appointments/12345"), 422)["errors"]
    assert "appointment_id" in errors


def test_staff_may_book_and_read_but_the_services_decide_the_rest(
    staff_api, patient, provider, follow_up, hours, now
):
    booked = staff_api.post(
        "/schedule/appointments", booking_body(patient, provider, follow_up, at(TUESDAY, 9))
    )
    assert booked.status_code == 201
    assert staff_api.get(f"/schedule/providers/{provider.public_id}/hours").status_code == 200
    refused = staff_api.call("put", f"/schedule/providers/{provider.public_id}/hours", [])
    assert_error_body(refused, 403)


# --- Any JSON at all ------------------------------------------------------------------------

BOOKING_FIELDS = ["patient_id", "provider_id", "visit_type_id", "start_at", "reason", "extra"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    changes=st.dictionaries(st.sampled_from(BOOKING_FIELDS), json_values, min_size=1, max_size=3)
    | json_values
)
def test_any_json_gives_a_clear_answer_never_a_500(
    staff_api, patient, provider, follow_up, hours, now, changes
):
    good = booking_body(patient, provider, follow_up, at(TUESDAY, 9))
    payload = {**good, **changes} if isinstance(changes, dict) else changes
    Appointment.objects.all().delete()
    before = schedule_snapshot()

    response = staff_api.post("/schedule/appointments", payload)

    if response.status_code == 201:
        assert Appointment.objects.count() == 1
    else:
        assert_error_body(response, 422)
        assert schedule_snapshot() == before, json.dumps(changes, default=str)


# --- The description ------------------------------------------------------------------------


def test_openapi_describes_every_schedule_route(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {
        op["operationId"].rsplit("_api_scheduling_", 1)[-1]: (method, path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/v1/schedule/")
    }
    assert operations == {
        "list_schedule_providers": ("get", "/api/v1/schedule/providers"),
        "list_visit_types": ("get", "/api/v1/schedule/visit-types"),
        "create_visit_type": ("post", "/api/v1/schedule/visit-types"),
        "update_visit_type": ("put", "/api/v1/schedule/visit-types/{visit_type_id}"),
        "list_locations": ("get", "/api/v1/schedule/locations"),
        "create_location": ("post", "/api/v1/schedule/locations"),
        "update_location": ("put", "/api/v1/schedule/locations/{location_id}"),
        "get_working_hours": ("get", "/api/v1/schedule/providers/{provider_id}/hours"),
        "set_working_hours": ("put", "/api/v1/schedule/providers/{provider_id}/hours"),
        "list_blocked_times": ("get", "/api/v1/schedule/blocked-times"),
        "create_blocked_time": ("post", "/api/v1/schedule/blocked-times"),
        "delete_blocked_time": ("delete", "/api/v1/schedule/blocked-times/{blocked_time_id}"),
        "list_open_times": ("get", "/api/v1/schedule/providers/{provider_id}/open-times"),
        "list_appointments": ("get", "/api/v1/schedule/appointments"),
        "create_appointment": ("post", "/api/v1/schedule/appointments"),
        "get_appointment": ("get", "/api/v1/schedule/appointments/{appointment_id}"),
        "move_appointment": ("post", "/api/v1/schedule/appointments/{appointment_id}/move"),
        "cancel_appointment": ("post", "/api/v1/schedule/appointments/{appointment_id}/cancel"),
        "mark_appointment": ("post", "/api/v1/schedule/appointments/{appointment_id}/status"),
    }
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/schedule/"):
            continue
        for method, operation in item.items():
            assert operation["tags"] == ["schedule"], (method, path)
            assert operation["summary"] and operation["description"], (method, path)
            assert {"401", "403", "422"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    for path in (
        "/api/v1/schedule/appointments",
        "/api/v1/schedule/appointments/{appointment_id}/move",
    ):
        conflict = schema["paths"][path]["post"]["responses"]["409"]["content"]
        assert conflict["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ConflictOut"
        }
    components = schema["components"]["schemas"]
    assert set(components["ConflictOut"]["properties"]) == {"detail", "errors", "open_times"}
    booking = components["AppointmentIn"]
    assert set(booking["required"]) == {"patient_id", "provider_id", "visit_type_id", "start_at"}
    assert booking["additionalProperties"] is False
    assert booking["properties"]["start_at"]["format"] == "date-time"
    hours = components["HoursIn"]["properties"]
    assert (hours["weekday"]["minimum"], hours["weekday"]["maximum"]) == (0, 6)
    assert hours["start"]["pattern"] == "^([01][0-9]|2[0-3]):[0-5][0-9]$"
    body = schema["paths"]["/api/v1/schedule/providers/{provider_id}/hours"]["put"]["requestBody"]
    assert body["content"]["application/json"]["schema"]["type"] == "array"


# --- The race, on PostgreSQL ----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_of_thirty_simultaneous_api_bookings_of_one_time_one_is_201_and_the_rest_409(
    now, practice, staff, provider, follow_up, hours
):
    key = token_key(staff, practice)
    patients = [factories.make_patient(practice) for _ in range(30)]
    barrier = threading.Barrier(len(patients))
    statuses: list[int] = []

    def attempt(patient):
        client = Client(raise_request_exception=False)
        try:
            barrier.wait()
            response = client.post(
                "/api/v1/schedule/appointments",
                json.dumps(booking_body(patient, provider, follow_up, at(TUESDAY, 9))),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
            )
            statuses.append(response.status_code)
            if response.status_code == 409:
                assert response.json()["open_times"][0]["start_at"] == utc(at(TUESDAY, 9, 20))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(p,)) for p in patients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [201] + [409] * 29
    assert Appointment.objects.filter(provider=provider).count() == 1
