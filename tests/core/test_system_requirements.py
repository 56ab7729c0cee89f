"""SPEC §12.1: a public System requirements page, in English and Spanish, that names the
addresses this deployment sends its emails from, linked from sign-in and from error pages."""

import pytest
from django.urls import reverse
from django.utils import translation

from portico.portal import services as portal
from portico.portal.models import PortalAccess
from tests import factories
from tests.accounts.mfa_steps import password_step
from tests.core.test_spanish_catalogue import english_words
from tests.factories import sign_in
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

PAGE = reverse("system_requirements")


@pytest.fixture
def patient_account(admin, patient):
    return factories.enroll(admin, patient)


def headings(page) -> list[str]:
    return [h.text for h in page.find_all("h2")]


def get_in_spanish(client, url):
    # The request's language comes from the browser (Accept-Language) once the language
    # middleware is there; the override stands in for it until then.
    with translation.override("es"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="es")


def test_system_requirements_page_is_public(client):
    response = client.get(PAGE)

    assert response.status_code == 200
    page = parse(response)
    assert [h.text for h in page.find_all("h1")] == ["System requirements"]
    assert headings(page) == [
        "Supported browsers",
        "Cookies",
        "JavaScript",
        "Screen sizes and accessibility",
        "If an email does not arrive",
    ]


def test_system_requirements_page_names_the_supported_browsers_and_expectations(client):
    text = parse(client.get(PAGE)).one("main").text

    for browser in ("Chrome", "Edge", "Firefox", "Safari", "iPhone", "Android"):
        assert browser in text
    assert "current and the previous major version" in text
    assert "works without JavaScript" in text
    assert "320 pixels" in text
    assert "200%" in text
    assert "WCAG" in text
    assert "nothing is tracked" in text


def test_system_requirements_page_names_the_configured_sender_addresses(client, settings):
    settings.PORTICO_ENROLLMENT_FROM = "invites@clinic.example"
    settings.PORTICO_NOTIFICATIONS_FROM = "codes@clinic.example"

    page = parse(client.get(PAGE))

    senders = [li.text for li in page.one("ul", class_="sender-addresses").find_all("li")]
    assert len(senders) == 2
    assert senders[0].startswith("invites@clinic.example:")
    assert senders[1].startswith("codes@clinic.example:")


def test_one_sender_address_for_every_email_is_listed_once(client, settings):
    settings.PORTICO_ENROLLMENT_FROM = "portal@clinic.example"
    settings.PORTICO_NOTIFICATIONS_FROM = "portal@clinic.example"

    page = parse(client.get(PAGE))

    senders = [li.text for li in page.one("ul", class_="sender-addresses").find_all("li")]
    assert senders == ["portal@clinic.example: every email from the portal"]


def test_system_requirements_page_is_in_spanish(client, settings):
    settings.PORTICO_ENROLLMENT_FROM = "invites@clinic.example"

    response = get_in_spanish(client, PAGE)
    page = parse(response)

    assert english_words(response.content.decode()) == []
    assert page.one("h1").text == "Requisitos del sistema"
    assert headings(page) == [
        "Navegadores compatibles",
        "Cookies",
        "JavaScript",
        "Tamaños de pantalla y accesibilidad",
        "Si no le llega un correo electrónico",
    ]
    assert "invites@clinic.example" in page.one("main").text


def test_signed_in_patient_and_half_signed_in_person_can_read_it(client, staff, patient_account):
    sign_in(client, patient_account)
    assert client.get(PAGE).status_code == 200
    client.logout()

    # Password given, second step not yet: the page stays readable (it is linked from there).
    password_step(client, staff)
    assert client.get(PAGE).status_code == 200


def test_sign_in_page_links_to_system_requirements(client):
    page = parse(client.get(reverse("accounts:sign_in")))

    assert page.one("a", text="System requirements")["href"] == PAGE


def test_second_step_and_recovery_pages_link_to_the_email_advice(client, staff, patient_account):
    sent = parse(client.post(reverse("accounts:password_forgot"), {"email": "a@example.test"}))
    assert sent.one("a", text="If an email does not arrive")["href"] == PAGE + "#email"

    password_step(client, patient_account)
    step = parse(client.get(reverse("accounts:mfa_verify")))
    assert step.one("a", text="If an email does not arrive")["href"] == PAGE + "#email"


def test_dead_registration_link_page_links_to_system_requirements(client):
    response = client.get(reverse("portal:register", args=["not-a-real-token"]))

    assert response.status_code == 410
    assert parse(response).one("a", text="System requirements")["href"] == PAGE


def test_no_access_page_links_to_system_requirements(client, admin, patient, patient_account):
    access = PortalAccess.objects.get(patient=patient)
    portal.access_revoke(admin, patient=patient)
    patient_account.refresh_from_db()  # revoking ended its sessions
    sign_in(client, patient_account)

    response = client.get(reverse("records:record", args=[access.public_id]))

    assert response.status_code == 403
    assert parse(response).one("main").find("a", text="System requirements")["href"] == PAGE
