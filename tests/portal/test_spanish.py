"""Issue 13: the patient's side of enrollment speaks Spanish (registration pages, their errors,
the security code text message, the enrollment email), and English stays as it was.

The language is activated here with `translation.override`; a request also says
Accept-Language: es, as a Spanish-speaking patient's browser does.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from portico.notifications.models import OutboundEmail
from portico.portal import registration, tokens
from portico.portal import services as portal
from portico.portal.emails import registration_url, render_enrollment
from portico.portal.patient_views import too_many_tries_message
from portico.portal.services import ENROLLMENT_EMAIL
from tests.factories import PASSWORD, enroll, invite, sign_in
from tests.pages.html import form_errors, parse

pytestmark = pytest.mark.django_db

SPANISH = {"HTTP_ACCEPT_LANGUAGE": "es"}


def token_of(invitation) -> str:
    return tokens.link_token(invitation.link_nonce)


def url(name: str, invitation) -> str:
    return reverse(name, args=[token_of(invitation)])


def label(page, field_id: str) -> str:
    """A field's label without the required-field star."""
    return page.one("label", for_=field_id).text.rstrip(" *")


def in_spanish(call):
    with translation.override("es"):
        return call()


@pytest.fixture
def invitation(admin, patient):
    return invite(admin, patient)


def verified(client, invitation):
    """Prove the patient's identity on step 1, in Spanish; the account step comes next."""
    return in_spanish(
        lambda: client.post(
            url("portal:register", invitation),
            {
                "date_of_birth": invitation.patient.date_of_birth.isoformat(),
                "access_code": invitation.access_code,
            },
            **SPANISH,
        )
    )


# ---------------------------------------------------------------------------
# Registration pages


def test_access_your_records_page_in_spanish(client, invitation):
    page = parse(in_spanish(lambda: client.get(url("portal:register", invitation), **SPANISH)))

    assert page.one("h1").text == "Acceda a sus expedientes"
    assert page.one("title").text.startswith("Acceda a sus expedientes")
    assert label(page, "id_date_of_birth") == "Fecha de nacimiento"
    assert label(page, "id_access_code") == "Código de acceso"
    assert page.one("main").one("button", type="submit").text == "Continuar"
    section = page.one("section").text
    assert "Riverside Clinic le invitó a su portal del paciente." in section
    assert "¿No tiene código de acceso? Llame a Riverside Clinic al (217) 555-0100" in section
    for english in ("Access your records", "Date of birth", "Continue", "No access code?"):
        assert english not in section


def test_access_your_records_page_in_english_is_unchanged(client, invitation):
    page = parse(client.get(url("portal:register", invitation)))

    assert page.one("h1").text == "Access your records"
    assert label(page, "id_date_of_birth") == "Date of birth"
    assert label(page, "id_access_code") == "Access code"
    section = page.one("section").text
    assert "Riverside Clinic invited you to its patient portal. First, show us it is you." in (
        section
    )
    assert (
        "No access code? Call Riverside Clinic at (217) 555-0100: the practice gives it to you "
        "by phone or in person, never by email."
    ) in section


def test_wrong_answer_is_explained_in_spanish(client, invitation):
    response = in_spanish(
        lambda: client.post(
            url("portal:register", invitation),
            {
                "date_of_birth": invitation.patient.date_of_birth.isoformat(),
                "access_code": "AAAAAAAA" if invitation.access_code != "AAAAAAAA" else "BBBBBBBB",
            },
            **SPANISH,
        )
    )

    assert form_errors(parse(response)) == [
        "La fecha de nacimiento o el código de acceso no coinciden. Le quedan 4 intentos."
    ]


def test_expired_link_page_in_spanish(client, invitation, admin, patient):
    portal.invitation_cancel(admin, patient=patient)

    response = in_spanish(lambda: client.get(url("portal:register", invitation), **SPANISH))

    assert response.status_code == 410
    page = parse(response)
    assert page.one("h1").text == "Este enlace de registro ha vencido"
    assert page.one("p", class_="access-error").text == (
        "Este enlace de registro ha vencido. Pida a su consultorio que vuelva a inscribirle en "
        "el portal del paciente."
    )


def test_account_page_in_spanish(client, invitation):
    assert verified(client, invitation).status_code == 302

    page = parse(
        in_spanish(lambda: client.get(url("portal:register_account", invitation), **SPANISH))
    )

    assert page.one("h1").text == "Configure su cuenta"
    assert [h.text for h in page.find_all("h2")] == [
        "Crear una cuenta",
        "Ya tengo una cuenta de Portico",
    ]
    assert label(page, "id_new-email") == "Correo electrónico (su nombre de usuario)"
    assert label(page, "id_new-password") == "Contraseña"
    assert label(page, "id_new-password_again") == "Repita la contraseña"
    assert label(page, "id_existing-email") == "Correo electrónico"
    assert page.one("button", text="Crear cuenta") is not None


def test_existing_email_is_refused_in_spanish(client, invitation, admin, practice):
    from tests.factories import make_patient

    enroll(admin, make_patient(practice), email="taken@home.example")
    verified(client, invitation)

    response = in_spanish(
        lambda: client.post(
            url("portal:register_account", invitation),
            {
                "choice": "create",
                "new-email": "taken@home.example",
                "new-password": PASSWORD,
                "new-password_again": PASSWORD,
            },
            **SPANISH,
        )
    )

    assert "Ya existe una cuenta de Portico con este correo electrónico." in parse(response).text


