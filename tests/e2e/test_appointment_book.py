"""The appointment book in the browser, end to end (SPEC §8.4 schedule part, §8.7; issue 15),
against the real servers.

The administrator sets a provider's working hours in Schedule settings, looks at the schedule
(a day, then the provider's week), books a patient (found by searching the chart, a visit type,
one of the open times and a reason) and moves the appointment to another open time; the chart's
Appointments tab shows it. The patient signs in, sees the appointment at its new time in her
record and downloads its calendar file (the same event, UID and new time). Every page on the
way is checked by axe-core and the Nu Html Checker (checked_pages.py). Screenshots:
artifacts/e2e/book-*.png.
"""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.e2e import steps
from tests.e2e.seed import (
    ARI,
    BOOK_VISIT_MINUTES,
    BOOK_VISIT_TYPE,
    PATIENT_PASSWORD,
    PROVIDER_NAME,
)

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
TABLET = {"width": 1024, "height": 768}
ZONE = zoneinfo.ZoneInfo("America/Chicago")  # the seeded practice's time zone
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
# The hours the administrator sets: Monday to Friday, a morning and an afternoon.
MORNING = ("08:30", "12:00")
AFTERNOON = ("13:00", "16:30")
REASON = "Knee pain after running"
APPOINTMENT_PATH = re.compile(r"/ehr/schedule/appointments/([0-9a-f-]{36})/$")


def booking_day(now: dt.datetime) -> dt.date:
    """The next weekday after today (practice time): every open time on it is still ahead."""
    day = now.date() + dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def long_date(day: dt.date) -> str:
    """How the book names a day: "Tuesday, December 1, 2026"."""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def clock(text: str) -> dt.time:
    """ "9:40 AM" as a time."""
    match = re.fullmatch(r"(\d{1,2}):(\d{2}) (AM|PM)", text.strip())
    assert match, f"not a time: {text!r}"
    hour, minute, half = int(match.group(1)) % 12, int(match.group(2)), match.group(3)
    return dt.time(hour + (12 if half == "PM" else 0), minute)


def clock_text(at: dt.time) -> str:
    return f"{at.hour % 12 or 12}:{at.minute:02d} {'AM' if at.hour < 12 else 'PM'}"


def open_day(scope: Locator, day: dt.date) -> Locator:
    """One day's group of open times (a fieldset whose legend is the day)."""
    return scope.get_by_role("group", name=long_date(day), exact=True)


def set_hours(page: Page) -> None:
    """Fill the hours page: each weekday a morning and an afternoon; the weekend empty."""
    for day in WEEKDAYS:
        for n, (start, end) in enumerate((MORNING, AFTERNOON), start=1):
            page.get_by_label(f"Start ({day}, hours {n})", exact=True).fill(start)
            page.get_by_label(f"End ({day}, hours {n})", exact=True).fill(end)


