"""The demo's staff sign in with fixed authenticator secrets written in README.md and printed
by `make demo`; the demo patient uses email codes."""

from pathlib import Path

import pyotp
from django.core.management import call_command
from django.urls import reverse

from portico.accounts import mfa
from portico.accounts.models import User
from portico.demo import seed as demo

README = Path(__file__).resolve().parents[2] / "README.md"


def test_demo_staff_sign_in_with_the_documented_authenticator_secrets(client, db):
    call_command("seed_demo")
    readme = README.read_text()

    for email, secret in demo.STAFF_TOTP_SECRETS.items():
        assert f"`{email}` | `{secret}`" in readme
        browser = client.__class__()
        browser.post(reverse("accounts:sign_in"), {"email": email, "password": "portico-demo"})
        response = browser.post(
            reverse("accounts:mfa_verify"), {"code": pyotp.TOTP(secret).now()}, follow=True
        )
        assert response.redirect_chain[-1][0] == reverse("charts:patient_list"), email

    patient = User.objects.get(email=demo.PATIENT_EMAIL)
    assert mfa.method_for(patient) == mfa.METHOD_EMAIL


def test_the_demo_welcome_prints_the_secrets(db, capsys, settings):
    settings.DEMO = True
    call_command("demo", setup_only=True)
    printed = capsys.readouterr().out
    for secret in demo.STAFF_TOTP_SECRETS.values():
        assert secret in printed
