"""Portal enrollment in the browser, end to end (SPEC §3), against the real servers.

Each step saves a full-page screenshot in artifacts/e2e/ so a person can see the flow.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.seed import LEE, PATIENT_PASSWORD, PRACTICE_NAME, ROBIN

pytestmark = pytest.mark.e2e

ENROLLMENT_SENDER = "healthrecords@portico.test"  # default: healthrecords@<deployment domain>
NO_ACCESS = "Ask your doctor to provide access to your health records."
PHONE = {"width": 390, "height": 844}  # patients mostly come from the email on a phone


def registration_link(stack, received) -> str:
    """The "Access your records" link, from the plain-text part of the enrollment email."""
    match = re.search(re.escape(stack.base_url) + r"/portal/register/\S+", received.text)
    assert match, f"no registration link in:\n{received.text}"
    return match.group(0)


def assert_enrollment_email(received, access_code: str) -> None:
    assert ENROLLMENT_SENDER in received.message["From"]
    assert PRACTICE_NAME in received.message["Subject"]
    assert PRACTICE_NAME in received.text
    assert "Access your records" in received.text
    assert "Access your records" in received.html
    # The code goes by paper or phone, never by email; and no health data or names.
    for secret in {access_code, access_code.replace("-", "")}:
        assert secret not in received.everything
    assert ROBIN.last_name not in received.everything


def test_patient_enrolls_loses_access_on_revoke_and_enrolls_again(stack, new_page, shot):
    staff = new_page(viewport={"width": 1280, "height": 900})
    patient = new_page(viewport=PHONE)

    # 1. Staff find the chart and invite the patient from the header button.
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, ROBIN, search=ROBIN.last_name)
    expect(steps.portal_status_button(staff)).to_have_text("Invite to patient portal")
    shot(staff, "01-staff-chart-not-invited")
    window = steps.open_portal_window(staff)
    # The patient's own fields (the representatives' are "Representative's email", …).
    expect(window.get_by_label(re.compile("^Enrollment email"))).to_have_value(ROBIN.email)
    expect(window.get_by_label(re.compile("^Mobile phone"))).to_have_value(
        re.compile(r"555\D?0188")
    )
    shot(staff, "02-staff-portal-window")
    window.get_by_role("button", name="Invite to patient portal", exact=True).click()
    expect(window).to_contain_text("make sure all the information is correct")
    shot(staff, "03-staff-confirm-invite")
    window.get_by_role("button", name="Invite", exact=True).click()
    expect(window).to_contain_text("Invite pending")
    first_code = window.locator("[data-access-code]").inner_text().strip()
    assert steps.ACCESS_CODE.match(first_code), first_code
    shot(staff, "04-staff-invite-pending")

    # 2. The enrollment email arrives over SMTP, without the code.
    first_email = stack.inbox.wait_for(ROBIN.email, count=1)
    assert_enrollment_email(first_email, first_code)
    first_link = registration_link(stack, first_email)

    # 3. The patient registers from the link, in their own browser.
    patient.goto(first_link)
    shot(patient, "05-patient-verify-identity")
    steps.verify_identity(patient, ROBIN, first_code)
    expect(patient.get_by_role("heading", name="Set up your account")).to_be_visible()
    create = steps.account_form(patient, "Create an account")
    expect(create.get_by_label("Email (your username)")).to_have_value(ROBIN.email)
    create.get_by_label(re.compile(r"^Password(?! again)")).fill(PATIENT_PASSWORD)
    create.get_by_label("Password again").fill(PATIENT_PASSWORD)
    shot(patient, "06-patient-create-account")
    create.get_by_role("button", name="Create account").click()
    steps.expect_record(patient, ROBIN)
    shot(patient, "07-patient-record")

    # ... and later signs in again with the new account, from the sign-in page.
    patient.get_by_role("button", name="Sign out").click()
    expect(patient.get_by_role("heading", name="Sign in")).to_be_visible()
    # A browser not remembered yet: the second step is a code sent by email.
    steps.patient_sign_in(patient, stack.inbox, ROBIN, PATIENT_PASSWORD)
    steps.expect_record(patient, ROBIN)
    shot(patient, "07b-patient-signed-in-again")

    # 4. Staff revoke access; the chart says so.
    staff.reload()
    # The window was open before the reload (?portal=open) and comes back open.
    expect(steps.portal_window(staff)).to_be_visible()
    expect(steps.portal_status_button(staff)).to_have_text("Enrolled")
    window = steps.open_portal_window(staff)
    expect(window).to_contain_text("Enrolled")
    window.get_by_role("button", name="Revoke access").click()
    expect(window).to_contain_text("Revoke this patient's portal access?")
    shot(staff, "08-staff-confirm-revoke")
    window.get_by_role("button", name="Revoke access").click()
    expect(window).to_contain_text("Access revoked")
    steps.close_portal_window(staff)
    expect(steps.portal_status_button(staff)).to_have_text("Access revoked")
    shot(staff, "09-staff-chart-access-revoked")

    # 5. Revoking ends the patient's session at once; signed in again, the record stays closed.
    patient.reload()
    expect(patient.get_by_role("heading", name="Sign in")).to_be_visible()
    steps.patient_sign_in(patient, stack.inbox, ROBIN, PATIENT_PASSWORD)
    expect(patient.get_by_role("alert")).to_have_text(NO_ACCESS)
    # The demographics are gone with the access.
    expect(patient.get_by_role("region", name="About you")).to_have_count(0)
    expect(patient.get_by_text(ROBIN.full_name)).to_have_count(0)
    shot(patient, "10-patient-access-revoked")

    # 6. Staff invite again: a new code, a new email.
    window = steps.open_portal_window(staff)
    second_code = steps.invite(window)
    assert second_code != first_code
    shot(staff, "11-staff-invited-again")
    # The fourth email: enrollment, two sign-in codes, and now this one.
    second_email = stack.inbox.wait_for(ROBIN.email, count=4)
    assert_enrollment_email(second_email, second_code)
    second_link = registration_link(stack, second_email)
    assert second_link != first_link

    # 7. The old link is dead.
    patient.goto(first_link)
    expect(patient.get_by_role("heading", level=1)).to_have_text(
        "This registration link has expired"
    )
    expect(patient.get_by_role("alert")).to_contain_text("registration link has expired")
    expect(patient.get_by_role("alert")).to_contain_text("ask your practice to enroll you")
    shot(patient, "12-patient-old-link-expired")

    # 8. The new link, the new code, and the account the patient is still signed in to.
    patient.goto(second_link)
    steps.verify_identity(patient, ROBIN, second_code)
    current = steps.account_form(patient, "Use the account you are signed in to")
    expect(current).to_contain_text(f"You are signed in as {ROBIN.email}")
    shot(patient, "13-patient-add-record-to-account")
    current.get_by_role("button", name="Add this record to my account").click()
    steps.expect_record(patient, ROBIN)
    shot(patient, "14-patient-record-again")

    staff.reload()
    expect(steps.portal_status_button(staff)).to_have_text("Enrolled")
    shot(staff, "15-staff-enrolled-again")


def test_five_wrong_access_codes_lock_the_invitation_until_staff_resend(stack, new_page, shot):
    staff = new_page(viewport={"width": 1280, "height": 900})
    patient = new_page(viewport=PHONE)

    # Invite from the "Actions" menu this time.
    steps.staff_sign_in(staff)
    steps.search_and_open_chart(staff, LEE, search=LEE.date_of_birth.strftime("%m/%d/%Y"))
    staff.get_by_text("Actions", exact=True).click()
    staff.get_by_role("button", name="Invite to patient portal", exact=True).click()
    code = steps.invite(steps.portal_window(staff))
    link = registration_link(stack, stack.inbox.wait_for(LEE.email, count=1))

    # A code that differs from the real one in its last character.
    wrong = code[:-1] + ("A" if code[-1] != "A" else "B")
    patient.goto(link)
    for tries_left in (4, 3, 2, 1):
        steps.verify_identity(patient, LEE, wrong)
        expect(patient.get_by_role("alert")).to_contain_text("does not match")
        expect(patient.get_by_role("alert")).to_contain_text(f"{tries_left} tr")
    shot(patient, "21-patient-wrong-code")
    steps.verify_identity(patient, LEE, wrong)
    expect(patient.get_by_role("heading", level=1)).to_have_text("This invitation is locked")
    expect(patient.get_by_role("alert")).to_contain_text("ask your practice to send you a new")
    shot(patient, "22-patient-invitation-locked")

    # Even the right code no longer opens it.
    patient.goto(link)
    expect(patient.get_by_role("heading", level=1)).to_have_text("This invitation is locked")

    staff.reload()
    window = steps.open_portal_window(staff)
    expect(window).to_contain_text("Locked")
    expect(window.get_by_role("button", name="Resend invite")).to_be_visible()
    shot(staff, "23-staff-resend-offered")
