"""Every patient page on a 320 px wide screen, and at 200% zoom, without sideways scrolling
(issue 13, WCAG 1.4.10 Reflow), against the real servers.

A patient with a full record (every section filled, seed.WREN) registers and goes through
each of her pages: sign-in, the System requirements page (once it exists), registration
(with a failed step, so the error summary is seen too), the record, the
printable record, sending it (and the page the recipient opens), the access log and the
account settings. On each page the document is no wider than the window at 320 CSS px
wide, and at 640 CSS px wide: a 1280 px window zoomed to 200%. Screenshots at 320 px:
artifacts/e2e/narrow-*.png.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import PATIENT_PASSWORD, WREN

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
NARROW = {"width": 320, "height": 640}
# A 1280 x 900 window at 200% zoom lays the page out in 640 x 450 CSS pixels.
ZOOMED = {"width": 640, "height": 450}
RECIPIENT = "wren.daughter@example.test"

_WIDTH = """() => {
  const width = window.innerWidth;
  const wide = [];
  for (const el of document.body.querySelectorAll("*")) {
    const box = el.getBoundingClientRect();
    if (box.width > 0 && box.right > width + 0.5) {
      const classes = typeof el.className === "string" && el.className
        ? "." + el.className.trim().split(/\\s+/).join(".") : "";
      wide.push(`${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${classes}`
        + ` (right edge at ${Math.round(box.right)} px)`);
    }
  }
  return { scrollWidth: document.documentElement.scrollWidth, innerWidth: width,
           wide: wide.slice(0, 12) };
}"""


class Screens:
    """Checks each page at both widths and keeps a numbered screenshot of it at 320 px."""

    def __init__(self, shot) -> None:
        self.shot = shot
        self.count = 0

    def check(self, page, name: str) -> None:
        for label, size in (("200% zoom", ZOOMED), ("320 px", NARROW)):
            page.set_viewport_size(size)
            width = page.evaluate(_WIDTH)
            assert width["scrollWidth"] <= width["innerWidth"], (
                f"{name} ({page.url}) scrolls sideways at {label}: the document is "
                f"{width['scrollWidth']} px wide in a {width['innerWidth']} px window; "
                "too wide:\n" + "\n".join(width["wide"])
            )
        self.count += 1
        self.shot(page, f"narrow-{self.count:02d}-{name}")


def registration_link(stack, received) -> str:
    match = re.search(re.escape(stack.base_url) + r"/portal/register/\S+", received.text)
    assert match, f"no registration link in:\n{received.text}"
    return match.group(0)


def test_every_patient_page_fits_a_320_px_screen_and_200_percent_zoom(stack, new_page, shot):
    screens = Screens(shot)
    staff = new_page(viewport=DESKTOP)
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, WREN, search=WREN.last_name)
    access_code = steps.invite(steps.open_portal_window(staff))
    link = registration_link(stack, stack.inbox.wait_for(WREN.email, count=1))

    page = new_page(viewport=NARROW)
    page.goto("/accounts/sign-in/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screens.check(page, "sign-in")

    page.goto("/system-requirements/")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    screens.check(page, "system-requirements")

    # Registration, with a failed try first: the error summary has to fit too.
    page.goto(link)
    expect(page.get_by_role("heading", name="Access your records")).to_be_visible()
    screens.check(page, "register")
    page.get_by_role("button", name="Continue").click()
    expect(page.locator(".error-summary")).to_be_visible()
    screens.check(page, "register-errors")
    steps.verify_identity(page, WREN, access_code)
    expect(page.get_by_role("heading", name="Set up your account")).to_be_visible()
    screens.check(page, "register-account")
    create = steps.account_form(page, "Create an account")
    create.get_by_label(re.compile(r"^Password(?! again)")).fill(PATIENT_PASSWORD)
    create.get_by_label("Password again").fill(PATIENT_PASSWORD)
    create.get_by_role("button", name="Create account").click()

    # Her record, every section filled, and the pages beside it.
    expect(page.get_by_role("heading", level=1)).to_have_text(WREN.full_name)
    expect(page.get_by_role("region", name="Lab results").get_by_role("table")).to_be_visible()
    screens.check(page, "record")
    # ("My records", the list of records, shows only with more than one: /portal/ opens the
    # only one.)
    page.get_by_role("link", name="Download (printable)").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Health record of {WREN.full_name}")
    screens.check(page, "printable-record")
    page.get_by_role("link", name="Back to my record").click()
    page.get_by_role("link", name="Send", exact=True).click()
    screens.check(page, "send")
    page.get_by_label("Email address to send the link to").fill(RECIPIENT)
    page.get_by_role("button", name="Send link").click()
    expect(page.get_by_text("The link is on its way.")).to_be_visible()
    screens.check(page, "send-links-sent")
    page.get_by_role("link", name="Access log").click()
    expect(page.get_by_role("heading", name="Access log", level=1)).to_be_visible()
    screens.check(page, "access-log")
    page.get_by_role("link", name="Account settings").click()
    expect(page.get_by_role("heading", name="Account settings", level=1)).to_be_visible()
    screens.check(page, "account-settings")

    # The record as the recipient of the link sees it.
    received = stack.inbox.wait_for(RECIPIENT, count=1)
    shared = re.search(re.escape(stack.base_url) + r"/shared/\S+/", received.text)
    assert shared, received.text
    recipient = new_page(viewport=NARROW)
    recipient.goto(shared.group(0))
    expect(recipient.get_by_role("heading", level=1)).to_have_text(
        f"Health record of {WREN.full_name}"
    )
    screens.check(recipient, "shared-record")
