"""A staff member's first authenticator app is set up only after a code emailed to the account
(issue 12): the password alone never shows the QR code or the secret. The emailed code follows the
sign-in code's rules: single use, 10 minutes, only the newest works, a few tries."""

import datetime as dt
import logging

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse

from portico.accounts import mfa
from portico.accounts.mfa_views import SESSION_ENROLL_SECRET
from portico.accounts.models import Authenticator
from portico.audit.models import AuditEvent
from tests.accounts.mfa_steps import (
    ENROLL,
    VERIFY,
    older_and_newer_codes,
    password_step,
    shown_secret,
    totp_now,
)
from tests.factories import give_authenticator, sign_in
from tests.pages.html import field_errors, parse

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


def no_app_set_up_shown(response, client) -> None:
    """The page is the emailed-code step: no QR code, no key to type, none kept in the session."""
    page = parse(response)
    assert page.find("svg") is None
    assert page.find("code", class_="token") is None
    assert page.one("h1").text == "Confirm it is you"
    assert page.find("label", text="6-digit code from the email *") is not None
    assert SESSION_ENROLL_SECRET not in client.session


def other_code(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_no_qr_code_or_secret_is_shown_before_the_emailed_code_is_confirmed(client, staff, emailed):
    password_step(client, staff)
    response, codes = emailed(client.get, ENROLL)
    assert len(codes) == 1
    no_app_set_up_shown(response, client)
    assert "emailed a 6-digit code to u•••@example.test" in parse(response).text
    # Reloading keeps the same code (no new email) and still shows no app set-up.
    response, again = emailed(client.get, ENROLL)
    assert again == []
    no_app_set_up_shown(response, client)
    # Nor does the sign-in step, a chart, or the profile.
    assert client.get(VERIFY)["Location"] == ENROLL
    assert client.get(reverse("accounts:profile"))["Location"] == VERIFY


def test_a_wrong_emailed_code_is_refused_with_a_clear_message(client, staff, emailed):
    password_step(client, staff)
    _page, (code,) = emailed(client.get, ENROLL)
    response = client.post(ENROLL, {"code": other_code(code)})
    assert response.status_code == 200
    assert field_errors(parse(response), "id_code") == [mfa.WRONG_CODE]
    no_app_set_up_shown(response, client)
    assert not Authenticator.objects.filter(user=staff).exists()
    failed = AuditEvent.objects.get(actor=staff, action="account.mfa_failed")
    assert failed.details == {"method": "email", "step": "enroll"}
    no_app_set_up_shown(client.get(ENROLL), client)


def test_an_expired_emailed_code_is_refused_with_a_clear_message(client, staff, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, staff)
        _page, (code,) = emailed(client.get, ENROLL)
        traveller.shift(dt.timedelta(minutes=10, seconds=1))
        response = client.post(ENROLL, {"code": code})
        assert field_errors(parse(response), "id_code") == [mfa.WRONG_CODE]
        no_app_set_up_shown(response, client)
        # A new code comes on request, and that one works.
        _page, (newer,) = emailed(client.post, ENROLL, {"resend": "1"})
        assert client.post(ENROLL, {"code": newer})["Location"] == ENROLL
        assert parse(client.get(ENROLL)).find("svg") is not None


def test_only_the_newest_emailed_code_works_and_only_once(client, staff, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, staff)
        older, newer = older_and_newer_codes(client, emailed, ENROLL, traveller)
        no_app_set_up_shown(client.post(ENROLL, {"code": older}), client)
        assert client.post(ENROLL, {"code": newer})["Location"] == ENROLL

    other = client.__class__()
    password_step(other, staff)
    no_app_set_up_shown(other.post(ENROLL, {"code": newer}), other)


def test_an_emailed_code_allows_five_tries(client, staff, emailed):
    password_step(client, staff)
    _page, (code,) = emailed(client.get, ENROLL)
    for _ in range(settings.PORTICO_MFA_MAX_CODE_ATTEMPTS):
        client.post(ENROLL, {"code": other_code(code)})
    no_app_set_up_shown(client.post(ENROLL, {"code": code}), client)


def test_many_wrong_emailed_codes_end_the_half_signed_in_session(client, staff, emailed):
    password_step(client, staff)
    emailed(client.get, ENROLL)
    for _ in range(10):
        response = client.post(ENROLL, {"code": "abcdef"})
    assert response["Location"] == reverse("accounts:sign_in")
    assert "_auth_user_id" not in client.session


def test_the_emailed_code_then_the_app_code_set_up_the_first_app(client, staff, emailed):
    password_step(client, staff)
    _page, (code,) = emailed(client.get, ENROLL)
    assert client.post(ENROLL, {"code": code})["Location"] == ENROLL

    page = parse(client.get(ENROLL))
    assert page.one("h1").text == "Set up your authenticator app"
    assert page.find("svg") is not None
    secret = shown_secret(page)
    # Still half signed in until the app is confirmed.
    assert client.get(reverse("charts:patient_list"))["Location"] == VERIFY

    shown = parse(client.post(ENROLL, {"code": totp_now(secret)}))
    assert shown.one("h1").text == "Your recovery codes"
    assert Authenticator.objects.get(user=staff).secret == secret
    assert client.get(reverse("charts:patient_list")).status_code == 200
    actions = list(
        AuditEvent.objects.filter(actor=staff, action__startswith="account.mfa")
        .order_by("id")
        .values_list("action", flat=True)
    )
    assert actions == [
        "account.mfa_code_sent",
        "account.mfa_enroll_email_confirmed",
        "account.mfa_enrolled",
    ]


def test_the_emailed_code_and_the_secret_stay_out_of_the_logs(client, staff, emailed, caplog):
    caplog.set_level(logging.DEBUG)
    password_step(client, staff)
    _page, (code,) = emailed(client.get, ENROLL)
    client.post(ENROLL, {"code": other_code(code)})
    client.post(ENROLL, {"code": code})
    secret = shown_secret(parse(client.get(ENROLL)))
    client.post(ENROLL, {"code": totp_now(secret)})
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert code not in logged
    assert secret not in logged


def test_a_signed_in_account_moving_to_a_new_phone_needs_no_emailed_code(client, staff, emailed):
    give_authenticator(staff)
    sign_in(client, staff)
    response, codes = emailed(client.get, ENROLL)
    assert codes == []
    assert parse(response).find("svg") is not None
