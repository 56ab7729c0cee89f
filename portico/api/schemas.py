"""Input and output shapes of the JSON API, kept apart (inputs never echo internal fields).

Inputs are strict at the boundary: unknown fields are refused (a typo such as `dob` must not
be silently ignored), dates are ISO strings only (pydantic would otherwise read `0` as
1970-01-01), and control characters are refused (PostgreSQL cannot store NUL). The rules about
values themselves (valid email, phone, date of birth in the past, a name that is not blank) live
in the services, so the pages and the API give the same answers and the same messages.

The OpenAPI description states those service rules too (patterns, formats, lengths), so that a
client can learn from it what will be accepted: everything it admits is accepted, everything it
refuses is refused (tests/api/test_openapi_fuzz.py generates bodies from it to prove both). Two
rules cannot be written as a pattern: a phone number's validity (libphonenumber's metadata) and
every form of email address Django accepts. For those the pattern admits a part that is always
valid, and the field's description says what else is accepted.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal
from uuid import UUID

import phonenumbers
from django.utils import timezone
from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict, WithJsonSchema

from portico.charts.models import Language, Patient, Sex
from portico.charts.validation import DEFAULT_REGION, has_control_characters

_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

# --- The service rules as JSON Schema patterns (ECMA-262 syntax, also valid for Python's re) --

# What `has_control_characters` refuses: control characters other than tab, LF and CR.
_CONTROL = r"\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f"
# What `str.strip()` removes (str.isspace): a name of only these is blank.
_SPACE = r"\u0009-\u000d\u001c-\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
TEXT_PATTERN = rf"^[^{_CONTROL}]*$"
NAME_PATTERN = rf"^[^{_CONTROL}]*[^{_CONTROL}{_SPACE}][^{_CONTROL}]*$"

# Email addresses Django's validate_email always accepts: a dot-atom local part and a dotted host
# name whose top-level label is letters only.
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
EMAIL_PATTERN = rf"^{_ATOM}(?:\.{_ATOM})*@(?:{_LABEL}\.)+[A-Za-z](?:[A-Za-z-]{{0,61}}[A-Za-z])$"
EMAIL_MAX_LENGTH = 254


def _phone_pattern() -> str:
    """Mobile numbers of the default region (US) that libphonenumber finds valid, as national
    digits or in E.164: built from the same metadata `normalize_phone` checks against."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(DEFAULT_REGION)
    national = metadata.mobile.national_number_pattern.replace(r"\d", "[0-9]")
    country_code = phonenumbers.country_code_for_region(DEFAULT_REGION)
    return rf"^(?:\+{country_code})?(?:{national})$"


PHONE_PATTERN = _phone_pattern()
PHONE_MAX_LENGTH = 40
BLANK = {"type": "string", "maxLength": 0}


def _digits(low: str, high: str) -> str:
    """A pattern for the fixed-width decimal numbers from `low` to `high` (same width)."""
    if low == high:
        return low
    if len(low) == 1:
        return f"[{low}-{high}]" if int(high) - int(low) > 1 else f"[{low}{high}]"
    rest = len(low) - 1
    any_rest = "[0-9]" if rest == 1 else f"[0-9]{{{rest}}}"
    if set(low[1:]) <= {"0"} and set(high[1:]) <= {"9"}:
        return _digits(low[0], high[0]) + any_rest
    if low[0] == high[0]:
        return low[0] + _group(_digits(low[1:], high[1:]))
    parts = [low[0] + _group(_digits(low[1:], "9" * rest))]
    if int(high[0]) - int(low[0]) > 1:
        parts.append(_digits(str(int(low[0]) + 1), str(int(high[0]) - 1)) + any_rest)
    parts.append(high[0] + _group(_digits("0" * rest, high[1:])))
    return "|".join(parts)


def _group(pattern: str) -> str:
    """The pattern, in a group when it has alternatives at its top level."""
    depth = 0
    for char in pattern:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            return f"(?:{pattern})"
    return pattern


