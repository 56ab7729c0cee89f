"""The check-in email (SPEC §10.2): it says a form waits before the appointment on a given day
and links to it (the check-in link for a patient without portal access, the portal page for
one with it), never the patient's name, the visit type or the reason; it is delivered to a real
SMTP server, written in the patient's language, and skipped once the form is no longer open."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from portico.intake import emails, services
from portico.portal.models import PortalAccess
from tests import factories
from tests.scheduling.conftest import at
from tests.scheduling.mail import SECRETS, book, clinical_visit_type, make_chart, received
from tests.smtp import django_sends_to_it

pytestmark = pytest.mark.django_db
WEDNESDAY = dt.date(2026, 12, 9)
WHEN = "Wednesday, December 9, 2026 at 10:00 AM EST"


@pytest.fixture
def visit(admin, practice):
    return clinical_visit_type(admin, practice)


def check_in_emails():
    return [received(m) for m in mail.outbox if "heck in" in m.subject or "llegada" in m.subject]


def send_form(staff, appointment, template, send_email):
    with send_email:
        return services.form_send(staff, appointment=appointment, template=template)


def test_the_email_links_to_the_check_in_link_and_says_nothing_clinical(
    now, send_email, staff, practice, provider, hours, visit, new_patient_template
):
    chart = make_chart(practice)
    appointment = book(staff, chart, provider, visit, at(WEDNESDAY, 10))

    form = send_form(staff, appointment, new_patient_template, send_email)

    (message,) = check_in_emails()
    assert message.subject == "Check in for your appointment"
    text = message.text
    assert f"Riverside Clinic asks you to fill in a form before your appointment on {WHEN}." in text
    assert "You can save your answers and come back to finish later." in text
    url = settings.PORTICO_BASE_URL + reverse("intake:link", args=[services.link_of(form)])
    assert url in text
    assert f'href="{url}"' in message.html
    everything = message.everything()
    for secret in (*SECRETS, "New patient"):
        assert secret not in everything


def test_a_patient_with_portal_access_is_sent_to_the_portal(
    now, send_email, staff, practice, provider, hours, visit, follow_up_template
):
    chart = make_chart(practice)
    factories.enroll(staff, chart)
    appointment = book(staff, chart, provider, visit, at(WEDNESDAY, 10))

    form = send_form(staff, appointment, follow_up_template, send_email)

    assert not form.link_token_hash
    (message,) = check_in_emails()
    access = PortalAccess.objects.get(patient=chart)
    url = settings.PORTICO_BASE_URL + reverse("intake:patient_forms", args=[access.public_id])
    assert f"Open the form in your patient portal:\n{url}" in message.text


def test_the_email_reaches_a_real_mail_server(
    now, settings, send_email, staff, practice, provider, hours, visit, new_patient_template
):
    chart = make_chart(practice)
    appointment = book(staff, chart, provider, visit, at(WEDNESDAY, 10))
    with django_sends_to_it(settings) as server:
        send_form(staff, appointment, new_patient_template, send_email)

    delivered = [received(raw) for raw in server.messages]
    (message,) = [m for m in delivered if m.subject == "Check in for your appointment"]
    assert "Riverside Clinic" in message.header("From")
    assert "/check-in/" in message.text


def test_a_spanish_speaking_patient_gets_the_email_in_spanish(
    now, send_email, staff, practice, provider, hours, visit, new_patient_template
):
    chart = make_chart(practice, preferred_language="es")
    appointment = book(staff, chart, provider, visit, at(WEDNESDAY, 10))

    send_form(staff, appointment, new_patient_template, send_email)

    (message,) = check_in_emails()
    assert message.header("Content-Language") == "es"
    assert message.subject == "Registre su llegada para su cita"
    when = "miércoles, 9 de diciembre de 2026, 10:00 AM EST"
    assert (
        f"Riverside Clinic le pide que llene un formulario antes de su cita del {when}."
        in message.text
    )
    assert '<html lang="es">' in message.html


def test_the_email_is_skipped_once_the_form_is_no_longer_open(staff, form, now):
    services.form_cancel(staff, form=form)

    assert emails.render_form(SimpleNamespace(subject_id=form.public_id)) is None


def test_the_email_of_an_open_form_renders(form, now):
    rendered = emails.render_form(SimpleNamespace(subject_id=form.public_id))

    assert rendered is not None
    assert rendered.subject == "Check in for your appointment"
