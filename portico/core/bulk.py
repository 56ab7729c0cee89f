"""Inserting many rows fast, for the batch paths only (bulk invitations, their emails and
audit events): one INSERT run with executemany.

Django's bulk_create builds and prepares every value through the ORM's compiler, which costs
more than the database itself once rows number in the tens of thousands. insert_rows writes
the same rows with one statement text that both SQLite and PostgreSQL understand, filling in
every column the caller does not give from the model's own defaults (auto_now, callables such
as uuid4, constants, NULL), so a field added to the model later still gets its default.

It skips what Model.save does, so it refuses (raises BulkInsertRefused) a model that a signal
receiver listens to, or that has a field of a type whose values it does not know how to
convert: such a model must be written through the ORM. Pages never use it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable

from django.db import connections, models, router
from django.db.models import signals
from django.db.models.constants import OnConflict
from django.utils import timezone


class BulkInsertRefused(TypeError):
    """The model cannot be written by insert_rows (a signal listens, or a field type it does not
    convert); write it through the ORM."""


# Fields whose Python values the database drivers take as they are.
_AS_IS = (
    models.AutoField,
    models.BigAutoField,
    models.SmallAutoField,
    models.BooleanField,
    models.CharField,  # EmailField, SlugField, URLField ...
    models.TextField,
    models.IntegerField,  # every integer size, positive or not
)
# The signals Model.__init__ and Model.save send, which insert_rows would not.
_SIGNALS = {
    name: getattr(signals, name) for name in ("pre_init", "post_init", "pre_save", "post_save")
}


def check_insertable(model, using: str = "default") -> None:
    """Raise BulkInsertRefused unless insert_rows can write `model` as the ORM would: no signal
    receiver listens to it, and it has no field whose values it does not convert."""
    _check_fields(model, using)
    for name, signal in _SIGNALS.items():
        if signal.has_listeners(model):
            raise BulkInsertRefused(
                f"{model.__name__} has a {name} receiver, which insert_rows would skip; write "
                "it through the ORM."
            )


@functools.cache
def _check_fields(model, using: str) -> None:
    for field in model._meta.concrete_fields:
        _converter(field, connections[using])


def _converter(field, connection) -> Callable | None:
    """What turns a Python value into the driver's value for this column (None: as it is)."""
    if isinstance(field, models.ForeignKey):
        target = field.target_field
        if not isinstance(target, _AS_IS):
            raise BulkInsertRefused(
                f"{field.model.__name__}.{field.name} points at a {type(target).__name__} key, "
                "which insert_rows does not convert."
            )
        return None
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
    if isinstance(field, models.GenericIPAddressField):
        return lambda value: connection.ops.adapt_ipaddressfield_value(value or None)
    if isinstance(field, _AS_IS):
        return None
    raise BulkInsertRefused(
        f"{field.model.__name__}.{field.name} is a {type(field).__name__}, which insert_rows "
        "does not convert; write this model through the ORM."
    )


def insert_rows(model, rows: Iterable[dict], *, ignore_conflicts: bool = False) -> int:
    """Insert `rows` (dicts keyed by attname, e.g. "patient_id", all with the same keys).

    Values are plain Python values (UUID, aware datetime, dict for JSON, ids for foreign
    keys); columns not given take the model's default. Returns the number of rows given.
    Raises BulkInsertRefused for a model it cannot write faithfully (see the module's notes).
    """
    connection = connections[router.db_for_write(model)]
    check_insertable(model, connection.alias)
    rows = list(rows)
    if not rows:
        return 0
    plan = _plan(model, tuple(sorted(rows[0])), connection.alias, ignore_conflicts)
    now = timezone.now()
    values_by_column = [fill(rows, now) for fill in plan.fills]
    values = list(zip(*values_by_column, strict=True))
    with connection.cursor() as cursor:
        if len(values) == 1:
            cursor.execute(plan.sql, values[0])
        else:
            cursor.executemany(plan.sql, values)
    return len(rows)


class _Plan:
    """The INSERT statement for one model, set of given columns and database, and for each of
    its columns the function that makes that column's values for a batch of rows."""

    def __init__(self, model, given: tuple[str, ...], connection, ignore_conflicts: bool):
        self.fills: list[Callable] = []
        columns = []
        for field in model._meta.concrete_fields:
            fill = self._fill(field, given, connection)
            if fill is None:
                continue
            columns.append(connection.ops.quote_name(field.column))
            self.fills.append(fill)
        on_conflict = OnConflict.IGNORE if ignore_conflicts else None
        self.sql = "{} {} ({}) VALUES ({}){}".format(
            connection.ops.insert_statement(on_conflict=on_conflict),
            connection.ops.quote_name(model._meta.db_table),
            ", ".join(columns),
            ", ".join(["%s"] * len(columns)),
            " " + connection.ops.on_conflict_suffix_sql([], on_conflict, [], [])
            if ignore_conflicts
            else "",
        )

    @staticmethod
    def _fill(field, given, connection) -> Callable | None:
        """fill(rows, now) -> the column's values, or None when the database fills it."""
        name = field.attname
        if field.primary_key and name not in given:
            return None  # the database numbers it
        convert = _converter(field, connection)
        if name in given and convert is None:
            return lambda rows, now: [row[name] for row in rows]
        convert = convert or (lambda value: value)
        if name in given:
            return lambda rows, now: [convert(row[name]) for row in rows]
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            return lambda rows, now: [convert(now)] * len(rows)
        if field.has_default() and callable(field.default):
            return lambda rows, now: [convert(field.get_default()) for _ in rows]
        if field.has_default() or field.null or field.empty_strings_allowed:
            fixed = field.get_default()  # the default, else None or ""
            return lambda rows, now: [convert(fixed)] * len(rows)
        if field.db_default is not models.NOT_PROVIDED:
            return None
        raise ValueError(f"{field.model.__name__}.{name} needs a value")


@functools.cache
def _plan(model, given: tuple[str, ...], alias: str, ignore_conflicts: bool) -> _Plan:
    return _Plan(model, given, connections[alias], ignore_conflicts)
