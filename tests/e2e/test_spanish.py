"""The portal in Spanish, end to end (issue 13), against the real servers.

Staff invite a chart whose preferred language is Spanish (their own pages stay English); the
enrollment email arrives in Spanish; the patient, whose browser asks for English, registers
and reads her record in Spanish because her chart says so; she downloads it, sends it and
reads who opened it. A recipient whose browser asks for Spanish reads the shared copy in
Spanish. Another patient chooses Spanish on the sign-in page, forgets his password, resets it
and signs in with the emailed code, all in Spanish. Every page
on the way is also checked by axe-core and the Nu Html Checker (conftest), in Spanish.

The Spanish expected on the pages is the catalogue's own (`es()` below, which refuses a string
the catalogue does not translate), so a wording change in the catalogue needs no change here.
Screenshots: artifacts/e2e/es-*.png.
"""

from __future__ import annotations

import re

import pytest
from django.utils import translation
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import LUCIA, MATEO, PATIENT_PASSWORD

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
RECIPIENT = "dra.segunda.opinion@example.test"
NEW_PASSWORD = "siete cometas verdes sobre las dunas"


def es(english: str) -> str:
    """The catalogue's Spanish for an English message; fails when there is none."""
    with translation.override("es"):
        spanish = translation.gettext(english)
    assert spanish != english, f"no Spanish for {english!r}"
    return spanish


def starts(label: str, not_followed_by: str = "") -> re.Pattern:
    """A field's label (which may end in a required-field mark), not another label that merely
    begins like it."""
    if not_followed_by.startswith(label):
        rest = re.escape(not_followed_by[len(label) :])
        return re.compile("^" + re.escape(label) + f"(?!{rest})")
    return re.compile("^" + re.escape(label))


def link_in(stack, received, path: str) -> str:
    match = re.search(re.escape(stack.base_url) + path + r"\S+", received.text)
    assert match, f"no {path} link in:\n{received.text}"
    return match.group(0).rstrip(".")


def expect_spanish_page(page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "es")


def code_from(received) -> str:
    return re.search(r"\b(\d{6})\b", received.text).group(1)


def test_spanish_chart_is_invited_and_the_patient_registers_and_reads_in_spanish(
    stack, new_page, shot
):
    # 1. Staff (English pages) invite the chart.
    staff = new_page(viewport=DESKTOP)
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, LUCIA, search=LUCIA.last_name)
    expect(staff.locator("html")).to_have_attribute("lang", "en")
    access_code = steps.invite(steps.open_portal_window(staff))

    # 2. The enrollment email is in Spanish, and holds nothing about her health.
    received = stack.inbox.wait_for(LUCIA.email, count=1)
    assert received.message["Content-Language"] == "es"
    assert es("Access your records") in received.html
    assert "invites you" not in received.everything
    for private in (LUCIA.last_name, LUCIA.date_of_birth.isoformat(), access_code):
        assert private not in received.everything
    link = link_in(stack, received, "/portal/register/")

    # 3. Her browser asks for English; her chart's language wins until she chooses.
    page = new_page(viewport=PHONE, locale="en-US")
    page.goto(link)
    expect_spanish_page(page)
    expect(page.get_by_role("heading", name=es("Access your records"))).to_be_visible()
    shot(page, "es-01-access-your-records")
    page.get_by_label(es("Date of birth")).fill(LUCIA.date_of_birth.isoformat())
    page.get_by_label(es("Access code")).fill("WRONG-CODE")
    page.get_by_role("main").get_by_role("button", name=es("Continue")).click()
    expect(page.locator(".error-summary")).to_be_visible()
    expect(page.get_by_role("main")).not_to_contain_text("There is a problem")
    shot(page, "es-02-wrong-code")
    page.get_by_label(es("Access code")).fill(access_code)
    page.get_by_role("main").get_by_role("button", name=es("Continue")).click()

    expect(page.get_by_role("heading", name=es("Set up your account"))).to_be_visible()
    expect_spanish_page(page)
    create = steps.account_form(page, es("Create an account"))
    expect(create.get_by_label(es("Email (your username)"))).to_have_value(LUCIA.email)
    create.get_by_label(starts(es("Password"), not_followed_by=es("Password again"))).fill(
        PATIENT_PASSWORD
    )
    create.get_by_label(es("Password again")).fill(PATIENT_PASSWORD)
    shot(page, "es-03-set-up-account")
    create.get_by_role("button", name=es("Create account")).click()

    # 4. The record, in Spanish: section names, dates, the lab flags' words.
    expect(page.get_by_role("heading", level=1)).to_have_text(LUCIA.full_name)
    expect_spanish_page(page)
    for section in ("Allergies", "Medications", "Immunizations", "Lab results"):
        expect(page.get_by_role("heading", name=es(section), exact=True)).to_be_visible()
    born = LUCIA.date_of_birth
    expect(page.get_by_role("region", name=es("About you"))).to_contain_text(
        f"{born.day} de abril de {born.year}"
    )
    shot(page, "es-04-record")

    page.get_by_role("link", name=es("Download (printable)")).click()
    expect_spanish_page(page)
    expect(page.get_by_role("button", name=es("Print or save as PDF"))).to_be_visible()
    shot(page, "es-05-printable")
    page.go_back()

    page.get_by_role("link", name=es("Send"), exact=True).click()
    expect_spanish_page(page)
    page.get_by_role("main").get_by_role("textbox").fill(RECIPIENT)
    page.get_by_role("button", name=es("Send link")).click()
    expect(page.get_by_role("status")).to_be_visible()
    shot(page, "es-06-link-sent")
    shared = link_in(stack, stack.inbox.wait_for(RECIPIENT, count=1), "/shared/")

    # 5. The recipient's browser asks for Spanish: the shared copy is in Spanish.
    recipient = new_page(viewport=DESKTOP, locale="es-US")
    recipient.goto(shared)
    expect_spanish_page(recipient)
    expect(recipient.get_by_role("heading", name=es("Allergies"), exact=True)).to_be_visible()
    shot(recipient, "es-07-recipient")

    # 6. The access log, in Spanish.
    page.get_by_role("link", name=es("Access log")).click()
    expect(page.get_by_role("heading", name=es("Access log"), level=1)).to_be_visible()
    expect_spanish_page(page)
    shot(page, "es-08-access-log")

    page.get_by_role("link", name=es("Account settings")).click()
    expect_spanish_page(page)
    shot(page, "es-09-account-settings")
    page.get_by_role("button", name=es("Sign out")).click()


