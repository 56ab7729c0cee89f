"""Recovery emails (SPEC §4.2): the reset link and the username reminder. No health data,
no names: the account's email address is all they carry, sent to that same address."""

from __future__ import annotations

from email.utils import formataddr

from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext

from portico.notifications.rendering import RenderedEmail

SENDER_NAME = "Portico"


def _account(email):
    User = get_user_model()  # noqa: N806
    return User.objects.filter(public_id=email.subject_id, is_active=True).first()


def _rendered(subject: str, template: str, context: dict) -> RenderedEmail:
    return RenderedEmail(
        subject=subject,
        text=render_to_string(f"accounts/email/{template}.txt", context),
        html=render_to_string(f"accounts/email/{template}.html", context),
        from_email=formataddr((SENDER_NAME, settings.PORTICO_NOTIFICATIONS_FROM)),
    )


def render_password_reset(email) -> RenderedEmail | None:
    """The link is made at send time and works for PASSWORD_RESET_TIMEOUT seconds from then;
    a request older than that is not sent at all."""
    from portico.accounts.services import password_reset_key

    user = _account(email)
    age = (timezone.now() - email.created_at).total_seconds()
    if user is None or age > settings.PASSWORD_RESET_TIMEOUT:
        return None
    url = settings.PORTICO_BASE_URL + reverse(
        "accounts:password_reset_link", args=[password_reset_key(user)]
    )
    context = {
        "url": url,
        "minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
        "forgot_url": settings.PORTICO_BASE_URL + reverse("accounts:password_forgot"),
    }
    return _rendered(gettext("Reset your Portico password"), "password_reset", context)


def render_username(email) -> RenderedEmail | None:
    user = _account(email)
    if user is None:
        return None
    context = {
        "username": user.email,
        "sign_in_url": settings.PORTICO_BASE_URL + reverse("accounts:sign_in"),
        "forgot_url": settings.PORTICO_BASE_URL + reverse("accounts:password_forgot"),
    }
    return _rendered(gettext("Your Portico username"), "username", context)
