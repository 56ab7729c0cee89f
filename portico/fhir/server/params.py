"""Search parameters: reading their values, and the conditions they put on a source's rows.

Every condition is three-valued: True (every row), False (no row: the source is not queried)
or a Django `Q`. Values are checked strictly: anything the server cannot read is a
`SearchError` (a 400 OperationOutcome), never a guess and never a 500.

Dates follow FHIR's search rules for ranges: a value is the range its precision implies
("2024" is the whole year), the stored date is the range it covers (a day, or the instant of a
date-time), and each prefix compares the two ranges (eq ne gt lt ge le sa eb; `ap` is not
supported). A value without a time zone is read in the practice's time zone, the zone the
practice records its days in.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db.models import Q

# A condition on rows: every row, none, or a Q.
Condition = bool | Q

# At most this many values in one request (all parameters, all comma-separated values): a
# longer list is refused before it becomes a query the database refuses.
MAX_VALUES = 100
MAX_VALUE_LENGTH = 1000


class SearchError(Exception):
    """A search the server refuses (400); `diagnostics` says why, `code` is FHIR's issue
    type ("invalid", "not-supported", "too-costly")."""

    def __init__(self, diagnostics: str, code: str = "invalid"):
        super().__init__(diagnostics)
        self.diagnostics = diagnostics
        self.code = code


# -- three-valued conditions ----------------------------------------------------------------

NOTHING = Q(pk__isnull=True)  # the rows of no source have a null key


def c_not(c: Condition) -> Condition:
    return (not c) if isinstance(c, bool) else ~c


def c_and(a: Condition, b: Condition) -> Condition:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return a & b


def c_or(a: Condition, b: Condition) -> Condition:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return a | b


def c_any(conditions) -> Condition:
    result: Condition = False
    for c in conditions:
        result = c_or(result, c)
    return result


def as_q(c: Condition) -> Q:
    if c is True:
        return Q()
    if c is False:
        return NOTHING
    return c


# -- splitting values -------------------------------------------------------------------------


def split_commas(raw: str) -> list[str]:
    """The comma-separated values of one parameter (FHIR's "or"); `\\,` is a literal comma."""
    parts, current, escaped = [], [], False
    for char in raw:
        if escaped:
            current.append("\\" + char)
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    if escaped:
        current.append("\\")
    parts.append("".join(current))
    return parts


def _unescape(text: str) -> str:
    return re.sub(r"\\([\\,|$])", r"\1", text)


def check_value(value: str) -> None:
    if not value:
        raise SearchError("A search parameter has an empty value.")
    if len(value) > MAX_VALUE_LENGTH:
        raise SearchError("A search value is too long.", code="too-costly")
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in value):
        raise SearchError("A search value holds a control character.")


# -- tokens -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    """A token value: `system` None when none was given ("code"), "" for "|code"; `code` ""
    for "system|" (any code of the system)."""

    system: str | None
    code: str


def parse_token(value: str) -> Token:
    match = re.match(r"^((?:[^\\|]|\\.)*)\|(.*)$", value)
    if match is None:
        return Token(system=None, code=_unescape(value))
    system, code = _unescape(match.group(1)), _unescape(match.group(2))
    if not system and not code:
        raise SearchError(f"The token “{value}” names neither a system nor a code.")
    return Token(system=system, code=code)


# -- dates --------------------------------------------------------------------------------------


class _Infinity:
    def __init__(self, sign: int):
        self.sign = sign

    def __repr__(self) -> str:
        return "+∞" if self.sign > 0 else "-∞"


BEFORE_ALL = _Infinity(-1)
AFTER_ALL = _Infinity(+1)
Bound = dt.datetime | _Infinity


@dataclass(frozen=True)
class Moment:
    """One end of a searched range: in the practice's local time (naive; for stored dates)
    and in UTC (for stored instants). Either may be past the calendar's ends."""

    local: Bound
    utc: Bound


DATE_PREFIXES = ("eq", "ne", "gt", "lt", "ge", "le", "sa", "eb")
_DATE = re.compile(
    r"^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
    r"(Z|[+-]\d{2}:\d{2})?)?)?)?$"
)


@dataclass(frozen=True)
class DateValue:
    prefix: str
    start: Moment
    end: Moment  # exclusive


def _past_the_end(year: int) -> _Infinity:
    return AFTER_ALL if year > 5000 else BEFORE_ALL


