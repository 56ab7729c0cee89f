"""Authenticator-app secrets are stored encrypted (issue 12): Fernet under keys from
PORTICO_FIELD_ENCRYPTION_KEYS (newest first), re-encrypted with `portico rotate_encryption_keys`,
and a stored value that no key opens fails closed."""

import datetime as dt
import os
import subprocess
import sys

import pyotp
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from portico.accounts import mfa
from portico.accounts.checks import field_encryption_keys_check
from portico.accounts.models import Authenticator, RecoveryCode
from portico.audit.models import AuditEvent
from portico.core import crypto
from tests.accounts.mfa_steps import ENROLL, VERIFY, password_step, shown_secret, totp_now
from tests.factories import give_authenticator
from tests.pages.html import field_errors, parse

pytestmark = pytest.mark.django_db

OLD_KEY = "an older key that is at least thirty-two characters"
NEW_KEY = "the newest key, also at least thirty-two characters"


def stored_row(user) -> str:
    """Every column of the account's authenticator row, as the database holds them."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_authenticator WHERE user_id = %s", [user.pk])
        return " ".join(str(value) for value in cursor.fetchone())


def sign_in_with_app(client, user, secret, *, steps_ahead=0):
    """Password, then the app's code (`steps_ahead` 30-second steps on: a code works once)."""
    password_step(client, user)
    code = pyotp.TOTP(secret).at(timezone.now() + dt.timedelta(seconds=30 * steps_ahead))
    return client.post(VERIFY, {"code": code})


def test_the_stored_column_never_contains_the_base32_secret(client, staff, emailed):
    password_step(client, staff)
    _page, (code,) = emailed(client.get, ENROLL)
    client.post(ENROLL, {"code": code})
    secret = shown_secret(parse(client.get(ENROLL)))
    # Nor does the session while the app is being set up.
    session_row = client.session.load()
    assert secret not in str(session_row)
    client.post(ENROLL, {"code": totp_now(secret)})

    stored = stored_row(staff)
    assert secret not in stored
    assert secret.lower() not in stored.lower()
    assert Authenticator.objects.get(user=staff).secret == secret


def test_codes_from_the_app_still_verify(client, staff):
    secret = give_authenticator(staff)
    assert secret not in stored_row(staff)
    assert sign_in_with_app(client, staff, secret)["Location"] == reverse("home")
    assert client.get(reverse("charts:patient_list")).status_code == 200


def test_a_secret_under_an_old_key_works_after_a_new_key_is_put_first_and_is_re_encrypted(
    client, staff, settings, capsys
):
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    secret = give_authenticator(staff)
    under_old = Authenticator.objects.get(user=staff).secret_encrypted

    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    assert not crypto.is_current(under_old)
    assert sign_in_with_app(client, staff, secret)["Location"] == reverse("home")

    call_command("rotate_encryption_keys")
    assert "1 re-encrypted with the newest key, 0 already were" in capsys.readouterr().out
    under_new = Authenticator.objects.get(user=staff).secret_encrypted
    assert under_new != under_old and crypto.is_current(under_new)
    rotated = AuditEvent.objects.get(action="account.encryption_keys_rotated")
    assert rotated.details == {"reencrypted": 1, "current": 0, "unreadable": 0}

    # Idempotent: a second run changes nothing.
    call_command("rotate_encryption_keys")
    assert "0 re-encrypted with the newest key, 1 already were" in capsys.readouterr().out
    assert Authenticator.objects.get(user=staff).secret_encrypted == under_new

    # The old key can go now.
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    other = client.__class__()
    assert sign_in_with_app(other, staff, secret, steps_ahead=1)["Location"] == reverse("home")


def test_the_rotation_reports_a_secret_no_listed_key_opens_and_leaves_it(staff, settings):
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    give_authenticator(staff)
    before = Authenticator.objects.get(user=staff).secret_encrypted

    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(CommandError) as refused:
        call_command("rotate_encryption_keys")
    assert f"account {staff.public_id}" in str(refused.value)
    assert "1 authenticator secret(s) cannot be decrypted" in str(refused.value)
    assert Authenticator.objects.get(user=staff).secret_encrypted == before


