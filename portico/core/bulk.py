"""Inserting many rows fast (bulk invitations): one prepared INSERT run with executemany.

Django's bulk_create builds and prepares every value through the ORM's compiler, which costs
more than the database itself once rows number in the tens of thousands. insert_rows writes
the same rows with one statement text that both SQLite and PostgreSQL understand, filling in
every column the caller does not give from the model's own defaults (auto_now, callables such
as uuid4, constants, NULL), so a field added to the model later still gets its default.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.db import connections, models, router
from django.db.models.constants import OnConflict
from django.utils import timezone


def _converter(field, connection) -> Callable | None:
    """What turns a Python value into the driver's value for this column (None: as it is)."""
    if isinstance(field, models.UUIDField):
        if connection.features.has_native_uuid_field:
            return None
        return lambda value: None if value is None else value.hex
    if isinstance(field, models.DateTimeField):
        # Rows of one batch mostly share their timestamps: convert each distinct one once.
        return functools.lru_cache(maxsize=64)(connection.ops.adapt_datetimefield_value)
    if isinstance(field, models.DateField):
        return connection.ops.adapt_datefield_value
    if isinstance(field, models.JSONField):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def insert_rows(model, rows: Iterable[dict], *, ignore_conflicts: bool = False) -> int:
    """Insert `rows` (dicts keyed by attname, e.g. "patient_id", all with the same keys).

    Values are plain Python values (UUID, aware datetime, dict for JSON, ids for foreign
    keys); columns not given take the model's default. Returns the number of rows given.
    """
    rows = list(rows)
    if not rows:
        return 0
    connection = connections[router.db_for_write(model)]
    given = set(rows[0])
    now = timezone.now()
    columns, values_by_column = [], []
    for field in model._meta.concrete_fields:
        name = field.attname
        if field.primary_key and name not in given:
            continue  # the database numbers it
        convert = _converter(field, connection)
        if name in given:
            column = [row[name] for row in rows]
            if convert is not None:
                column = [convert(value) for value in column]
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            column = [convert(now) if convert else now] * len(rows)
        elif field.has_default() and callable(field.default):
            column = [field.get_default() for _ in rows]
            if convert is not None:
                column = [convert(value) for value in column]
        elif field.has_default() or field.null or field.empty_strings_allowed:
            fixed = field.get_default()  # the default, else None or ""
            column = [convert(fixed) if convert else fixed] * len(rows)
        elif field.db_default is not models.NOT_PROVIDED:
            continue
        else:
            raise ValueError(f"{model.__name__}.{name} needs a value")
        columns.append(connection.ops.quote_name(field.column))
        values_by_column.append(column)
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = "{} {} ({}) VALUES ({}){}".format(
        connection.ops.insert_statement(on_conflict=on_conflict),
        connection.ops.quote_name(model._meta.db_table),
        ", ".join(columns),
        ", ".join(["%s"] * len(columns)),
        " " + connection.ops.on_conflict_suffix_sql([], on_conflict, [], [])
        if ignore_conflicts
        else "",
    )
    values = list(zip(*values_by_column, strict=True))
    with connection.cursor() as cursor:
        cursor.executemany(sql, values)
    return len(rows)