def test_phone_route_pages_in_spanish(client, invitation, sms_outbox):
    page = parse(in_spanish(lambda: client.get(url("portal:register_text", invitation), **SPANISH)))
    assert page.one("h1").text == "Reciba un código por mensaje de texto"
    assert label(page, "id_phone") == "Número de teléfono celular"
    assert "(termina en 23)" in page.one("section").text

    response = in_spanish(
        lambda: client.post(
            url("portal:register_text", invitation),
            {
                "date_of_birth": invitation.patient.date_of_birth.isoformat(),
                "phone": "202-555-0123",
            },
            **SPANISH,
        )
    )
    assert response.status_code == 302
    page = parse(
        in_spanish(lambda: client.get(url("portal:register_text_code", invitation), **SPANISH))
    )
    assert page.one("h1").text == "Escriba su código de seguridad"
    assert label(page, "id_security_code") == "Código de seguridad"
    status = page.one("p", role="status").text
    assert "El código sirve durante 10 minutos" in status


def test_too_many_tries_in_spanish_and_english():
    assert in_spanish(lambda: too_many_tries_message(1)).startswith(
        "Demasiados intentos desde su red. Espere un minuto"
    )
    assert in_spanish(lambda: too_many_tries_message(5)).startswith(
        "Demasiados intentos desde su red. Espere 5 minutos"
    )
    assert too_many_tries_message(1) == (
        "Too many tries from your network. Please wait a minute and try again, or call your "
        "practice."
    )
    assert too_many_tries_message(5) == (
        "Too many tries from your network. Please wait 5 minutes and try again, or call your "
        "practice."
    )


def test_no_access_message_in_spanish_keeps_the_english_text():
    assert str(portal.NO_ACCESS_MESSAGE) == (
        "Ask your doctor to provide access to your health records."
    )
    assert in_spanish(lambda: str(portal.NO_ACCESS_MESSAGE)) == (
        "Pida a su médico que le dé acceso a su expediente de salud."
    )


def test_portal_home_in_spanish(client, admin, patient, practice):
    from tests.factories import make_patient

    # A signed-in patient's pages follow the chart's preferred language (not the browser's).
    patient.preferred_language = "es"
    patient.save()
    account = enroll(admin, patient)
    other = make_patient(practice)
    invitation = invite(admin, other)
    registration.registration_link_account(account, invitation_id=str(invitation.public_id))
    portal.access_revoke(admin, patient=other)
    account.refresh_from_db()  # revoking ended its sessions (a new session generation)
    sign_in(client, account)

    page = parse(in_spanish(lambda: client.get(reverse("portal:home"), **SPANISH)))

    assert page.one("h1").text == "Mis expedientes"
    assert page.one("a", class_="button").text == "Abrir expediente"
    assert page.one("p", class_="access-error").text == (
        "Pida a su médico que le dé acceso a su expediente de salud."
    )


# ---------------------------------------------------------------------------
# The security code text message


def test_security_code_text_in_spanish(invitation, sms_outbox, django_capture_on_commit_callbacks):
    def ask():
        with django_capture_on_commit_callbacks(execute=True):
            registration.security_code_request(
                token=token_of(invitation),
                date_of_birth=invitation.patient.date_of_birth,
                phone="(202) 555-0123",
            )

    in_spanish(ask)

    [message] = sms_outbox
    assert re.fullmatch(
        r"\d{6} es su código de seguridad para el portal del paciente de Riverside Clinic\. "
        r"Vence en 10 minutos\. No lo comparta con nadie\.",
        message["text"],
    )


# ---------------------------------------------------------------------------
# The enrollment email


def queued_enrollment(invitation) -> OutboundEmail:
    return OutboundEmail.objects.get(kind=ENROLLMENT_EMAIL, subject_id=invitation.public_id)


def test_enrollment_email_in_spanish(invitation, patient):
    email = in_spanish(lambda: render_enrollment(queued_enrollment(invitation)))

    assert email.subject == "Riverside Clinic le invita a su portal del paciente"
    expires = in_spanish(
        lambda: date_format(timezone.localtime(invitation.expires_at), "DATE_FORMAT")
    )
    assert " de " in expires  # "14 de diciembre de 2026"
    for body in (email.text, parse(email.html).one("body").text):
        assert body.startswith("Hola:")
        assert "Riverside Clinic le invita a ver su expediente de salud en línea" in body
        assert "Acceda a sus expedientes" in body
        assert "Por su seguridad, el código nunca se envía por correo electrónico" in body
        assert "Si no lo tiene, llame a Riverside Clinic al (217) 555-0100." in body
        assert f"Este enlace funciona una sola vez y vence el {expires}." in body
        assert registration_url(invitation) in email.text
        # Still no health information, no name, no code.
        for secret in (
            patient.legal_first_name,
            patient.legal_last_name,
            patient.date_of_birth.isoformat(),
            "1980",
            invitation.access_code,
            invitation.access_code_display,
        ):
            assert secret not in body
        for english in ("Hello", "Access your records", "expires on", "invites you"):
            assert english not in body
    assert parse(email.html).one("html")["lang"] == "es"
    assert parse(email.html).one("title").text == email.subject


def test_enrollment_email_in_english_is_unchanged(invitation):
    email = render_enrollment(queued_enrollment(invitation))

    assert email.subject == "Riverside Clinic invites you to your patient portal"
    expires = date_format(timezone.localtime(invitation.expires_at), "F j, Y")
    assert email.text.startswith(
        "Hello,\n\nRiverside Clinic invites you to see your health records online in Portico, "
        "the practice's patient portal.\n\nAccess your records:\n"
    )
    for body in (email.text, parse(email.html).one("body").text):
        assert (
            "the access code your practice gave you. For your safety the code is never sent by "
            "email: the practice hands it to you in person or reads it to you on the phone. If "
            "you do not have it, please call Riverside Clinic at (217) 555-0100."
        ) in re.sub(r"\s+", " ", body)
        assert f"This link works once and expires on {expires}." in body
    assert parse(email.html).one("html")["lang"].startswith("en")
