"""Which language a person's pages and emails speak (issue 13): the switcher's choice (this
browser, and the account's when signed in), else the chart's preferred language, else the
browser's Accept-Language. Staff pages stay English."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from portico.audit.models import AuditEvent
from portico.notifications.models import OutboundEmail
from portico.portal import services as portal
from tests import factories

pytestmark = pytest.mark.django_db

SIGN_IN = "/accounts/sign-in/"


def choose(client, language: str, back: str = SIGN_IN):
    return client.post(reverse("accounts:language"), {"language": language, "next": back})


def test_browser_language_is_used_when_nobody_chose(client):
    assert client.get(SIGN_IN, HTTP_ACCEPT_LANGUAGE="es-US,es;q=0.9")["Content-Language"] == "es"
    assert client.get(SIGN_IN, HTTP_ACCEPT_LANGUAGE="fr-FR")["Content-Language"] == "en"
    assert client.get(SIGN_IN)["Content-Language"] == "en"


def test_switcher_choice_is_remembered_in_the_browser_over_accept_language(client):
    response = choose(client, "es")

    assert response.status_code == 302
    assert response["Location"] == SIGN_IN
    cookie = response.cookies[settings.LANGUAGE_COOKIE_NAME]
    assert cookie.value == "es"
    assert cookie["max-age"] == settings.LANGUAGE_COOKIE_AGE
    assert cookie["httponly"]
    page = client.get(SIGN_IN, HTTP_ACCEPT_LANGUAGE="en")
    assert page["Content-Language"] == "es"


def test_switcher_offers_the_other_language_in_its_own_name(client):
    page = client.get(SIGN_IN).content.decode()
    assert 'lang="es"' in page and ">Español</button>" in page
    choose(client, "es")
    page = client.get(SIGN_IN).content.decode()
    assert 'lang="en"' in page and ">English</button>" in page


def test_language_the_portal_does_not_speak_is_refused_and_changes_nothing(client, patient):
    response = choose(client, "fr")

    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
    page = client.get(response["Location"])
    assert "That language is not available." in page.content.decode()
    assert page["Content-Language"] == "en"


@pytest.mark.parametrize("back", ["https://evil.example/", "//evil.example/x", ""])
def test_switcher_never_sends_the_person_to_another_site(client, back):
    assert choose(client, "es", back=back)["Location"] == "/"


def test_signed_in_choice_is_saved_on_the_account_and_audited(client, admin, patient):
    account = factories.enroll(admin, patient)
    factories.sign_in(client, account)

    choose(client, "es", back=reverse("portal:home"))

    account.refresh_from_db()
    assert account.language == "es"
    event = AuditEvent.objects.get(action="account.language")
    assert event.actor == account
    assert event.details == {"language": "es"}
    # Another browser, with no cookie and an English Accept-Language, follows the account.
    other = client.__class__()
    factories.sign_in(other, account)
    assert other.get(reverse("portal:home"), HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "es"


def test_chart_preferred_language_is_used_until_the_patient_chooses(client, admin, practice):
    patient = factories.make_patient(practice, preferred_language="es")
    account = factories.enroll(admin, patient)
    factories.sign_in(client, account)

    home = reverse("portal:home")
    assert client.get(home, HTTP_ACCEPT_LANGUAGE="en")["Content-Language"] == "es"
    choose(client, "en", back=home)
    assert client.get(home, HTTP_ACCEPT_LANGUAGE="es")["Content-Language"] == "en"


def test_chart_language_the_portal_does_not_speak_falls_back_to_the_browser(
    client, admin, practice
):
    patient = factories.make_patient(practice, preferred_language="vi")
    account = factories.enroll(admin, patient)
    factories.sign_in(client, account)

    home = reverse("portal:home")
    assert client.get(home, HTTP_ACCEPT_LANGUAGE="es")["Content-Language"] == "es"


def test_staff_pages_stay_english_whatever_the_browser_asks(client, admin):
    factories.sign_in(client, admin)
    response = client.get(reverse("charts:patient_list"), HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 200
    assert response["Content-Language"] == "en"


def test_enrollment_email_is_queued_in_the_chart_preferred_language(admin, practice):
    spanish = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    english = factories.make_patient(practice, preferred_language="en", email="bo@example.test")
    korean = factories.make_patient(practice, preferred_language="ko", email="kim@example.test")

    for patient in (spanish, english, korean):
        factories.invite(admin, patient)

    languages = dict(OutboundEmail.objects.values_list("to_address", "language"))
    assert languages == {
        "ana@example.test": "es",
        "bo@example.test": "en",
        "kim@example.test": "en",
    }


def test_bulk_invitations_are_queued_each_in_its_chart_language(admin, practice):
    spanish = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    english = factories.make_patient(practice, preferred_language="", email="bo@example.test")

    portal.invitation_issue_batch(admin, practice=practice, patient_ids=[spanish.pk, english.pk])

    languages = dict(OutboundEmail.objects.values_list("to_address", "language"))
    assert languages == {"ana@example.test": "es", "bo@example.test": "en"}


def test_staff_must_pick_a_preferred_language_from_the_list(client, admin, patient):
    from django.core.exceptions import ValidationError

    from portico.charts.services import patient_update

    with pytest.raises(ValidationError) as error:
        patient_update(admin, patient=patient, preferred_language="Klingon")
    assert error.value.message_dict == {
        "preferred_language": ["Choose one of the listed languages."]
    }
    patient.refresh_from_db()
    assert patient.preferred_language == ""


def _registration_path(invitation) -> str:
    from urllib.parse import urlsplit

    from portico.portal.emails import registration_url

    return urlsplit(registration_url(invitation)).path


def test_registration_page_speaks_the_invited_chart_language(client, admin, practice):
    patient = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    path = _registration_path(factories.invite(admin, patient))

    page = client.get(path, HTTP_ACCEPT_LANGUAGE="en")

    assert page["Content-Language"] == "es"
    assert "Fecha de nacimiento" in page.content.decode()


def test_a_chosen_language_beats_the_invited_chart_language(client, admin, practice):
    patient = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    path = _registration_path(factories.invite(admin, patient))

    choose(client, "en", back=path)
    page = client.get(path)

    assert page["Content-Language"] == "en"
    assert "Date of birth" in page.content.decode()


def test_enrollment_email_is_sent_in_spanish_for_a_spanish_chart(admin, practice):
    from django.core import mail

    from portico.notifications.services import outbox_drain

    patient = factories.make_patient(practice, preferred_language="es", email="ana@example.test")
    factories.invite(admin, patient)
    outbox_drain()

    (message,) = mail.outbox
    assert message.extra_headers["Content-Language"] == "es"
    assert "portal del paciente" in message.subject
    assert "Patient" not in message.body
