"""What a person does at the sign-in steps, for the second-factor page tests."""

import datetime as dt

import pyotp
from django.urls import reverse

from tests.factories import PASSWORD

SIGN_IN = reverse("accounts:sign_in")
VERIFY = reverse("accounts:mfa_verify")
ENROLL = reverse("accounts:mfa_enroll")


def password_step(client, user, **extra):
    return client.post(SIGN_IN, {"email": user.email, "password": PASSWORD, **extra})


def totp_now(secret: str) -> str:
    return pyotp.TOTP(secret).now()


def shown_secret(page) -> str:
    """The key the set-up page shows for typing into an app (the QR code's secret)."""
    return "".join(page.one("code", class_="token").text.split())


def older_and_newer_codes(client, emailed, url, traveller) -> tuple[str, str]:
    """The code emailed on opening `url`, and the one asked for ("Send a new code") 31 seconds
    later, past the wait between two codes."""
    _page, (older,) = emailed(client.get, url)
    traveller.shift(dt.timedelta(seconds=31))
    _page, (newer,) = emailed(client.post, url, {"resend": "1"})
    return older, newer
