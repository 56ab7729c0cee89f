"""Bulk invite in the browser (SPEC §5.3): filter the charts, invite all matching, watch the
progress bar reach the end while the real task worker issues the invitations."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import BULK_BIRTH_DATE, BULK_CHARTS

pytestmark = pytest.mark.e2e


def _age_today(born: dt.date) -> int:
    today = dt.datetime.now(ZoneInfo("America/Chicago")).date()  # the practice's day
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def test_staff_bulk_invite_a_filtered_list_and_watch_it_finish(stack, new_page, shot):
    page = new_page(viewport={"width": 1280, "height": 900})
    steps.staff_sign_in(page)
    page.get_by_role("link", name="Bulk invite").click()
    expect(page.get_by_role("heading", name="Bulk invite to the patient portal")).to_be_visible()
    expect(page.get_by_label("Not invited to the portal")).to_be_checked()

    # Bad input first: a message next to the field, and nothing starts.
    page.get_by_label("Age from").fill("60")
    page.get_by_label("Age to").fill("20")
    page.get_by_role("button", name="Show matching patients").click()
    expect(page.get_by_text("The upper age must not be below the lower age.")).to_be_visible()
    expect(page.get_by_role("link", name="Invite all")).to_have_count(0)

    age = str(_age_today(BULK_BIRTH_DATE))
    page.get_by_label("Age from").fill(age)
    page.get_by_label("Age to").fill(age)
    page.get_by_role("button", name="Show matching patients").click()
    expect(page.get_by_role("heading", name=f"{BULK_CHARTS} matching patients")).to_be_visible()
    shot(page, "bulk-01-filtered-list")

    page.get_by_role("link", name=f"Invite all {BULK_CHARTS} matching").click()
    expect(page.get_by_role("heading", name=f"Invite {BULK_CHARTS} patients?")).to_be_visible()
    shot(page, "bulk-02-confirm")
    page.get_by_role("button", name=f"Invite {BULK_CHARTS} patients").click()

    expect(page.get_by_role("heading", name="Bulk invite", exact=True)).to_be_visible()
    progress = page.get_by_role("progressbar")
    expect(progress).to_be_visible()
    # The page updates itself (no reload) until the worker has done every chart.
    expect(page.locator('[data-field="state_label"]')).to_have_text("Finished", timeout=60_000)
    expect(progress).to_have_attribute("value", "100")
    expect(page.locator('[data-field="invited"]')).to_have_text(str(BULK_CHARTS))
    expect(page.locator('[data-field="failed"]')).to_have_text("0")
    expect(page.get_by_role("button", name="Cancel")).to_have_count(0)
    shot(page, "bulk-03-finished")

    # A reload shows the same, from the stored run.
    page.reload()
    expect(page.locator('[data-field="invited"]')).to_have_text(str(BULK_CHARTS))
