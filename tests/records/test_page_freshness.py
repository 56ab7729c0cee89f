"""The record home and the staff chart summary are rendered on every request around their
cached record part (charts.record_cache): each view carries its own working CSRF token and
pending messages, and a change to any row the page shows (the account, the chart, the
practice, the staff member's role) shows at once."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from portico.charts import services as chart_services
from portico.practices.models import Membership, Role
from tests import factories
from tests.factories import sign_in
from tests.records.conftest import record_url

pytestmark = pytest.mark.django_db

CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page(client, url) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_cached_page_carries_a_csrf_token_that_signs_out(account, patient):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, account)
    page(client, record_url(patient))  # renders and caches it
    body = page(client, record_url(patient))
    tokens = CSRF_FIELD.findall(body)
    assert len(tokens) >= 2 and all(len(token) == 64 for token in tokens)

    response = client.post(reverse("accounts:sign_out"), {"csrfmiddlewaretoken": tokens[0]})

    assert response.status_code == 302
    assert client.get(record_url(patient)).status_code == 302  # signed out


def test_a_demographic_change_shows_on_the_next_view(patient_client, patient, admin):
    assert "Sunny" not in page(patient_client, record_url(patient))

    chart_services.patient_update(admin, patient=patient, preferred_name="Sunny")

    assert "Sunny" in page(patient_client, record_url(patient))


def test_a_pending_message_shows_on_a_cached_page_once(patient_client, patient, send_email):
    page(patient_client, record_url(patient))
    patient_client.post(record_url(patient, "records:send"), {"email": "sister@example.test"})

    assert "The link is on its way" in page(patient_client, record_url(patient))
    assert "The link is on its way" not in page(patient_client, record_url(patient))


def test_two_patients_never_see_each_others_cached_page(client, admin, practice, patient):
    other = factories.make_patient(practice, legal_first_name="Oswald", legal_last_name="Other")
    mine, theirs = factories.enroll(admin, patient), factories.enroll(admin, other)
    sign_in(client, mine)
    page(client, record_url(patient))
    other_client = Client()
    sign_in(other_client, theirs)

    body = page(other_client, record_url(other))

    assert "Oswald" in body
    assert patient.legal_first_name not in body
    assert other_client.get(record_url(patient)).status_code == 404


def test_staff_summary_follows_a_role_change_at_once(client, admin, patient):
    sign_in(client, admin)
    url = reverse("charts:chart_summary", args=[patient.public_id])
    assert "EHR Settings" in page(client, url)

    Membership.objects.filter(user=admin).update(role=Role.STAFF)

    assert "EHR Settings" not in page(client, url)


def test_cache_off_renders_every_view(patient_client, patient, admin, settings):
    settings.PORTICO_RECORD_CACHE_SECONDS = 0
    page(patient_client, record_url(patient))
    chart_services.patient_update(admin, patient=patient, preferred_name="Sunny")

    assert "Sunny" in page(patient_client, record_url(patient))
