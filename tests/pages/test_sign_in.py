"""Staff and patients sign in with email and password (SPEC §4.1–4.2)."""

import pyotp
import pytest
from django.urls import reverse

from portico.accounts.services import SIGN_IN_FAILED
from tests.factories import PASSWORD, give_authenticator
from tests.pages.html import form_errors, parse

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign_in")


def test_wrong_password_and_unknown_email_get_the_same_answer(client, staff):
    wrong_password = client.post(SIGN_IN, {"email": staff.email, "password": "not the password"})
    unknown_email = client.post(SIGN_IN, {"email": "nobody@example.test", "password": PASSWORD})

    assert wrong_password.status_code == unknown_email.status_code == 200
    assert form_errors(parse(wrong_password)) == form_errors(parse(unknown_email))
    assert form_errors(parse(wrong_password)) == [SIGN_IN_FAILED]
    assert "_auth_user_id" not in client.session


def test_empty_sign_in_form_names_the_missing_fields(client):
    page = parse(client.post(SIGN_IN, {"email": "", "password": ""}))

    assert page.find(id="id_email_error") is not None
    assert page.find(id="id_password_error") is not None
    assert "_auth_user_id" not in client.session


def test_staff_sign_in_lands_on_the_patient_list(client, staff):
    secret = give_authenticator(staff)
    client.post(SIGN_IN, {"email": staff.email.upper(), "password": PASSWORD})
    response = client.post(
        reverse("accounts:mfa_verify"), {"code": pyotp.TOTP(secret).now()}, follow=True
    )

    assert response.redirect_chain[-1][0] == reverse("charts:patient_list")
    assert parse(response).one("h1").text == "Patients"


def test_sign_in_ignores_a_next_address_on_another_site(client, staff):
    response = client.post(
        SIGN_IN, {"email": staff.email, "password": PASSWORD, "next": "https://evil.example/"}
    )

    assert response.status_code == 302
    assert not response["Location"].startswith("https://evil.example")


def test_sign_in_follows_a_local_next_address(client, staff, patient):
    secret = give_authenticator(staff)
    target = reverse("charts:chart", args=[patient.public_id])
    client.post(SIGN_IN, {"email": staff.email, "password": PASSWORD, "next": target})
    response = client.post(reverse("accounts:mfa_verify"), {"code": pyotp.TOTP(secret).now()})

    assert response["Location"] == target


def test_anonymous_visitor_is_sent_to_sign_in_from_staff_pages(client):
    response = client.get(reverse("charts:patient_list"))

    assert response.status_code == 302
    assert response["Location"].startswith(SIGN_IN)
