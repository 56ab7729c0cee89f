"""Bad input on every body and query: a 4xx with field errors (422 for values), never a 500,
and nothing stored."""

import datetime as dt
import json

import pytest
from django.core import mail
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import assert_error_body, snapshot

VALID = {"legal_first_name": "Ann", "legal_last_name": "Ng", "date_of_birth": "1990-05-06"}


def with_(**changes):
    body = dict(VALID)
    for field, value in changes.items():
        if value is ...:
            body.pop(field)
        else:
            body[field] = value
    return body


def tomorrow() -> str:
    return (timezone.localdate() + dt.timedelta(days=1)).isoformat()


# (body, the field named in `errors`)
BAD_PATIENTS = {
    "missing-first-name": (with_(legal_first_name=...), "legal_first_name"),
    "missing-last-name": (with_(legal_last_name=...), "legal_last_name"),
    "missing-date-of-birth": (with_(date_of_birth=...), "date_of_birth"),
    "blank-first-name": (with_(legal_first_name="   "), "legal_first_name"),
    "null-last-name": (with_(legal_last_name=None), "legal_last_name"),
    "number-as-name": (with_(legal_first_name=42), "legal_first_name"),
    "list-as-name": (with_(legal_last_name=["Ng"]), "legal_last_name"),
    "nested-object-as-name": (with_(legal_first_name={"given": "Ann"}), "legal_first_name"),
    "bool-as-email": (with_(email=True), "email"),
    "invalid-date": (with_(date_of_birth="1990-02-30"), "date_of_birth"),
    "us-date-format": (with_(date_of_birth="05/06/1990"), "date_of_birth"),
    "date-with-time": (with_(date_of_birth="1990-05-06T00:00:00"), "date_of_birth"),
    "number-as-date": (with_(date_of_birth=0), "date_of_birth"),
    "text-as-date": (with_(date_of_birth="yesterday"), "date_of_birth"),
    "future-date-of-birth": (with_(date_of_birth=tomorrow()), "date_of_birth"),
    "date-before-1900": (with_(date_of_birth="1899-12-31"), "date_of_birth"),
    "invalid-email": (with_(email="ann@"), "email"),
    "email-without-domain": (with_(email="ann"), "email"),
    "invalid-phone": (with_(mobile_phone="12"), "mobile_phone"),
    "letters-as-phone": (with_(mobile_phone="call me"), "mobile_phone"),
    "unknown-sex": (with_(sex="x"), "sex"),
    "over-long-first-name": (with_(legal_first_name="A" * 101), "legal_first_name"),
    "over-long-address": (with_(address_line1="A" * 201), "address_line1"),
    "over-long-email": (with_(email="a" * 250 + "@example.test"), "email"),
    "over-long-phone": (with_(mobile_phone="1" * 41), "mobile_phone"),
    "nul-character": (with_(legal_last_name="Ng\x00"), "legal_last_name"),
    "other-control-character": (with_(city="Spring\x1bfield"), "city"),
    "unknown-field": (with_(dob="1990-05-06"), "dob"),
    "extra-nesting": ({"patient": VALID}, "patient"),
    "extra-nesting-of-a-field": (with_(address={"city": "Springfield"}), "address"),
}


@pytest.mark.parametrize(("body", "field"), BAD_PATIENTS.values(), ids=BAD_PATIENTS.keys())
def test_bad_patient_body_is_422_with_field_error_and_stores_nothing(admin_api, body, field):
    before = snapshot()

    response = admin_api.post("/patients", body)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert snapshot() == before


# Bodies that are not a JSON object at all.
NOT_AN_OBJECT = {
    "not-json": ("{not json", 400),
    "truncated-json": ('{"legal_first_name": "Ann"', 400),
    "deeply-nested": ("[" * 100_000, 400),
    "binary": (b"\xff\xfe\x00garbage", 400),
    "empty": ("", 422),
    "json-array": ("[1, 2]", 422),
    "json-string": ('"Ann Ng"', 422),
    "json-null": ("null", 422),
}