def date_of_birth_pattern(today: dt.date) -> str:
    """YYYY-MM-DD from 1900-01-01 to `today` (the service's rule). Impossible days such as
    02-30 are left to `format: date`."""
    month = "(?:0[1-9]|1[0-2])"
    day = "(?:0[1-9]|[12][0-9]|3[01])"
    ranges = [f"{_group(_digits('1900', str(today.year - 1)))}-{month}-{day}"]
    if today.month > 1:
        ranges.append(f"{today.year}-{_group(_digits('01', f'{today.month - 1:02}'))}-{day}")
    ranges.append(f"{today:%Y-%m}-{_group(_digits('01', f'{today.day:02}'))}")
    return "^(?:" + "|".join(ranges) + ")$"


def _date_of_birth_schema(schema: dict) -> None:
    # Computed each time the description is served: "today" moves.
    schema["pattern"] = date_of_birth_pattern(timezone.localdate())


def _no_control_characters(value: str) -> str:
    if has_control_characters(value):
        raise ValueError("Remove control characters (such as NUL) from this value.")
    return value


def _iso_date(value):
    if isinstance(value, dt.date):
        return value
    if not isinstance(value, str) or not _ISO_DATE.fullmatch(value):
        raise ValueError("Enter a date as YYYY-MM-DD.")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError("Enter a real date as YYYY-MM-DD.") from None


CleanStr = Annotated[str, AfterValidator(_no_control_characters)]
IsoDate = Annotated[dt.date, BeforeValidator(_iso_date)]

EMAIL_SCHEMA = {
    "type": "string",
    "format": "email",
    "maxLength": EMAIL_MAX_LENGTH,
    "pattern": EMAIL_PATTERN,
}
PHONE_SCHEMA = {"type": "string", "maxLength": PHONE_MAX_LENGTH, "pattern": PHONE_PATTERN}

EMAIL_ALSO = (
    "The pattern states the addresses always accepted; other addresses Django's email "
    "validator accepts (a quoted local part, an IP literal or an internationalised domain) "
    "are accepted too. Surrounding spaces are ignored; stored in lower case."
)
PHONE_ALSO = (
    "The pattern states the numbers always accepted: a US mobile number that libphonenumber "
    "finds valid (the pattern is built from its metadata), as ten digits or in E.164 (+1 and "
    "ten digits). Other numbers as people type them, such as (202) 555-0123 or "
    "+44 7400 123456, are accepted when libphonenumber finds them valid. Stored in E.164."
)

NULL = {"type": "null"}

# "" (none) or an address / a number; null (InviteIn only) means "the chart's".
EmailOrBlank = Annotated[CleanStr, WithJsonSchema({"anyOf": [BLANK, EMAIL_SCHEMA]})]
PhoneOrBlank = Annotated[CleanStr, WithJsonSchema({"anyOf": [BLANK, PHONE_SCHEMA]})]
EmailOrNull = Annotated[CleanStr | None, WithJsonSchema({"anyOf": [EMAIL_SCHEMA, NULL]})]
PhoneOrBlankOrNull = Annotated[
    CleanStr | None, WithJsonSchema({"anyOf": [BLANK, PHONE_SCHEMA, NULL]})
]


def _text(default=..., *, field: str, **schema) -> object:
    """A text field with the database column's length as its limit; the JSON Schema says that
    control characters are refused (or, with `pattern=NAME_PATTERN`, also a blank value)."""
    schema.setdefault("pattern", TEXT_PATTERN)
    return Field(
        default,
        max_length=Patient._meta.get_field(field).max_length,
        json_schema_extra=schema,
    )


