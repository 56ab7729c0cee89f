"""Online check-in in the browser, end to end (SPEC §10; issue 18), against the real servers.

Staff book the demo patient, Jordan Rivera, for a new-patient visit: the "New patient" form goes
out by itself with the booking (the demo's visit type says so) and she is emailed. She opens
the email's link, signs in, fills half the form and leaves; comes back (in Spanish this time),
goes on, and submits it in English. Staff find it in "Intake", accept the allergy she added into
her chart and mark the form processed; her record then shows the allergy.

A patient without portal access (Noor) is sent the follow-up form by hand from her chart's
Intake tab; she opens its emailed link, proves her date of birth, fills it in, reads it in
Spanish and submits it; the link then no longer works.

Every page on the way is checked by axe-core and the Nu Html Checker (checked_pages.py); the
check-in's widest section and its review page fit a 320 px screen and 200% zoom without
sideways scrolling. Screenshots: artifacts/e2e/intake-*.png (and narrow-*-check-in-*.png).
"""

from __future__ import annotations

import datetime as dt
import re
import time
import zoneinfo

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e import steps
from tests.e2e.seed import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_TOTP_SECRET,
    DEMO_PASSWORD,
    DEMO_PRACTICE_NAME,
    DEMO_PROVIDER_NAME,
    JORDAN,
    NOOR,
)
from tests.e2e.test_small_screens import Screens
from tests.e2e.test_spanish import es

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
ZONE = zoneinfo.ZoneInfo("America/Chicago")  # the demo practice's time zone
SUBJECT = "Check in for your appointment"
NEW_ALLERGY = "Adhesive tape"  # in no demo list: the chart cannot already hold it
NEW_ADDRESS = "48 Orchard Lane"
# Dr. Shah works Monday to Thursday all day: a day three weeks ahead is past the demo's week of
# appointments and other tests' bookings.
FIRST_DAY_AHEAD = 21


def demo_staff_sign_in(page: Page) -> None:
    steps.staff_sign_in(
        page,
        email=DEMO_ADMIN_EMAIL,
        totp_secret=DEMO_ADMIN_TOTP_SECRET,
        practice=DEMO_PRACTICE_NAME,
        password=DEMO_PASSWORD,
    )


