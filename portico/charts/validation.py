"""Rules for demographic values shared by forms, the API and services."""

from __future__ import annotations

import unicodedata

import phonenumbers
from django.core.exceptions import ValidationError
from django.utils.translation import gettext

DEFAULT_REGION = "US"


def has_control_characters(value: str) -> bool:
    """NUL and other control characters (tabs and line breaks aside): PostgreSQL cannot store
    NUL, and none belongs in a name or an address."""
    return any(unicodedata.category(c) == "Cc" and c not in "\t\n\r" for c in value)


def normalize_phone(raw: str) -> str:
    """Parse a phone number as people type it and return it in E.164, or raise."""
    raw = (raw or "").strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(
            gettext("Enter a valid phone number, such as (217) 555-0134.")
        ) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(gettext("Enter a valid phone number, such as (217) 555-0134."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def format_phone(e164: str) -> str:
    """A stored E.164 number the way people read it."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    region = phonenumbers.region_code_for_number(number)
    fmt = (
        phonenumbers.PhoneNumberFormat.NATIONAL
        if region == DEFAULT_REGION
        else phonenumbers.PhoneNumberFormat.INTERNATIONAL
    )
    return phonenumbers.format_number(number, fmt)
