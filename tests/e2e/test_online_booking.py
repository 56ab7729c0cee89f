"""Online booking in the browser, end to end (SPEC §8.1–8.6; issue 16), on the demo practice as
`make demo` seeds it (demo/online.py), against the real servers.

The practice puts Dr. Shah's booking page on its own website: the administrator lists the
website in EHR Settings > Online booking and the website (tests/e2e/website.py, another origin)
publishes the copy-paste code shown there. A visitor finds Dr. Shah by specialty on /doctors/,
opens her profile (schema.org JSON-LD) and its booking page, then books in the booking page
framed by the practice's website, as the demo patient Jordan Rivera. Staff approve the request
in Schedule > Appointment Requests on Jordan's chart. Jordan signs in and sees it Confirmed on
the portal's Appointments tab and asks for another time (changes his mind once: withdraws and
asks again); staff propose another time; Jordan accepts: Confirmed at the new time.
A patient whose chart prefers Spanish finds, books, reschedules, withdraws and cancels in
Spanish. Every Portico page on the way is checked by axe-core and the Nu Html Checker
(checked_pages.py). Screenshots: artifacts/e2e/online-*.png.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator

import pytest
from django.utils import translation
from playwright.sync_api import Locator, Page, expect

from tests.e2e import steps
from tests.e2e.seed import (
    DEMO_ADMIN_EMAIL,
    DEMO_ADMIN_TOTP_SECRET,
    DEMO_PASSWORD,
    DEMO_PRACTICE_NAME,
    DEMO_PROVIDER_NAME,
    INES,
    JORDAN,
    PATIENT_PASSWORD,
)
from tests.e2e.website import Website, website

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
SPECIALTY = "Family medicine"
SPECIALTY_CODE = "family-medicine"
PROVIDER = re.compile(r"Priya Shah")  # "Dr. Priya Shah, MD" and the like
VISIT_TYPE = "Follow-up"
REASON = "Sore shoulder after gardening"
RESCHEDULE_NOTE = "A morning would suit me better."
PROPOSE_REASON = "Dr. Shah is at a training then"
PROPOSE_MESSAGE = "Would this time work for you instead?"
BOOKING_PAGE = "/book-online.html"  # on the practice's website


def es(english: str, context: str = "") -> str:
    """The catalogue's Spanish for an English message; fails when there is none."""
    with translation.override("es"):
        spanish = (
            translation.pgettext(context, english) if context else translation.gettext(english)
        )
    assert spanish != english, f"no Spanish for {english!r}"
    return spanish


@pytest.fixture(scope="module")
def practice_website() -> Iterator[Website]:
    """The practice's own website, at http://localhost:<port> (Portico: 127.0.0.1)."""
    with website("localhost") as site:
        yield site


# ---------------------------------------------------------------------------
# Helpers


def demo_staff_sign_in(page: Page) -> None:
    steps.staff_sign_in(
        page,
        email=DEMO_ADMIN_EMAIL,
        totp_secret=DEMO_ADMIN_TOTP_SECRET,
        practice=DEMO_PRACTICE_NAME,
        password=DEMO_PASSWORD,
    )


def at(iso: str) -> dt.datetime:
    """An instant the pages give in a datetime attribute or a value (ISO 8601, with offset)."""
    return dt.datetime.fromisoformat(iso)


def ld_types(data) -> set[str]:
    """Every schema.org @type in a JSON-LD block, nested ones included."""
    found: set[str] = set()
    if isinstance(data, dict):
        kind = data.get("@type")
        found.update(kind if isinstance(kind, list) else [kind] if kind else [])
        for value in data.values():
            found |= ld_types(value)
    elif isinstance(data, list):
        for value in data:
            found |= ld_types(value)
    return found


def expect_profile_markup(page: Page) -> None:
    """The profile's schema.org JSON-LD (Physician at a MedicalClinic) and canonical URL."""
    blocks = page.locator('script[type="application/ld+json"]').all_text_contents()
    assert blocks, "no JSON-LD on the profile"
    data = [json.loads(block) for block in blocks]
    assert {"Physician", "MedicalClinic"} <= ld_types(data), data
    assert "Priya Shah" in json.dumps(data)
    canonical = page.locator('link[rel="canonical"]')
    expect(canonical).to_have_count(1)
    assert "/doctor/" in (canonical.get_attribute("href") or "")