@pytest.mark.parametrize(("raw", "status"), NOT_AN_OBJECT.values(), ids=NOT_AN_OBJECT.keys())
def test_body_that_is_not_a_json_object_is_refused(admin_api, patient, raw, status):
    before = snapshot()

    for path in ("/patients", f"/patients/{patient.public_id}/portal/resend"):
        response = admin_api.post(path, raw=raw)
        if path.endswith("resend") and raw in ("", "null"):
            # An empty body means "use the chart's address"; not invited yet, so: conflict.
            assert_error_body(response, 409)
            continue
        errors = assert_error_body(response, status)["errors"]
        assert errors.get("body"), errors
    assert snapshot() == before


BAD_CONTACTS = {
    "invalid-email": ({"email": "robin@"}, "email"),
    "empty-email": ({"email": ""}, "email"),
    "invalid-phone": ({"phone": "555"}, "phone"),
    "number-as-phone": ({"phone": 2025550123}, "phone"),
    "object-as-email": ({"email": {"address": "a@example.test"}}, "email"),
    "over-long-email": ({"email": "a" * 250 + "@example.test"}, "email"),
    "nul-in-email": ({"email": "robin\x00@example.test"}, "email"),
    "unknown-field": ({"mail": "robin@example.test"}, "mail"),
}


@pytest.mark.parametrize("action", ["invite", "resend"])
@pytest.mark.parametrize(("body", "field"), BAD_CONTACTS.values(), ids=BAD_CONTACTS.keys())
def test_bad_contact_on_invite_or_resend_is_422_and_sends_nothing(
    admin_api, admin, patient, send_email, action, body, field
):
    if action == "resend":
        from tests.factories import invite

        invite(admin, patient)
    before = snapshot()

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/{action}", body)

    errors = assert_error_body(response, 422)["errors"]
    assert field in errors, errors
    assert snapshot() == before
    assert mail.outbox == []


def test_chart_without_email_cannot_be_invited(admin_api, practice, send_email):
    from tests.factories import make_patient

    patient = make_patient(practice, email="")
    before = snapshot()

    with send_email:
        response = admin_api.post(f"/patients/{patient.public_id}/portal/invite")

    errors = assert_error_body(response, 422)["errors"]
    assert errors["email"] == ["An email address is needed to send the enrollment email."]
    assert snapshot() == before


BAD_QUERIES = {
    "limit-zero": ({"limit": 0}, "limit"),
    "limit-too-big": ({"limit": 10**30}, "limit"),
    "limit-not-a-number": ({"limit": "ten"}, "limit"),
    "negative-offset": ({"offset": -1}, "offset"),
    "offset-too-big": ({"offset": 10**30}, "offset"),
    "over-long-search": ({"q": "a" * 101}, "q"),
    "nul-in-search": ({"q": "a\x00b"}, "q"),
}


@pytest.mark.parametrize(("params", "field"), BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_bad_list_query_is_422(admin_api, patient, params, field):
    errors = assert_error_body(admin_api.get("/patients", params), 422)["errors"]
    assert field in errors, errors


def test_malformed_patient_id_is_422(admin_api):
    errors = assert_error_body(admin_api.get("/patients/12345"), 422)["errors"]
    assert "patient_id" in errors


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=10), children, max_size=3)
    ),
    max_leaves=8,
)
patient_fields = st.sampled_from(
    [
        "legal_first_name",
        "legal_last_name",
        "date_of_birth",
        "sex",
        "email",
        "mobile_phone",
        "preferred_name",
        "extra",
    ]
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(changes=st.dictionaries(patient_fields, json_values, min_size=1, max_size=3))
def test_any_json_values_give_a_clear_answer_never_a_500(admin_api, changes):
    before = snapshot()

    response = admin_api.post("/patients", {**VALID, **changes})

    if response.status_code == 201:
        assert snapshot()["patients"] != before["patients"]
    else:
        assert_error_body(response, 422)
        assert snapshot() == before, json.dumps(changes, default=str)


def test_unknown_query_parameters_are_ignored(admin_api, patient):
    response = admin_api.get("/patients", {"sort": "name", "page": "2"})
    assert response.status_code == 200
    assert response.json()["count"] == 1