def wait_for_check_in_email(stack, address: str, count: int = 1, timeout: float = 20):
    """The `count`-th check-in email to `address`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in stack.inbox.to(address) if m.message["Subject"] == SUBJECT]
        if len(found) >= count:
            return found[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"expected {count} check-in email(s) to {address}")


def link_in(stack, received, path: str) -> str:
    match = re.search(re.escape(stack.base_url) + path + r"\S+", received.text)
    assert match, f"no {path} link in:\n{received.text}"
    return match.group(0).rstrip(".")


def long_date(day: dt.date) -> str:
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def book_new_patient_visit(admin: Page, shot) -> dt.date:
    """Schedule > Book an appointment: Jordan, Dr. Shah, "New patient", an open time on the first
    Monday-to-Thursday three weeks ahead that has one."""
    day = dt.datetime.now(ZONE).date() + dt.timedelta(days=FIRST_DAY_AHEAD)
    while day.weekday() > 3:
        day += dt.timedelta(days=1)
    admin.goto("/ehr/schedule/book/")
    expect(admin.get_by_role("heading", name="Book an appointment", level=1)).to_be_visible()
    admin.get_by_label("Find a patient by name or date of birth").fill(JORDAN.last_name)
    admin.get_by_label("Provider", exact=True).select_option(label=DEMO_PROVIDER_NAME)
    admin.get_by_label("Visit type", exact=True).select_option(label="New patient (40 min)")
    admin.get_by_label("From", exact=True).fill(day.isoformat())
    admin.get_by_role("button", name="Search and show open times").click()
    # Her preferred name shows too ("Jordan "Jo" Rivera"); her date of birth tells her apart.
    admin.get_by_label(re.compile(f"Rivera.*{JORDAN.date_of_birth:%m/%d/%Y}")).check()
    times = admin.get_by_role("main").get_by_role("group", name=long_date(day), exact=True)
    expect(times.get_by_role("radio").first).to_be_visible()
    times.get_by_role("radio").last.check()
    admin.get_by_label("Reason for visit").fill("Establish care")
    shot(admin, "intake-01-book")
    admin.get_by_role("button", name="Book appointment").click()
    expect(admin.get_by_role("heading", level=1)).to_contain_text("Appointment of Jordan")
    return day


def question(page: Page, text: str) -> Locator:
    """A question asked as a group (yes/no, choices, lists, consent), by its legend."""
    return page.get_by_role("group", name=re.compile("^" + re.escape(text)))


def save_and_continue(page: Page, section: int, of: int) -> None:
    page.get_by_role("button", name="Save and continue").click()
    if section < of:
        expect(page.get_by_text(f"Section {section + 1} of {of}")).to_be_visible()


def test_staff_book_the_form_goes_out_the_patient_checks_in_and_staff_accept_an_allergy(
    stack, new_page, shot
):
    # 1. Staff book Jordan for a new-patient visit; the form goes out by itself.
    admin = new_page(viewport=DESKTOP)
    demo_staff_sign_in(admin)
    day = book_new_patient_visit(admin, shot)
    intake = admin.get_by_role("region", name="Intake forms")
    expect(intake).to_contain_text("New patient")
    shot(admin, "intake-02-appointment-with-form")

    received = wait_for_check_in_email(stack, JORDAN.email)
    assert JORDAN.first_name not in received.text and "New patient" not in received.text
    link = link_in(stack, received, "/portal/records/")

    # 2. Jordan opens the link, signs in, starts the form and leaves after two sections.
    patient = new_page(viewport=PHONE)
    patient.goto(link)
    steps.patient_sign_in(patient, stack.inbox, JORDAN, DEMO_PASSWORD)
    expect(patient.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    card = patient.get_by_role("listitem").filter(
        has=patient.get_by_role("heading", name="New patient")
    )
    card.get_by_role("link", name="Start").click()
    expect(patient.get_by_text("Section 1 of 5")).to_be_visible()
    patient.get_by_label("Street address").fill(NEW_ADDRESS)
    patient.get_by_label("City").fill("Springfield")
    patient.get_by_label("State").fill("IL")
    patient.get_by_label("ZIP code").fill("62711")
    shot(patient, "intake-03-about-you")
    save_and_continue(patient, 1, 5)
    question(patient, "Do you have health insurance?").get_by_label("No").check()
    patient.get_by_role("button", name="Save and come back later").click()
    expect(patient.get_by_text(re.compile("Started, last saved on"))).to_be_visible()
    shot(patient, "intake-04-saved-for-later")

    # 3. She comes back another day, in Spanish: her answers are there; she goes on.
    back = new_page(viewport=PHONE)
    back.goto(link)
    steps.patient_sign_in(back, stack.inbox, JORDAN, DEMO_PASSWORD)
    back.get_by_role("button", name="Español").click()
    expect(back.locator("html")).to_have_attribute("lang", "es")
    card = back.get_by_role("listitem").filter(has=back.get_by_role("heading", name="New patient"))
    card.get_by_role("link", name=es("Continue")).click()
    expect(back.get_by_label("Street address")).to_have_value(NEW_ADDRESS)
    back.get_by_role("button", name=es("Save and continue")).click()
    expect(
        question(back, "Do you have health insurance?").get_by_label("No", exact=True)
    ).to_be_checked()
    back.get_by_role("button", name=es("Save and continue")).click()
    # Allergies and medications: she adds an allergy and a medication.
    allergies = question(back, "Your allergies")
    expect(allergies).not_to_contain_text(NEW_ALLERGY)  # her current list, offered to confirm
    allergies.locator("input[type=text]").nth(0).fill(NEW_ALLERGY)
    allergies.locator("input[type=text]").nth(1).fill("Hives")
    medications = question(back, "Medications you take")
    medications.locator("input[type=text]").nth(0).fill("Vitamin D3 1000 unit tablet")
    medications.locator("input[type=text]").nth(1).fill("One a day")
    shot(back, "intake-05-allergies-es")
    # The widest section (her lists, with a row to add) fits a 320 px screen and 200% zoom.
    screens = Screens(shot)
    screens.check(back, "check-in-lists")
    back.set_viewport_size(PHONE)
    back.get_by_role("button", name=es("Save and continue")).click()
    question(back, "Do you smoke or use tobacco?").get_by_label("Never").check()
    back.get_by_role("button", name=es("Save and continue")).click()
    consent = question(back, "Consent to treatment")
    consent.get_by_role("checkbox").check()
    consent.get_by_role("textbox").fill(JORDAN.full_name)
    back.get_by_role("button", name=es("Save and continue")).click()
    shot(back, "intake-06-review-es")
    screens.check(back, "check-in-review")
    back.set_viewport_size(PHONE)

    # 4. She reviews in English and submits; the form is read-only from then on.
    back.get_by_role("button", name="English").click()
    expect(back.locator("html")).to_have_attribute("lang", "en")
    expect(back.get_by_text(NEW_ALLERGY).first).to_be_visible()
    back.get_by_role("button", name="Submit").click()
    expect(back.get_by_text(re.compile("Submitted on"))).to_be_visible()
    shot(back, "intake-07-submitted")

    # 5. Staff open it from Intake, accept the new allergy into the chart, mark it processed.
    admin.goto(f"/ehr/intake/?date={day.isoformat()}")
    expect(admin.get_by_role("heading", name=re.compile("Intake"), level=1)).to_be_visible()
    row = admin.get_by_role("row").filter(has_text=JORDAN.last_name).filter(has_text="Jordan")
    shot(admin, "intake-08-list")
    row.get_by_role("link", name=re.compile("^Open")).click()
    expect(admin.get_by_text(NEW_ADDRESS).first).to_be_visible()
    admin.get_by_role("button", name=f"Accept — {NEW_ALLERGY}").click()
    expect(admin.get_by_text("Accepted").first).to_be_visible()
    shot(admin, "intake-09-accepted")
    admin.get_by_role("button", name="Mark processed").click()
    expect(admin.get_by_text("Processed").first).to_be_visible()
    shot(admin, "intake-10-processed")

    # 6. Her record shows the allergy.
    back.get_by_role("navigation", name="Health record").get_by_role(
        "link", name="My record", exact=True
    ).click()
    expect(back.get_by_role("region", name="Allergies")).to_contain_text(NEW_ALLERGY)
    shot(back, "intake-11-record-with-allergy")


def test_a_patient_without_portal_access_checks_in_through_the_emailed_link(stack, new_page, shot):
    # 1. Staff send Noor the follow-up form from her chart's Intake tab.
    admin = new_page(viewport=DESKTOP)
    demo_staff_sign_in(admin)
    steps.search_and_open_chart(admin, NOOR, search=NOOR.last_name)
    admin.get_by_role("navigation", name="Chart").get_by_role("link", name="Intake").click()
    admin.get_by_label(re.compile("^Form")).select_option(label="Follow-up visit")
    admin.get_by_role("button", name="Send form").click()
    expect(admin.get_by_text("Follow-up visit").first).to_be_visible()
    shot(admin, "intake-20-chart-tab")

    received = wait_for_check_in_email(stack, NOOR.email)
    link = link_in(stack, received, "/check-in/")

    # 2. She opens the link: a wrong date of birth counts, the right one opens the form.
    patient = new_page(viewport=PHONE)
    patient.goto(link)
    expect(patient.get_by_role("heading", name=SUBJECT)).to_be_visible()
    patient.get_by_label("Date of birth").fill("1991-02-10")
    patient.get_by_role("button", name="Continue").click()
    expect(patient.get_by_text(re.compile("Tries left: 4")).first).to_be_visible()
    patient.get_by_label("Date of birth").fill(NOOR.date_of_birth.isoformat())
    patient.get_by_role("button", name="Continue").click()
    expect(patient.get_by_text("Section 1 of 2")).to_be_visible()
    patient.get_by_label("What would you like to talk about at this visit?").fill(
        "My knee hurts when I climb stairs."
    )
    question(patient, "Has anything changed in your health").get_by_label("No").check()
    shot(patient, "intake-21-link-form")
    save_and_continue(patient, 1, 2)

    # 3. She goes on in Spanish: lists, review, submit; the submitted form read in English.
    patient.get_by_role("button", name="Español").click()
    expect(patient.locator("html")).to_have_attribute("lang", "es")
    question(patient, "Your allergies").get_by_label(es("I have no allergies")).check()
    question(patient, "Medications you take").locator("input[type=text]").nth(0).fill(
        "Ibuprofen 200 mg"
    )
    patient.get_by_role("button", name=es("Save and continue")).click()
    expect(patient.get_by_role("button", name=es("Submit"))).to_be_visible()
    shot(patient, "intake-22-link-review-es")
    # The review reads in English too; she goes back to Spanish to submit.
    patient.get_by_role("button", name="English").click()
    expect(patient.get_by_role("button", name="Submit")).to_be_visible()
    patient.get_by_role("button", name="Español").click()
    patient.get_by_role("button", name=es("Submit")).click()
    expect(patient.get_by_role("heading", name=es("Thank you"))).to_be_visible()
    patient.get_by_role("button", name="English").click()
    expect(patient.get_by_role("status")).to_contain_text(
        f"Your form is submitted. {DEMO_PRACTICE_NAME} will review it"
    )
    shot(patient, "intake-23-link-submitted")

    # 4. The link no longer works (in the language she chooses).
    patient.get_by_role("button", name="Español").click()
    expect(patient.locator("html")).to_have_attribute("lang", "es")
    patient.goto(link)
    expect(patient.locator("html")).to_have_attribute("lang", "es")
    expect(patient.get_by_role("main")).to_contain_text(
        es("This check-in link no longer works. Please ask your practice to send the form again.")
    )
    shot(patient, "intake-24-link-gone-es")
