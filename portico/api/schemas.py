"""Input and output shapes of the JSON API, kept apart (inputs never echo internal fields).

Inputs are strict at the boundary: unknown fields are refused (a typo such as `dob` must not
be silently ignored), dates are ISO strings only (pydantic would otherwise read `0` as
1970-01-01), and control characters are refused (PostgreSQL cannot store NUL). The rules about
values themselves (valid email, phone, date of birth in the past) live in the services, so the
pages and the API give the same answers.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator, BeforeValidator, ConfigDict

from portico.charts.models import Patient, Sex
from portico.charts.validation import has_control_characters

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def _text(default=..., *, field: str) -> object:
    """A text field with the database column's length as its limit."""
    return Field(default, max_length=Patient._meta.get_field(field).max_length)


class InputSchema(Schema):
    model_config = ConfigDict(extra="forbid")


class PatientIn(InputSchema):
    legal_first_name: CleanStr = _text(field="legal_first_name")
    legal_last_name: CleanStr = _text(field="legal_last_name")
    preferred_name: CleanStr = _text("", field="preferred_name")
    date_of_birth: IsoDate = Field(..., description="YYYY-MM-DD, not in the future.")
    sex: Sex = Sex.UNKNOWN
    email: CleanStr = _text("", field="email")
    mobile_phone: CleanStr = Field(
        "", max_length=40, description="As people type it; stored in E.164."
    )
    address_line1: CleanStr = _text("", field="address_line1")
    address_line2: CleanStr = _text("", field="address_line2")
    city: CleanStr = _text("", field="city")
    state: CleanStr = _text("", field="state")
    postal_code: CleanStr = _text("", field="postal_code")
    preferred_language: CleanStr = _text("English", field="preferred_language")


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
    """Omit email/phone (or the whole body) to use the chart's demographics."""

    email: CleanStr | None = Field(None, max_length=254)
    phone: CleanStr | None = Field(None, max_length=40)


class TimelineEntryOut(Schema):
    action: str
    label: str
    at: dt.datetime
    by: str


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
