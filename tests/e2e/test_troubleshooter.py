"""The portal access troubleshooter in the browser (SPEC §4.4, issue 3): a bounced
enrollment email shows as bounced, with the mail server's answer and the next step."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import BLAIR

pytestmark = pytest.mark.e2e

REFUSAL = "550 5.1.1 <blair.bounceback@example.test>: Recipient address rejected: User unknown"
BOUNCE_TIMEOUT = 30  # seconds for the worker to try and record the refusal


def test_bounced_enrollment_email_shows_in_the_troubleshooter_with_advice(stack, new_page, shot):
    stack.inbox.refuse[BLAIR.email] = REFUSAL
    staff = new_page()
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, BLAIR, BLAIR.last_name)
    window = steps.open_portal_window(staff)
    steps.invite(window)

    # The worker delivers in the background; staff look again until it has tried.
    deadline = time.monotonic() + BOUNCE_TIMEOUT
    while "bounced" not in window.inner_text() and time.monotonic() < deadline:
        time.sleep(0.5)
        staff.reload()
        window = steps.open_portal_window(staff)

    troubleshooter = window.get_by_role("region", name="Portal access troubleshooter")
    expect(troubleshooter).to_contain_text(f"Enrollment email to {BLAIR.email} bounced")
    expect(troubleshooter).to_contain_text(f"The mail server answered: {REFUSAL}")
    advice = troubleshooter.locator("[data-step=bounced]")
    expect(advice).to_contain_text(f"The enrollment email to {BLAIR.email} bounced")
    expect(advice).to_contain_text("fix it in the form above and resend the invite")
    assert stack.inbox.to(BLAIR.email) == []
    shot(staff, "troubleshooter-bounced")
