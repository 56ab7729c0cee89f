"""Per-patient reminder opt-out (SPEC §8.7): the unsubscribe link of every reminder email (a page
without sign-in: GET asks, POST or a mail program's one-click POST acts; a bad token is a 404),
and the switch on the chart's profile page (POST only, the chart's practice only, audited)."""

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.portal import tokens as portal_tokens
from portico.scheduling import tokens
from portico.scheduling.models import ReminderOptOut
from portico.scheduling.services import reminder_opt_out_set
from tests import factories
from tests.core.test_spanish_catalogue import english_words
from tests.factories import sign_in
from tests.pages.conftest import chart_url
from tests.pages.html import parse
from tests.scheduling.mail import FIRST_NAME, LAST_NAME, make_chart

pytestmark = pytest.mark.django_db


@pytest.fixture
def chart(practice):
    return make_chart(practice)


def unsubscribe_url(patient) -> str:
    return reverse("scheduling:unsubscribe", args=[tokens.unsubscribe_token(patient)])


def switch_url(patient) -> str:
    return reverse("charts:appointment_reminders", args=[patient.public_id])


def opted_out(patient) -> bool:
    return ReminderOptOut.objects.filter(patient=patient).exists()


# --- The unsubscribe link -----------------------------------------------------------------------


def test_the_unsubscribe_page_asks_first_and_changes_nothing_on_get(client, chart):
    response = client.get(unsubscribe_url(chart))

    assert response.status_code == 200
    page = parse(response)
    assert page.one("h1").text == "Appointment reminders"
    assert "Stop the appointment reminder emails from Riverside Clinic?" in page.text
    form = page.one("button", text="Stop reminders").closest("form")
    assert form["method"] == "post"
    assert FIRST_NAME not in page.text and LAST_NAME not in page.text
    assert chart.email not in response.content.decode()
    assert not opted_out(chart)
    assert not AuditEvent.objects.filter(action="appointment.reminders_off").exists()


def test_the_stop_reminders_button_opts_the_patient_out_and_says_status_emails_still_come(chart):
    browser = Client(enforce_csrf_checks=True)
    browser.get(unsubscribe_url(chart))

    response = browser.post(unsubscribe_url(chart))

    assert response.status_code == 200
    text = parse(response).text
    assert "You will no longer get appointment reminder emails from Riverside Clinic." in text
    assert "Emails about booked, moved or cancelled appointments still come." in text
    assert "call Riverside Clinic at (217) 555-0100" in text
    assert ReminderOptOut.objects.get(patient=chart).source == ReminderOptOut.Source.UNSUBSCRIBE
    event = AuditEvent.objects.get(action="appointment.reminders_off")
    assert event.actor is None and event.patient == chart
    assert event.details == {"source": "unsubscribe"}


def test_a_mail_programs_one_click_post_unsubscribes_without_a_session_or_csrf_token(chart):
    mail_program = Client(enforce_csrf_checks=True)

    response = mail_program.post(
        unsubscribe_url(chart),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert opted_out(chart)
    # Twice is the same as once (one audit event).
    mail_program.post(unsubscribe_url(chart), {"List-Unsubscribe": "One-Click"})
    assert AuditEvent.objects.filter(action="appointment.reminders_off").count() == 1


def forged_tokens(chart, other):
    good = tokens.unsubscribe_token(chart)
    value, signature = good.split(":")
    return [
        f"{other.public_id.hex}:{signature}",  # another chart with this chart's signature
        f"{value}:{signature[:-1]}{'A' if signature[-1] != 'A' else 'B'}",  # altered
        value,  # no signature
        f"{value}:",
        portal_tokens.link_token(value),  # signed for another purpose
        "not-a-token",
    ]


def test_a_bad_token_is_a_404_and_changes_nothing(client, chart, practice):
    other = factories.make_patient(practice)
    for token in forged_tokens(chart, other):
        url = reverse("scheduling:unsubscribe", args=[token])
        assert client.get(url).status_code == 404, token
        assert client.post(url).status_code == 404, token
    assert not ReminderOptOut.objects.exists()


def test_the_token_is_a_256_bit_hmac_naming_the_chart_only_by_its_random_id(chart):
    token = tokens.unsubscribe_token(chart)

    value, signature = token.split(":")
    assert value == chart.public_id.hex
    assert len(signature) >= 43  # 256 bits, base64
    for personal in (FIRST_NAME, LAST_NAME, chart.email, str(chart.date_of_birth)):
        assert personal.lower() not in token.lower()
    assert tokens.patient_of(token) == chart


def test_the_unsubscribe_page_follows_the_requests_language(client, chart):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"

    page = parse(client.get(unsubscribe_url(chart)))
    assert page.one("html")["lang"] == "es"
    assert page.one("h1").text == "Recordatorios de citas"
    assert page.one("button", text="Dejar de recibir recordatorios")

    assert not english_words(client.get(unsubscribe_url(chart)).content.decode())
    done = client.post(unsubscribe_url(chart))
    assert (
        "Ya no recibirá correos de recordatorio de citas de Riverside Clinic." in parse(done).text
    )
    assert not english_words(done.content.decode())


# --- The chart's switch -------------------------------------------------------------------------


def switch(page):
    return page.one(id="appointment-reminders")


def test_staff_turn_a_patients_reminders_off_and_on_from_the_chart_and_it_is_audited(
    client, staff, chart
):
    sign_in(client, staff)
    assert "Appointment reminders: On" in switch(parse(client.get(chart_url(chart)))).text

    response = client.post(switch_url(chart), {"reminders": "off"})

    assert response.status_code == 302 and response.url == chart_url(chart)
    assert ReminderOptOut.objects.get(patient=chart).source == ReminderOptOut.Source.CHART
    event = AuditEvent.objects.get(action="appointment.reminders_off")
    assert event.actor == staff and event.patient == chart and event.details == {"source": "chart"}
    page = parse(client.get(response.url))
    assert "Appointment reminders: Off" in switch(page).text
    assert "Appointment reminders are off for this patient." in page.text
    assert switch(page).one("button", text="Turn reminders on")

    client.post(switch_url(chart), {"reminders": "on"})
    assert not opted_out(chart)
    assert AuditEvent.objects.filter(action="appointment.reminders_on", actor=staff).count() == 1


def test_the_chart_says_when_the_patient_used_the_unsubscribe_link(client, staff, chart):
    reminder_opt_out_set(None, patient=chart, opted_out=True, source="unsubscribe")
    sign_in(client, staff)

    text = switch(parse(client.get(chart_url(chart)))).text
    assert "Appointment reminders: Off" in text
    assert "The patient used the unsubscribe link of a reminder email on " in text


def test_the_chart_switch_is_post_only(client, staff, chart):
    sign_in(client, staff)

    response = client.get(switch_url(chart))

    assert response.status_code == 405 and response["Allow"] == "POST"
    assert not opted_out(chart)


def test_another_practices_staff_cannot_reach_the_chart_switch(client, outsider, chart):
    sign_in(client, outsider)

    assert client.post(switch_url(chart), {"reminders": "off"}).status_code == 404
    assert client.get(switch_url(chart)).status_code == 404
    assert not opted_out(chart)


def test_a_bad_switch_value_gets_a_clear_message_and_changes_nothing(client, staff, chart):
    sign_in(client, staff)

    response = client.post(switch_url(chart), {"reminders": "maybe"})

    assert response.status_code == 400
    assert "Choose on or off." in parse(response).text
    assert not opted_out(chart)
    assert not AuditEvent.objects.filter(action__startswith="appointment.reminders").exists()
