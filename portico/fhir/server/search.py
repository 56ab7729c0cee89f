"""Reading, searching and `$everything`, over the table of portico.fhir.server.resources.

Pages are read by keyset, never by offset: newest first by the clinical date, then by key, and
the next page starts after the last row of this one (an opaque, encrypted `_cursor`). A row
inserted between two pages sorts before or after that row, so no row of the original list is
ever shown twice or skipped. A type read from several tables (Observation: labs, vitals and
assessments) queries each with the cursor and the page's size and merges them; `$everything`
reads section after section. The queries of a page are fixed in number, whatever the size of
the record: one per source (at most), one for the `total` of every source together, at most two
to mark what the page's resources may name (resources.prepare), one for `_include`d
Practitioners.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet

from portico.core import crypto
from portico.fhir import scopes as smart_scopes
from portico.fhir.server import resources
from portico.fhir.server.params import (
    MAX_VALUES,
    Condition,
    Param,
    SearchError,
    as_q,
    as_uuid,
    c_and,
    c_any,
    check_value,
    split_commas,
)
from portico.fhir.server.resources import EVERYTHING, SOURCES, TYPES, Include, ResourceType, Source

DEFAULT_COUNT = 50
MAX_COUNT = 200
# Parameters every search takes besides the type's own (the CapabilityStatement's
# documentation names them).
RESULT_PARAMS = ("_count", "_cursor", "_include", "_summary", "_total", "_format", "_pretty")
EVERYTHING_PARAMS = ("_count", "_cursor", "_type", "_total", "_format", "_pretty")


@dataclass
class Search:
    """A parsed search: conditions (each a parameter and its values, one of which must
    match; all must hold), the page's size and start, and what else the answer holds."""

    conditions: list[tuple[Param, list[Any]]] = field(default_factory=list)
    count: int = DEFAULT_COUNT
    cursor: list | None = None
    cursor_text: str | None = None
    includes: list[tuple[Include, str | None]] = field(default_factory=list)
    summary_count: bool = False
    # `_total` as asked: None (not given: the first page counts, later pages leave it out),
    # False (none) or True (estimate, accurate: every page counts).
    total: bool | None = None
    types: list[str] | None = None  # $everything's _type
    # The parameters as given, but the cursor: the links of the answer repeat them.
    echo: list[tuple[str, str]] = field(default_factory=list)

    @property
    def counts(self) -> bool:
        """Whether the answer carries the `total`: on the first page, or on every page when
        `_total` asks for it (`_summary=count` always). Later pages leave it out by default:
        the first page told the app, and counting a whole record again on each of its pages
        costs as much as the page itself."""
        if self.summary_count:
            return True
        return self.total if self.total is not None else self.cursor is None


@dataclass
class Page:
    matches: list[dict]
    included: list[dict]
    total: int | None
    next_cursor: str | None


# -- the request's parameters -------------------------------------------------------------------


def _single(search_seen: set, name: str) -> None:
    if name in search_seen:
        raise SearchError(f"{name} is given more than once.")
    search_seen.add(name)


def _parse_count(value: str) -> int:
    if not value.isascii() or not value.isdigit() or len(value) > 6:
        raise SearchError(f"_count must be a whole number, not “{value}”.")
    return min(int(value), MAX_COUNT)


def _parse_include(value: str, rtype: ResourceType) -> tuple[Include, str | None]:
    parts = value.split(":")
    if len(parts) in (2, 3):
        include = rtype.includes.get(":".join(parts[:2]))
        target = parts[2] if len(parts) == 3 else None
        if include is not None and (target is None or target in include.targets):
            return include, target
    supported = ", ".join(rtype.includes) or "none"
    raise SearchError(
        f"_include={value} is not supported here (supported: {supported}).", code="not-supported"
    )


