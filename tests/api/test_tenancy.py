"""Another practice's charts do not exist for a token: 404 on every patient path."""

import uuid

import pytest
from django.core import mail

from portico.charts.models import Patient
from tests.api.conftest import assert_error_body, registered_operations, snapshot
from tests.factories import enroll, invite, make_patient

# A valid body for each operation that needs one, so the call reaches the chart lookup (a body
# that fails validation would be refused before it). A new operation with a required body
# fails test_every_patient_path_is_404_for_another_practice until it is given one here.
VALID_BODIES = {
    ("post", "/patients/{patient_id}/portal/invite"): {},
    ("post", "/patients/{patient_id}/portal/resend"): {"email": "new@example.test"},
    ("post", "/patients/{patient_id}/representatives"): {
        "name": "Maria Rivera",
        "relationship": "parent",
        "email": "maria@example.test",
    },
}

PATIENT_PATHS = [op for op in registered_operations() if "{patient_id}" in op[1]]


def test_the_patient_paths_are_found():
    """Guard for the walk below: it must see the chart, portal and every transition path."""
    paths = {path for _method, path in PATIENT_PATHS}
    assert {
        "/patients/{patient_id}",
        "/patients/{patient_id}/portal",
        "/patients/{patient_id}/portal/invite",
        "/patients/{patient_id}/portal/resend",
        "/patients/{patient_id}/portal/cancel",
        "/patients/{patient_id}/portal/revoke",
    } <= paths


@pytest.mark.parametrize("state", ["not_invited", "invited", "active"])
@pytest.mark.parametrize(("method", "path"), PATIENT_PATHS, ids=lambda v: str(v))
def test_every_patient_path_is_404_for_another_practice(
    api_as, admin, outsider, other_practice, patient, send_email, state, method, path
):
    if state == "invited":
        invite(admin, patient)
    elif state == "active":
        enroll(admin, patient)
    outsider_api = api_as(outsider, other_practice)
    before = snapshot()
    sent = len(mail.outbox)

    with send_email:
        response = outsider_api.call(
            method,
            path.replace("{patient_id}", str(patient.public_id)),
            VALID_BODIES.get((method, path)),
        )

    body = assert_error_body(response, 404)
    assert body["detail"] == "Not found."
    assert snapshot() == before  # no change, and not even a chart-view audit event
    assert len(mail.outbox) == sent


@pytest.mark.parametrize(("method", "path"), PATIENT_PATHS, ids=lambda v: str(v))
def test_unknown_patient_id_is_404_like_another_practices(admin_api, method, path):
    response = admin_api.call(
        method, path.replace("{patient_id}", str(uuid.uuid4())), VALID_BODIES.get((method, path))
    )
    assert assert_error_body(response, 404)["detail"] == "Not found."


def test_list_never_shows_another_practices_patients(admin_api, practice, other_practice):
    ours = {str(make_patient(practice, legal_last_name="Shared").public_id) for _ in range(3)}
    for _ in range(3):
        make_patient(other_practice, legal_last_name="Shared")

    everyone = admin_api.get("/patients").json()
    by_name = admin_api.get("/patients", {"q": "Shared"}).json()
    by_birth_date = admin_api.get("/patients", {"q": "1980-04-21"}).json()

    for page in (everyone, by_name, by_birth_date):
        assert {p["id"] for p in page["items"]} == ours
        assert page["count"] == 3
    assert Patient.objects.filter(legal_last_name="Shared").count() == 6


def test_created_patient_belongs_to_the_tokens_practice(admin_api, practice):
    response = admin_api.post(
        "/patients",
        {"legal_first_name": "Ann", "legal_last_name": "Ng", "date_of_birth": "1990-05-06"},
    )
    assert response.status_code == 201
    assert Patient.objects.get(public_id=response.json()["id"]).practice == practice
