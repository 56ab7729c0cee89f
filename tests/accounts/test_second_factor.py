"""Every account has a second factor (SPEC §4.1): staff use an authenticator app, patients get
an email code on a new device (or use an app), a device may be remembered for 30 days, and
authenticator users have single-use recovery codes."""

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from portico.accounts import mfa
from portico.accounts.models import Authenticator, EmailCode, RecoveryCode
from portico.accounts.services import api_token_create, password_change
from portico.audit.models import AuditEvent
from tests import factories
from tests.accounts.mfa_steps import (
    ENROLL,
    SIGN_IN,
    VERIFY,
    older_and_newer_codes,
    password_step,
    shown_secret,
    totp_now,
)
from tests.factories import PASSWORD, give_authenticator
from tests.pages.html import parse

pytestmark = pytest.mark.django_db

PROFILE = reverse("accounts:profile")
T0 = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def account(admin, patient):
    """The patient's portal account (no authenticator: email codes)."""
    return factories.enroll(admin, patient)


# Staff: an authenticator app, enrolled before any chart ------------------------------------


def test_staff_must_enroll_an_authenticator_before_reaching_any_chart(
    client, staff, patient, emailed
):
    chart = reverse("charts:chart", args=[patient.public_id])
    response = password_step(client, staff, next=chart)
    assert response["Location"] == VERIFY
    assert client.get(VERIFY)["Location"] == ENROLL

    # Half signed in: no staff page, no profile, no chart.
    for url in (chart, reverse("charts:patient_list"), PROFILE, reverse("home")):
        assert client.get(url)["Location"] == VERIFY, url

    # First the code emailed to the account (test_first_authenticator.py).
    _page, (emailed_code,) = emailed(client.get, ENROLL)
    assert client.post(ENROLL, {"code": emailed_code})["Location"] == ENROLL

    page = parse(client.get(ENROLL))
    assert page.find("svg") is not None  # the QR code, inline
    secret = shown_secret(page)
    assert shown_secret(parse(client.get(ENROLL))) == secret  # the same on reload

    refused = client.post(ENROLL, {"code": "000000"})
    assert "does not match" in refused.content.decode()
    assert not Authenticator.objects.filter(user=staff).exists()

    shown = parse(client.post(ENROLL, {"code": totp_now(secret)}))
    codes = [li.text.strip() for li in shown.one(id="recovery-codes").find_all("li")]
    assert len(codes) == 10
    assert RecoveryCode.objects.filter(user=staff).count() == 10
    assert not RecoveryCode.objects.filter(code_hash__in=codes).exists()  # stored hashed
    assert Authenticator.objects.get(user=staff).secret == secret
    assert AuditEvent.objects.filter(actor=staff, action="account.mfa_enrolled").exists()
    assert client.get(chart).status_code == 200


def test_staff_with_an_app_types_its_code_and_a_code_works_once(client, staff):
    secret = give_authenticator(staff)
    password_step(client, staff)
    wrong = client.post(VERIFY, {"code": "123456" if totp_now(secret) != "123456" else "654321"})
    assert str(mfa.WRONG_CODE) in wrong.content.decode()
    assert client.get(reverse("charts:patient_list"))["Location"] == VERIFY
    assert AuditEvent.objects.filter(actor=staff, action="account.mfa_failed").exists()

    code = totp_now(secret)
    assert client.post(VERIFY, {"code": code})["Location"] == reverse("home")
    assert client.get(reverse("charts:patient_list")).status_code == 200

    other = client.__class__()
    password_step(other, staff)
    replay = other.post(VERIFY, {"code": code})
    assert str(mfa.WRONG_CODE) in replay.content.decode()


def test_recovery_codes_work_once_in_place_of_the_app(client, staff):
    give_authenticator(staff)
    codes = mfa.recovery_codes_regenerate(staff)

    password_step(client, staff)
    assert client.post(VERIFY, {"code": codes[0].upper()})["Location"] == reverse("home")
    assert AuditEvent.objects.filter(actor=staff, action="account.recovery_code_used").exists()

    other = client.__class__()
    password_step(other, staff)
    assert str(mfa.WRONG_CODE) in other.post(VERIFY, {"code": codes[0]}).content.decode()
    assert other.post(VERIFY, {"code": codes[1]})["Location"] == reverse("home")
    assert mfa.recovery_codes_left(staff) == 8


def test_api_bearer_tokens_need_no_second_factor(client, staff):
    _token, key = api_token_create(staff, practice=staff.memberships.get().practice, name="Sync")
    response = client.get("/api/v1/patients", HTTP_AUTHORIZATION=f"Bearer {key}")
    assert response.status_code == 200


# Patients: an email code on a new device ----------------------------------------------------