def parse(
    items: list[tuple[str, str]],
    reader,
    *,
    rtype: ResourceType | None,
    lenient: bool = False,
) -> Search:
    """The search that `items` (name, value pairs, in order) ask for: of `rtype`, or of
    `$everything` when it is None. Raises SearchError on anything not understood (unknown
    parameters are dropped instead when `lenient`)."""
    search = Search()
    seen: set[str] = set()
    values_given = 0
    allowed = RESULT_PARAMS if rtype is not None else EVERYTHING_PARAMS
    for name, value in items:
        values_given += 1
        if values_given > MAX_VALUES:
            raise SearchError("Too many search values.", code="too-costly")
        check_value(value)
        base, _colon, modifier = name.partition(":")
        known = base in allowed or (rtype is not None and base in rtype.params)
        if not known:
            if lenient:
                continue
            raise SearchError(f"The search parameter “{name}” is not supported.", "not-supported")
        if modifier:
            raise SearchError(f"The modifier “:{modifier}” is not supported.", "not-supported")
        if base != "_cursor":
            search.echo.append((name, value))
        if base == "_count":
            _single(seen, base)
            search.count = _parse_count(value)
        elif base == "_cursor":
            _single(seen, base)
            search.cursor = _read_cursor(value, rtype)
            search.cursor_text = value
        elif base == "_summary":
            _single(seen, base)
            if value == "count":
                search.summary_count = True
            elif value != "false":
                raise SearchError(f"_summary={value} is not supported.", code="not-supported")
        elif base == "_total":
            _single(seen, base)
            if value not in ("none", "estimate", "accurate"):
                raise SearchError(f"_total must be none, estimate or accurate, not “{value}”.")
            search.total = value != "none"
        elif base in ("_format", "_pretty"):
            continue  # read by the view (the format), or without effect (pretty printing)
        elif base == "_include" and rtype is not None:
            search.includes.extend(_parse_include(v, rtype) for v in split_commas(value))
        elif base == "_type":
            types = split_commas(value)
            for name_of_type in types:
                if name_of_type not in TYPES:
                    raise SearchError(f"_type: “{name_of_type}” is not a type of this server.")
            search.types = [t for t in (search.types or types) if t in types]
        elif rtype is not None:
            param = rtype.params[base]
            parts = split_commas(value)
            values_given += len(parts) - 1
            if values_given > MAX_VALUES:
                raise SearchError("Too many search values.", code="too-costly")
            for part in parts:
                check_value(part)
            search.conditions.append((param, [param.parse(part, reader) for part in parts]))
    return search


# -- cursors ------------------------------------------------------------------------------------


def _date_text(value) -> str | None:
    return None if value is None else value.isoformat()


def _make_cursor(kind: str, position: list) -> str:
    return crypto.encrypt(json.dumps([kind, *position], separators=(",", ":")))


def _read_cursor(text: str, rtype: ResourceType | None) -> list:
    kind = rtype.name if rtype is not None else "$everything"
    try:
        data = json.loads(crypto.decrypt(text))
    except (crypto.DecryptionError, ValueError) as error:
        raise SearchError("_cursor is not one this server gave.") from error
    if not isinstance(data, list) or len(data) != 4 or data[0] != kind:
        raise SearchError("_cursor belongs to another search.")
    return data[1:]


def _date_of(source: Source, text: str):
    if source.is_instant(source.date_field or ""):
        return dt.datetime.fromisoformat(text)
    return dt.date.fromisoformat(text)


# -- queries ------------------------------------------------------------------------------------


def count_rows(querysets: list[QuerySet]) -> int:
    """How many rows the querysets hold together, in one query (their keys, UNION ALL)."""
    keys = [qs.order_by().values("pk") for qs in querysets]
    if not keys:
        return 0
    return keys[0].union(*keys[1:], all=True).count() if len(keys) > 1 else keys[0].count()


def _newest_first(rows: QuerySet, source: Source) -> QuerySet:
    if source.date_field is None:
        return rows.order_by("-pk")
    return rows.order_by(f"-{source.date_field}", "-pk")


def _after(source: Source, date, key: int) -> Q:
    """Rows after (date, key) in the source's own order."""
    if source.date_field is None:
        return Q(pk__lt=key)
    f = source.date_field
    return Q(**{f"{f}__lt": date}) | Q(**{f: date, "pk__lt": key})


def _condition(source: Source, search: Search, reader) -> Condition:
    result: Condition = True
    for param, values in search.conditions:
        result = c_and(result, c_any(param.condition(v, source, reader) for v in values))
        if result is False:
            break
    return result


def _sort_key(index: int, source: Source, row) -> tuple:
    if source.date_field is None:
        return (row.pk,)
    return (getattr(row, source.date_field), -index, row.pk)


def run(rtype: ResourceType, search: Search, reader) -> Page:
    """One page of a search of `rtype`: its rows newest first, merged over the type's sources."""
    plans = []
    for index, source in enumerate(rtype.sources):
        condition = _condition(source, search, reader)
        if condition is not False:
            plans.append((index, source, source.rows(reader).filter(as_q(condition))))
    total = count_rows([rows for _i, _s, rows in plans]) if search.counts else None
    if search.summary_count or search.count == 0:
        return Page([], [], total, None)
    found: list[tuple[tuple, int, Source, Any]] = []
    for index, source, rows in plans:
        if search.cursor is not None:
            rows = rows.filter(_after_merged(index, source, search.cursor))
        found.extend(
            (_sort_key(index, source, row), index, source, row)
            for row in _newest_first(rows, source)[: search.count + 1]
        )
    found.sort(key=lambda item: item[0], reverse=True)
    page = found[: search.count]
    resources.prepare([(source, row) for _k, _i, source, row in page], reader)
    next_cursor = None
    if len(found) > search.count:
        _key, index, source, row = page[-1]
        date = getattr(row, source.date_field) if source.date_field else None
        next_cursor = _make_cursor(rtype.name, [_date_text(date), index, row.pk])
    rows_of_page = [row for _k, _i, _s, row in page]
    return Page(
        matches=[source.build(row, reader) for _k, _i, source, row in page],
        included=_included(rows_of_page, search, reader),
        total=total,
        next_cursor=next_cursor,
    )


