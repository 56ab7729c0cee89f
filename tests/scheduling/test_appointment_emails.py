"""The booked, moved and cancelled emails (SPEC §8.7): delivered to a real SMTP server with the
calendar file; when, with whom, where and the practice's phone, never the reason for visit or
the patient's name; skipped when they no longer apply; sent even with reminders off; written in
the patient's language."""

import datetime as dt

import pytest
from django.conf import settings
from django.core import mail

from portico.notifications.models import EmailState, OutboundEmail
from portico.notifications.services import outbox_drain
from portico.portal.models import PortalAccess
from portico.scheduling.models import ReminderOptOut
from portico.scheduling.services import appointment_cancel, appointment_move
from tests import factories
from tests.core.test_spanish_catalogue import english_words
from tests.scheduling.conftest import NOW, at
from tests.scheduling.mail import (
    SECRETS,
    book,
    clinical_visit_type,
    give_address,
    make_chart,
    received,
)
from tests.smtp import django_sends_to_it

pytestmark = pytest.mark.django_db
NEXT_MONDAY = NOW.date() + dt.timedelta(days=7)
WHEN = "Monday, December 14, 2026 at 9:00 AM EST"


@pytest.fixture
def smtp(settings):
    with django_sends_to_it(settings) as server:
        yield server


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """`with committed():` sends what the block queued once it commits, as production does."""

    def make():
        return django_capture_on_commit_callbacks(execute=True)

    return make


@pytest.fixture
def chart(practice):
    give_address(practice)
    return make_chart(practice)


@pytest.fixture
def visit(admin, practice):
    return clinical_visit_type(admin, practice)


def of_kind(kind: str) -> OutboundEmail:
    return OutboundEmail.objects.get(kind=kind)


def test_a_booked_email_reaches_the_mail_server_with_the_calendar_file(
    now, smtp, send_email, staff, chart, provider, visit, hours
):
    with send_email:
        appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))

    (raw,) = smtp.messages
    assert raw["rcpt_tos"] == [chart.email]
    message = received(raw)
    assert message.subject == f"Your appointment on {WHEN} is booked"
    assert message.header("Message-ID") == of_kind("scheduling.booked").message_id
    assert "Riverside Clinic" in message.header("From")
    text = message.text
    assert "Your appointment with Riverside Clinic is booked." in text
    assert f"When: {WHEN}" in text
    assert "With: Dr. Paula Provider" in text
    assert "Practice: Riverside Clinic, (217) 555-0100" in text
    assert "12 Elm Street\n  Suite 3\n  Springfield, IL 62701" in text
    assert "To change or cancel it, please call Riverside Clinic at (217) 555-0100." in text
    assert "<strong>Monday, December 14, 2026 at 9:00 AM EST</strong>" in message.html
    content_type, _content = message.attachments["appointment.ics"]
    assert content_type.startswith("text/calendar; method=REQUEST")
    (event,) = message.calendar().walk("VEVENT")
    assert str(event["uid"]) == f"{appointment.public_id}@{settings.PORTICO_MAIL_DOMAIN}"
    assert of_kind("scheduling.booked").state == EmailState.SENT


def test_a_moved_email_gives_the_new_time_and_a_calendar_update(
    now, send_email, staff, chart, provider, visit, hours
):
    appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    with send_email:
        appointment_move(staff, appointment=appointment, start_at=at(NEXT_MONDAY, 14, 30))

    message = received(mail.outbox[-1])
    assert (
        message.subject == "Your appointment was moved to Monday, December 14, 2026 at 2:30 PM EST"
    )
    assert "Open the attached calendar file to update it in your calendar." in message.text
    calendar = message.calendar()
    assert str(calendar["method"]) == "REQUEST"
    (event,) = calendar.walk("VEVENT")
    assert event["sequence"] == 1
    assert event.decoded("dtstart") == dt.datetime(2026, 12, 14, 19, 30, tzinfo=dt.UTC)


def test_a_cancelled_email_removes_the_calendar_entry_and_never_says_why(
    now, send_email, staff, chart, provider, visit, hours
):
    appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    with send_email:
        appointment_cancel(staff, appointment=appointment, reason="Provider ill with flu")

    message = received(mail.outbox[-1])
    assert message.subject == f"Your appointment on {WHEN} was cancelled"
    assert "For a new appointment, please call Riverside Clinic at (217) 555-0100." in message.text
    content_type, _content = message.attachments["appointment.ics"]
    assert content_type.startswith("text/calendar; method=CANCEL")
    (event,) = message.calendar().walk("VEVENT")
    assert str(event["status"]) == "CANCELLED" and event["sequence"] == 1
    assert "flu" not in message.everything()


