"""A parent represents her child (SPEC §9), end to end against the real servers: staff invite
the mother as her son's representative, she registers from the enrollment email and adds his
record to her own account, switches between her record and his, and a problem the provider
marked confidential from representatives never shows to her. Then the son turns 12 — a second
pair of servers whose clock runs days ahead (servers_later) — and her access narrows: no
messages, the confidential problem still hidden, the rest of the record still there.

Each step saves a screenshot in artifacts/e2e/.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.e2e import steps
from tests.e2e.seed import (
    DANA,
    MSG_ADMIN_EMAIL,
    MSG_ADMIN_TOTP_SECRET,
    MSG_PRACTICE_NAME,
    PATIENT_PASSWORD,
    THEO_BIRTHDAY_IN_DAYS,
    THEO_CONFIDENTIAL_PROBLEM,
    THEO_SHARED_PROBLEM,
    theo,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 390, "height": 844}
THEO = theo()
THEO_VIEWING = f"Viewing {THEO.full_name}'s record — you are their parent"


def registration_link(stack, received) -> str:
    match = re.search(re.escape(stack.base_url) + r"/portal/register/\S+", received.text)
    assert match, f"no registration link in:\n{received.text}"
    return match.group(0)


def enrollment_emails(stack, address: str) -> list:
    return [m for m in stack.inbox.to(address) if "/portal/register/" in m.text]


def wait_for_enrollment_email(stack, address: str, count: int):
    import time

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = enrollment_emails(stack, address)
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"expected {count} enrollment emails to {address}")


def open_theos_record(page: Page) -> None:
    """From the portal home: the records she manages for others, then Theo's."""
    others = page.get_by_role("region", name="Records you manage for others")
    expect(others).to_contain_text(THEO.full_name)
    others.get_by_role("link", name=re.compile("Open record")).first.click()
    expect(page.locator("#record-viewing")).to_contain_text(THEO_VIEWING)


def sign_in_if_asked(page: Page, stack) -> None:
    """Days later the session has timed out: Dana signs in again (the code comes by email)."""
    if page.get_by_role("heading", name="Sign in").is_visible():
        steps.patient_sign_in(page, stack.inbox, DANA, PATIENT_PASSWORD)