def _after_merged(index: int, source: Source, cursor: list) -> Q:
    """Rows after the cursor in the merged order (date newest first, then source, then key)."""
    date_text, cursor_index, key = cursor
    try:
        if not isinstance(key, int) or not isinstance(cursor_index, int):
            raise ValueError
        if source.date_field is None:
            return Q(pk__lt=key)
        date = _date_of(source, date_text)
    except (TypeError, ValueError) as error:
        raise SearchError("_cursor is not one this server gave.") from error
    f = source.date_field
    if index > cursor_index:
        return Q(**{f"{f}__lte": date})
    if index < cursor_index:
        return Q(**{f"{f}__lt": date})
    return _after(source, date, key)


def _included(rows: list, search: Search, reader) -> list[dict]:
    """The `_include`d resources of a page's rows that the token may read."""
    if not search.includes:
        return []
    wanted: set[tuple[str, Any]] = set()
    for include, target in search.includes:
        for row in rows:
            for target_type, key in include.refers_to(row):
                if target in (None, target_type):
                    wanted.add((target_type, key))
    readable = {t for t, _k in wanted if smart_scopes.allowed(reader.scopes, t, "r")}
    included = []
    if "Patient" in readable:
        included.append(SOURCES["patient"].build(reader.patient, reader))
    if "Organization" in readable:
        included.append(SOURCES["organization"].build(reader.practice, reader))
    keys = sorted(k for t, k in wanted if t == "Practitioner")
    if "Practitioner" in readable and keys:
        source = SOURCES["practitioners"]
        rows_found = source.rows(reader).filter(pk__in=keys).order_by("pk")
        included.extend(source.build(row, reader) for row in rows_found)
    return included


# -- read ---------------------------------------------------------------------------------------


def read(rtype: ResourceType, resource_id: str, reader) -> dict | None:
    """The resource `rtype/resource_id` if the reader may see it, else None (the same None
    for another patient's, an unshared and a kept-from-representatives item)."""
    value = as_uuid(resource_id)
    if value is None:
        return None
    for source in rtype.sources:
        for row in source.rows(reader).filter(**{source.id_field: value})[:1]:
            resources.prepare([(source, row)], reader)
            return source.build(row, reader)
    return None


# -- $everything --------------------------------------------------------------------------------


def everything_sections(reader, types: list[str] | None) -> list[tuple[int, Source]]:
    """The sections of `$everything` the token may read (and `_type` asks for), with their
    place in EVERYTHING."""
    sections = []
    for index, key in enumerate(EVERYTHING):
        source = SOURCES[key]
        name = source.resource_type
        if types is not None and name not in types:
            continue
        if name == "Patient" or smart_scopes.allowed(reader.scopes, name, "s"):
            sections.append((index, source))
    return sections


def everything(search: Search, reader) -> Page:
    """One page of the patient's whole record: section after section (EVERYTHING), each
    newest first."""
    # Each section's rows are built once, for the total and for the page.
    sections = [
        (index, source, source.rows(reader))
        for index, source in everything_sections(reader, search.types)
    ]
    total = count_rows([rows for _i, _s, rows in sections]) if search.counts else None
    if search.summary_count or search.count == 0:
        return Page([], [], total, None)
    start = None
    if search.cursor is not None:
        start = _everything_start(search.cursor)
    found: list[tuple[int, Source, Any]] = []
    need = search.count + 1
    for index, source, rows in sections:
        if start is not None and index < start[0]:
            continue
        if start is not None and index == start[0]:
            rows = rows.filter(_everything_after(source, start))
        found.extend((index, source, row) for row in _newest_first(rows, source)[:need])
        need = search.count + 1 - len(found)
        if need <= 0:
            break
    page = found[: search.count]
    resources.prepare([(source, row) for _i, source, row in page], reader)
    next_cursor = None
    if len(found) > search.count:
        index, source, row = page[-1]
        date = getattr(row, source.date_field) if source.date_field else None
        next_cursor = _make_cursor("$everything", [index, _date_text(date), row.pk])
    return Page(
        matches=[source.build(row, reader) for _i, source, row in page],
        included=[],
        total=total,
        next_cursor=next_cursor,
    )


def _everything_start(cursor: list) -> tuple[int, Any, int]:
    index, date_text, key = cursor
    if not isinstance(index, int) or not 0 <= index < len(EVERYTHING) or not isinstance(key, int):
        raise SearchError("_cursor is not one this server gave.")
    return index, date_text, key


def _everything_after(source: Source, start: tuple[int, Any, int]) -> Q:
    _index, date_text, key = start
    if source.date_field is None:
        return Q(pk__lt=key)
    try:
        date = _date_of(source, date_text)
    except (TypeError, ValueError) as error:
        raise SearchError("_cursor is not one this server gave.") from error
    return _after(source, date, key)