def test_no_reason_for_visit_visit_type_or_patient_name_in_any_status_email(
    now, committed, staff, chart, provider, visit, hours
):
    with committed():
        appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    with committed():
        appointment_move(staff, appointment=appointment, start_at=at(NEXT_MONDAY, 10))
    with committed():
        appointment_cancel(staff, appointment=appointment, reason="Patient asked")

    assert len(mail.outbox) == 3
    for raw in mail.outbox:
        everything = received(raw).everything().lower()
        for secret in SECRETS:
            assert secret.lower() not in everything, (secret, raw.subject)


def test_a_booked_email_is_skipped_when_the_appointment_was_cancelled_before_it_went(
    now, staff, chart, provider, visit, hours
):
    # Queued, not yet sent (no commit has run the drain) when the appointment is cancelled.
    appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    appointment_move(staff, appointment=appointment, start_at=at(NEXT_MONDAY, 10))
    appointment_cancel(staff, appointment=appointment, reason="Patient asked")

    outbox_drain()

    assert of_kind("scheduling.booked").state == EmailState.SKIPPED
    assert of_kind("scheduling.moved").state == EmailState.SKIPPED
    assert of_kind("scheduling.cancelled").state == EmailState.SENT
    (message,) = mail.outbox
    assert "was cancelled" in message.subject


def test_status_emails_go_with_reminders_off_and_the_patient_opted_out(
    now, send_email, staff, chart, provider, visit, hours, practice
):
    assert practice.reminders_enabled is False
    ReminderOptOut.objects.create(patient=chart, source=ReminderOptOut.Source.CHART)

    with send_email:
        book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))

    (message,) = mail.outbox
    assert message.to == [chart.email]
    # Status emails carry no unsubscribe link: they are not reminders.
    assert "List-Unsubscribe" not in message.extra_headers


def test_the_email_links_to_the_portal_record_only_when_the_chart_is_enrolled(
    now, committed, admin, staff, chart, provider, visit, hours
):
    with committed():
        book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    assert "patient portal" not in received(mail.outbox[-1]).text

    factories.enroll(admin, chart)
    access = PortalAccess.objects.get(patient=chart)
    with committed():
        book(staff, chart, provider, visit, at(NEXT_MONDAY, 11))

    message = received(mail.outbox[-1])
    url = f"{settings.PORTICO_BASE_URL}/portal/records/{access.public_id}/"
    assert f"See your appointments in your patient portal:\n{url}" in message.text
    assert f'href="{url}"' in message.html


def test_a_spanish_speaking_patient_gets_the_email_and_calendar_file_in_spanish(
    now, send_email, staff, practice, provider, visit, hours
):
    give_address(practice)
    chart = make_chart(practice, preferred_language="es")

    with send_email:
        book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))

    message = received(mail.outbox[-1])
    when = "lunes, 14 de diciembre de 2026, 9:00 AM EST"
    assert message.subject == f"Su cita del {when} está reservada"
    assert message.header("Content-Language") == "es"
    assert f"Cuándo: {when}" in message.text
    assert "Su cita con Riverside Clinic está reservada." in message.text
    assert '<html lang="es">' in message.html
    (event,) = message.calendar().walk("VEVENT")
    assert str(event["summary"]) == "Cita con Dr. Paula Provider en Riverside Clinic"


def test_spanish_status_emails_have_no_english_left(
    now, committed, staff, practice, provider, visit, hours
):
    give_address(practice)
    chart = make_chart(practice, preferred_language="es")
    with committed():
        appointment = book(staff, chart, provider, visit, at(NEXT_MONDAY, 9))
    with committed():
        appointment_move(staff, appointment=appointment, start_at=at(NEXT_MONDAY, 10))
    with committed():
        appointment_cancel(staff, appointment=appointment, reason="Patient asked")

    assert len(mail.outbox) == 3
    for raw in mail.outbox:
        message = received(raw)
        found = english_words(
            f"<p>{message.subject}</p><pre>{message.text}</pre>{message.html}",
            allowed=frozenset({"provider"}),  # the provider's name, "Dr. Paula Provider"
        )
        assert not found, (message.subject, found)
