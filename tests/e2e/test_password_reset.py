"""A patient forgets the password and resets it with the emailed link (SPEC §4.2), against
the real servers: gunicorn, the task worker and an aiosmtpd mailbox."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import PATIENT_PASSWORD, SAM

pytestmark = pytest.mark.e2e

NOTIFICATIONS_SENDER = "notifications@portico.test"  # default: notifications@<deployment domain>
PHONE = {"width": 390, "height": 844}
NEW_PASSWORD = "seven green kites above the dunes"
NEW_PASSWORD_LABEL = re.compile(r"^New password(?! again)")


def reset_link(stack, received) -> str:
    match = re.search(re.escape(stack.base_url) + r"/accounts/password/reset/\S+", received.text)
    assert match, f"no reset link in:\n{received.text}"
    return match.group(0)


def sign_in(page, email: str, password: str) -> None:
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def test_patient_forgets_the_password_and_resets_it_with_the_emailed_link(stack, new_page, shot):
    page = new_page(viewport=PHONE)

    # 1. The old password no longer comes to mind; "Forgot password?" is on the sign-in page.
    page.goto("/accounts/sign-in/")
    sign_in(page, SAM.email, "blue lanterns over a busy harbor")
    expect(page.get_by_role("alert")).to_contain_text("The email or password is not right.")
    page.get_by_role("link", name="Forgot password?").click()
    expect(page.get_by_role("heading", name="Forgot your password?")).to_be_visible()
    page.get_by_label("Email").fill(SAM.email)
    shot(page, "reset-01-forgot-password")
    page.get_by_role("button", name="Email me a reset link").click()
    expect(page.get_by_role("heading", name="Check your email")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("The link works once, for one hour.")
    shot(page, "reset-02-check-your-email")

    # 2. The email comes from the notifications sender, with the link and no health data.
    received = stack.inbox.wait_for(SAM.email, 1)
    assert NOTIFICATIONS_SENDER in received.message["From"]
    assert received.message["Subject"] == "Reset your Portico password"
    assert "Choose a new password" in received.html
    for private in (SAM.first_name, SAM.last_name, SAM.date_of_birth.isoformat()):
        assert private not in received.everything
    link = reset_link(stack, received)

    # 3. The link leads to the new-password form; the key leaves the address bar.
    page.goto(link)
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    assert "/password/reset/" not in page.url
    page.get_by_label(NEW_PASSWORD_LABEL).fill("password")
    page.get_by_label("New password again").fill("password")
    page.get_by_role("button", name="Save new password").click()
    expect(page.locator("#id_new_password_error")).to_contain_text("too common")
    shot(page, "reset-03-common-password-refused")
    page.get_by_label(NEW_PASSWORD_LABEL).fill(NEW_PASSWORD)
    page.get_by_label("New password again").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Save new password").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("Your password was changed.")).to_be_visible()
    shot(page, "reset-04-password-changed")

    # 4. The link works once.
    again = new_page(viewport=PHONE)
    again.goto(link)
    expect(again.get_by_role("heading", name="This link no longer works")).to_be_visible()
    shot(again, "reset-05-link-used")

    # 5. The old password is refused and the new one signs in.
    sign_in(page, SAM.email, PATIENT_PASSWORD)
    expect(page.get_by_role("alert")).to_contain_text("The email or password is not right.")
    page.wait_for_timeout(1100)  # the account waits a second after a wrong password
    sign_in(page, SAM.email, NEW_PASSWORD)
    # A reset never skips the second step: the code comes by email.
    steps.email_code_step(page, stack.inbox, SAM.email, 1)
    expect(page.get_by_role("heading", level=1)).to_have_text(SAM.full_name)
    shot(page, "reset-06-signed-in")
