"""Reading what the appointment book's pages send (dates, times, ids from query strings and
forms) and putting a service's errors next to the fields they are about."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.utils import timezone

from portico.scheduling import services


def today(practice) -> dt.date:
    return timezone.now().astimezone(services.zone_of(practice)).date()


def parse_uuid(value) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def parse_date(value) -> dt.date | None:
    """A YYYY-MM-DD date from a query string, within years a schedule can show."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        return None
    return day if 1900 <= day.year <= 2200 else None


def parse_instant(value) -> dt.datetime | None:
    """An ISO date and time with its offset (the value of an open time's button or radio)."""
    try:
        moment = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def by_public_id(items, value, key=lambda item: item.public_id):
    wanted = parse_uuid(value) if value else None
    if wanted is None:
        return None
    return next((item for item in items if key(item) == wanted), None)


def chosen_provider(memberships, value):
    """The provider (a User) of this practice's providers chosen by their public id."""
    membership = by_public_id(memberships, value, key=lambda m: m.user.public_id)
    return membership.user if membership is not None else None


def messages_of(error: ValidationError, rename: dict[str, str]) -> dict[str, list[str]]:
    """A service's errors keyed by this page's field names."""
    found: dict[str, list[str]] = defaultdict(list)
    if hasattr(error, "error_dict"):
        for name, texts in error.message_dict.items():
            found[rename.get(name, name)].extend(texts)
    else:
        found["__all__"].extend(error.messages)
    return found


def apply_messages(form, found: dict[str, list[str]]) -> None:
    for name, texts in found.items():
        for text in texts:
            form.add_error(name if name in form.fields else None, text)