def _name(*, field: str) -> object:
    return _text(
        field=field,
        pattern=NAME_PATTERN,
        minLength=1,
        description="Required: at least one character that is not a space.",
    )


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class PatientIn(InputSchema):
    """A new chart. Text fields refuse control characters (tab and line breaks aside)."""

    legal_first_name: CleanStr = _name(field="legal_first_name")
    legal_last_name: CleanStr = _name(field="legal_last_name")
    preferred_name: CleanStr = _text("", field="preferred_name")
    date_of_birth: IsoDate = Field(
        ...,
        description="YYYY-MM-DD, from 1900-01-01 to today (the pattern states that range as "
        "of the day this description was served).",
        json_schema_extra=_date_of_birth_schema,
    )
    sex: Sex = Sex.UNKNOWN
    email: EmailOrBlank = Field(
        "",
        max_length=EMAIL_MAX_LENGTH,
        description="The patient's email address, or empty for none. " + EMAIL_ALSO,
    )
    mobile_phone: PhoneOrBlank = Field(
        "",
        max_length=PHONE_MAX_LENGTH,
        description="The patient's mobile phone, or empty for none. " + PHONE_ALSO,
    )
    address_line1: CleanStr = _text("", field="address_line1")
    address_line2: CleanStr = _text("", field="address_line2")
    city: CleanStr = _text("", field="city")
    state: CleanStr = _text("", field="state")
    postal_code: CleanStr = _text("", field="postal_code")
    preferred_language: Language | Literal[""] = Field(
        "",
        description="The language the patient prefers, as a BCP 47 code from the chart's list, "
        "or empty for not recorded. When Portico speaks it (en, es), the patient's portal pages "
        "and emails use it until the patient chooses a language; else the browser's language.",
    )


class PatientFilter(InputSchema):
    q: CleanStr = Field(
        "", max_length=100, description="Part of a name, or a date of birth (YYYY-MM-DD)."
    )


class PatientOut(Schema):
    id: UUID
    legal_first_name: str
    legal_last_name: str
    preferred_name: str
    date_of_birth: dt.date
    sex: str
    email: str
    mobile_phone: str
    address_line1: str
    address_line2: str
    city: str
    state: str
    postal_code: str
    preferred_language: str
    portal_status: str

    @staticmethod
    def resolve_id(patient) -> UUID:
        return patient.public_id

    @staticmethod
    def resolve_portal_status(patient) -> str:
        # No access row yet means "not invited" (a missing reverse one-to-one is an
        # AttributeError, so getattr's default covers it).
        access = getattr(patient, "portal_access", None)
        return access.effective_state if access else "not_invited"


class InviteIn(InputSchema):
    """Omitted or null (or no body at all): the chart's email/phone. Given: stored on the chart."""

    email: EmailOrNull = Field(
        None,
        max_length=EMAIL_MAX_LENGTH,
        description="Where the enrollment email goes (required: the chart's when omitted or "
        "null, and then the chart must have one). " + EMAIL_ALSO,
    )
    phone: PhoneOrBlankOrNull = Field(
        None,
        max_length=PHONE_MAX_LENGTH,
        description="The phone for the security code (the phone route); empty for none, the "
        "chart's when omitted or null. " + PHONE_ALSO,
    )


class TimelineEntryOut(Schema):
    action: str
    label: str
    at: dt.datetime
    by: str
    representative_id: UUID | None = Field(
        None,
        description="The representative the event was about (SPEC §9); null for the "
        "patient's own access.",
    )


class PortalStatusOut(Schema):
    status: str
    status_label: str
    access_code: str | None
    email: str | None
    phone: str | None
    invited_at: dt.datetime | None
    expires_at: dt.datetime | None
    locked: bool
    actions: list[str]
    timeline: list[TimelineEntryOut]


class ErrorOut(Schema):
    detail: str
    errors: dict[str, list[str]] = {}


def text_field(model, field: str, default=..., *, required: bool = False, **extra) -> Any:
    """A text field with the column's length as its limit. The JSON Schema states the
    services' rules: no control characters and, when `required`, not blank."""
    schema: dict[str, Any] = (
        {"pattern": NAME_PATTERN, "minLength": 1} if required else {"pattern": TEXT_PATTERN}
    )
    return Field(
        default,
        max_length=model._meta.get_field(field).max_length,
        json_schema_extra=schema,
        **extra,
    )