def test_patient_signs_in_with_the_emailed_code(client, account, emailed):
    response, _codes = emailed(password_step, client, account)
    assert response["Location"] == VERIFY
    _page, codes = emailed(client.get, VERIFY)
    assert len(codes) == 1
    assert codes[0] not in EmailCode.objects.get(user=account).code_hash  # stored hashed
    assert client.get(reverse("portal:home"))["Location"] == VERIFY

    assert client.post(VERIFY, {"code": codes[0]})["Location"] == reverse("home")
    records = client.get(reverse("portal:home"), follow=True)
    assert records.status_code == 200
    assert VERIFY not in [url for url, _status in records.redirect_chain]


def test_the_code_email_names_no_patient_and_comes_from_the_notifications_sender(
    client, account, patient, django_capture_on_commit_callbacks
):
    password_step(client, account)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(VERIFY)
    (message,) = mail.outbox
    assert settings.PORTICO_NOTIFICATIONS_FROM in message.from_email
    for text in (message.subject, message.body):
        assert patient.legal_last_name not in text
        assert patient.legal_first_name not in text


def test_a_used_code_does_not_work_again(client, account, emailed):
    password_step(client, account)
    _page, (code,) = emailed(client.get, VERIFY)
    client.post(VERIFY, {"code": code})

    other = client.__class__()
    password_step(other, account)
    emailed(other.get, VERIFY)
    assert str(mfa.WRONG_CODE) in other.post(VERIFY, {"code": code}).content.decode()


def test_a_code_expires_after_ten_minutes(client, account, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, account)
        _page, (code,) = emailed(client.get, VERIFY)
        traveller.shift(dt.timedelta(minutes=10, seconds=1))
        assert str(mfa.WRONG_CODE) in client.post(VERIFY, {"code": code}).content.decode()


def test_a_code_still_works_just_before_ten_minutes(client, account, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, account)
        _page, (code,) = emailed(client.get, VERIFY)
        traveller.shift(dt.timedelta(minutes=9, seconds=50))
        assert client.post(VERIFY, {"code": code})["Location"] == reverse("home")