def test_forgetting_unreadable_secrets_makes_staff_set_up_a_new_app_after_an_emailed_code(
    client, staff, settings, emailed
):
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [OLD_KEY]
    give_authenticator(staff)
    mfa.recovery_codes_regenerate(staff)
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [NEW_KEY]

    call_command("rotate_encryption_keys", forget_unreadable=True)
    assert not Authenticator.objects.filter(user=staff).exists()
    assert not RecoveryCode.objects.filter(user=staff).exists()
    removed = AuditEvent.objects.get(action="account.mfa_removed")
    assert removed.details["account"] == str(staff.public_id)

    password_step(client, staff)
    assert client.get(VERIFY)["Location"] == ENROLL
    _page, codes = emailed(client.get, ENROLL)
    assert len(codes) == 1


def tamper(user) -> None:
    row = Authenticator.objects.get(user=user)
    token = row.secret_encrypted
    middle = len(token) // 2
    flipped = "A" if token[middle] != "A" else "B"
    Authenticator.objects.filter(pk=row.pk).update(
        secret_encrypted=token[:middle] + flipped + token[middle + 1 :]
    )


def test_a_tampered_ciphertext_fails_closed_with_a_clear_message(client, staff):
    secret = give_authenticator(staff)
    tamper(staff)

    response = sign_in_with_app(client, staff, secret)
    assert response.status_code == 200
    assert field_errors(parse(response), "id_code") == [mfa.APP_UNREADABLE]
    assert client.get(reverse("charts:patient_list"))["Location"] == VERIFY
    failed = AuditEvent.objects.get(actor=staff, action="account.mfa_failed")
    assert failed.details == {"method": "totp", "reason": "app_unreadable"}


def test_a_tampered_ciphertext_still_lets_a_recovery_code_through(client, staff):
    give_authenticator(staff)
    codes = mfa.recovery_codes_regenerate(staff)
    tamper(staff)

    password_step(client, staff)
    assert client.post(VERIFY, {"code": codes[0]})["Location"] == reverse("home")
    # …and from the profile the person sets up the app again, which stores a readable secret.
    secret = shown_secret(parse(client.get(ENROLL)))
    client.post(ENROLL, {"code": totp_now(secret)})
    assert Authenticator.objects.get(user=staff).secret == secret


def test_without_the_setting_the_key_comes_from_secret_key_and_its_fallbacks(settings):
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = []
    token = crypto.encrypt("JBSWY3DPEHPK3PXP")
    old_secret_key = settings.SECRET_KEY
    settings.SECRET_KEY = "a brand new secret key " * 3
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(token)
    settings.SECRET_KEY_FALLBACKS = [old_secret_key]
    assert crypto.decrypt(token) == "JBSWY3DPEHPK3PXP"
    assert not crypto.is_current(token)


def test_a_short_encryption_key_is_refused_at_start():
    env = {**os.environ, "DEBUG": "1", "PORTICO_FIELD_ENCRYPTION_KEYS": "short, " + NEW_KEY}
    run = subprocess.run(
        [sys.executable, "-c", "import portico.settings"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode != 0
    assert "at least 32 characters" in run.stderr


def test_demo_style_fixed_secrets_verify_with_pyotp(staff):
    secret = give_authenticator(staff, "PORTICODEMOADMINPORTICODEMOADMIN")
    assert Authenticator.objects.get(user=staff).secret == secret
    assert mfa._totp_step(secret, pyotp.TOTP(secret).now()) is not None


def test_the_deployment_checklist_asks_for_own_encryption_keys(settings):
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = []
    (warning,) = field_encryption_keys_check(None)
    assert warning.id == "portico.W001"
    settings.PORTICO_FIELD_ENCRYPTION_KEYS = [NEW_KEY]
    assert field_encryption_keys_check(None) == []
