"""The second sign-in step in the browser (SPEC §4.1), against the real servers: a staff
member's first sign-in confirms a code emailed to them, then sets up an authenticator app (codes
computed with pyotp); a patient on a new device types the code emailed to them. Emails are
received by the test's SMTP server."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import LEE, MAE, NEW_STAFF_EMAIL, STAFF_PASSWORD

pytestmark = pytest.mark.e2e

NOTIFICATIONS_SENDER = "notifications@portico.test"  # default: notifications@<mail domain>
PHONE = {"width": 390, "height": 844}


def sign_in_with_password(page, email: str, password: str) -> None:
    page.goto("/accounts/sign-in/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_staff_first_sign_in_sets_up_an_authenticator_app_then_reaches_a_chart(
    stack, new_page, shot
):
    page = new_page(viewport={"width": 1280, "height": 900})
    emails_before = len(steps.sign_in_code_emails(stack.inbox, NEW_STAFF_EMAIL))
    sign_in_with_password(page, NEW_STAFF_EMAIL, STAFF_PASSWORD)

    # The password alone shows no QR code: first the code emailed to the account.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    received = steps.wait_for_sign_in_code_email(stack.inbox, NEW_STAFF_EMAIL, emails_before + 1)
    code = received.text.split("code is ")[1][:6]
    page.get_by_label("6-digit code from the email").fill(f"{(int(code) + 1) % 1_000_000:06d}")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    shot(page, "30-staff-emailed-code-before-set-up")
    steps.first_app_email_code_step(page, stack.inbox, NEW_STAFF_EMAIL, emails_before + 1)
    assert NOTIFICATIONS_SENDER in received.message["From"]

    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()
    expect(page.locator("figure.qr svg")).to_be_visible()
    shot(page, "31-staff-set-up-authenticator")
    # No chart before the app is set up.
    page.goto("/ehr/")
    expect(page.get_by_role("heading", name="Set up your authenticator app")).to_be_visible()

    secret = "".join(page.locator("code.token").inner_text().split())
    page.get_by_label("6-digit code from your app").fill("000000")
    page.get_by_role("button", name="Turn on").click()
    expect(page.get_by_role("alert")).to_contain_text("does not match")
    page.get_by_label("6-digit code from your app").fill(steps.totp_code(secret))
    page.get_by_role("button", name="Turn on").click()

    expect(page.get_by_role("heading", name="Your recovery codes")).to_be_visible()
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    shot(page, "32-staff-recovery-codes")
    page.get_by_role("link", name="I saved them, continue").click()
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    steps.search_and_open_chart(page, LEE, search=LEE.last_name)
    shot(page, "33-staff-chart-after-setup")

    # The next sign-in asks for the app's code.
    page.get_by_role("button", name="Sign out").click()
    sign_in_with_password(page, NEW_STAFF_EMAIL, STAFF_PASSWORD)
    shot(page, "34-staff-authenticator-code")
    steps.authenticator_code(page, secret)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()


def test_patient_on_a_new_device_signs_in_with_the_emailed_code(stack, new_page, shot):
    page = new_page(viewport=PHONE)
    page.goto("/accounts/sign-in/")
    received = steps.patient_sign_in(page, stack.inbox, MAE, STAFF_PASSWORD, remember=True)
    steps.expect_record(page, MAE)
    shot(page, "35-patient-record-after-email-code")

    # The account settings are one click from the portal's header.
    page.get_by_role("link", name="Account settings").click()
    expect(page.get_by_role("heading", name="Account settings", level=1)).to_be_visible()
    for heading in ("Password", "Second step at sign-in", "Remembered devices"):
        expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
    expect(page.get_by_role("link", name="Change your password")).to_be_visible()
    expect(page.get_by_role("button", name="Forget")).to_have_count(1)
    shot(page, "35b-patient-account-settings")
    page.get_by_role("link", name="My records").click()
    steps.expect_record(page, MAE)

    assert NOTIFICATIONS_SENDER in received.message["From"]
    for private in (MAE.first_name, MAE.last_name, MAE.date_of_birth.isoformat()):
        assert private not in received.everything

    # The remembered device skips the code next time: no new email.
    page.get_by_role("button", name="Sign out").click()
    sign_in_with_password(page, MAE.email, STAFF_PASSWORD)
    steps.expect_record(page, MAE)
    assert len(steps.sign_in_code_emails(stack.inbox, MAE.email)) == 1

    # Another browser is a new device: a new code, and the old one no longer works.
    other = new_page(viewport=PHONE)
    sign_in_with_password(other, MAE.email, STAFF_PASSWORD)
    expect(other.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    steps.wait_for_sign_in_code_email(stack.inbox, MAE.email, 2)
    old_code = received.text.split("code is ")[1][:6]
    other.get_by_label("6-digit code from the email").fill(old_code)
    other.get_by_role("button", name="Continue").click()
    expect(other.get_by_role("alert")).to_contain_text("not right")
    shot(other, "36-patient-old-code-refused")