def _moment(naive: dt.datetime | _Infinity, offset: dt.tzinfo | None, zone) -> Moment:
    if isinstance(naive, _Infinity):
        return Moment(naive, naive)
    edge = _past_the_end(naive.year)  # where a moment off the calendar's ends lies
    aware = naive.replace(tzinfo=offset if offset is not None else zone)
    utc: Bound
    local: Bound = naive
    try:
        utc = aware.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        utc = edge
    if offset is not None:
        try:
            local = aware.astimezone(zone).replace(tzinfo=None)
        except (OverflowError, ValueError):
            local = edge
    return Moment(local, utc)


def _add_months(value: dt.datetime, months: int) -> dt.datetime:
    month = value.month - 1 + months
    return value.replace(year=value.year + month // 12, month=month % 12 + 1)


def parse_date(value: str, zone) -> DateValue:
    prefix, text = "eq", value
    if value[:2].isalpha():
        prefix, text = value[:2], value[2:]
        if prefix == "ap":
            raise SearchError("The date prefix “ap” is not supported.", code="not-supported")
        if prefix not in DATE_PREFIXES:
            raise SearchError(f"“{prefix}” is not a date prefix.")
    match = _DATE.match(text)
    if match is None:
        raise SearchError(f"“{text}” is not a date (YYYY, YYYY-MM, YYYY-MM-DD or a date-time).")
    year, month, day, hour, minute, second, fraction, zone_text = match.groups()
    if hour is None and zone_text is not None:
        raise SearchError(f"“{text}” has a time zone but no time.")
    try:
        # The wall time as written; its zone (given, or the practice's) is applied in _moment.
        start = dt.datetime(  # noqa: DTZ001
            int(year),
            int(month or 1),
            int(day or 1),
            int(hour or 0),
            int(minute or 0),
            int(second or 0),
            int((fraction or "0").ljust(6, "0")[:6]),
        )
    except ValueError as error:
        raise SearchError(f"“{text}” is not a date of the calendar.") from error
    offset = None
    if zone_text == "Z":
        offset = dt.UTC
    elif zone_text:
        hours, minutes = int(zone_text[1:3]), int(zone_text[4:6])
        if hours > 14 or minutes > 59:
            raise SearchError(f"“{zone_text}” is not a time zone offset.")
        delta = dt.timedelta(hours=hours, minutes=minutes)
        offset = dt.timezone(delta if zone_text[0] == "+" else -delta)
    end: dt.datetime | _Infinity
    try:
        if fraction is not None:
            end = start + dt.timedelta(microseconds=1)
        elif second is not None:
            end = start + dt.timedelta(seconds=1)
        elif minute is not None:
            end = start + dt.timedelta(minutes=1)
        elif day is not None:
            end = start + dt.timedelta(days=1)
        elif month is not None:
            end = _add_months(start, 1)
        else:
            end = start.replace(year=start.year + 1)
    except (OverflowError, ValueError):
        end = AFTER_ALL
    return DateValue(prefix, _moment(start, offset, zone), _moment(end, offset, zone))


def _starts_at_or_after(field: str, is_instant: bool, bound: Moment) -> Condition:
    """The stored range starts at or after `bound`."""
    value = bound.utc if is_instant else bound.local
    if not isinstance(value, dt.datetime):  # before or after the calendar
        return value is BEFORE_ALL
    if is_instant:
        return Q(**{f"{field}__gte": value})
    day = value.date()
    if value.time() != dt.time(0):
        if day == dt.date.max:
            return False
        day += dt.timedelta(days=1)
    return Q(**{f"{field}__gte": day})


def _ends_by(field: str, is_instant: bool, bound: Moment) -> Condition:
    """The stored range ends at or before `bound` (it is over by then)."""
    value = bound.utc if is_instant else bound.local
    if not isinstance(value, dt.datetime):  # before or after the calendar
        return value is AFTER_ALL
    if is_instant:
        return Q(**{f"{field}__lt": value})
    return Q(**{f"{field}__lt": value.date()})


def date_condition(field: str, is_instant: bool, value: DateValue) -> Condition:
    """Rows whose `field` (a date: the day it covers; a date-time: its instant) stands to the
    searched range as the prefix asks."""

    def starts(bound: Moment) -> Condition:
        return _starts_at_or_after(field, is_instant, bound)

    def ends(bound: Moment) -> Condition:
        return _ends_by(field, is_instant, bound)

    lo, hi = value.start, value.end
    if value.prefix == "eq":
        return c_and(starts(lo), ends(hi))
    if value.prefix == "ne":
        return c_or(c_not(starts(lo)), c_not(ends(hi)))
    if value.prefix == "gt":
        return c_not(ends(hi))
    if value.prefix == "lt":
        return c_not(starts(lo))
    if value.prefix == "ge":
        return c_not(ends(lo))
    if value.prefix == "le":
        return c_not(starts(hi))
    if value.prefix == "sa":
        return starts(hi)
    return ends(lo)  # eb


# -- references ---------------------------------------------------------------------------------


def reference_target(value: str, default_type: str) -> tuple[str, str] | None:
    """(type, id) of a reference value: "Type/id", an absolute URL on this server, or a bare
    id (of `default_type`); None for anything that cannot name a resource here."""
    base = settings.PORTICO_FHIR_BASE_URL + "/"
    if value.startswith(base):
        value = value[len(base) :]
    elif "://" in value:
        return None
    parts = value.split("/")
    if len(parts) == 1:
        return default_type, parts[0]
    if len(parts) == 2:
        return parts[0], parts[1]
    return None


def as_uuid(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value)
    except ValueError:
        return None


# -- the parameter kinds ------------------------------------------------------------------------


class Param:
    """One search parameter of a resource type: how its values read, and what rows each
    value matches in each of the type's sources."""

    type = ""  # FHIR's search parameter type, for the CapabilityStatement

    def __init__(self, documentation: str):
        self.documentation = documentation

    def parse(self, value: str, reader) -> Any:
        raise NotImplementedError

    def condition(self, parsed, source, reader) -> Condition:
        raise NotImplementedError


class PatientParam(Param):
    """`patient` / `subject`: the reader's own patient matches every row; any other patient
    (or anything else) matches none."""

    type = "reference"

    def parse(self, value, reader):
        target = reference_target(value, "Patient")
        return target is not None and target == ("Patient", str(reader.patient.public_id))

    def condition(self, parsed, source, reader):
        return bool(parsed)


class IdParam(Param):
    """`_id`: the resource's id (a UUID); any other id matches nothing."""

    type = "token"

    def parse(self, value, reader):
        return as_uuid(value)

    def condition(self, parsed, source, reader):
        if parsed is None:
            return False
        return Q(**{source.id_field: parsed})


class DateParam(Param):
    """A date on the source's clinical date field, or on `fields[source.key]`."""

    type = "date"

    def __init__(self, documentation: str, fields: dict[str, str] | None = None):
        super().__init__(documentation)
        self.fields = fields or {}

    def parse(self, value, reader):
        return parse_date(value, reader.zone)

    def field_of(self, source) -> str:
        return self.fields.get(source.key, source.date_field or "")

    def condition(self, parsed, source, reader):
        field = self.field_of(source)
        return date_condition(field, source.is_instant(field), parsed)


class TokenParam(Param):
    """A token matched by `match(token, source, reader)`."""

    type = "token"

    def __init__(self, documentation: str, match: Callable[[Token, Any, Any], Condition]):
        super().__init__(documentation)
        self.match = match

    def parse(self, value, reader):
        return parse_token(value)

    def condition(self, parsed, source, reader):
        return self.match(parsed, source, reader)


class ReferenceParam(Param):
    """A reference matched by `match(type, id, source, reader)`."""

    type = "reference"

    def __init__(
        self,
        documentation: str,
        default_type: str,
        match: Callable[[str, str, Any, Any], Condition],
    ):
        super().__init__(documentation)
        self.default_type = default_type
        self.match = match

    def parse(self, value, reader):
        return reference_target(value, self.default_type)

    def condition(self, parsed, source, reader):
        if parsed is None:
            return False
        return self.match(parsed[0], parsed[1], source, reader)


def constant_token(system: str, codes: Callable[[Any], str | None]) -> Callable:
    """A token every row of a source shares: `codes(source)` (None: the source has none)."""

    def match(token: Token, source, reader) -> Condition:
        if token.system is not None and token.system != system:
            return False
        code = codes(source)
        return code is not None and (token.code in ("", code))

    return match


def field_token(system: str, field: str, values: dict[str, str]) -> Callable:
    """A token read from a field: `values` maps each FHIR code to the stored value."""

    def match(token: Token, source, reader) -> Condition:
        if token.system is not None and token.system != system:
            return False
        if token.code == "":
            return True
        stored = values.get(token.code)
        return False if stored is None else Q(**{field: stored})

    return match
