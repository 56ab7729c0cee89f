"""Creating, finding and reading charts through the API."""

import datetime as dt

import pytest

from portico.audit.models import AuditEvent
from portico.charts.models import Patient
from tests.factories import invite, make_patient

NEW_PATIENT = {
    "legal_first_name": " Maria ",
    "legal_last_name": "Gomez",
    "preferred_name": "Mari",
    "date_of_birth": "1984-03-09",
    "sex": "female",
    "email": "Maria.Gomez@Example.test",
    "mobile_phone": "(202) 555-0147",
    "city": "Springfield",
}


def test_create_patient_stores_clean_demographics(admin_api, admin, practice):
    response = admin_api.post("/patients", NEW_PATIENT)

    assert response.status_code == 201, response.content
    body = response.json()
    patient = Patient.objects.get(public_id=body["id"])
    assert patient.practice == practice
    assert patient.legal_first_name == "Maria"
    assert patient.date_of_birth == dt.date(1984, 3, 9)
    assert patient.email == "maria.gomez@example.test"
    assert patient.mobile_phone == "+12025550147"
    assert body["mobile_phone"] == "+12025550147"
    assert body["portal_status"] == "not_invited"
    assert "practice" not in body and "pk" not in body  # opaque ids only
    assert AuditEvent.objects.get(action="chart.create").actor == admin


def test_get_patient_returns_demographics_and_portal_status(admin_api, admin, patient):
    invite(admin, patient)

    body = admin_api.get(f"/patients/{patient.public_id}").json()

    assert body["id"] == str(patient.public_id)
    assert body["legal_last_name"] == patient.legal_last_name
    assert body["date_of_birth"] == "1980-04-21"
    assert body["portal_status"] == "invited"


def test_expired_invite_shows_as_expired(admin_api, admin, patient):
    invitation = invite(admin, patient)
    invitation.expires_at = invitation.created_at - dt.timedelta(seconds=1)
    invitation.save()

    assert admin_api.get(f"/patients/{patient.public_id}").json()["portal_status"] == "expired"
    listed = admin_api.get("/patients").json()["items"]
    assert listed[0]["portal_status"] == "expired"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gom", {"Gomez"}),
        ("maria gomez", {"Gomez"}),
        ("1984-03-09", {"Gomez"}),
        ("03/09/1984", {"Gomez"}),
        ("nobody", set()),
        ("", {"Gomez", "Tran"}),
    ],
)
def test_list_searches_by_name_or_date_of_birth(admin_api, practice, query, expected):
    make_patient(
        practice,
        legal_first_name="Maria",
        legal_last_name="Gomez",
        date_of_birth=dt.date(1984, 3, 9),
    )
    make_patient(practice, legal_first_name="Bao", legal_last_name="Tran")

    body = admin_api.get("/patients", {"q": query}).json()

    assert {p["legal_last_name"] for p in body["items"]} == expected
    assert body["count"] == len(expected)


def test_list_is_paginated_in_name_order(admin_api, practice):
    for name in ("Cole", "Abbot", "Baker", "Dunn"):
        make_patient(practice, legal_last_name=name)

    first = admin_api.get("/patients", {"limit": 2}).json()
    second = admin_api.get("/patients", {"limit": 2, "offset": 2}).json()

    assert [p["legal_last_name"] for p in first["items"]] == ["Abbot", "Baker"]
    assert [p["legal_last_name"] for p in second["items"]] == ["Cole", "Dunn"]
    assert first["count"] == second["count"] == 4


@pytest.mark.parametrize("patients", [5, 40])
def test_list_does_not_query_per_patient(
    admin_api, admin, practice, patients, django_assert_max_num_queries
):
    for n in range(patients):
        patient = make_patient(practice)
        if n % 2:
            invite(admin, patient)  # the portal status reads the current invitation too

    # Token lookup, membership check, count and one page: the same for 5 and for 40 charts.
    with django_assert_max_num_queries(6):
        response = admin_api.get("/patients", {"limit": 50})

    items = response.json()["items"]
    assert len(items) == patients
    assert sum(p["portal_status"] == "invited" for p in items) == patients // 2
