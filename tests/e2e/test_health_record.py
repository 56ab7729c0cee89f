"""The health record in the browser, end to end (SPEC §2.2, §6), against the real servers.

A provider records a visit with an abnormal lab result and shares it; the patient reads it,
downloads it in both formats and sends a link that works for the recipient until the patient
stops it. Screenshots of each page land in artifacts/e2e/record-*.png.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import (
    HARPER,
    PATIENT_PASSWORD,
    PROVIDER_EMAIL,
    PROVIDER_NAME,
    PROVIDER_TOTP_SECRET,
)

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}

NOTE = "Follow-up for fatigue. Fasting glucose ordered; diet and exercise discussed."
GLUCOSE_CODE = "2345-7"  # in the shipped LOINC list, range 70–99 mg/dL
GLUCOSE = "Glucose [Mass/volume] in Serum or Plasma"
RECIPIENT = "dr.second.opinion@example.test"
LINK_GONE = "This link no longer works."


def lab_row(page):
    """The glucose row of the record's "Lab results" section."""
    labs = page.get_by_role("region", name="Lab results")
    return labs.get_by_role("row").filter(has_text=GLUCOSE)


def expect_shared_visit_and_lab(page) -> None:
    """What the provider shared, as a reader of the record sees it."""
    visits = page.get_by_role("region", name="Visit summaries")
    expect(visits).to_contain_text(NOTE)
    expect(visits).to_contain_text(f"Signed by {PROVIDER_NAME}")
    row = lab_row(page)
    expect(row).to_have_count(1)
    expect(row).to_contain_text("182 mg/dL")
    expect(row).to_contain_text("70–99")
    expect(row).to_contain_text("High")


def shared_link(stack, received) -> str:
    match = re.search(re.escape(stack.base_url) + r"/shared/\S+/", received.text)
    assert match, f"no record link in:\n{received.text}"
    return match.group(0)


