"""The account pages and emails speak Spanish to a Spanish reader (issue 13): sign-in, its
errors, the second step, recovery and its emails, and the account settings with their dates
in the language's own format. The sender's display name stays "Portico".

Before sign-in the browser's language decides; once signed in, the patient's chart's preferred
language (portal.language), unless the person chose one with the switcher."""

import datetime as dt

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import translation

from portico.accounts import mfa
from tests import factories
from tests.accounts.mfa_steps import password_step
from tests.core.test_spanish_catalogue import english_words
from tests.pages.html import field_errors, form_errors, parse

pytestmark = pytest.mark.django_db

SIGN_IN = reverse("accounts:sign_in")
NOON = dt.datetime(2026, 11, 30, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def spanish():
    # The request's language comes from the browser (Accept-Language) once the language
    # middleware is there; the override stands in for it until then.
    with translation.override("es"):
        yield {"HTTP_ACCEPT_LANGUAGE": "es"}


@pytest.fixture
def account(admin, patient):
    return factories.enroll(admin, patient)


@pytest.fixture
def spanish_account(admin, practice):
    """A patient whose chart prefers Spanish, registered."""
    return factories.enroll(admin, factories.make_patient(practice, preferred_language="es"))


def test_sign_in_page_is_in_spanish(client, spanish):
    response = client.get(SIGN_IN, **spanish)
    page = parse(response)

    # "use" is Spanish too ("use el enlace": usar, said to usted).
    assert english_words(response.content.decode(), allowed=frozenset({"use"})) == []
    assert page.one("h1").text == "Iniciar sesión"
    assert page.one("label", for_="id_email").text.startswith("Correo electrónico")
    assert page.one("label", for_="id_password").text.startswith("Contraseña")
    assert page.find("a", text="¿Olvidó su contraseña?") is not None
    assert page.find("a", text="Requisitos del sistema") is not None


def test_wrong_password_answer_is_in_spanish(client, account, spanish):
    page = parse(client.post(SIGN_IN, {"email": account.email, "password": "nope"}, **spanish))

    (error,) = form_errors(page)
    assert error.startswith("El correo electrónico o la contraseña no son correctos.")


def test_second_step_and_its_wrong_code_are_in_spanish(client, spanish_account):
    password_step(client, spanish_account)

    # Five digits: never the emailed six.
    page = parse(client.post(reverse("accounts:mfa_verify"), {"code": "12345"}))

    assert page.one("h1").text == "Confirme que es usted"
    assert field_errors(page, "id_code") == ["Ese código no es correcto o ya venció."]


def test_password_reset_email_is_in_spanish_from_portico(
    client, account, spanish, settings, django_capture_on_commit_callbacks
):
    settings.PORTICO_NOTIFICATIONS_FROM = "codes@clinic.example"
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_forgot"), {"email": account.email}, **spanish)

    (message,) = mail.outbox
    assert message.subject == "Restablezca su contraseña de Portico"
    assert message.from_email == "Portico <codes@clinic.example>"
    assert "Elija una contraseña nueva:" in message.body
    html = parse(message.alternatives[0][0])
    assert html.one("html")["lang"] == "es"
    assert html.find("a", text="Elija una contraseña nueva") is not None


def test_sign_in_code_email_is_in_spanish(
    client, spanish_account, django_capture_on_commit_callbacks
):
    password_step(client, spanish_account)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("accounts:mfa_verify"))

    (message,) = mail.outbox
    assert message.subject == "Su código para iniciar sesión en Portico"
    assert message.body.startswith("Su código para iniciar sesión en Portico es ")


def test_account_settings_dates_follow_the_language(client, spanish_account, settings):
    with time_machine.travel(NOON, tick=False):
        mfa.device_remember(spanish_account, label="Firefox")
        factories.sign_in(client, spanish_account)
        spanish_page = parse(client.get(reverse("accounts:profile")))
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # the switcher's choice
        english = parse(client.get(reverse("accounts:profile")))

    device = english.one(id="remembered-devices").one("li")
    assert "Remembered November 30, 2026, until December 30, 2026" in device.text
    device = spanish_page.one(id="remembered-devices").one("li")
    assert "Recordado el 30 de noviembre de 2026, hasta el 30 de diciembre de 2026" in device.text
    assert spanish_page.one("h1").text == "Configuración de la cuenta"