def test_spanish_chosen_on_the_sign_in_page_carries_through_sign_in_and_password_reset(
    stack, new_page, shot
):
    page = new_page(viewport=PHONE, locale="en-US")
    page.goto("/accounts/sign-in/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # The switcher, in its own language; the choice is remembered by this browser.
    page.get_by_role("button", name="Español").click()
    expect_spanish_page(page)
    expect(page.get_by_role("heading", name=es("Sign in"))).to_be_visible()
    shot(page, "es-10-sign-in")
    page.get_by_role("link", name=es("System requirements")).click()
    expect_spanish_page(page)
    shot(page, "es-11-system-requirements")
    page.go_back()

    # Forgot the password: the reset email and pages are in Spanish.
    page.get_by_role("link", name=es("Forgot password?")).click()
    expect_spanish_page(page)
    before = len(stack.inbox.to(MATEO.email))
    page.get_by_label(es("Email")).fill(MATEO.email)
    page.get_by_role("main").get_by_role("button").click()
    expect_spanish_page(page)
    received = stack.inbox.wait_for(MATEO.email, count=before + 1)
    assert received.message["Content-Language"] == "es"
    reset_link = link_in(stack, received, "/accounts/password/reset/")
    page.goto(reset_link)
    expect(page.get_by_role("heading", name=es("Choose a new password"))).to_be_visible()
    expect_spanish_page(page)
    page.get_by_label(starts(es("New password"), not_followed_by=es("New password again"))).fill(
        NEW_PASSWORD
    )
    page.get_by_label(es("New password again")).fill(NEW_PASSWORD)
    shot(page, "es-12-new-password")
    page.get_by_role("main").get_by_role("button").click()

    expect(page.get_by_role("heading", name=es("Sign in"))).to_be_visible()

    # The link worked once; a browser that asks for Spanish is told so in Spanish.
    again = new_page(viewport=PHONE, locale="es-US")
    again.goto(reset_link)
    expect(again.get_by_role("heading", name=es("This link no longer works"))).to_be_visible()
    expect_spanish_page(again)
    shot(again, "es-13-reset-link-used")

    # Signing in from this new device: the code comes by email, in Spanish.
    count = len(stack.inbox.to(MATEO.email))
    page.get_by_label(es("Email")).fill(MATEO.email)
    page.get_by_label(starts(es("Password"))).fill(NEW_PASSWORD)
    page.get_by_role("main").get_by_role("button", name=es("Sign in")).click()
    expect(page.get_by_role("heading", name=es("Confirm it is you"))).to_be_visible()
    expect_spanish_page(page)
    code_email = stack.inbox.wait_for(MATEO.email, count=count + 1)
    assert code_email.message["Content-Language"] == "es"
    shot(page, "es-14-confirm-it-is-you")
    page.get_by_role("main").get_by_role("textbox").first.fill(code_from(code_email))
    page.get_by_role("main").get_by_role("button", name=es("Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(MATEO.full_name)
    expect_spanish_page(page)
    shot(page, "es-15-signed-in")