def test_only_the_newest_code_works(client, account, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        password_step(client, account)
        older, newer = older_and_newer_codes(client, emailed, VERIFY, traveller)
        assert older != newer
        assert str(mfa.WRONG_CODE) in client.post(VERIFY, {"code": older}).content.decode()
        assert client.post(VERIFY, {"code": newer})["Location"] == reverse("home")


def test_a_code_allows_five_tries(client, account, emailed):
    password_step(client, account)
    _page, (code,) = emailed(client.get, VERIFY)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(settings.PORTICO_MFA_MAX_CODE_ATTEMPTS):
        client.post(VERIFY, {"code": wrong})
    assert str(mfa.WRONG_CODE) in client.post(VERIFY, {"code": code}).content.decode()
    assert AuditEvent.objects.filter(actor=account, action="account.mfa_failed").count() == 6


def test_a_patient_may_switch_to_an_authenticator_app(client, account):
    factories.sign_in(client, account)
    secret = shown_secret(parse(client.get(ENROLL)))  # signed in: no emailed code first
    client.post(ENROLL, {"code": totp_now(secret)})
    assert mfa.method_for(account) == mfa.METHOD_TOTP

    other = client.__class__()
    password_step(other, account)
    assert "authenticator app" in other.get(VERIFY).content.decode()
    assert not EmailCode.objects.filter(user=account).exists()


def test_a_half_signed_in_patient_cannot_enroll_an_app_to_skip_the_email_code(client, account):
    password_step(client, account)
    assert client.get(ENROLL)["Location"] == VERIFY


# Remembered devices ---------------------------------------------------------------------------


def _remembered(client, account, emailed):
    password_step(client, account)
    _page, (code,) = emailed(client.get, VERIFY)
    response = client.post(VERIFY, {"code": code, "remember": "on"})
    cookie = response.cookies[mfa.DEVICE_COOKIE]
    assert cookie["httponly"] and cookie["max-age"] == 30 * 24 * 3600
    client.post(reverse("accounts:sign_out"))
    return cookie.value


def test_a_remembered_device_skips_the_code_for_thirty_days(client, account, emailed):
    with time_machine.travel(T0, tick=False) as traveller:
        _remembered(client, account, emailed)
        assert AuditEvent.objects.filter(actor=account, action="account.device_remembered")
        traveller.shift(dt.timedelta(days=29, hours=23))
        response, codes = emailed(password_step, client, account)
        assert response["Location"] == reverse("home") and codes == []
        client.post(reverse("accounts:sign_out"))

        traveller.shift(dt.timedelta(hours=2))
        assert password_step(client, account)["Location"] == VERIFY


def test_a_password_change_ends_remembered_devices(client, account, emailed):
    _remembered(client, account, emailed)
    password_change(account, current_password=PASSWORD, new_password=PASSWORD + " again")
    response = client.post(SIGN_IN, {"email": account.email, "password": PASSWORD + " again"})
    assert response["Location"] == VERIFY


def test_a_forgotten_device_asks_for_the_code_again(client, account, emailed):
    token = _remembered(client, account, emailed)
    factories.sign_in(client, account)
    page = parse(client.get(PROFILE))
    (form,) = [f for f in page.find_all("form") if "/forget/" in f.attrs.get("action", "")]
    client.post(form.attrs["action"])
    client.post(reverse("accounts:sign_out"))
    client.cookies[mfa.DEVICE_COOKIE] = token
    assert password_step(client, account)["Location"] == VERIFY


def test_another_accounts_device_token_does_not_count(client, account, admin, emailed):
    give_authenticator(admin)
    _remembered(client, account, emailed)
    assert password_step(client, admin)["Location"] == VERIFY


# Session keys -------------------------------------------------------------------------------


def test_signing_in_gives_a_new_session_key(client, account, emailed):
    before = SessionStore()
    before["visited"] = True
    before.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = before.session_key

    password_step(client, account)
    after_password = client.session.session_key
    assert after_password != before.session_key
    _page, (code,) = emailed(client.get, VERIFY)
    client.post(VERIFY, {"code": code})
    assert client.session.session_key not in (before.session_key, after_password)


def test_many_wrong_codes_end_the_half_signed_in_session(client, staff):
    give_authenticator(staff)
    password_step(client, staff)
    for _ in range(10):
        response = client.post(VERIFY, {"code": "abcdef"})
    assert response["Location"] == SIGN_IN
    assert "_auth_user_id" not in client.session


def test_email_codes_are_not_sent_twice_within_thirty_seconds(client, account, emailed):
    password_step(client, account)
    _page, first = emailed(client.get, VERIFY)
    _page, again = emailed(client.post, VERIFY, {"resend": "1"})
    assert len(first) == 1 and again == []
    assert EmailCode.objects.filter(user=account, created_at__lte=timezone.now()).count() == 1


def test_wrong_codes_from_one_address_are_limited_across_accounts(client, practice):
    from portico.accounts.mfa_views import CODE_FAILURES_PER_ADDRESS

    limit, _seconds = CODE_FAILURES_PER_ADDRESS
    tried = 0
    while tried < limit:
        user = factories.make_staff(practice)
        give_authenticator(user)
        browser = client.__class__()
        password_step(browser, user)
        for _ in range(min(5, limit - tried)):
            browser.post(VERIFY, {"code": "abcdef"})
            tried += 1
    last = factories.make_staff(practice)
    secret = give_authenticator(last)
    browser = client.__class__()
    password_step(browser, last)
    response = browser.post(VERIFY, {"code": totp_now(secret)})
    assert response.status_code == 429
    assert "Too many wrong codes" in response.content.decode()
    assert browser.get(reverse("charts:patient_list"))["Location"] == VERIFY


def test_a_password_reset_never_skips_the_second_factor(client, account, emailed):
    from portico.accounts.services import password_reset_complete, password_reset_key

    _remembered(client, account, emailed)
    account.refresh_from_db()
    new_password = "a fresh reset phrase 42"
    password_reset_complete(key=password_reset_key(account), new_password=new_password)
    assert not mfa.devices_live(account).exists()

    response = client.post(SIGN_IN, {"email": account.email, "password": new_password})
    assert response["Location"] == VERIFY
    assert client.get(reverse("portal:home"))["Location"] == VERIFY


def test_new_recovery_codes_replace_the_old_ones(client, staff):
    give_authenticator(staff)
    old = mfa.recovery_codes_regenerate(staff)
    factories.sign_in(client, staff)
    page = parse(client.post(reverse("accounts:recovery_codes_new")))
    new = [li.text.strip() for li in page.one(id="recovery-codes").find_all("li")]
    assert len(new) == 10 and not set(new) & set(old)

    other = client.__class__()
    password_step(other, staff)
    assert str(mfa.WRONG_CODE) in other.post(VERIFY, {"code": old[0]}).content.decode()
    assert other.post(VERIFY, {"code": new[0]})["Location"] == reverse("home")


def test_patients_may_go_back_to_email_codes_but_staff_keep_their_app(client, account, staff):
    give_authenticator(account)
    factories.sign_in(client, account)
    client.post(reverse("accounts:mfa_remove"))
    assert mfa.method_for(account) == mfa.METHOD_EMAIL
    assert not RecoveryCode.objects.filter(user=account).exists()

    give_authenticator(staff)
    staff_browser = client.__class__()
    factories.sign_in(staff_browser, staff)
    response = staff_browser.post(reverse("accounts:mfa_remove"), follow=True)
    assert "must use an authenticator app" in response.content.decode()
    assert mfa.method_for(staff) == mfa.METHOD_TOTP