def test_staff_set_hours_book_and_move_and_the_patient_gets_the_calendar_file(
    stack, new_page, shot
):
    day = booking_day(dt.datetime.now(ZONE))
    admin = new_page(viewport=DESKTOP)

    # 1. The administrator opens Schedule settings and sets the provider's working hours.
    steps.staff_sign_in(admin)
    admin.get_by_role("navigation", name="Main").get_by_role("link", name="Schedule").click()
    expect(admin.get_by_role("heading", name="Schedule", level=1)).to_be_visible()
    admin.get_by_role("link", name="Schedule settings").click()
    expect(admin.get_by_role("heading", name="Schedule settings", level=1)).to_be_visible()
    expect(admin.get_by_role("row").filter(has_text=BOOK_VISIT_TYPE)).to_contain_text(
        f"{BOOK_VISIT_MINUTES} min"
    )
    shot(admin, "book-01-schedule-settings")
    admin.get_by_role("link", name=f"Edit the working hours of {PROVIDER_NAME}").click()
    expect(
        admin.get_by_role("heading", name=f"Working hours of {PROVIDER_NAME}", level=1)
    ).to_be_visible()
    set_hours(admin)
    shot(admin, "book-02-working-hours")
    admin.get_by_role("button", name="Save working hours").click()
    expect(admin.get_by_text(f"{PROVIDER_NAME}'s working hours are saved.")).to_be_visible()
    hours = admin.get_by_role("row").filter(has_text=PROVIDER_NAME)
    for weekday in WEEKDAYS:
        expect(hours).to_contain_text(f"{weekday}: 8:30 AM – 12:00 PM, 1:00 PM – 4:30 PM")
    expect(hours).not_to_contain_text("Saturday")

    # 2. The schedule: the booking day with every provider side by side, then the provider's
    # week, open times visible (on a tablet).
    admin.set_viewport_size(TABLET)
    admin.get_by_role("link", name="Open the schedule").click()
    expect(admin.get_by_role("link", name="Today", exact=True)).to_have_attribute(
        "aria-current", "date"
    )
    admin.get_by_label("Date", exact=True).fill(day.isoformat())
    admin.get_by_role("button", name="Show").click()
    expect(admin.get_by_role("heading", name=long_date(day), level=2)).to_be_visible()
    column = admin.get_by_role("region", name=PROVIDER_NAME)
    expect(column.get_by_role("link", name=re.compile(r"^Open 8:30 AM"))).to_be_visible()
    shot(admin, "book-03-schedule-day")
    admin.get_by_label("Provider", exact=True).select_option(label=PROVIDER_NAME)
    admin.get_by_label("View", exact=True).select_option(label="Week")
    admin.get_by_role("button", name="Show").click()
    expect(
        admin.get_by_role("heading", name=re.compile(f"^{PROVIDER_NAME} · Week of"))
    ).to_be_visible()
    expect(admin.get_by_role("link", name="Week", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    saturday = day + dt.timedelta(days=(5 - day.weekday()))
    expect(
        admin.get_by_role("region", name=f"Saturday, {saturday:%B} {saturday.day}")
    ).to_contain_text("Not working")
    shot(admin, "book-04-schedule-week")

    # 3. Book: find the chart, the provider, the visit type, an open time and the reason.
    admin.set_viewport_size(DESKTOP)
    admin.get_by_role("link", name="Book an appointment").click()
    expect(admin.get_by_role("heading", name="Book an appointment", level=1)).to_be_visible()
    admin.get_by_label("Find a patient by name or date of birth").fill(ARI.last_name)
    admin.get_by_label("Provider", exact=True).select_option(label=PROVIDER_NAME)
    admin.get_by_label("Visit type", exact=True).select_option(
        label=f"{BOOK_VISIT_TYPE} ({BOOK_VISIT_MINUTES} min)"
    )
    admin.get_by_label("From", exact=True).fill(day.isoformat())
    admin.get_by_role("button", name="Search and show open times").click()
    expect(admin.get_by_label(re.compile(f"^{ARI.full_name}"))).to_be_checked()
    times = open_day(admin.get_by_role("main"), day)
    expect(times.get_by_role("radio").first).to_be_visible()
    offered = [clock(text) for text in times.locator("label").all_inner_texts()]
    booked_at = next((t for t in offered if t >= dt.time(10, 0)), offered[0])
    times.get_by_label(clock_text(booked_at), exact=True).check()
    admin.get_by_label("Reason for visit").fill(REASON)
    shot(admin, "book-05-book")
    admin.get_by_role("button", name="Book appointment").click()

    booked = dt.datetime.combine(day, booked_at, tzinfo=ZONE)
    expect(admin.get_by_text(re.compile("^The appointment is booked for"))).to_contain_text(
        f"{day:%B} {day.day}, {day.year}, {clock_text(booked_at)}"
    )
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Appointment of {ARI.full_name}")
    appointment_id = APPOINTMENT_PATH.search(admin.url).group(1)
    facts = admin.locator("dl.appointment-facts")
    expect(facts).to_contain_text(clock_text(booked_at))
    expect(facts).to_contain_text(REASON)
    expect(facts).to_contain_text("Confirmed")
    shot(admin, "book-06-booked")

    # 4. Move it to another open time of the provider the same day (the last one).
    move = admin.get_by_role("group", name=f"Or move to one of {PROVIDER_NAME}'s open times")
    buttons = open_day(move, day).get_by_role("button")
    moved_at = clock(buttons.last.inner_text())
    assert moved_at != booked_at
    buttons.last.click()
    expect(admin.get_by_text("The appointment is moved.")).to_be_visible()
    moved = dt.datetime.combine(day, moved_at, tzinfo=ZONE)
    expect(facts).to_contain_text(f"{day:%B} {day.day}, {day.year}, {clock_text(moved_at)}")
    shot(admin, "book-07-moved")

    # ... the chart's Appointments tab shows it at its new time.
    facts.get_by_role("link", name=ARI.full_name).click()
    admin.get_by_role("link", name="Appointments", exact=True).click()
    row = admin.get_by_role("row").filter(has_text=BOOK_VISIT_TYPE)
    expect(row).to_contain_text(clock_text(moved_at))
    shot(admin, "book-08-chart-appointments")

    # 5. The patient signs in: her record shows the appointment at its new time; she downloads
    # its calendar file.
    patient = new_page(viewport=DESKTOP, accept_downloads=True)
    patient.goto("/accounts/sign-in/")
    steps.patient_sign_in(patient, stack.inbox, ARI, PATIENT_PASSWORD)
    expect(patient.get_by_role("heading", level=1)).to_have_text(ARI.full_name)
    appointments = patient.get_by_role("region", name="Appointments")
    item = appointments.get_by_role("listitem").filter(has_text=BOOK_VISIT_TYPE)
    expect(item).to_have_count(1)
    expect(item).to_contain_text(f"{day:%B} {day.day}, {day.year}, {clock_text(moved_at)}")
    expect(item).to_contain_text(f"with {PROVIDER_NAME}")
    expect(item).to_contain_text("Confirmed")
    shot(patient, "book-09-patient-record")
    with patient.expect_download() as download_info:
        item.get_by_role("link", name="Add to calendar (.ics)").click()
    ics = Path(download_info.value.path()).read_text()
    assert ics.startswith("BEGIN:VCALENDAR"), ics[:200]
    assert "METHOD:REQUEST" in ics
    assert f"UID:{appointment_id}@" in ics
    assert "SEQUENCE:1" in ics  # moved once
    utc = "%Y%m%dT%H%M%SZ"
    assert f"DTSTART:{moved.astimezone(dt.UTC):{utc}}" in ics, ics
    end = moved + dt.timedelta(minutes=BOOK_VISIT_MINUTES)
    assert f"DTEND:{end.astimezone(dt.UTC):{utc}}" in ics, ics
    assert f"{booked.astimezone(dt.UTC):{utc}}" not in ics  # the old time is gone
    assert REASON not in ics  # never the reason for visit
