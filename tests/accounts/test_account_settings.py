"""Patients reach their account settings (password, second step, remembered devices) from the
portal's header (issue 12), and the page speaks to them, not to practice staff."""

import pytest
from django.urls import reverse

from portico.accounts import mfa
from tests import factories
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")


@pytest.fixture
def account(admin, patient):
    """The patient's portal account, signed in on a browser it asked to remember."""
    account = factories.enroll(admin, patient)
    mfa.device_remember(account, label="Firefox on my laptop")
    return account


def header_link(page, text):
    header = page.one("header")
    return header.find("a", text=text)


def test_a_signed_in_patient_sees_the_account_settings_link_in_the_portal_header(client, account):
    factories.sign_in(client, account)
    page = parse(client.get(reverse("portal:home"), follow=True))
    link = header_link(page, "Account settings")
    assert link is not None and link["href"] == PROFILE


def test_the_account_settings_page_lists_password_second_step_and_remembered_devices(
    client, account
):
    factories.sign_in(client, account)
    response = client.get(PROFILE)
    assert response.status_code == 200
    page = parse(response)

    assert page.one("h1").text == "Account settings"
    assert page.one("title").text.startswith("Account settings")
    headings = [h.text for h in page.find_all("h2")]
    assert headings == ["Your account", "Password", "Second step at sign-in", "Remembered devices"]
    # The patient's portal header, not the staff one; nothing about API tokens.
    assert header_link(page, "My records") is not None
    assert "API" not in page.text

    password = page.one(id="password")
    assert password.find("a", text="Change your password")["href"] == reverse(
        "accounts:password_change"
    )
    second_step = page.one(id="second-factor")
    assert "we email you a 6-digit code" in second_step.text
    assert second_step.find("a", text="Use an authenticator app instead") is not None
    devices = page.one(id="remembered-devices")
    (device,) = devices.find_all("li")
    assert "Firefox on my laptop" in device.text
    assert device.find("button", text="Forget Firefox on my laptop") is not None


def test_the_patient_can_change_the_password_from_there(client, account):
    factories.sign_in(client, account)
    page = parse(client.get(reverse("accounts:password_change")))
    assert page.one("h1").text == "Change your password"
    assert header_link(page, "Account settings") is not None
