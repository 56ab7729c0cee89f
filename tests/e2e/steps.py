"""What staff and patients do in the browser, one helper per step a person takes.

Locators use what a person sees or hears (roles, labels, button texts from SPEC.md),
so a test that passes says the page works for them, not that some markup exists.
"""

from __future__ import annotations

import re
import time

import pyotp
from playwright.sync_api import Locator, Page, expect

from tests.e2e.seed import (
    PRACTICE_NAME,
    STAFF_EMAIL,
    STAFF_PASSWORD,
    STAFF_TOTP_SECRET,
    Chart,
)

# Staff read the access code as shown, e.g. "ABCD-EFGH" (SPEC: 8 characters).
ACCESS_CODE = re.compile(r"^[A-Z0-9]{4}-?[A-Z0-9]{4}$")


# ---------------------------------------------------------------------------
# Staff


def staff_sign_in(
    page: Page,
    email: str = STAFF_EMAIL,
    totp_secret: str = STAFF_TOTP_SECRET,
    practice: str = PRACTICE_NAME,
    password: str = STAFF_PASSWORD,
) -> None:
    page.goto("/ehr/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    authenticator_code(page, totp_secret)
    expect(page.get_by_role("heading", name="Patients")).to_be_visible()
    expect(page.get_by_text(practice).first).to_be_visible()


_used_steps: set[tuple[str, int]] = set()


def totp_code(secret: str) -> str:
    """The app's current code; a code works once, so wait for a fresh one if it was used."""
    totp = pyotp.TOTP(secret)
    while (secret, int(time.time()) // totp.interval) in _used_steps:
        time.sleep(0.5)
    step = int(time.time()) // totp.interval
    _used_steps.add((secret, step))
    return totp.generate_otp(step)


def authenticator_code(page: Page, secret: str) -> None:
    """The second step of signing in: type the authenticator app's code."""
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    page.get_by_label("Code from your authenticator app").fill(totp_code(secret))
    page.get_by_role("button", name="Continue").click()


def search_and_open_chart(page: Page, chart: Chart, search: str) -> None:
    page.get_by_label("Search by name or date of birth").fill(search)
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=chart.list_label).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(chart.full_name)


def portal_status_button(page: Page) -> Locator:
    """The "Patient portal status" button in the chart header."""
    return page.get_by_role("button", name=re.compile(r"^Patient portal status"))


def portal_window(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Patient portal access")


def open_portal_window(page: Page) -> Locator:
    """Open the window with the header button, unless the page came back with it open."""
    window = portal_window(page)
    if not window.is_visible():
        portal_status_button(page).click()
    expect(window).to_be_visible()
    return window


def close_portal_window(page: Page) -> None:
    portal_window(page).get_by_role("link", name="Close").click()
    expect(portal_window(page)).to_be_hidden()


def invite(
    window: Locator, action: str = "Invite to patient portal", confirm: str = "Invite"
) -> str:
    """Click the window's invite (or resend) button, confirm, and read the new access code."""
    window.get_by_role("button", name=action, exact=True).click()
    expect(window).to_contain_text("make sure all the information is correct")
    window.get_by_role("button", name=confirm, exact=True).click()
    expect(window).to_contain_text("Invite pending")
    code = window.locator("[data-access-code]")
    expect(code).to_be_visible()
    shown = code.inner_text().strip()
    assert ACCESS_CODE.match(shown), f"access code looks wrong: {shown!r}"
    return shown


def revoke(window: Locator) -> None:
    window.get_by_role("button", name="Revoke access").click()
    expect(window).to_contain_text("Revoke this patient's portal access?")
    # The confirmation replaces the actions: one "Revoke access" button is left.
    window.get_by_role("button", name="Revoke access").click()
    expect(window).to_contain_text("Access revoked")


# ---------------------------------------------------------------------------
# Patient


def verify_identity(page: Page, chart: Chart, access_code: str) -> None:
    """Step 1 of registration: date of birth and access code."""
    expect(page.get_by_role("heading", name="Access your records")).to_be_visible()
    expect(page.get_by_text(PRACTICE_NAME).first).to_be_visible()
    page.get_by_label("Date of birth").fill(chart.date_of_birth.isoformat())
    page.get_by_label("Access code").fill(access_code)
    page.get_by_role("button", name="Continue").click()


def account_form(page: Page, heading: str) -> Locator:
    """One of the choices on "Set up your account", found by its heading."""
    return page.locator("form").filter(has=page.get_by_role("heading", name=heading))


def expect_record(page: Page, chart: Chart) -> None:
    """The portal record: the practice and the patient's demographics."""
    expect(page.get_by_role("heading", level=1)).to_have_text(chart.full_name)
    practice = page.get_by_role("region", name="Your practice")
    expect(practice).to_contain_text(PRACTICE_NAME)
    about = page.get_by_role("region", name="About you")
    expect(about).to_contain_text(chart.full_name)
    expect(about).to_contain_text(chart.date_of_birth.strftime("%B %-d, %Y"))
    expect(about).to_contain_text(chart.email)


def sign_in_code_emails(inbox, address: str) -> list:
    """The sign-in code emails sent to `address` so far."""
    return [m for m in inbox.to(address) if "sign-in code" in m.message["Subject"]]


def wait_for_sign_in_code_email(inbox, address: str, count: int, timeout: float = 20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        received = sign_in_code_emails(inbox, address)
        if len(received) >= count:
            return received[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"expected {count} sign-in code email(s) to {address}")


def patient_sign_in(page: Page, inbox, chart: Chart, password: str, *, remember=False):
    """Sign in on the sign-in page from a device not remembered: the code comes by email.
    Returns the code email."""
    before = len(sign_in_code_emails(inbox, chart.email))
    page.get_by_label("Email").fill(chart.email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    return email_code_step(page, inbox, chart.email, before + 1, remember=remember)


def first_app_email_code_step(page: Page, inbox, address: str, count: int):
    """A staff member's first sign-in: before any QR code or key, the code emailed to them
    (the `count`-th code email to `address`). Returns the code email."""
    expect(page.get_by_text("Before you set up yours")).to_be_visible()
    expect(page.locator("figure.qr")).to_have_count(0)
    expect(page.locator("code.token")).to_have_count(0)
    return email_code_step(page, inbox, address, count)


def email_code_step(page: Page, inbox, address: str, count: int, *, remember=False):
    """The second step for a patient: type the code from the `count`-th code email."""
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    received = wait_for_sign_in_code_email(inbox, address, count)
    code = re.search(r"\b(\d{6})\b", received.text).group(1)
    page.get_by_label("6-digit code from the email").fill(code)
    if remember:
        page.get_by_label("Remember this device for 30 days").check()
    page.get_by_role("button", name="Continue").click()
    return received
