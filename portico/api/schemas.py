"""Input and output shapes of the JSON API, kept apart (inputs never echo internal fields)."""

from __future__ import annotations

import datetime as dt
from uuid import UUID

from ninja import Field, Schema


class PatientIn(Schema):
    legal_first_name: str = Field(..., max_length=100)
    legal_last_name: str = Field(..., max_length=100)
    preferred_name: str = Field("", max_length=100)
    date_of_birth: dt.date
    sex: str = "unknown"
    email: str = Field("", max_length=254)
    mobile_phone: str = Field("", max_length=40)
    address_line1: str = Field("", max_length=200)
    address_line2: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=50)
    postal_code: str = Field("", max_length=20)
    preferred_language: str = Field("English", max_length=50)


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


class InviteIn(Schema):
    """Omit email/phone to use the chart's demographics."""

    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)


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
