"""Online profiles and appointment requests through the API (SPEC §8.1–8.5): the same services
and selectors as the pages, the token's practice only (another practice's ids: 404), who may
change what as the services decide (403), bad input a 4xx with the field and nothing changed,
a time taken a 409 with the open times (of two approvals for one time, the second is refused),
every read of a request audited, and every operation in the OpenAPI description."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext

from portico.audit.models import AuditEvent
from portico.booking import services
from portico.booking.models import (
    AppointmentRequest,
    ProfileLanguage,
    ProfileSpecialty,
    ProviderProfile,
    RequestKind,
    RequestStatus,
)
from portico.charts.models import Patient
from portico.notifications.models import OutboundEmail
from portico.practices.models import Role
from portico.scheduling import services as scheduling
from portico.scheduling.models import Appointment, AppointmentStatus, Location
from tests import factories
from tests.api.conftest import ApiClient, assert_error_body, registered_operations, token_key
from tests.booking import conftest as booking_fixtures
from tests.scheduling.conftest import NOW, at

# The booking tests' practice: a public profile, its provider's week, a frozen "now".
VALID_NPI = booking_fixtures.VALID_NPI
now = booking_fixtures.now
follow_up = booking_fixtures.follow_up
hours = booking_fixtures.hours
profile = booking_fixtures.profile
enrolled = booking_fixtures.enrolled
access = booking_fixtures.access

MONDAY = NOW.date()  # Monday 2026-12-07, 07:30 in New York
TUESDAY = MONDAY + dt.timedelta(days=1)
TAKEN = "That time is already booked. Choose one of the open times."

BOOKING_OPERATIONS = [op for op in registered_operations() if op[1].startswith("/booking")]
ID_OPERATIONS = [op for op in BOOKING_OPERATIONS if "{" in op[1]]


def utc(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")


@pytest.fixture
def staff_api(api_as, staff, practice):
    return api_as(staff, practice)


@pytest.fixture
def provider_api(api_as, provider, practice):
    return api_as(provider, practice)


@pytest.fixture
def ask(profile, follow_up):
    """ask(start, **changes) → a request from the public booking page, as a visitor sends it."""

    def make(start, **more):
        values = {
            "profile": profile,
            "visit_type": follow_up,
            "start_at": start,
            "patient_kind": "new",
            "first_name": "Rosa",
            "last_name": "Rivera",
            "date_of_birth": dt.date(1980, 4, 2),
            "email": "rosa@example.org",
            "phone": "+12025550142",
            "reason": "Knee pain",
        }
        values.update(more)
        return services.request_submit(**values)

    return make


def booking_snapshot() -> dict:
    """Everything a booking call could change, to prove that a refused call changed nothing."""

    def rows(queryset, *fields):
        return sorted(str(row) for row in queryset.values_list(*fields))

    return {
        "profiles": rows(
            ProviderProfile.objects,
            "public_id",
            "is_on",
            "npi",
            "npi_attested_at",
            "biography",
            "insurance_accepted",
            "accepts_new_patients",
            "first_public_at",
        ),
        "specialties": rows(ProfileSpecialty.objects, "profile_id", "code"),
        "languages": rows(ProfileLanguage.objects, "profile_id", "code"),
        "locations": rows(
            ProviderProfile.locations.through.objects, "providerprofile_id", "location_id"
        ),  # fmt: skip
        "online": rows(
            ProviderProfile.online_visit_types.through.objects, "providerprofile_id", "visittype_id"
        ),
        "requests": rows(
            AppointmentRequest.objects,
            "public_id",
            "status",
            "patient_id",
            "appointment_id",
            "decision_reason",
        ),
        "appointments": rows(Appointment.objects, "public_id", "status", "start_at", "patient_id"),
        "patients": Patient.objects.count(),
        "audit": AuditEvent.objects.count(),
        "emails": OutboundEmail.objects.count(),
    }


# --- Online profiles: reading ----------------------------------------------------------------


def test_the_profile_list_has_each_provider_with_checklist_and_addresses(
    staff_api,
    practice,
    provider,
    profile,
):
    second = factories.make_staff(
        practice, role=Role.PROVIDER, credential="NP", full_name="Nell Newman"
    )
    factories.make_staff(practice, full_name="Not A Provider")

    response = staff_api.get("/booking/profiles")

    assert response.status_code == 200, response.content
    first, other = response.json()
    assert first["provider"] == {
        "id": str(provider.public_id),
        "name": "Dr. Paula Provider",
        "credential": "MD",
    }
    assert first["number"] == profile.number
    assert (first["is_on"], first["is_public"], first["npi"], first["npi_attested"]) == (
        True,
        True,
        VALID_NPI,
        True,
    )
    assert first["specialties"] == ["family-medicine"]
    assert sorted(first["languages"]) == ["en", "es"]
    assert first["insurance_accepted"] == ["Aetna", "Medicare"]
    assert first["biography"] == "Family doctor."
    assert [i["done"] for i in first["checklist"]] == [True, True, True, True]
    assert first["public_url"] == f"http://testserver/doctor/paula-provider-md-{profile.number}"
    assert first["embed_url"] == f"http://testserver/external/appointment/{profile.booking_id}"
    assert first["embed_snippet"].startswith(f'<iframe src="{first["embed_url"]}"')
    assert 'title="Book an appointment with Dr. Paula Provider"' in first["embed_snippet"]
    # A provider without a profile yet gets one, Off, with what is missing.
    assert other["provider"]["id"] == str(second.public_id)
    assert (other["is_on"], other["is_public"]) == (False, False)
    assert {i["code"]: i["done"] for i in other["checklist"]} == {
        "credential": True,
        "npi": False,
        "attested": False,
        "visit_types": False,
    }
    assert ProviderProfile.objects.filter(provider=second, is_on=False).count() == 1


def test_one_profile_is_read_by_the_providers_id(staff_api, provider, profile):
    response = staff_api.get(f"/booking/profiles/{provider.public_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["number"] == profile.number
    assert body["online_visit_type_ids"] == [
        str(v.public_id) for v in profile.online_visit_types.all()
    ]


def test_a_member_who_is_not_a_provider_has_no_profile(admin_api, staff):
    assert_error_body(admin_api.get(f"/booking/profiles/{staff.public_id}"), 404)
    assert not ProviderProfile.objects.exists()


# --- Online profiles: changing ---------------------------------------------------------------


def test_an_administrator_changes_the_fields_given_and_the_change_is_audited(
    admin_api,
    admin,
    practice,
    provider,
    profile,
    follow_up,
):
    eastside = scheduling.location_save(admin, practice=practice, name="Eastside")

    response = admin_api.call(
        "put",
        f"/booking/profiles/{provider.public_id}",
        {
            "specialties": ["internal-medicine", "geriatrics"],
            "location_ids": [str(eastside.public_id)],
            "insurance_accepted": ["Cigna", "Medicaid"],
            "accepts_new_patients": False,
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["specialties"] == ["internal-medicine", "geriatrics"]
    assert body["location_ids"] == [str(eastside.public_id)]
    assert body["insurance_accepted"] == ["Cigna", "Medicaid"]
    assert body["accepts_new_patients"] is False
    # What was not given stays as it was.
    assert sorted(body["languages"]) == ["en", "es"]
    assert body["biography"] == "Family doctor."
    assert body["npi_attested"] is True and body["is_public"] is True
    profile.refresh_from_db()
    assert profile.insurance_accepted == "Cigna\nMedicaid"
    assert list(profile.locations.all()) == [eastside]
    event = AuditEvent.objects.filter(action="online_profile.update").latest("pk")
    assert event.actor == admin
    assert event.details["fields"] == [
        "accepts_new_patients",
        "insurance_accepted",
        "locations",
        "specialties",
    ]


def test_a_changed_npi_needs_attesting_again_and_the_profile_leaves_the_public(
    provider_api,
    provider,
    profile,
):
    response = provider_api.call(
        "put", f"/booking/profiles/{provider.public_id}", {"npi": "1245319599"}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["npi"], body["npi_attested"], body["is_on"], body["is_public"]) == (
        "1245319599",
        False,
        True,
        False,
    )
    assert {i["code"]: i["done"] for i in body["checklist"]}["attested"] is False


def test_a_provider_edits_their_own_profile_but_not_another_providers(
    api_as,
    practice,
    provider,
    profile,
    staff,
):
    other = factories.make_staff(practice, role=Role.PROVIDER, credential="DO")
    own = api_as(provider, practice).call(
        "put", f"/booking/profiles/{provider.public_id}", {"biography": "Knees."}
    )
    assert own.status_code == 200 and own.json()["biography"] == "Knees."
    clients = [api_as(other, practice), api_as(staff, practice)]
    clients[0].get(f"/booking/profiles/{other.public_id}")  # made, Off
    before = booking_snapshot()

    for who in clients:
        refused = who.call(
            "put", f"/booking/profiles/{provider.public_id}", {"biography": "Mine now."}
        )
        body = assert_error_body(refused, 403)
        assert (
            body["detail"]
            == "Only an administrator or the provider can change this online profile."
        )
    assert booking_snapshot() == before


BAD_PROFILES = {
    "unknown-specialty": ({"specialties": ["astrology"]}, "specialties.0"),
    "specialty-as-text": ({"specialties": "cardiology"}, "specialties"),
    "unknown-language": ({"languages": ["xx"]}, "languages.0"),
    "unknown-location": ({"location_ids": [str(uuid.uuid4())]}, "location_ids"),
    "another-practices-location": ("their-location", "location_ids"),
    "retired-location": ("retired-location", "location_ids"),
    "unknown-visit-type": ({"online_visit_type_ids": [str(uuid.uuid4())]}, "online_visit_type_ids"),
    "retired-visit-type": ("retired-visit-type", "online_visit_type_ids"),
    "malformed-id": ({"location_ids": ["42"]}, "location_ids.0"),
    "npi-too-short": ({"npi": "12345"}, "npi"),
    "npi-bad-check-digit": ({"npi": "1234567890"}, "npi"),
    "npi-letters": ({"npi": "12345678AB"}, "npi"),
    "plan-with-line-break": ({"insurance_accepted": ["Aetna\nCigna"]}, "insurance_accepted.0"),
    "over-long-plan": ({"insurance_accepted": ["x" * 201]}, "insurance_accepted.0"),
    "too-many-plans-text": ({"insurance_accepted": ["x" * 199] * 11}, "insurance_accepted"),
    "over-long-biography": ({"biography": "x" * 2001}, "biography"),
    "nul-in-biography": ({"biography": "Hi\x00"}, "biography"),
    "text-as-bool": ({"accepts_new_patients": "yes"}, "accepts_new_patients"),
    "unknown-field": ({"photo": "me.jpg"}, "photo"),
    "not-an-object": (["cardiology"], "body"),
}


@pytest.mark.parametrize(("changes", "field"), BAD_PROFILES.values(), ids=BAD_PROFILES.keys())
def test_a_bad_profile_is_422_with_the_field_and_changes_nothing(
    admin_api,
    admin,
    practice,
    other_practice,
    provider,
    profile,
    changes,
    field,
):
    if changes == "their-location":
        theirs = Location.objects.create(practice=other_practice, name="Hilltop annex")
        changes = {"location_ids": [str(theirs.public_id)]}
    elif changes == "retired-location":
        retired = scheduling.location_save(admin, practice=practice, name="Old", is_active=False)
        changes = {"location_ids": [str(retired.public_id)]}
    elif changes == "retired-visit-type":
        retired = scheduling.visit_type_save(
            admin, practice=practice, name="Old", duration_minutes=20, is_active=False
        )
        changes = {"online_visit_type_ids": [str(retired.public_id)]}
    before = booking_snapshot()

    response = admin_api.call("put", f"/booking/profiles/{provider.public_id}", changes)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert booking_snapshot() == before


# --- Online profiles: status and NPI attestation ---------------------------------------------


def test_status_off_and_on_again(provider_api, provider, profile):
    off = provider_api.call(
        "put", f"/booking/profiles/{provider.public_id}/status", {"is_on": False}
    )
    assert off.status_code == 200 and off.json()["is_on"] is False
    assert off.json()["is_public"] is False
    on = provider_api.call("put", f"/booking/profiles/{provider.public_id}/status", {"is_on": True})
    assert on.status_code == 200 and on.json()["is_public"] is True
    actions = list(
        AuditEvent.objects.filter(action__startswith="online_profile.o").values_list(
            "action", flat=True
        )
    )
    assert actions[-2:] == ["online_profile.off", "online_profile.on"]


def test_status_on_is_refused_with_the_missing_items_of_the_checklist(
    admin_api,
    practice,
    follow_up,
):
    newcomer = factories.make_staff(
        practice, role=Role.PROVIDER, credential="PA", full_name="Pat Newcomer"
    )
    admin_api.get(f"/booking/profiles/{newcomer.public_id}")
    before = booking_snapshot()

    response = admin_api.call(
        "put", f"/booking/profiles/{newcomer.public_id}/status", {"is_on": True}
    )

    errors = assert_error_body(response, 422)["errors"]
    assert errors["is_on"][0].startswith("The profile cannot be turned on yet:")
    assert errors["checklist"] == [
        "Your NPI is a valid 10-digit number.",
        "An administrator has attested your NPI.",
        "At least one visit type is offered online.",
    ]
    assert booking_snapshot() == before


def test_an_administrator_attests_and_withdraws_the_npi(admin_api, admin, provider, profile):
    path = f"/booking/profiles/{provider.public_id}/npi-attestation"

    withdrawn = admin_api.call("put", path, {"attested": False})
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["npi_attested"], withdrawn.json()["is_public"]) == (False, False)
    attested = admin_api.call("put", path, {"attested": True})

    assert attested.status_code == 200
    body = attested.json()
    assert body["npi_attested"] is True and body["is_public"] is True
    assert body["npi_attested_by"] == {"id": str(admin.public_id), "name": "Ada Admin"}
    assert AuditEvent.objects.filter(action="online_profile.npi_attest", actor=admin).count() == 2


def test_only_an_administrator_attests_an_npi(api_as, practice, provider, staff, profile):
    services.npi_attest(factories.make_admin(practice), profile=profile, attested=False)
    clients = [api_as(provider, practice), api_as(staff, practice)]
    before = booking_snapshot()
    for who in clients:
        response = who.call(
            "put", f"/booking/profiles/{provider.public_id}/npi-attestation", {"attested": True}
        )
        assert (
            assert_error_body(response, 403)["detail"] == "Only an administrator can attest an NPI."
        )
    assert booking_snapshot() == before


def test_an_npi_that_is_missing_cannot_be_attested(admin_api, practice):
    newcomer = factories.make_staff(practice, role=Role.PROVIDER, credential="MD")
    admin_api.get(f"/booking/profiles/{newcomer.public_id}")
    before = booking_snapshot()
    response = admin_api.call(
        "put", f"/booking/profiles/{newcomer.public_id}/npi-attestation", {"attested": True}
    )
    assert assert_error_body(response, 422)["errors"] == {
        "npi": ["Enter a valid NPI before attesting it."]
    }
    assert booking_snapshot() == before


# --- Requests: reading -----------------------------------------------------------------------


def test_the_request_list_is_filtered_paged_and_audits_the_requests_shown(
    staff_api, staff, admin, practice, patient, ask
):
    first = ask(at(MONDAY, 9))
    second = ask(at(MONDAY, 10), first_name="Sam")
    denied = ask(at(MONDAY, 11), first_name="Lee")
    services.request_deny(admin, request=denied, reason="Full")

    def listed(**params):
        response = staff_api.get("/booking/requests", params)
        assert response.status_code == 200, response.content
        return [r["id"] for r in response.json()["items"]]

    everything = listed()
    assert everything == [str(first.public_id), str(second.public_id), str(denied.public_id)]
    event = AuditEvent.objects.filter(action="booking.request_list").latest("pk")
    assert event.actor == staff and event.patient is None
    assert event.details == {"page": "api request list, offset 0", "requests": everything}

    assert listed(status="pending") == everything[:2]
    assert listed(status="denied") == everything[2:]
    assert listed(kind="reschedule") == []
    assert listed(kind="new", status="pending") == everything[:2]
    other = factories.make_staff(practice, role=Role.PROVIDER, credential="MD")
    assert listed(provider=str(other.public_id)) == []
    page = staff_api.get("/booking/requests", {"limit": 1, "offset": 1}).json()
    assert [r["id"] for r in page["items"]] == everything[1:2] and page["count"] == 3
    assert AuditEvent.objects.filter(action="booking.request_list").latest("pk").details == {
        "page": "api request list, offset 1",
        "requests": everything[1:2],
    }


def test_reading_a_request_shows_what_it_carries_and_audits_the_read(
    staff_api, staff, ask, provider
):
    asked = ask(at(MONDAY, 9))

    response = staff_api.get(f"/booking/requests/{asked.public_id}")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body == {
        "id": str(asked.public_id),
        "kind": "new",
        "kind_label": "New appointment",
        "source": "public",
        "source_label": "Online profile",
        "status": "pending",
        "status_label": "Pending",
        "provider": {"id": str(provider.public_id), "name": "Dr. Paula Provider"},
        "visit_type": {"id": str(asked.visit_type.public_id), "name": "Follow-up"},
        "start_at": "2026-12-07T14:00:00Z",
        "end_at": "2026-12-07T14:20:00Z",
        "patient_kind": "new",
        "first_name": "Rosa",
        "last_name": "Rivera",
        "date_of_birth": "1980-04-02",
        "email": "rosa@example.org",
        "phone": "+12025550142",
        "reason": "Knee pain",
        "note": "",
        "patient": None,
        "original_appointment_id": None,
        "appointment": None,
        "decision_reason": "",
        "decision_message": "",
        "decided_by": None,
        "decided_at": None,
        "created_at": body["created_at"],
    }
    event = AuditEvent.objects.filter(action="booking.request_view").latest("pk")
    assert event.actor == staff and event.details == {"request": str(asked.public_id)}


def test_the_request_list_reads_a_fixed_number_of_queries_whatever_its_size(
    staff_api, admin, practice, patient, ask
):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = staff_api.get("/booking/requests", {"limit": 50})
            assert response.status_code == 200
        return len(captured)

    for hour in (9, 10, 11):
        ask(at(MONDAY, hour))
    queries()  # the token's first use is recorded once
    few = queries()
    # Decided ones too: each shows its chart, appointment and who decided.
    for asked in AppointmentRequest.objects.all()[:2]:
        services.request_approve(admin, request=asked)
    open_times = [
        at(TUESDAY + dt.timedelta(days=day), hour, minute)
        for day in (0, 1)
        for hour in (9, 10, 11, 13)
        for minute in (0, 20, 40)
    ]
    for start in open_times[:17]:
        ask(start)
    assert AppointmentRequest.objects.count() == 20
    assert queries() == few


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": "open"}, "status"),
        ({"kind": "move"}, "kind"),
        ({"provider": str(uuid.uuid4())}, "provider"),
        ({"provider": "Paula"}, "provider"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"offset": -1}, "offset"),
    ],
)
def test_a_bad_request_filter_is_422_and_audits_nothing(staff_api, params, field):
    before = AuditEvent.objects.count()
    errors = assert_error_body(staff_api.get("/booking/requests", params), 422)["errors"]
    assert field in errors, errors
    assert AuditEvent.objects.count() == before


# --- Requests: approving ---------------------------------------------------------------------


def test_approving_with_an_existing_chart_books_it_and_emails_the_requester(
    staff_api, staff, patient, provider, ask
):
    asked = ask(at(MONDAY, 9))

    response = staff_api.post(
        f"/booking/requests/{asked.public_id}/approve", {"patient_id": str(patient.public_id)}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["status_label"]) == ("approved", "Approved")
    assert body["patient"] == {"id": str(patient.public_id), "name": patient.full_name}
    appointment = Appointment.objects.get()
    assert body["appointment"] == {
        "id": str(appointment.public_id),
        "status": "booked",
        "status_label": "Confirmed",
        "start_at": "2026-12-07T14:00:00Z",
        "end_at": "2026-12-07T14:20:00Z",
    }
    assert body["decided_by"] == {"id": str(staff.public_id), "name": "Stan Staff"}
    assert (appointment.patient, appointment.provider, appointment.reason) == (
        patient,
        provider,
        "Knee pain",
    )
    assert AuditEvent.objects.filter(action="booking.request_approve", actor=staff).count() == 1
    assert OutboundEmail.objects.filter(kind="scheduling.booked", to_address="rosa@example.org")


def test_approving_with_a_new_patient_makes_the_chart_from_the_request(staff_api, practice, ask):
    asked = ask(at(MONDAY, 9))

    response = staff_api.post(
        f"/booking/requests/{asked.public_id}/approve",
        {"new_patient": {"legal_first_name": "Rosalind", "sex": "female"}},
    )

    assert response.status_code == 200, response.content
    chart = Patient.objects.get(practice=practice, legal_last_name="Rivera")
    assert (chart.legal_first_name, chart.date_of_birth, chart.email, chart.sex) == (
        "Rosalind",
        dt.date(1980, 4, 2),
        "rosa@example.org",
        "female",
    )
    assert response.json()["patient"]["id"] == str(chart.public_id)
    assert Appointment.objects.get().patient == chart


def test_approving_without_a_body_makes_a_chart_from_what_was_typed(staff_api, ask):
    asked = ask(at(MONDAY, 9))
    response = staff_api.post(f"/booking/requests/{asked.public_id}/approve")
    assert response.status_code == 200, response.content
    assert Patient.objects.get(legal_first_name="Rosa").legal_last_name == "Rivera"


def test_of_two_requests_approved_for_one_time_the_second_is_409_with_the_open_times(
    staff_api, patient, ask
):
    first = ask(at(MONDAY, 9))
    second = ask(at(MONDAY, 9), first_name="Sam")
    assert staff_api.post(f"/booking/requests/{first.public_id}/approve").status_code == 200
    before = booking_snapshot()

    response = staff_api.post(
        f"/booking/requests/{second.public_id}/approve", {"patient_id": str(patient.public_id)}
    )

    assert response.status_code == 409, response.content
    body = response.json()
    assert set(body) == {"detail", "errors", "open_times"}
    assert body["detail"] == TAKEN and body["errors"] == {"start_at": [TAKEN]}
    assert [t["start_at"] for t in body["open_times"][:2]] == [
        utc(at(MONDAY, 9, 20)),
        utc(at(MONDAY, 9, 40)),
    ]
    assert booking_snapshot() == before
    assert AppointmentRequest.objects.get(pk=second.pk).status == RequestStatus.PENDING


BAD_APPROVALS = {
    "both-chart-and-new": ("both", "new_patient"),
    "unknown-chart": ({"patient_id": str(uuid.uuid4())}, "patient_id"),
    "another-practices-chart": ("their-chart", "patient_id"),
    "malformed-chart-id": ({"patient_id": "Rivera"}, "patient_id"),
    "blank-new-name": ({"new_patient": {"legal_last_name": " "}}, "new_patient.legal_last_name"),
    "bad-new-email": ({"new_patient": {"email": "rosa@"}}, "new_patient.email"),
    "future-birth-date": (
        {"new_patient": {"date_of_birth": "2099-01-01"}},
        "new_patient.date_of_birth",
    ),  # fmt: skip
    "unknown-field": ({"chart": "x"}, "chart"),
}


@pytest.mark.parametrize(("body", "field"), BAD_APPROVALS.values(), ids=BAD_APPROVALS.keys())
def test_a_bad_approval_is_422_with_the_field_and_changes_nothing(
    staff_api, patient, other_practice, ask, body, field
):
    asked = ask(at(MONDAY, 9))
    if body == "both":
        body = {"patient_id": str(patient.public_id), "new_patient": {}}
    elif body == "their-chart":
        body = {"patient_id": str(factories.make_patient(other_practice).public_id)}
    before = booking_snapshot()

    response = staff_api.post(f"/booking/requests/{asked.public_id}/approve", body)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert booking_snapshot() == before


def test_a_request_already_answered_is_422_and_unchanged(staff_api, admin, ask):
    asked = ask(at(MONDAY, 9))
    services.request_deny(admin, request=asked, reason="Full")
    before = booking_snapshot()
    for action, body in (("approve", None), ("deny", {"reason": "x"})):
        response = staff_api.post(f"/booking/requests/{asked.public_id}/{action}", body)
        assert assert_error_body(response, 422)["errors"] == {
            "status": ["This request was already answered (denied)."]
        }
    assert booking_snapshot() == before


# --- Requests: denying and proposing ---------------------------------------------------------


def test_denying_keeps_the_reason_and_emails_the_requester(staff_api, staff, ask):
    asked = ask(at(MONDAY, 9))

    response = staff_api.post(
        f"/booking/requests/{asked.public_id}/deny",
        {"reason": "Not taking this visit type", "message": "Please call us."},
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["decision_reason"], body["decision_message"]) == (
        "denied",
        "Not taking this visit type",
        "Please call us.",
    )
    assert not Appointment.objects.exists() and not Patient.objects.filter(legal_last_name="Rivera")
    assert OutboundEmail.objects.filter(kind="booking.denied", to_address="rosa@example.org")
    assert AuditEvent.objects.filter(action="booking.request_deny", actor=staff).count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": "   "}, "reason"),
        ({"reason": "x" * 301}, "reason"),
        ({"reason": "Full", "message": "\x00"}, "message"),
        ({"reason": "Full", "cc": "me"}, "cc"),
    ],
)
def test_a_bad_denial_is_422_and_changes_nothing(staff_api, ask, body, field):
    asked = ask(at(MONDAY, 9))
    before = booking_snapshot()
    response = staff_api.post(f"/booking/requests/{asked.public_id}/deny", body)
    assert field in assert_error_body(response, 422)["errors"]
    assert booking_snapshot() == before


def test_a_body_that_is_not_json_is_400_and_changes_nothing(staff_api, ask):
    asked = ask(at(MONDAY, 9))
    before = booking_snapshot()
    response = staff_api.post(f"/booking/requests/{asked.public_id}/deny", raw="{reason: Full")
    assert assert_error_body(response, 400)["errors"] == {
        "body": ["The request body is not valid JSON."]
    }
    assert booking_snapshot() == before


def test_proposing_another_time_holds_it_tentative_and_emails_the_requester(
    staff_api, patient, ask
):
    asked = ask(at(MONDAY, 9))

    response = staff_api.post(
        f"/booking/requests/{asked.public_id}/propose",
        {
            "start_at": at(TUESDAY, 14).isoformat(),
            "reason": "The doctor is in surgery Monday",
            "patient_id": str(patient.public_id),
        },
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "proposed"
    assert body["appointment"]["status"] == "proposed"
    assert body["appointment"]["start_at"] == utc(at(TUESDAY, 14))
    appointment = Appointment.objects.get()
    assert (appointment.status, appointment.patient) == (AppointmentStatus.PROPOSED, patient)
    assert OutboundEmail.objects.filter(kind="booking.proposed", to_address="rosa@example.org")


def test_proposing_a_time_already_booked_is_409_with_the_open_times(
    staff_api,
    admin,
    patient,
    provider,
    follow_up,
    ask,
):
    scheduling.appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(TUESDAY, 14),
    )  # fmt: skip
    asked = ask(at(MONDAY, 9))
    before = booking_snapshot()

    response = staff_api.post(
        f"/booking/requests/{asked.public_id}/propose",
        {"start_at": at(TUESDAY, 14, 10).isoformat(), "reason": "Monday is full"},
    )

    assert response.status_code == 409, response.content
    starts = [t["start_at"] for t in response.json()["open_times"]]
    assert starts[0] == utc(at(TUESDAY, 9)) and utc(at(TUESDAY, 14)) not in starts
    assert booking_snapshot() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"start_at": "2026-12-08T14:00:00"}, "start_at"),
        ({"start_at": "2026-12-08T18:00:00-05:00"}, "start_at"),  # after hours
        ({"start_at": "2026-12-01T10:00:00-05:00"}, "start_at"),  # passed
        ({"reason": ""}, "reason"),
        ({"patient_id": str(uuid.uuid4())}, "patient_id"),
    ],
)
def test_a_bad_proposal_is_422_and_changes_nothing(staff_api, ask, changes, field):
    asked = ask(at(MONDAY, 9))
    body = {"start_at": at(TUESDAY, 14).isoformat(), "reason": "Monday is full", **changes}
    before = booking_snapshot()
    response = staff_api.post(f"/booking/requests/{asked.public_id}/propose", body)
    assert field in assert_error_body(response, 422)["errors"]
    assert booking_snapshot() == before


def test_a_cancellation_request_is_approved_or_denied_not_answered_with_a_time(
    staff_api,
    admin,
    patient,
    provider,
    follow_up,
    access,
    ask,
):
    appointment = scheduling.appointment_book(
        admin, patient=patient, provider=provider, appointment_type=follow_up,
        start_at=at(TUESDAY, 9),
    )  # fmt: skip
    patient.practice.cancellation_approval = "all"
    patient.practice.save()
    asked = services.patient_cancel(
        access.account, access=access, appointment=appointment, reason="Feeling better"
    )
    assert asked.kind == RequestKind.CANCEL
    before = booking_snapshot()

    proposed = staff_api.post(
        f"/booking/requests/{asked.public_id}/propose",
        {"start_at": at(TUESDAY, 14).isoformat(), "reason": "Come anyway"},
    )
    assert assert_error_body(proposed, 422)["errors"] == {
        "kind": ["A cancellation request is approved or denied."]
    }
    assert booking_snapshot() == before

    approved = staff_api.post(f"/booking/requests/{asked.public_id}/approve")
    assert approved.status_code == 200, approved.content
    body = approved.json()
    assert body["kind"] == "cancel" and body["status"] == "approved"
    assert body["original_appointment_id"] == str(appointment.public_id)
    assert body["appointment"]["status"] == "cancelled"


# --- Tenancy and authentication -------------------------------------------------------------


@pytest.fixture
def world(provider, ask):
    return {"{provider_id}": provider.public_id, "{request_id}": ask(at(MONDAY, 9)).public_id}


# A valid body for each operation that takes one, so the call reaches the lookup by id.
VALID_BODIES = {
    ("put", "/booking/profiles/{provider_id}"): {"biography": "Hello."},
    ("put", "/booking/profiles/{provider_id}/status"): {"is_on": False},
    ("put", "/booking/profiles/{provider_id}/npi-attestation"): {"attested": False},
    ("post", "/booking/requests/{request_id}/deny"): {"reason": "Full"},
    ("post", "/booking/requests/{request_id}/propose"): {
        "start_at": "2026-12-08T14:00:00-05:00",
        "reason": "Monday is full",
    },
}


def concrete(path: str, ids: dict) -> str:
    for placeholder, value in ids.items():
        path = path.replace(placeholder, str(value))
    return path


def test_the_routes_with_ids_are_found():
    assert {path for _method, path in ID_OPERATIONS} == {
        "/booking/profiles/{provider_id}",
        "/booking/profiles/{provider_id}/status",
        "/booking/profiles/{provider_id}/npi-attestation",
        "/booking/requests/{request_id}",
        "/booking/requests/{request_id}/approve",
        "/booking/requests/{request_id}/deny",
        "/booking/requests/{request_id}/propose",
    }


@pytest.mark.parametrize(("method", "path"), ID_OPERATIONS, ids=str)
def test_another_practices_ids_are_404_on_every_route_and_change_nothing(
    api_as, world, outsider, other_practice, method, path
):
    elsewhere_api = api_as(outsider, other_practice)
    before = booking_snapshot()

    response = elsewhere_api.call(method, concrete(path, world), VALID_BODIES.get((method, path)))

    assert assert_error_body(response, 404)["detail"] == "Not found."
    assert booking_snapshot() == before  # nothing changed, and no read audited


@pytest.mark.parametrize(("method", "path"), ID_OPERATIONS, ids=str)
def test_an_unknown_id_is_404_like_another_practices(admin_api, world, method, path):
    unknown = {placeholder: uuid.uuid4() for placeholder in world}
    response = admin_api.call(method, concrete(path, unknown), VALID_BODIES.get((method, path)))
    assert assert_error_body(response, 404)["detail"] == "Not found."


def test_lists_never_show_another_practices_profiles_or_requests(
    api_as, outsider, other_practice, world
):
    elsewhere_api = api_as(outsider, other_practice)
    assert elsewhere_api.get("/booking/profiles").json() == []
    assert elsewhere_api.get("/booking/requests").json() == {"items": [], "count": 0}


@pytest.mark.parametrize(("method", "path"), BOOKING_OPERATIONS, ids=str)
def test_every_booking_route_needs_a_token(client, world, method, path):
    no_token = ApiClient(client, None, authorization="")
    before = booking_snapshot()

    response = no_token.call(method, concrete(path, world), VALID_BODIES.get((method, path)))

    assert assert_error_body(response, 401)["detail"] == "A valid staff API token is required."
    assert booking_snapshot() == before


# --- The description ------------------------------------------------------------------------


def test_openapi_describes_every_booking_route(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    operations = {
        op["operationId"].rsplit("_api_booking_", 1)[-1]: (method, path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if path.startswith("/api/v1/booking/")
    }
    assert operations == {
        "list_online_profiles": ("get", "/api/v1/booking/profiles"),
        "get_online_profile": ("get", "/api/v1/booking/profiles/{provider_id}"),
        "update_online_profile": ("put", "/api/v1/booking/profiles/{provider_id}"),
        "set_online_profile_status": ("put", "/api/v1/booking/profiles/{provider_id}/status"),
        "set_npi_attestation": ("put", "/api/v1/booking/profiles/{provider_id}/npi-attestation"),
        "list_appointment_requests": ("get", "/api/v1/booking/requests"),
        "get_appointment_request": ("get", "/api/v1/booking/requests/{request_id}"),
        "approve_appointment_request": ("post", "/api/v1/booking/requests/{request_id}/approve"),
        "deny_appointment_request": ("post", "/api/v1/booking/requests/{request_id}/deny"),
        "propose_appointment_time": ("post", "/api/v1/booking/requests/{request_id}/propose"),
    }
    every_id = [op["operationId"] for item in schema["paths"].values() for op in item.values()]
    assert len(every_id) == len(set(every_id))
    for path, item in schema["paths"].items():
        if not path.startswith("/api/v1/booking/"):
            continue
        for method, operation in item.items():
            assert operation["tags"] == ["booking"], (method, path)
            assert operation["summary"] and operation["description"], (method, path)
            assert {"200", "401", "403", "422"} <= set(operation["responses"]), (method, path)
            if "{" in path:
                assert "404" in operation["responses"], (method, path)
    for action in ("approve", "propose"):
        conflict = schema["paths"][f"/api/v1/booking/requests/{{request_id}}/{action}"]["post"]
        assert conflict["responses"]["409"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ConflictOut"
        }
    components = schema["components"]["schemas"]
    assert set(components["ProfileOut"]["required"]) >= {
        "checklist",
        "public_url",
        "embed_url",
        "embed_snippet",
    }
    assert components["ProfileIn"]["additionalProperties"] is False
    assert "required" not in components["ProfileIn"]  # only the fields given change
    assert set(components["ProposeIn"]["required"]) == {"start_at", "reason"}
    assert components["ProposeIn"]["properties"]["start_at"]["format"] == "date-time"
    assert components["DenyIn"]["properties"]["reason"]["minLength"] == 1
    assert "family-medicine" in components["Specialty"]["enum"]


# --- The race, on PostgreSQL ----------------------------------------------------------------

postgres_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the exclusion constraint is PostgreSQL's"
)


@postgres_only
@pytest.mark.django_db(transaction=True)
def test_of_ten_requests_for_one_time_approved_at_once_one_is_200_and_the_rest_409(
    now,
    practice,
    staff,
    ask,
):
    key = token_key(staff, practice)
    requests = [ask(at(TUESDAY, 9), first_name=f"Requester{n}") for n in range(10)]
    barrier = threading.Barrier(len(requests))
    statuses: list[int] = []

    def attempt(asked):
        client = Client(raise_request_exception=False)
        try:
            barrier.wait()
            response = client.post(
                f"/api/v1/booking/requests/{asked.public_id}/approve",
                json.dumps({}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {key}",
            )
            statuses.append(response.status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt, args=(r,)) for r in requests]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [409] * 9
    assert Appointment.objects.count() == 1
    assert AppointmentRequest.objects.filter(status=RequestStatus.APPROVED).count() == 1
