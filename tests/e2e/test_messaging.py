"""Secure messaging in the browser, end to end (SPEC §7, issue 14), against the real servers.

A patient writes to her provider with a PDF attached; the provider is emailed (that a message
waits, nothing of it), opens the inbox, reads, downloads the file, replies and files the
thread to the chart, where the chart's Timeline shows it; the patient is emailed, reads the
reply. An administrator turns messaging off in EHR Settings > Messaging: the patient sees why
she cannot write, and her earlier messages stay; on again, she can. Another patient, whose
chart prefers Spanish, reads and writes her messages in Spanish and opens the renewal request
page (every page on the way is checked by axe-core and the Nu Html Checker, in both
languages). The practice is one of its own (tests/e2e/seed.py), so the switch touches no
other test. Screenshots: artifacts/e2e/msg-*.png and es-msg-*.png.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.e2e import steps
from tests.e2e.conftest import MAIL_TIMEOUT, REPO
from tests.e2e.seed import (
    MSG_ADMIN_EMAIL,
    MSG_ADMIN_TOTP_SECRET,
    MSG_MEDICATION,
    MSG_PRACTICE_NAME,
    MSG_PRACTICE_PHONE,
    MSG_PROVIDER_EMAIL,
    MSG_PROVIDER_NAME,
    MSG_PROVIDER_TOTP_SECRET,
    PATIENT_PASSWORD,
    REMY,
    SOFIA,
)
from tests.e2e.test_spanish import code_from, es, expect_spanish_page, starts

pytestmark = pytest.mark.e2e

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
PDF = REPO / "tests" / "messaging" / "files" / "sample.pdf"

NOTICE = (
    "Messages are for non-urgent matters. For a quick answer, call the office. In an "
    "emergency, call 911."
)
NOTICE_ES = (
    "Los mensajes son para asuntos que no son urgentes. Para una respuesta rápida, llame al "
    "consultorio. En caso de emergencia, llame al 911."
)
MESSAGING_OFF = (
    "Your practice does not take messages through the patient portal right now. Please call "
    "the office."
)
SUBJECT = "Rash after the new cream"
BODY = (
    "The cream you prescribed last week left a red, itchy rash on my arm. The pharmacy "
    "leaflet is attached. Should I stop using it?"
)
REPLY = "Please stop the cream and use a fragrance-free moisturizer. Send a photo if it spreads."
PATIENT_EMAIL_SUBJECT = "You have a new message in your patient portal"
PRACTICE_EMAIL_SUBJECT = "New patient message in Portico"


def emails_titled(inbox, address: str, subject: str) -> list:
    return [m for m in inbox.to(address) if m.message["Subject"] == subject]


def wait_for_email(inbox, address: str, subject: str, count: int):
    """The `count`-th email with this subject to `address`, once it has arrived."""
    deadline = time.monotonic() + MAIL_TIMEOUT
    while time.monotonic() < deadline:
        received = emails_titled(inbox, address, subject)
        if len(received) >= count:
            return received[count - 1]
        time.sleep(0.1)
    raise AssertionError(f"expected {count} email(s) {subject!r} to {address}")


def link_in(stack, received, path: str) -> str:
    match = re.search(re.escape(stack.base_url) + re.escape(path) + r"\S*", received.text)
    assert match, f"no {path} link in:\n{received.text}"
    return match.group(0).rstrip(".")


def expect_nothing_private(received, *private: str) -> None:
    """A messaging email says a message waits and links to it: none of what it says, nor who."""
    for text in private:
        assert text not in received.everything, f"{text!r} is in the email"


def patient_messages(page):
    """The patient's "Messages" link in the record's navigation."""
    page.get_by_role("main").get_by_role("link", name="Messages", exact=True).click()
    expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()


def test_a_spanish_speaking_patient_reads_and_writes_her_messages_in_spanish(stack, new_page, shot):
    page = new_page(viewport=PHONE, locale="es-US")
    page.goto("/accounts/sign-in/")
    expect_spanish_page(page)
    count = len(stack.inbox.to(SOFIA.email))
    page.get_by_label(es("Email")).fill(SOFIA.email)
    page.get_by_label(starts(es("Password"))).fill(PATIENT_PASSWORD)
    page.get_by_role("main").get_by_role("button", name=es("Sign in")).click()
    expect(page.get_by_role("heading", name=es("Confirm it is you"))).to_be_visible()
    code_email = stack.inbox.wait_for(SOFIA.email, count=count + 1)
    page.get_by_role("main").get_by_role("textbox").first.fill(code_from(code_email))
    page.get_by_role("main").get_by_role("button", name=es("Continue")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(SOFIA.full_name)

    # Her messages, in Spanish.
    page.get_by_role("main").get_by_role("link", name=es("Messages"), exact=True).click()
    expect(page.get_by_role("heading", name=es("Messages"), level=1)).to_be_visible()
    expect_spanish_page(page)
    shot(page, "es-msg-01-list")

    page.get_by_role("link", name=es("Write a message")).click()
    expect(page.get_by_role("heading", name=es("Write a message"), level=1)).to_be_visible()
    expect_spanish_page(page)
    expect(page.get_by_text(NOTICE_ES)).to_be_visible()
    page.get_by_label(starts(es("To"))).select_option(label=f"{MSG_PROVIDER_NAME}, MD")
    page.get_by_label(es("Type of message")).select_option(label=es("Appointment question"))
    page.get_by_role("textbox", name=starts(es("Subject"))).fill("Cita de control")
    page.get_by_role("textbox", name=starts(es("Message"))).fill(
        "¿Puedo cambiar mi cita del martes a la tarde?"
    )
    shot(page, "es-msg-02-write")
    page.get_by_role("button", name=es("Send message")).click()

    expect(page.get_by_role("heading", name="Cita de control", level=1)).to_be_visible()
    expect_spanish_page(page)
    expect(page.get_by_text(es("Your message was sent."))).to_be_visible()
    expect(page.get_by_text(NOTICE_ES)).to_be_visible()  # above the reply form
    shot(page, "es-msg-03-thread")

    page.get_by_role("link", name=es("Back to messages")).click()
    expect(page.get_by_role("row").filter(has_text="Cita de control")).to_have_count(1)
    page.get_by_role("link", name=es("Ask for a prescription renewal")).click()
    expect(
        page.get_by_role("heading", name=es("Ask for a prescription renewal"), level=1)
    ).to_be_visible()
    expect_spanish_page(page)
    expect(page.get_by_label(re.compile(MSG_MEDICATION, re.IGNORECASE))).to_be_visible()
    shot(page, "es-msg-04-renewal")


def test_patient_writes_with_a_pdf_the_provider_answers_and_files_and_messaging_turns_off(
    stack, new_page, shot
):
    # 1. The patient signs in, opens "Messages" and writes to her provider, a PDF attached.
    patient = new_page(viewport=PHONE)
    patient.goto("/accounts/sign-in/")
    steps.patient_sign_in(patient, stack.inbox, REMY, PATIENT_PASSWORD)
    expect(patient.get_by_role("heading", level=1)).to_have_text(REMY.full_name)
    patient_messages(patient)
    expect(patient.get_by_text("You have no messages yet.")).to_be_visible()
    shot(patient, "msg-01-patient-no-messages")
    patient.get_by_role("link", name="Write a message").click()
    expect(patient.get_by_role("heading", name="Write a message", level=1)).to_be_visible()
    expect(patient.get_by_text(NOTICE)).to_be_visible()
    patient.get_by_label(re.compile("^To")).select_option(label=f"{MSG_PROVIDER_NAME}, MD")
    patient.get_by_label("Type of message").select_option(label="Medical question")
    patient.get_by_role("textbox", name=re.compile("^Subject")).fill(SUBJECT)
    patient.get_by_role("textbox", name=re.compile("^Message")).fill(BODY)
    patient.get_by_label("Attach a file").set_input_files(PDF)
    shot(patient, "msg-02-patient-writes")
    before = len(emails_titled(stack.inbox, MSG_PROVIDER_EMAIL, PRACTICE_EMAIL_SUBJECT))
    patient.get_by_role("button", name="Send message").click()

    expect(patient.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    expect(patient.get_by_text("Your message was sent.")).to_be_visible()
    conversation = patient.get_by_role("region", name="Conversation")
    expect(conversation).to_contain_text(BODY)
    expect(conversation.get_by_role("link", name="sample.pdf")).to_be_visible()
    patient_thread = patient.url
    shot(patient, "msg-03-patient-sent")

    # 2. The provider is emailed that a message waits: a link to it, nothing of it.
    received = wait_for_email(stack.inbox, MSG_PROVIDER_EMAIL, PRACTICE_EMAIL_SUBJECT, before + 1)
    expect_nothing_private(
        received, SUBJECT, BODY[:40], "sample.pdf", REMY.first_name, REMY.last_name
    )
    inbox_link = link_in(stack, received, "/ehr/messages/")

    # 3. The provider signs in: the header counts the unread thread; the inbox lists it.
    provider = new_page(viewport=DESKTOP, accept_downloads=True)
    steps.staff_sign_in(
        provider, MSG_PROVIDER_EMAIL, MSG_PROVIDER_TOTP_SECRET, practice=MSG_PRACTICE_NAME
    )
    header_link = provider.get_by_role("navigation", name="Main").get_by_role(
        "link", name=re.compile("^Messages")
    )
    expect(header_link).to_contain_text(re.compile(r"\b[1-9]\d* unread"))  # SOFIA's may count too
    header_link.click()
    expect(provider.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    row = provider.get_by_role("row").filter(has_text=SUBJECT)
    expect(row).to_have_count(1)
    expect(row).to_contain_text(REMY.first_name)
    expect(row).to_contain_text("Awaiting reply")
    shot(provider, "msg-04-provider-inbox")

    # ... reads the thread (the email's link leads to it) and downloads the PDF as sent.
    row.get_by_role("link", name=SUBJECT).click()
    expect(provider.get_by_role("heading", name=SUBJECT, level=1)).to_be_visible()
    assert provider.url == inbox_link
    messages = provider.get_by_role("region", name="Messages")
    expect(messages).to_contain_text(BODY)
    with provider.expect_download() as download_info:
        messages.get_by_role("link", name="sample.pdf").click()
    assert Path(download_info.value.path()).read_bytes() == PDF.read_bytes()
    shot(provider, "msg-05-provider-reads")

    # ... replies, and files the thread to the chart.
    before = len(emails_titled(stack.inbox, REMY.email, PATIENT_EMAIL_SUBJECT))
    provider.get_by_role("textbox", name=re.compile("^Reply")).fill(REPLY)
    provider.get_by_role("button", name="Reply", exact=True).click()
    expect(provider.get_by_text("Your reply was sent.")).to_be_visible()
    expect(messages).to_contain_text(REPLY)
    provider.get_by_role("button", name="File to chart").click()
    expect(provider.get_by_text("The thread is filed to the chart.")).to_be_visible()
    expect(provider.get_by_role("button", name="File to chart")).to_have_count(0)
    shot(provider, "msg-06-provider-replied-and-filed")

    # ... and finds it in the chart's Timeline tab.
    provider.locator("dl.thread-facts").get_by_role("link").first.click()
    provider.get_by_role("link", name="Timeline", exact=True).click()
    expect(provider.get_by_role("heading", name="Timeline")).to_be_visible()
    expect(provider.get_by_role("main")).to_contain_text(f"Message thread: {SUBJECT}")
    expect(provider.get_by_role("main")).to_contain_text(f"Filed to chart by {MSG_PROVIDER_NAME}")
    shot(provider, "msg-07-chart-timeline")

    # 4. The patient is emailed (no content); her list marks the thread unread; she reads.
    received = wait_for_email(stack.inbox, REMY.email, PATIENT_EMAIL_SUBJECT, before + 1)
    expect_nothing_private(received, SUBJECT, REPLY[:40], MSG_PROVIDER_NAME, REMY.last_name)
    assert link_in(stack, received, "/portal/") == patient_thread
    patient_messages(patient)
    row = patient.get_by_role("row").filter(has_text=SUBJECT)
    expect(row).to_contain_text("Unread")
    shot(patient, "msg-08-patient-unread")
    row.get_by_role("link", name=SUBJECT).click()
    expect(patient.get_by_role("region", name="Conversation")).to_contain_text(REPLY)
    expect(patient.get_by_text(NOTICE)).to_be_visible()  # above the reply form
    shot(patient, "msg-09-patient-reads-reply")
    # The renewal request page lists her shared current medication.
    patient_messages(patient)
    expect(patient.get_by_role("row").filter(has_text=SUBJECT)).not_to_contain_text("Unread")
    patient.get_by_role("link", name="Ask for a prescription renewal").click()
    expect(patient.get_by_label(re.compile(MSG_MEDICATION, re.IGNORECASE))).to_be_visible()
    expect(patient.get_by_text(NOTICE)).to_be_visible()
    shot(patient, "msg-10-patient-renewal-form")

    # 5. The administrator turns messaging off in EHR Settings > Messaging.
    admin = new_page(viewport=DESKTOP)
    steps.staff_sign_in(admin, MSG_ADMIN_EMAIL, MSG_ADMIN_TOTP_SECRET, practice=MSG_PRACTICE_NAME)
    admin.get_by_role("link", name="EHR Settings").click()
    admin.get_by_role("link", name="Messaging", exact=True).click()
    expect(admin.get_by_role("heading", name="Messaging", exact=True)).to_be_visible()
    admin.get_by_label("Off", exact=True).check()
    admin.get_by_role("button", name="Save messaging").click()
    expect(admin.get_by_text("Patient messaging is off")).to_be_visible()
    expect(admin.get_by_label("Off", exact=True)).to_be_checked()
    shot(admin, "msg-11-admin-messaging-off")

    # ... the patient sees why she cannot write; what she sent stays.
    patient_messages(patient)
    expect(patient.get_by_text(MESSAGING_OFF)).to_be_visible()
    expect(patient.get_by_text(MSG_PRACTICE_PHONE)).to_be_visible()
    expect(patient.get_by_role("link", name="Write a message")).to_have_count(0)
    expect(patient.get_by_role("row").filter(has_text=SUBJECT)).to_have_count(1)
    shot(patient, "msg-12-patient-messaging-off")
    patient.goto(patient_thread)
    expect(patient.get_by_text(MESSAGING_OFF)).to_be_visible()
    expect(patient.get_by_role("button", name="Send reply")).to_have_count(0)
    expect(patient.get_by_role("region", name="Conversation")).to_contain_text(REPLY)
    # A compose page kept open (or bookmarked) says so too.
    patient.goto(patient_thread.rsplit("/", 2)[0] + "/new/")
    expect(patient.get_by_role("heading", level=1)).to_have_text("You cannot write a message now")
    expect(patient.get_by_text(MESSAGING_OFF)).to_be_visible()
    expect(patient.get_by_role("button", name="Send message")).to_have_count(0)
    shot(patient, "msg-13-patient-cannot-write")

    # 6. On again: the patient may write again.
    admin.get_by_label("On: patients may write to the practice").check()
    admin.get_by_role("button", name="Save messaging").click()
    expect(admin.get_by_text("Saved.")).to_be_visible()
    patient_messages(patient)
    expect(patient.get_by_role("link", name="Write a message")).to_be_visible()