def find_dr_shah(page: Page, search: str) -> None:
    """On /doctors/: search by specialty, open Dr. Shah's profile from the results."""
    page.goto("/doctors/")
    form = page.get_by_role("search")
    form.locator("select[name=specialty]").select_option(SPECIALTY_CODE)
    form.get_by_role("button", name=search).click()
    expect(page).to_have_url(re.compile(f"specialty={SPECIALTY_CODE}"))
    results = page.locator(".search-results")
    expect(results.get_by_role("link", name=PROVIDER).first).to_be_visible()


def open_times(scope: Locator) -> Locator:
    """The open-time links of a booking page (each holds a <time datetime>)."""
    return scope.locator("a:has(time[datetime])")


def after_today(when: dt.datetime) -> bool:
    """A time on a later day than today (in its own time zone, the practice's): it cannot pass
    while the story runs."""
    return when.date() > dt.datetime.now(when.tzinfo).date()


def choose_first_time(scope: Locator) -> dt.datetime:
    """Click the first open time of a booking page after today; the time chosen."""
    expect(open_times(scope).first).to_be_visible()
    for link in open_times(scope).all():
        when = at(link.locator("time").get_attribute("datetime"))
        if after_today(when):
            link.click()
            return when
    raise AssertionError("no open time after today on the booking page")


def appointment_item(page: Page, when: dt.datetime, region: str = "Upcoming") -> Locator:
    """The appointment at `when` in the Appointments tab's Upcoming list."""
    items = page.get_by_role("region", name=region).get_by_role("listitem")
    return items.filter(has=page.locator(f'time[datetime="{when.isoformat()}"]'))


def radio_times(scope: Locator) -> list[tuple[dt.datetime, Locator]]:
    """The radio buttons of open times in `scope` (their values are local ISO instants)."""
    radios = scope.locator('input[type="radio"][name="start_at"]')
    return [(at(radio.get_attribute("value")), radio) for radio in radios.all()]


def put_booking_page_on_the_website(admin: Page, site: Website, shot) -> str:
    """The administrator lists the practice's website (EHR Settings > Online booking) and the
    website publishes the code shown there for Dr. Shah. Returns the website page's URL."""
    admin.goto("/ehr/settings/online-booking/")
    expect(admin.get_by_role("heading", name="Online booking on your website")).to_be_visible()
    origins = admin.get_by_role("textbox", name="Websites allowed to show the booking pages")
    listed = origins.input_value().strip()
    assert "http://localhost:8000" in listed  # the demo's
    origins.fill(f"{listed}\n{site.origin}")
    admin.get_by_role("button", name="Save websites").click()
    expect(origins).to_have_value(re.compile(re.escape(site.origin)))
    code = (
        admin.get_by_role("region", name=PROVIDER)
        .get_by_label("Code to paste into your website")
        .input_value()
    )
    assert "<iframe" in code and "/external/appointment/" in code, code
    shot(admin, "online-01-website-settings")

    # Maya Collins's profile is Off: her checklist says what is missing.
    admin.get_by_role("link", name="Online profile of Maya Collins").click()
    expect(
        admin.get_by_role("heading", name="Online profile and appointment booking", level=1)
    ).to_be_visible()
    missing = admin.locator("#checklist-attested")
    expect(missing).to_contain_text("Missing")
    expect(missing).to_contain_text("An administrator has attested your NPI.")
    shot(admin, "online-02-profile-checklist")
    return site.publish(
        BOOKING_PAGE,
        code,
        title=f"{DEMO_PRACTICE_NAME}: book online",
        heading="Book an appointment online",
    )


def unfold(details: Locator) -> None:
    """Open a <details> (a decision on the request page) unless it is open already."""
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    expect(details).to_have_attribute("open", "")


def english(text: str) -> str:
    return text


def fill_request(scope, chart, reason: str, *, phone: str = "", tr=english) -> None:
    """The request form, as an existing patient: name, date of birth, email, phone, reason
    (labels in the page's language: `tr` gives it from the English)."""

    def field(label: str) -> Locator:
        # A label may end in the required-field mark.
        return scope.get_by_label(re.compile("^" + re.escape(tr(label))))

    scope.get_by_label(tr("Existing patient"), exact=True).check()
    field("First name").fill(chart.first_name)
    field("Last name").fill(chart.last_name)
    field("Date of birth").fill(chart.date_of_birth.isoformat())
    field("Email").fill(chart.email)
    if phone:
        field("Phone").fill(phone)
    field("Reason for visit").fill(reason)


