"""Value rules shared by every app's services."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

INVALID_EMAIL = _("Enter a valid email address.")


def max_length_of(model, field_name: str) -> int | None:
    """The most characters a model's text column holds (None: no limit)."""
    return getattr(model._meta.get_field(field_name), "max_length", None)


def clean_email(raw: str | None, errors: dict[str, list[str]], field: str = "email") -> str:
    """Email addresses are kept trimmed and in lower case; a bad one adds an error to `errors`."""
    email = (raw or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        errors.setdefault(field, []).append(INVALID_EMAIL)
    return email