def test_a_mother_represents_her_son_and_her_access_narrows_when_he_turns_12(
    stack, servers_later, new_page, shot
):
    staff = new_page(viewport={"width": 1280, "height": 900})
    mother = new_page(viewport=PHONE)
    before_invite = len(enrollment_emails(stack, DANA.email))

    # 1. Staff open Theo's chart and invite his mother as his representative.
    steps.staff_sign_in(
        staff, email=MSG_ADMIN_EMAIL, totp_secret=MSG_ADMIN_TOTP_SECRET, practice=MSG_PRACTICE_NAME
    )
    steps.search_and_open_chart(staff, THEO, search=THEO.last_name)
    window = steps.open_portal_window(staff)
    representatives = window.get_by_role("region", name="Representatives")
    expect(representatives).to_contain_text("This patient has no representatives.")
    representatives.get_by_text("Invite a representative").click()
    representatives.get_by_label("Representative's name").fill(DANA.full_name)
    representatives.get_by_label("Relationship to the patient").select_option(label="Parent")
    representatives.get_by_label("Representative's email").fill(DANA.email)
    shot(staff, "family-01-staff-invite-representative")
    representatives.get_by_role("button", name="Invite representative").click()
    expect(window).to_contain_text("make sure all the information is correct")
    window.get_by_role("button", name="Invite", exact=True).click()
    row = window.locator("li.representative").filter(has_text=DANA.full_name)
    expect(row).to_contain_text("Invite pending")
    code = row.locator("[data-representative-access-code]").inner_text().strip()
    assert steps.ACCESS_CODE.match(code), code
    # The patient's own portal status is untouched: Theo himself is still not invited.
    expect(steps.portal_status_button(staff)).to_contain_text("Invite to patient portal")
    shot(staff, "family-02-staff-representative-invited")

    # 2. Dana, signed in to her own account, registers from the email with Theo's date of
    # birth and her code, and adds his record to her account.
    received = wait_for_enrollment_email(stack, DANA.email, before_invite + 1)
    assert code not in received.everything and code.replace("-", "") not in received.everything
    assert THEO.first_name not in received.everything
    mother.goto("/portal/")
    steps.patient_sign_in(mother, stack.inbox, DANA, PATIENT_PASSWORD)
    mother.goto(registration_link(stack, received))
    expect(mother.get_by_role("heading", name="Access your records")).to_be_visible()
    mother.get_by_label("Date of birth").fill(THEO.date_of_birth.isoformat())
    mother.get_by_label("Access code").fill(code)
    mother.get_by_role("button", name="Continue").click()
    current = steps.account_form(mother, "Use the account you are signed in to")
    expect(current).to_contain_text(f"You are signed in as {DANA.email}")
    shot(mother, "family-03-mother-adds-record")
    current.get_by_role("button", name="Add this record to my account").click()

    # 3. Her home lists her own record and the one she manages for Theo.
    mother.goto("/portal/")
    expect(mother.get_by_role("region", name="Your records")).to_contain_text(MSG_PRACTICE_NAME)
    shot(mother, "family-04-mother-home-two-records")
    open_theos_record(mother)
    expect(mother.get_by_role("heading", level=1)).to_have_text(THEO.full_name)
    expect(mother.get_by_role("region", name=f"About {THEO.full_name}")).to_be_visible()
    expect(mother.get_by_text(THEO_SHARED_PROBLEM).first).to_be_visible()
    expect(mother.get_by_text(THEO_CONFIDENTIAL_PROBLEM)).to_have_count(0)
    expect(mother.get_by_role("link", name="Messages")).to_be_visible()  # he is 11
    shot(mother, "family-05-mother-views-son-11")

    # 4. The switcher takes her to her own record and back; her own record says who can see
    # it (nobody but her), in English and in Spanish.
    mother.get_by_label("Switch to").select_option(label=f"Your record at {MSG_PRACTICE_NAME}")
    mother.get_by_role("button", name="Open record").click()
    expect(mother.locator("#record-viewing")).to_contain_text("Viewing your record")
    expect(mother.get_by_role("heading", level=1)).to_have_text(DANA.full_name)
    own_record_url = mother.url
    shot(mother, "family-06-mother-own-record")
    mother.get_by_role("link", name="Who can see my record").click()
    expect(mother.get_by_role("heading", level=1)).to_have_text("Who can see my record")
    mother.get_by_role("button", name="Español").click()
    expect(mother.get_by_role("heading", level=1)).to_have_text("Quién puede ver mi expediente")
    mother.goto("/portal/")
    expect(
        mother.get_by_role("region", name="Expedientes que usted administra para otras personas")
    ).to_contain_text(THEO.full_name)
    shot(mother, "family-06b-mother-home-in-spanish")
    mother.get_by_role("button", name="English").click()
    expect(mother.get_by_role("region", name="Your records")).to_be_visible()
    mother.goto(own_record_url)
    mother.get_by_label("Switch to").select_option(
        label=f"{THEO.full_name}'s record at {MSG_PRACTICE_NAME} (you are their parent)"
    )
    mother.get_by_role("button", name="Open record").click()
    expect(mother.locator("#record-viewing")).to_contain_text(THEO_VIEWING)
    theo_record_url = mother.url

    # 5. Theo turns 12: the same people on servers whose clock is past his birthday.
    later = servers_later(THEO_BIRTHDAY_IN_DAYS + 1)
    mother.goto(later + "/portal/")
    sign_in_if_asked(mother, stack)
    mother.goto(later + theo_record_url.removeprefix(stack.base_url))
    expect(mother.locator("#record-viewing")).to_contain_text(THEO_VIEWING)
    expect(mother.get_by_text(THEO_SHARED_PROBLEM).first).to_be_visible()
    expect(mother.get_by_text(THEO_CONFIDENTIAL_PROBLEM)).to_have_count(0)
    expect(mother.get_by_role("link", name="Messages")).to_have_count(0)
    shot(mother, "family-07-mother-views-son-12")
    access_id = re.search(r"/portal/records/([0-9a-f-]{36})/", mother.url).group(1)
    mother.goto(f"{later}/portal/records/{access_id}/messages/")
    expect(mother.get_by_role("heading", level=1)).to_have_text("Messages are private")
    shot(mother, "family-08-mother-messages-private")
