"""Bad input on every form: a clear message next to the field, and nothing changes
(DESIGN "Bad input")."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from portico.accounts.models import ApiToken, User
from portico.accounts.services import SIGN_IN_FAILED
from portico.charts.models import Patient
from portico.portal.models import AccessState, PortalAccess
from tests import factories
from tests.factories import PASSWORD, sign_in
from tests.pages.conftest import account_url, verify
from tests.pages.html import field_errors, form_errors, parse

pytestmark = pytest.mark.django_db

NEW = reverse("charts:patient_new")

GOOD_PATIENT = {
    "legal_first_name": "Jordan",
    "legal_last_name": "Reyes",
    "preferred_name": "",
    "date_of_birth": "1985-06-30",
    "sex": "male",
    "email": "jordan@example.test",
    "mobile_phone": "(202) 555-0147",
    "address_line1": "",
    "address_line2": "",
    "city": "",
    "state": "",
    "postal_code": "",
    "preferred_language": "en",
}

TOMORROW = (timezone.localdate() + dt.timedelta(days=1)).isoformat()

DEMOGRAPHIC_CASES = [
    pytest.param("date_of_birth", "31/02/1980", "Enter a valid date.", id="garbage-date"),
    pytest.param("date_of_birth", "1980-02-30", "Enter a valid date.", id="impossible-date"),
    pytest.param("date_of_birth", "", "This field is required.", id="missing-date"),
    pytest.param("date_of_birth", TOMORROW, "between 1900 and today", id="future-dob"),
    pytest.param("date_of_birth", "1850-01-01", "between 1900 and today", id="ancient-dob"),
    pytest.param("email", "jordan@", "Enter a valid email address.", id="bad-email"),
    pytest.param("mobile_phone", "555", "Enter a valid phone number", id="short-phone"),
    pytest.param("mobile_phone", "phone me", "Enter a valid phone number", id="words-phone"),
    pytest.param("legal_first_name", "", "This field is required.", id="missing-first-name"),
    pytest.param("legal_last_name", "   ", "This field is required.", id="blank-last-name"),
    pytest.param("legal_last_name", "x" * 101, "at most 100 characters", id="long-name"),
    pytest.param("address_line1", "x" * 201, "at most 200 characters", id="long-address"),
    pytest.param("postal_code", "1" * 21, "at most 20 characters", id="long-zip"),
    pytest.param("sex", "robot", "Select a valid choice.", id="unknown-sex"),
]


def shows_error(response, field, message):
    assert response.status_code == 200
    errors = field_errors(parse(response), f"id_{field}")
    assert errors, f"no error shown next to {field}"
    assert any(message in e for e in errors), errors


@pytest.mark.parametrize(("field", "value", "message"), DEMOGRAPHIC_CASES)
def test_new_patient_with_bad_value_shows_error_and_creates_nothing(
    staff_client, field, value, message
):
    response = staff_client.post(NEW, {**GOOD_PATIENT, field: value})

    shows_error(response, field, message)
    assert not Patient.objects.exists()


def test_new_patient_with_good_values_is_created(staff_client, practice):
    response = staff_client.post(NEW, GOOD_PATIENT)

    patient = Patient.objects.get()
    assert response["Location"] == reverse("charts:chart", args=[patient.public_id])
    assert patient.practice == practice
    assert patient.mobile_phone == "+12025550147"


@pytest.mark.parametrize(("field", "value", "message"), DEMOGRAPHIC_CASES)
def test_edit_demographics_with_bad_value_shows_error_and_changes_nothing(
    staff_client, patient, field, value, message
):
    before = Patient.objects.filter(pk=patient.pk).values().get()
    url = reverse("charts:patient_edit", args=[patient.public_id])

    response = staff_client.post(url, {**GOOD_PATIENT, field: value})

    shows_error(response, field, message)
    assert Patient.objects.filter(pk=patient.pk).values().get() == before
    # What was typed stays in the form to be corrected.
    page = parse(response)
    if field != "sex":
        assert page.one(name=field).get("value", "") in (value, value.strip())


def test_edit_demographics_saves_good_values(staff_client, patient):
    url = reverse("charts:patient_edit", args=[patient.public_id])

    staff_client.post(url, GOOD_PATIENT)

    patient.refresh_from_db()
    assert (patient.legal_last_name, patient.date_of_birth) == ("Reyes", dt.date(1985, 6, 30))


# -- registration --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dob", "code", "field", "message"),
    [
        ("", "ABCDEFGH", "date_of_birth", "This field is required."),
        ("yesterday", "ABCDEFGH", "date_of_birth", "Enter a valid date."),
        ("1980-13-45", "ABCDEFGH", "date_of_birth", "Enter a valid date."),
        ("1980-04-21", "", "access_code", "This field is required."),
        ("1980-04-21", "A" * 21, "access_code", "at most 20 characters"),
    ],
)
def test_verify_form_with_missing_or_garbage_input_shows_error_and_does_not_count(
    client, invited, dob, code, field, message
):
    response = verify(client, invited, dob=dob, code=code)

    shows_error(response, field, message)
    invited.refresh_from_db()
    assert invited.failed_attempts == 0
    assert "portal_registration" not in client.session


@pytest.mark.parametrize(
    ("email", "password", "again", "field", "message"),
    [
        ("robin@home.example", PASSWORD, PASSWORD + "x", "password_again", "not the same"),
        ("robin@home.example", "password123", None, "password", "too common"),
        ("robin@home.example", "k3#Rw", None, "password", "too short"),
        ("robin@", PASSWORD, None, "email", "Enter a valid email address."),
        ("", PASSWORD, None, "email", "This field is required."),
        ("robin@home.example", "", None, "password", "This field is required."),
    ],
)
def test_create_account_with_bad_input_shows_error_and_enrolls_nobody(
    client, invited, email, password, again, field, message
):
    verify(client, invited)
    response = client.post(
        account_url(invited),
        {
            "choice": "create",
            "new-email": email,
            "new-password": password,
            "new-password_again": password if again is None else again,
        },
    )

    shows_error(response, f"new-{field}", message)
    assert not User.objects.filter(email="robin@home.example").exists()
    assert PortalAccess.objects.get(patient=invited.patient).state == AccessState.INVITED


def test_create_account_with_a_taken_email_points_to_signing_in(client, invited):
    factories.make_user("robin@home.example")
    verify(client, invited)
    response = client.post(
        account_url(invited),
        {
            "choice": "create",
            "new-email": "robin@home.example",
            "new-password": PASSWORD,
            "new-password_again": PASSWORD,
        },
    )

    shows_error(response, "new-email", "Sign in below to add this record to it.")
    assert PortalAccess.objects.get(patient=invited.patient).state == AccessState.INVITED


@pytest.mark.parametrize(
    ("email", "password"),
    [("robin@home.example", "wrong password"), ("nobody@home.example", PASSWORD)],
)
def test_link_account_with_wrong_password_shows_error_and_links_nothing(
    client, invited, email, password
):
    factories.make_user("robin@home.example")
    verify(client, invited)
    response = client.post(
        account_url(invited),
        {"choice": "link", "existing-email": email, "existing-password": password},
    )

    assert response.status_code == 200
    page = parse(response)
    assert form_errors(page) == [SIGN_IN_FAILED]
    assert PortalAccess.objects.get(patient=invited.patient).account is None
    assert "_auth_user_id" not in client.session


def test_link_account_with_empty_fields_names_them(client, invited):
    verify(client, invited)
    response = client.post(
        account_url(invited), {"choice": "link", "existing-email": "", "existing-password": ""}
    )

    shows_error(response, "existing-email", "This field is required.")
    shows_error(response, "existing-password", "This field is required.")


def test_account_step_with_an_unknown_choice_changes_nothing(client, invited):
    verify(client, invited)
    response = client.post(account_url(invited), {"choice": "steal"})

    assert response.status_code == 200
    assert PortalAccess.objects.get(patient=invited.patient).state == AccessState.INVITED


# -- profile -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("", "This field is required."),
        ("   ", "This field is required."),
        ("x" * 101, "at most 100 characters"),
    ],
)
def test_api_token_with_bad_name_shows_error_and_creates_nothing(staff_client, name, message):
    response = staff_client.post(reverse("accounts:profile"), {"name": name})

    shows_error(response, "name", message)
    assert not ApiToken.objects.exists()
    assert parse(response).find(id="new-token") is None


def test_api_token_with_a_good_name_is_shown_once(staff_client, staff):
    response = staff_client.post(reverse("accounts:profile"), {"name": "Scheduling sync"})

    key = parse(response).one(id="new-token").text
    token = ApiToken.objects.get(user=staff)
    assert key.startswith(token.prefix)
    assert key not in staff_client.get(reverse("accounts:profile")).content.decode()


def test_patient_cannot_create_an_api_token(client, admin, patient):
    sign_in(client, factories.enroll(admin, patient))
    response = client.post(reverse("accounts:profile"), {"name": "Mine"})

    assert response.status_code == 403
    assert not ApiToken.objects.exists()