def ask_to_reschedule(
    patient: Page, item: Locator, shot, name: str, *, pick: int, not_at=None
) -> dt.datetime:
    """From the appointment's row: Reschedule, choose an open time, a note, and send."""
    item.get_by_role("link", name="Reschedule").click()
    expect(patient.get_by_role("heading", name="Reschedule your appointment")).to_be_visible()
    times = [
        (t, r) for t, r in radio_times(patient.locator("form")) if t != not_at and after_today(t)
    ]
    wanted, radio = times[pick]
    radio.check()
    patient.get_by_label("Notes").fill(RESCHEDULE_NOTE)
    shot(patient, name)
    patient.get_by_role("button", name="Request to reschedule").click()
    expect(patient.get_by_text("Your request to reschedule was sent.")).to_be_visible()
    return wanted


# ---------------------------------------------------------------------------
# The story


def test_a_visitor_books_on_the_practice_website_staff_approve_and_the_patient_reschedules(
    stack, new_page, shot, practice_website
):
    # 0. The practice puts Dr. Shah's booking page on its website.
    admin = new_page(viewport=DESKTOP)
    demo_staff_sign_in(admin)
    website_page = put_booking_page_on_the_website(admin, practice_website, shot)

    # 1. A visitor finds Dr. Shah by specialty, opens her profile and its booking page.
    visitor = new_page(viewport=PHONE, locale="en-US")
    find_dr_shah(visitor, "Search")
    shot(visitor, "online-03-search")
    visitor.locator(".search-results").get_by_role("link", name=PROVIDER).first.click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(PROVIDER)
    expect(visitor.get_by_role("main")).to_contain_text(SPECIALTY)
    expect(visitor.get_by_role("main")).to_contain_text("Spanish")
    expect_profile_markup(visitor)
    shot(visitor, "online-04-profile")
    visitor.get_by_role("link", name=f"More times for {VISIT_TYPE}").click()
    expect(visitor.get_by_role("heading", level=1)).to_have_text(
        re.compile(r"^Request an appointment with .*Priya Shah")
    )
    expect(open_times(visitor.get_by_role("main")).first).to_be_visible()
    shot(visitor, "online-05-booking-page")

    # 2. On the practice's website, the framed booking page: a Follow-up at the first open
    # time, as an existing patient (Jordan's details) with the reason for visit.
    visitor.goto(website_page)
    expect(visitor.get_by_role("heading", name="Book an appointment online")).to_be_visible()
    frame = visitor.frame_locator('iframe[src*="/external/appointment/"]')
    expect(frame.get_by_role("heading", level=1)).to_have_text(re.compile("Priya Shah"))
    frame.get_by_role("link", name=VISIT_TYPE, exact=True).click()
    asked = choose_first_time(frame.locator("main"))
    fill_request(frame, JORDAN, REASON, phone="(202) 555-0199")
    shot(visitor, "online-06-embedded-booking")
    emails_before = len(stack.inbox.to(JORDAN.email))
    frame.get_by_role("button", name="Send request").click()
    expect(frame.get_by_role("heading", name="Request sent")).to_be_visible()
    shot(visitor, "online-07-request-sent")
    received = stack.inbox.wait_for(JORDAN.email, emails_before + 1)
    assert REASON not in received.everything  # no health information in an email

    # 3. Staff open Schedule > Appointment Requests, the request, and approve it on Jordan's
    # chart (the one chart with his last name and date of birth, chosen already).
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    admin.get_by_role("link", name="Appointment Requests").click()
    expect(admin.get_by_role("heading", name="Appointment Requests", level=1)).to_be_visible()
    row = admin.get_by_role("row").filter(has_text=JORDAN.full_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Practice website")
    shot(admin, "online-08-requests")
    row.get_by_role("link", name=JORDAN.full_name).click()
    expect(admin.get_by_role("heading", level=1)).to_have_text(
        f"New appointment request: {JORDAN.full_name}"
    )
    expect(admin.locator(".request-facts")).to_contain_text(REASON)
    approve = admin.locator("details.decision").filter(has_text="Approve").first
    unfold(approve)
    chart = approve.get_by_role("radio", name=re.compile(f"^{JORDAN.first_name} .*Rivera|Rivera"))
    expect(chart.first).to_be_checked()
    shot(admin, "online-09-request")
    approve.get_by_role("button", name="Approve").click()
    expect(admin.locator(".request-facts")).to_contain_text("Approved")
    expect(admin.get_by_role("region", name="Outcome")).to_contain_text("Confirmed")
    shot(admin, "online-10-approved")
    # The confirmation, at the address typed.
    confirmed = stack.inbox.wait_for(JORDAN.email, emails_before + 2)
    assert REASON not in confirmed.everything

    # 4. Jordan signs in: the Appointments tab shows it Confirmed. He asks for another time,
    # changes his mind (withdraws the request), and asks for another one.
    patient = new_page(viewport=PHONE)
    patient.goto("/accounts/sign-in/")
    steps.patient_sign_in(patient, stack.inbox, JORDAN, DEMO_PASSWORD)
    # Jordan also manages her children's records (the demo family): she opens her own.
    patient.get_by_role("region", name="Your records").get_by_role(
        "link", name="Open record"
    ).click()
    patient.get_by_role("navigation", name="Health record").get_by_role(
        "link", name="Appointments"
    ).click()
    expect(patient.get_by_role("heading", name="Appointments", level=1)).to_be_visible()
    item = appointment_item(patient, asked)
    expect(item).to_have_count(1)
    expect(item).to_contain_text("Confirmed")
    expect(item).to_contain_text(f"with {DEMO_PROVIDER_NAME}")
    shot(patient, "online-11-portal-confirmed")

    wanted = ask_to_reschedule(patient, item, shot, "online-12-reschedule", pick=0)
    item = appointment_item(patient, asked)
    expect(item).to_contain_text("Confirmed")
    expect(item).to_contain_text(
        "You are responsible for your original appointment until the reschedule request is "
        "confirmed."
    )
    item.get_by_role("link", name="Withdraw this request").click()
    expect(patient.get_by_role("heading", name="Withdraw your request", level=1)).to_be_visible()
    shot(patient, "online-13-withdraw")
    patient.get_by_role("button", name="Withdraw request").click()
    expect(patient.get_by_text("Your reschedule request is withdrawn.")).to_be_visible()
    item = appointment_item(patient, asked)
    wanted = ask_to_reschedule(
        patient, item, shot, "online-14-reschedule-again", pick=1, not_at=wanted
    )

    # 5. Staff answer the reschedule request with another time of that day ("Propose Changes").
    admin.get_by_role("link", name="Back to Appointment Requests").click()
    admin.get_by_role("link", name="Refresh").click()
    row = admin.get_by_role("row").filter(has_text=JORDAN.full_name)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("Reschedule")
    row.get_by_role("link", name=JORDAN.full_name).click()
    expect(admin.locator(".request-facts")).to_contain_text(RESCHEDULE_NOTE)
    propose = admin.locator("details.decision").filter(has_text="Propose Changes")
    unfold(propose)
    choices = [(t, r) for t, r in radio_times(propose) if t not in (asked, wanted)]
    assert choices, "no other open time that day"
    proposed, radio = choices[-1]
    radio.check()
    propose.get_by_label("Reason").fill(PROPOSE_REASON)
    propose.get_by_label("Message to the patient (optional)").fill(PROPOSE_MESSAGE)
    shot(admin, "online-15-propose")
    propose.get_by_role("button", name="Propose Changes").click()
    outcome = admin.get_by_role("region", name="Outcome")
    expect(outcome).to_contain_text(PROPOSE_MESSAGE)
    expect(outcome).to_contain_text("Tentative")
    shot(admin, "online-16-proposed")

    # 6. Jordan accepts the proposed time: Confirmed at the new time, the old one gone.
    patient.reload()
    item = appointment_item(patient, proposed)
    expect(item).to_contain_text("Tentative")
    expect(item).to_contain_text(PROPOSE_MESSAGE)
    shot(patient, "online-17-portal-proposed")
    item.get_by_role("button", name="Accept").click()
    expect(patient.get_by_text("Your appointment is confirmed.")).to_be_visible()
    expect(appointment_item(patient, proposed)).to_contain_text("Confirmed")
    expect(appointment_item(patient, asked)).to_have_count(0)
    expect(appointment_item(patient, wanted)).to_have_count(0)
    shot(patient, "online-18-confirmed-at-new-time")

    # ... and what cancelling would mean (the practice's policy), which he does not do.
    appointment_item(patient, proposed).get_by_role("link", name="Cancel", exact=True).click()
    expect(patient.get_by_role("heading", name="Cancel your appointment", level=1)).to_be_visible()
    expect(patient.locator(".cancel-policy")).to_be_visible()
    shot(patient, "online-19-cancel-page")
    patient.get_by_role("main").get_by_role("link", name="Back to your appointments").first.click()
    expect(appointment_item(patient, proposed)).to_contain_text("Confirmed")


def test_a_patient_finds_books_reschedules_and_cancels_in_spanish(
    stack, new_page, shot, practice_website
):
    """INES's chart prefers Spanish; her browser asks for Spanish too."""
    # 1. The public pages in Spanish: search, profile, booking page, a request.
    visitor = new_page(viewport=PHONE, locale="es-ES")
    find_dr_shah(visitor, es("Search"))
    expect(visitor.locator("html")).to_have_attribute("lang", "es")
    visitor.locator(".search-results").get_by_role("link", name=PROVIDER).first.click()
    expect(visitor.locator("html")).to_have_attribute("lang", "es")
    expect_profile_markup(visitor)
    shot(visitor, "online-es-01-profile")
    choose_first_time(visitor.get_by_role("main"))
    fill_request(visitor.get_by_role("main"), INES, "Dolor de rodilla", tr=es)
    visitor.get_by_role("button", name=es("Send request")).click()
    expect(visitor.get_by_role("heading", name=es("Request sent"))).to_be_visible()
    shot(visitor, "online-es-02-request-sent")
    # The booking page framed by the practice's website speaks the visitor's language too.
    if practice_website.page(BOOKING_PAGE) is not None:
        visitor.goto(practice_website.origin + BOOKING_PAGE)
        frame = visitor.frame_locator('iframe[src*="/external/appointment/"]')
        expect(frame.locator("html")).to_have_attribute("lang", "es")
        frame.get_by_role("link", name=VISIT_TYPE, exact=True).click()
        expect(open_times(frame.locator("main")).first).to_be_visible()
        shot(visitor, "online-es-03-embedded-booking")

    # 2. In the portal: her confirmed visit; she asks for another time, withdraws the
    # request, then cancels the visit (no approval needed ten days ahead).
    patient = new_page(viewport=PHONE, locale="es-ES")
    patient.goto("/accounts/sign-in/")
    count = len(stack.inbox.to(INES.email))
    patient.get_by_label(es("Email")).fill(INES.email)
    patient.get_by_label(re.compile("^" + re.escape(es("Password")))).fill(PATIENT_PASSWORD)
    patient.get_by_role("main").get_by_role("button", name=es("Sign in")).click()
    expect(patient.get_by_role("heading", name=es("Confirm it is you"))).to_be_visible()
    code = re.search(r"\b(\d{6})\b", stack.inbox.wait_for(INES.email, count + 1).text).group(1)
    patient.get_by_role("main").get_by_role("textbox").first.fill(code)
    patient.get_by_role("main").get_by_role("button", name=es("Continue")).click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(INES.full_name)
    patient.get_by_role("link", name=es("Appointments")).first.click()
    expect(patient.locator("html")).to_have_attribute("lang", "es")
    upcoming = patient.get_by_role("region", name=es("Upcoming"))
    item = upcoming.get_by_role("listitem").filter(has_text=DEMO_PROVIDER_NAME)
    expect(item).to_have_count(1)
    expect(item).to_contain_text(es("Confirmed"))
    shot(patient, "online-es-04-appointments")
    item.get_by_role("link", name=es("Reschedule")).click()
    expect(patient.get_by_role("heading", name=es("Reschedule your appointment"))).to_be_visible()
    _, radio = next((t, r) for t, r in radio_times(patient.locator("form")) if after_today(t))
    radio.check()
    patient.get_by_label(es("Notes")).fill("Prefiero por la mañana.")
    shot(patient, "online-es-05-reschedule")
    patient.get_by_role("button", name=es("Request to reschedule")).click()
    expect(
        patient.get_by_text(
            es(
                "You are responsible for your original appointment until the reschedule request "
                "is confirmed."
            )
        ).first
    ).to_be_visible()
    item = upcoming.get_by_role("listitem").filter(has_text=DEMO_PROVIDER_NAME)
    item.get_by_role("link", name=es("Withdraw this request")).click()
    expect(patient.get_by_role("heading", name=es("Withdraw your request"))).to_be_visible()
    shot(patient, "online-es-06-withdraw")
    patient.get_by_role("button", name=es("Withdraw request")).click()
    expect(
        patient.get_by_text(
            es("Your reschedule request is withdrawn. Your appointment stays as it was.")
        )
    ).to_be_visible()
    item = upcoming.get_by_role("listitem").filter(has_text=DEMO_PROVIDER_NAME)
    item.get_by_role("link", name=es("Cancel", "cancel an appointment"), exact=True).click()
    expect(patient.locator(".cancel-policy")).to_have_text(
        es("Your appointment will be cancelled at once.")
    )
    patient.get_by_role("radio").first.check()
    shot(patient, "online-es-07-cancel")
    patient.get_by_role("button", name=es("Cancel the appointment")).click()
    expect(patient.get_by_text(es("Your appointment is cancelled."))).to_be_visible()
    expect(upcoming.get_by_role("listitem").filter(has_text=DEMO_PROVIDER_NAME)).to_have_count(0)
    expect(patient.get_by_role("region", name=es("Past"))).to_contain_text(es("Cancelled"))
