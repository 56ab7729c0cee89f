"""The API answers only a live staff token, and a token works only for its own practice."""

import pytest

from portico.accounts.services import api_token_create, api_token_revoke
from portico.charts.models import Patient
from portico.practices.models import Membership
from tests.api.conftest import (
    ApiClient,
    assert_error_body,
    registered_operations,
    snapshot,
    token_key,
)
from tests.factories import make_practice, make_staff, make_user, sign_in

NEW_PATIENT = {"legal_first_name": "Ida", "legal_last_name": "Lee", "date_of_birth": "1970-01-02"}


@pytest.mark.parametrize(
    "authorization",
    [
        "",  # no header at all
        "Bearer",
        "Bearer ",
        "Token pt_abcdef",
        "Basic dXNlcjpwYXNz",
        "Bearer not-a-portico-token",
        "Bearer pt_this-token-was-never-issued",
        "Bearer pt_" + "x" * 5000,
    ],
    ids=[
        "none",
        "bearer-alone",
        "bearer-empty",
        "wrong-scheme",
        "basic",
        "no-prefix",
        "unknown",
        "very-long",
    ],
)
def test_request_without_a_valid_token_is_refused_with_401(client, patient, authorization):
    before = snapshot()
    api_client = ApiClient(client, None, authorization=authorization)

    for response in (
        api_client.get("/patients"),
        api_client.get(f"/patients/{patient.public_id}/portal"),
        api_client.post("/patients", NEW_PATIENT),
        api_client.post(f"/patients/{patient.public_id}/portal/invite", {}),
    ):
        body = assert_error_body(response, 401)
        assert body["detail"] == "A valid staff API token is required."
        assert response["WWW-Authenticate"].startswith("Bearer")
    assert snapshot() == before


def test_revoked_token_is_refused(client, admin, practice):
    token, key = api_token_create(admin, practice=practice, name="old integration")
    api_token_revoke(admin, token=token)

    assert_error_body(ApiClient(client, key).get("/patients"), 401)


def test_token_stops_working_when_membership_is_deactivated(client, staff, practice):
    key = token_key(staff, practice)
    api_client = ApiClient(client, key)
    assert api_client.get("/patients").status_code == 200

    Membership.objects.filter(user=staff, practice=practice).update(is_active=False)

    assert_error_body(api_client.get("/patients"), 401)
    assert_error_body(api_client.post("/patients", NEW_PATIENT), 401)
    assert not Patient.objects.filter(legal_last_name="Lee").exists()


def test_token_stops_working_when_user_is_deactivated(client, staff, practice):
    api_client = ApiClient(client, token_key(staff, practice))
    staff.is_active = False
    staff.save()

    assert_error_body(api_client.get("/patients"), 401)


def test_signed_in_session_without_token_is_refused(client, admin, practice):
    """A browser session is not an API credential (and so cannot be abused cross-site)."""
    sign_in(client, admin)

    assert_error_body(client.get("/api/v1/patients"), 401)


def test_token_works_only_for_its_own_practice(client, practice, other_practice):
    """Staff of two practices: a token made for one never reaches the other's charts."""
    user = make_staff(practice)
    Membership.objects.create(user=user, practice=other_practice, role="staff")
    here = Patient.objects.create(
        practice=practice,
        legal_first_name="Here",
        legal_last_name="Home",
        date_of_birth="1980-01-01",
    )
    there = Patient.objects.create(
        practice=other_practice,
        legal_first_name="There",
        legal_last_name="Away",
        date_of_birth="1980-01-01",
    )
    api_client = ApiClient(client, token_key(user, other_practice))

    listed = {p["id"] for p in api_client.get("/patients").json()["items"]}
    assert listed == {str(there.public_id)}
    assert_error_body(api_client.get(f"/patients/{here.public_id}"), 404)
    assert api_client.get(f"/patients/{there.public_id}").status_code == 200
    created = api_client.post("/patients", NEW_PATIENT)
    assert created.status_code == 201
    assert Patient.objects.get(public_id=created.json()["id"]).practice == other_practice


def test_using_a_token_records_when_it_was_last_used(client, admin, practice):
    token, key = api_token_create(admin, practice=practice, name="x")
    assert token.last_used_at is None

    ApiClient(client, key).get("/patients")

    token.refresh_from_db()
    assert token.last_used_at is not None


def test_every_operation_requires_the_token(client, patient):
    """Walks the registered operations, so a new one cannot be left open by mistake."""
    anonymous = ApiClient(client, None, authorization="")
    operations = registered_operations()
    assert len(operations) >= 7
    for method, path in operations:
        response = anonymous.call(method, path.replace("{patient_id}", str(patient.public_id)))
        assert_error_body(response, 401)


def test_a_user_without_any_practice_cannot_get_a_token(practice):
    from django.core.exceptions import PermissionDenied

    patient_account = make_user()
    with pytest.raises(PermissionDenied):
        api_token_create(patient_account, practice=practice, name="x")
    with pytest.raises(PermissionDenied):
        api_token_create(make_staff(make_practice()), practice=practice, name="x")


def test_the_token_decides_who_acts_even_with_a_browser_session(
    client, admin, non_inviter, outsider, practice, other_practice, patient
):
    """A session cookie that rides along (say, the integrator's browser) changes nothing."""
    sign_in(client, admin)

    as_non_inviter = ApiClient(client, token_key(non_inviter, practice))
    response = as_non_inviter.post(f"/patients/{patient.public_id}/portal/invite", {})
    assert_error_body(response, 403)
    assert as_non_inviter.get(f"/patients/{patient.public_id}/portal").json()["actions"] == []

    as_outsider = ApiClient(client, token_key(outsider, other_practice))
    assert_error_body(as_outsider.get(f"/patients/{patient.public_id}"), 404)
    assert not patient.invitations.exists()
