"""Registration and sign-in with the keyboard alone (issue 13, WCAG 2.1.1), against the real
servers.

The patient never clicks: Tab moves the focus, keys are typed into whatever has it, Enter and
Space act (keyboard.py). Each step checks where the focus lands: the skip link first, the error
summary of a form that failed (and its link to the field), the field a page focuses for you.
Staff invite the patient as in test_portal_enrollment.py (their side is not the subject here).
Screenshots: artifacts/e2e/keyboard-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import keyboard as kb
from tests.e2e import steps
from tests.e2e.seed import KAI, PATIENT_PASSWORD

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def registration_link(stack, received) -> str:
    match = re.search(re.escape(stack.base_url) + r"/portal/register/\S+", received.text)
    assert match, f"no registration link in:\n{received.text}"
    return match.group(0)


def expect_focus(page, name: str, tag: str | None = None) -> dict:
    info = kb.focused(page)
    assert info and info["name"] == name, f"expected the focus on {name!r}, it is on {info}"
    if tag:
        assert info["tag"] == tag, info
    return info


def test_patient_registers_and_signs_in_with_the_keyboard_only(stack, new_page, shot):
    staff = new_page(viewport=DESKTOP)
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, KAI, search=KAI.last_name)
    access_code = steps.invite(steps.open_portal_window(staff))
    link = registration_link(stack, stack.inbox.wait_for(KAI.email, count=1))

    page = new_page(viewport=PHONE, locale="en-US")

    # 1. "Access your records": the skip link is the first stop and leads into the page.
    page.goto(link)
    expect(page.get_by_role("heading", name="Access your records")).to_be_visible()
    kb.skip_link_is_first(page)
    shot(page, "keyboard-01-skip-link")
    page.keyboard.press("Enter")
    assert kb.focused(page)["id"] == "main", kb.focused(page)
    kb.tab_to(page, "Date of birth", tag="input")
    kb.type_here(page, KAI.date_of_birth.strftime("%m%d%Y"))

    # ... Enter before the access code: the form comes back with its error summary focused,
    # whose link takes the focus to the field.
    page.keyboard.press("Enter")
    summary = page.locator(".error-summary")
    expect(summary).to_be_focused()
    expect(summary).to_contain_text("There is a problem")
    shot(page, "keyboard-02-error-summary")
    info = kb.tab(page)
    assert info["tag"] == "a" and info["name"].startswith("Access code: "), info
    page.keyboard.press("Enter")
    expect_focus(page, "Access code", tag="input")
    # The date typed before is still there.
    expect(page.get_by_label("Date of birth")).to_have_value(KAI.date_of_birth.isoformat())
    kb.type_here(page, access_code)
    page.keyboard.press("Enter")

    # 2. "Set up your account": create the account from the keyboard.
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    kb.skip_link_is_first(page)
    email = kb.tab_to(page, "Email (your username)", tag="input")
    assert email["value"] == KAI.email
    kb.tab_to(page, "Password", tag="input")
    kb.type_here(page, PATIENT_PASSWORD)
    info = kb.tab(page)
    assert info["name"] == "Password again", info
    kb.type_here(page, PATIENT_PASSWORD)
    shot(page, "keyboard-03-create-account")
    page.keyboard.press("Enter")

    # 3. The record; its pages are reached by Tab and Enter too.
    expect(page.get_by_role("heading", level=1)).to_have_text(KAI.full_name)
    kb.skip_link_is_first(page)
    kb.tab_to(page, "Access log", tag="a")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="Access log", level=1)).to_be_visible()
    shot(page, "keyboard-04-access-log")

    # ... and out: "Sign out" is in the header, a few stops from the top.
    kb.skip_link_is_first(page)
    kb.tab_to(page, "Sign out", tag="button")
    page.keyboard.press("Enter")

    # 4. Sign in again: the page puts the focus in "Email".
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect_focus(page, "Email", tag="input")
    kb.type_here(page, KAI.email)
    info = kb.tab(page)
    assert info["name"] == "Password", info
    kb.type_here(page, "not the password at all")
    page.keyboard.press("Enter")

    # ... a wrong password: the summary has the focus and says what is wrong; the next stop
    # is the first field, still filled in.
    expect(summary).to_be_focused()
    expect(page.get_by_role("alert")).to_contain_text("not right")
    shot(page, "keyboard-05-sign-in-failed")
    info = kb.tab(page)
    assert info["name"] == "Email" and info["value"] == KAI.email, info
    info = kb.tab(page)
    assert info["name"] == "Password" and info["value"] == "", info
    kb.type_here(page, PATIENT_PASSWORD)
    # After a wrong password the account takes no other for a second (sign_in_delay); a
    # person reading the message takes longer than that anyway.
    page.wait_for_timeout(1500)
    page.keyboard.press("Enter")

    # 5. The second step (a new device): the code field has the focus; Space ticks the box.
    expect(page.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect_focus(page, "6-digit code from the email", tag="input")
    received = steps.wait_for_sign_in_code_email(stack.inbox, KAI.email, 1)
    kb.type_here(page, re.search(r"\b(\d{6})\b", received.text).group(1))
    info = kb.tab(page)
    assert info["type"] == "checkbox" and info["name"] == "Remember this device for 30 days", info
    page.keyboard.press("Space")
    expect(page.get_by_label("Remember this device for 30 days")).to_be_checked()
    kb.tab_to(page, "Continue", tag="button")
    shot(page, "keyboard-06-second-step")
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", level=1)).to_have_text(KAI.full_name)
    shot(page, "keyboard-07-record")
