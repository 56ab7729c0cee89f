"""Password rules beyond Django's (NIST SP 800-63B §3.1.1.2, OWASP ASVS 5.0 L2).

Every password chosen anywhere goes through django.contrib.auth.password_validation, which
runs settings.AUTH_PASSWORD_VALIDATORS: at least 8 characters, at most 128, any characters
(spaces and Unicode included), not on the common/breached list, not built from the account's
email address or the service's name. No composition rules, no rotation, no security questions.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

_NOT_LETTER_OR_DIGIT = re.compile(r"[\W_]+")
# A password needs this many characters besides a context word to count as its own.
_EXTRA_NEEDED = 8


class MaximumLengthValidator:
    """Passwords up to PORTICO_PASSWORD_MAX_LENGTH characters (at least 64 per NIST)."""

    def __init__(self, max_length: int | None = None):
        self.max_length = max_length or settings.PORTICO_PASSWORD_MAX_LENGTH

    def validate(self, password, user=None):
        if len(password) > self.max_length:
            raise ValidationError(
                gettext("Use at most %(max_length)s characters."),
                code="password_too_long",
                params={"max_length": self.max_length},
            )

    def get_help_text(self):
        return gettext("Your password can be up to %(max_length)s characters long.") % {
            "max_length": self.max_length
        }


def _plain(text: str) -> str:
    return _NOT_LETTER_OR_DIGIT.sub("", text.casefold())


class ContextValidator:
    """Not the email address (or its name part) or the service's name with a few extras.

    "jane.doe2024" for jane.doe@example.org is refused; a long phrase that happens to contain
    the name is fine.
    """

    words = ("portico",)

    def validate(self, password, user=None):
        email = (getattr(user, "email", "") or "").strip()
        context = [email, email.partition("@")[0], *self.words]
        plain_password = _plain(password)
        for word in context:
            plain_word = _plain(word)
            if len(plain_word) < 4:
                continue
            if plain_word in plain_password and (
                len(plain_password) - len(plain_word) < _EXTRA_NEEDED
            ):
                raise ValidationError(
                    gettext(
                        "Your password is too close to your email address or the name of this "
                        "service. Choose something others could not guess from them."
                    ),
                    code="password_from_context",
                )

    def get_help_text(self):
        return gettext("Your password cannot be built from your email address.")