def test_provider_shares_an_abnormal_lab_the_patient_reads_downloads_and_sends(
    stack, new_page, shot
):
    provider = new_page(viewport=DESKTOP)

    # 1. The provider opens the chart's clinical summary and starts an encounter with a note.
    steps.staff_sign_in(provider, PROVIDER_EMAIL, PROVIDER_TOTP_SECRET)
    steps.search_and_open_chart(provider, HARPER, search=HARPER.last_name)
    provider.get_by_role("link", name="Chart summary").click()
    provider.get_by_role("link", name="New encounter").click()
    provider.get_by_label("Note").fill(NOTE)
    shot(provider, "record-01-provider-new-encounter")
    provider.get_by_role("button", name="Start encounter").click()
    expect(provider.get_by_role("heading", level=1)).to_contain_text("Encounter of")
    expect(provider.get_by_text("Encounter started.")).to_be_visible()
    encounter_url = provider.url

    # ... adds a glucose result above its range to this visit, ticked shared.
    provider.get_by_role("link", name="Add to lab results").click()
    expect(provider.get_by_role("heading", level=1)).to_have_text("Add to lab results")
    form = provider.locator("form.grid-form")
    expect(form.get_by_label("Encounter")).to_have_value(re.compile(r".+"))
    expect(form.get_by_label("Share with patient")).not_to_be_checked()  # labs start unshared
    form.get_by_label("LOINC code").fill(GLUCOSE_CODE)
    form.get_by_label("LOINC code").press("Tab")
    # Choosing a listed code fills the description (codes.js).
    expect(form.get_by_label("Description")).to_have_value(GLUCOSE)
    form.get_by_label("Value").fill("182")
    form.get_by_label("Unit").fill("mg/dL")
    form.get_by_label("Reference range, low").fill("70")
    form.get_by_label("Reference range, high").fill("99")
    form.get_by_label("Abnormal flag").select_option(label="High")
    form.get_by_label("Share with patient").check()
    shot(provider, "record-02-provider-lab-form")
    form.get_by_role("button", name="Save").click()
    expect(provider.get_by_text("Saved.")).to_be_visible()

    # ... signs the encounter and shares its note (the lab stays ticked).
    provider.goto(encounter_url)
    entries = provider.get_by_role("region", name="Entries of this visit")
    expect(entries).to_contain_text(GLUCOSE)
    expect(entries).to_contain_text("High")
    provider.get_by_role("button", name="Sign encounter").click()
    expect(provider.get_by_text("Encounter signed.")).to_be_visible()
    expect(provider.locator(".encounter-status")).to_contain_text(f"Signed by {PROVIDER_NAME}")
    share = provider.get_by_role("region", name="Shared with the patient")
    share.get_by_label("Share the visit note (and its amendments) with the patient").check()
    expect(share.get_by_label(GLUCOSE, exact=True)).to_be_checked()
    share.get_by_role("button", name="Save share choices").click()
    expect(provider.get_by_text("Share choices saved.")).to_be_visible()
    expect(provider.locator(".encounter-status")).to_contain_text(
        "The patient sees this visit's note."
    )
    shot(provider, "record-03-provider-signed-and-shared")

    # 2. The patient signs in (a new device: the code comes by email) and reads the record.
    patient = new_page(viewport=PHONE, accept_downloads=True)
    patient.goto("/accounts/sign-in/")
    steps.patient_sign_in(patient, stack.inbox, HARPER, PATIENT_PASSWORD)
    steps.expect_record(patient, HARPER)
    expect_shared_visit_and_lab(patient)
    shot(patient, "record-04-patient-record")

    # 3. Downloads: the print-ready page, then the FHIR bundle as a file.
    patient.get_by_role("link", name="Download (printable)").click()
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        f"Health record of {HARPER.full_name}"
    )
    expect(patient.get_by_role("button", name="Print or save as PDF")).to_be_visible()
    expect_shared_visit_and_lab(patient)
    shot(patient, "record-05-patient-printable")
    patient.get_by_role("link", name="Back to my record").click()

    with patient.expect_download() as download_info:
        patient.get_by_role("link", name="Download (FHIR)").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".json")
    bundle = json.loads(Path(download.path()).read_text(encoding="utf-8"))
    assert bundle["resourceType"] == "Bundle"
    resources = [entry["resource"] for entry in bundle["entry"]]
    labs = [
        r
        for r in resources
        if r["resourceType"] == "Observation"
        and any(c.get("code") == GLUCOSE_CODE for c in r["code"].get("coding", []))
    ]
    assert len(labs) == 1, labs
    lab = labs[0]
    assert [c["code"] for i in lab["interpretation"] for c in i["coding"]] == ["H"]
    assert lab["valueQuantity"]["value"] == 182
    assert lab["valueQuantity"]["unit"] == "mg/dL"
    assert any(r["resourceType"] == "Patient" for r in resources)

    # 4. The patient sends a link; the email carries the link and nothing about the patient.
    patient.get_by_role("link", name="Send", exact=True).click()
    patient.get_by_label("Email address to send the link to").fill(RECIPIENT)
    patient.get_by_role("button", name="Send link").click()
    expect(patient.get_by_text("The link is on its way.")).to_be_visible()
    links = patient.get_by_role("region", name="Links you sent")
    expect(links.get_by_role("row").filter(has_text=RECIPIENT)).to_contain_text("Not yet")
    received = stack.inbox.wait_for(RECIPIENT, count=1)
    # The value with its unit: "182" alone turns up in a random Message-ID now and then.
    for private in (HARPER.first_name, HARPER.last_name, GLUCOSE, "182 mg/dL", NOTE):
        assert private not in received.everything
    link = shared_link(stack, received)
    shot(patient, "record-06-patient-link-sent")

    # ... the recipient, with no account, opens it in their own browser and sees the lab.
    recipient = new_page(viewport=DESKTOP)
    recipient.goto(link)
    expect(recipient.get_by_role("heading", level=1)).to_have_text(
        f"Health record of {HARPER.full_name}"
    )
    expect_shared_visit_and_lab(recipient)
    shot(recipient, "record-07-recipient-shared-record")

    # ... the patient sees it was opened, and stops it.
    patient.reload()
    row = links.get_by_role("row").filter(has_text=RECIPIENT)
    expect(row).to_contain_text("1 time")
    row.get_by_role("button", name=f"Stop link {RECIPIENT}").click()
    expect(patient.get_by_text("The link no longer works.")).to_be_visible()
    expect(row.get_by_role("button")).to_have_count(0)
    shot(patient, "record-08-patient-link-stopped")

    # ... and the same link now opens nothing.
    recipient.goto(link)
    expect(recipient.get_by_role("heading", level=1)).to_have_text(LINK_GONE)
    expect(recipient.get_by_text(GLUCOSE)).to_have_count(0)
    expect(recipient.get_by_text(HARPER.last_name)).to_have_count(0)
    shot(recipient, "record-09-recipient-link-stopped")
