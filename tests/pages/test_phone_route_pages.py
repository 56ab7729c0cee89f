"""The registration pages' phone route: "Text me a code instead" (SPEC §3.5, issue 3)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from portico.portal import tokens
from portico.portal.models import AccessState, InvitationOrigin, PortalAccess, SecurityCode
from tests.factories import PASSWORD
from tests.pages.conftest import account_url, register_url
from tests.pages.html import field_errors, form_errors, parse

pytestmark = pytest.mark.django_db


def text_url(invitation) -> str:
    return reverse("portal:register_text", args=[tokens.link_token(invitation.link_nonce)])


def code_url(invitation) -> str:
    return reverse("portal:register_text_code", args=[tokens.link_token(invitation.link_nonce)])


@pytest.fixture
def texting(client, sms_outbox, django_capture_on_commit_callbacks):
    """Post the phone step as a browser would, running the queued text message."""

    def post(invitation, *, dob=None, phone="202-555-0123"):
        dob = invitation.patient.date_of_birth.isoformat() if dob is None else dob
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(text_url(invitation), {"date_of_birth": dob, "phone": phone})

    return post


def texted_code(outbox) -> str:
    return re.search(r"\b(\d{6})\b", outbox[-1]["text"]).group(1)


def test_staff_invitation_offers_text_me_a_code_instead(client, invited, sms_outbox):
    page = parse(client.get(register_url(invited)))

    link = page.one("a", text="Text me a code instead")
    assert link["href"] == text_url(invited)
    assert "ending in 23" in page.text
    assert "2025550123" not in page.text
    assert page.find("input", name="access_code") is not None


def test_auto_invitation_leads_with_the_text_message(client, invited, sms_outbox):
    invited.origin = InvitationOrigin.AUTO
    invited.save(update_fields=["origin"])

    page = parse(client.get(register_url(invited)))

    headings = [h.text for h in page.find_all("h2")]
    assert headings[0] == "Get a code by text message"
    assert page.one("a", text="Text me a code")["href"] == text_url(invited)
    # The access code still works if staff read it to the patient.
    assert page.find("input", name="access_code") is not None


def test_no_phone_on_file_offers_no_text_route(client, admin, practice, sms_outbox):
    from tests.factories import invite, make_patient

    invitation = invite(admin, make_patient(practice, mobile_phone=""))

    page = parse(client.get(register_url(invitation)))
    assert page.find("a", text="Text me a code instead") is None
    assert client.get(text_url(invitation)).status_code == 302


def test_phone_route_registers_the_patient(client, invited, texting, sms_outbox):
    response = texting(invited)
    assert response.status_code == 302
    assert response["Location"] == code_url(invited)

    page = parse(client.get(code_url(invited)))
    assert "ending in 23" in page.text

    response = client.post(code_url(invited), {"security_code": texted_code(sms_outbox)})
    assert response.status_code == 302
    assert response["Location"] == account_url(invited)

    response = client.post(
        account_url(invited),
        {
            "choice": "create",
            "new-email": "robin@home.example",
            "new-password": PASSWORD,
            "new-password_again": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert PortalAccess.objects.get(patient=invited.patient).state == AccessState.ACTIVE


def test_wrong_date_of_birth_gets_the_same_page_as_the_right_one(
    client, admin, practice, texting, sms_outbox
):
    from tests.factories import invite, make_patient

    right = invite(admin, make_patient(practice))
    wrong = invite(admin, make_patient(practice))

    pages = []
    for invitation, dob in ((right, None), (wrong, "1979-01-01")):
        response = texting(invitation, dob=dob)
        assert response.status_code == 302
        body = client.get(response["Location"]).content.decode()
        body = body.replace(tokens.link_token(invitation.link_nonce), "TOKEN")
        pages.append(re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "CSRF", body))

    assert pages[0] == pages[1]
    assert len(sms_outbox) == 1


def test_code_step_without_asking_first_goes_back_to_the_phone_step(client, invited):
    response = client.get(code_url(invited))

    assert response.status_code == 302
    assert response["Location"] == text_url(invited)


def test_wrong_code_shows_tries_left(client, invited, texting, sms_outbox):
    texting(invited)
    wrong = f"{(int(texted_code(sms_outbox)) + 1) % 1_000_000:06d}"

    response = client.post(code_url(invited), {"security_code": wrong})

    assert response.status_code == 200
    assert form_errors(parse(response)) == [
        "The security code is wrong or has expired. You have 4 tries left."
    ]
    assert "portal_registration" not in client.session


def test_fifth_wrong_code_shows_the_lock(client, invited, texting, sms_outbox):
    texting(invited)
    wrong = f"{(int(texted_code(sms_outbox)) + 1) % 1_000_000:06d}"
    for _ in range(4):
        client.post(code_url(invited), {"security_code": wrong})

    response = client.post(code_url(invited), {"security_code": wrong})

    assert response.status_code == 403
    assert "Too many wrong codes" in parse(response).text


def test_asking_again_at_once_says_to_wait(client, invited, texting, sms_outbox):
    texting(invited)

    response = texting(invited)

    assert response.status_code == 200
    assert form_errors(parse(response)) == [
        "A code was sent a moment ago. Please wait a minute before asking again."
    ]
    assert len(sms_outbox) == 1


@pytest.mark.parametrize(
    ("dob", "phone", "field", "message"),
    [
        ("", "202-555-0123", "date_of_birth", "This field is required."),
        ("tomorrow", "202-555-0123", "date_of_birth", "Enter a valid date."),
        ("1980-02-30", "202-555-0123", "date_of_birth", "Enter a valid date."),
        ("1980-04-21", "", "phone", "This field is required."),
        ("1980-04-21", "call me", "phone", "Enter a valid phone number"),
        ("1980-04-21", "1" * 41, "phone", "at most 40 characters"),
        ("1980-04-21", "202-555-0123\x00", "phone", "Null characters are not allowed."),
    ],
)
def test_phone_step_with_bad_input_shows_error_and_texts_nothing(
    client, invited, texting, sms_outbox, dob, phone, field, message
):
    response = texting(invited, dob=dob, phone=phone)

    assert response.status_code == 200
    errors = field_errors(parse(response), f"id_{field}")
    assert any(message in e for e in errors), errors
    assert sms_outbox == []
    assert not SecurityCode.objects.exists()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("", "This field is required."),
        ("12345", "Enter the 6 digits from the text message."),
        ("1234567", "Enter the 6 digits from the text message."),
        ("12a456", "Enter the 6 digits from the text message."),
        ("١٢٣٤٥٦", "Enter the 6 digits from the text message."),
        ("9" * 21, "at most 20 characters"),
    ],
)
def test_code_step_with_bad_input_shows_error_and_does_not_count(
    client, invited, texting, sms_outbox, code, message
):
    texting(invited)

    response = client.post(code_url(invited), {"security_code": code})

    assert response.status_code == 200
    errors = field_errors(parse(response), "id_security_code")
    assert any(message in e for e in errors), errors
    invited.refresh_from_db()
    assert invited.failed_attempts == 0


def test_phone_route_pages_of_a_dead_link_answer_expired(client, admin, patient, invited):
    from portico.portal import services as portal

    portal.invitation_cancel(admin, patient=patient)

    for url in (text_url(invited), code_url(invited)):
        response = client.get(url)
        assert response.status_code == 410
        assert "This registration link has expired" in parse(response).text


def test_demo_text_messages_page_shows_what_the_file_backend_sent(client, settings, tmp_path):
    from portico.notifications import sms

    settings.SMS_URL = f"file://{tmp_path / 'sms'}"
    settings.PORTICO_MAILBOX_ENABLED = True
    sms.send_sms("+12025550123", "123456 is your security code")

    page = parse(client.get(reverse("dev_sms")))

    assert page.one("td", text="123456 is your security code")


def test_demo_text_messages_page_is_404_unless_demo_or_debug(client, settings):
    settings.PORTICO_MAILBOX_ENABLED = False

    assert client.get(reverse("dev_sms")).status_code == 404


def test_code_requests_are_limited_per_address(client, admin, practice, texting, settings):
    from tests.factories import invite, make_patient

    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "security_code": (3, 900)}
    invitations = [invite(admin, make_patient(practice)) for _ in range(4)]
    for invitation in invitations[:3]:
        assert texting(invitation).status_code == 302

    response = texting(invitations[3])

    assert response.status_code == 429
    assert form_errors(parse(response))[0].startswith("Too many tries from your network.")
    assert not SecurityCode.objects.filter(invitation=invitations[3]).exists()


@pytest.mark.parametrize("step", ["access_code", "security_code"])
def test_answers_on_the_registration_pages_are_limited_per_address(
    client, invited, texting, sms_outbox, settings, step
):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "registration": (2, 900)}
    if step == "access_code":
        url, data = register_url(invited), {"date_of_birth": "1980-04-21", "access_code": "WRONG"}
    else:
        texting(invited)
        url, data = code_url(invited), {"security_code": "000000"}
    for _ in range(2):
        assert client.post(url, data).status_code == 200

    response = client.post(url, data)

    assert response.status_code == 429
    assert form_errors(parse(response))[0].startswith("Too many tries from your network.")
    invited.refresh_from_db()
    assert invited.failed_attempts <= 2


def test_another_address_is_not_limited(client, invited, settings):
    settings.PORTICO_RATE_LIMITS = {**settings.PORTICO_RATE_LIMITS, "registration": (1, 900)}
    data = {"date_of_birth": "1980-04-21", "access_code": "WRONG"}
    client.post(register_url(invited), data, REMOTE_ADDR="198.51.100.1")

    assert client.post(register_url(invited), data, REMOTE_ADDR="198.51.100.1").status_code == 429
    assert client.post(register_url(invited), data, REMOTE_ADDR="198.51.100.2").status_code == 200


def test_texted_code_is_in_the_language_of_the_page_that_asked_for_it(
    client, invited, texting, sms_outbox
):
    from django.conf import settings

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "es"
    texting(invited)
    spanish = sms_outbox[-1]["text"]
    assert "código de seguridad" in spanish, spanish

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    SecurityCode.objects.update(created_at="2000-01-01T00:00:00Z")  # past the resend wait
    texting(invited)
    assert "security code" in sms_outbox[-1]["text"]
