"""Model rows read with SQL built once per process, for the few queries that every signed-in
request runs (the session, the account, the staff memberships, the patient's portal accesses).

Django builds and compiles a QuerySet's SQL each time it is evaluated. For a small query that
costs about 0.3 ms of CPU, several times what the database takes to answer, and a signed-in page
makes four or five of them before it does anything of its own. Here the column lists come from
the models' own metadata, values pass through the same converters Django applies, and instances
are built with `Model.from_db`, so what callers get is what the ORM would have given them.
Everything else keeps using the ORM (and core.bulk writes rows the same way).
"""

from __future__ import annotations

from django.db import connections
from django.db.models import Model
from django.db.models.base import ModelState
from django.db.models.signals import post_init, pre_init


class ModelColumns:
    """One model's concrete columns under a table alias in a SELECT, and instances built from
    those columns of a result row."""

    def __init__(self, model: type[Model], alias: str):
        self.model = model
        self.alias = alias
        self.fields = list(model._meta.concrete_fields)
        self.attnames = [field.attname for field in self.fields]
        self._pk_index = self.attnames.index(model._meta.pk.attname)
        self._converters: dict[str, list] = {}  # per database alias
        self._plain: bool | None = None  # instances may skip Model.__init__ (see _instance)

    def __len__(self) -> int:
        return len(self.fields)

    def select_list(self, connection) -> str:
        quote = connection.ops.quote_name
        return ", ".join(f"{quote(self.alias)}.{quote(field.column)}" for field in self.fields)

    def _converters_for(self, connection) -> list:
        converters = self._converters.get(connection.alias)
        if converters is None:
            converters = []
            for field in self.fields:
                column = field.get_col(self.alias)
                functions = connection.ops.get_db_converters(column) + column.get_db_converters(
                    connection
                )
                converters.append((column, functions))
            self._converters[connection.alias] = converters
        return converters

    def build(self, connection, row, start: int = 0) -> Model | None:
        """The instance in row[start:start + len(self)], or None when a LEFT JOIN found none."""
        values = list(row[start : start + len(self.fields)])
        if values[self._pk_index] is None:
            return None
        for i, (column, functions) in enumerate(self._converters_for(connection)):
            value = values[i]
            for function in functions:
                value = function(value, column, connection)
            values[i] = value
        return self._instance(connection.alias, values)

    def _instance(self, alias: str, values: list) -> Model:
        """What `Model.from_db(alias, attnames, values)` returns.

        Model.__init__ is generic (keyword handling, descriptors, two signals) and was the
        largest single cost of building these rows. For a model with no init signal receivers
        and its own from_db not overridden, the same instance is made by setting the
        attributes and the state directly; any other model goes through from_db.
        """
        model = self.model
        if self._plain is None:
            self._plain = (
                model.from_db.__func__ is Model.from_db.__func__
                and not pre_init.has_listeners(model)
                and not post_init.has_listeners(model)
            )
        if not self._plain:
            return model.from_db(alias, self.attnames, values)
        instance = model.__new__(model)
        state = ModelState()
        state.adding = False
        state.db = alias
        instance._state = state
        instance.__dict__.update(zip(self.attnames, values, strict=True))
        return instance


class Select:
    """A SELECT built once per database and run with new parameters; each row comes back as a
    tuple of instances, one per ModelColumns in `columns` (None for a LEFT JOIN that found
    nothing).

    `build(quote, select_list)` returns the statement's text: `quote` quotes an identifier and
    `select_list` is every column of `columns`, in order, each qualified by its ModelColumns'
    table alias. Take identifiers from model metadata and pass every value as a parameter.
    """

    def __init__(self, columns: list[ModelColumns], build, *, param_fields=()):
        self.columns = columns
        self.build = build
        # The model field each parameter is compared with, where its value needs preparing for
        # the database (a UUID is text on SQLite); None or missing for plain values.
        self.param_fields = list(param_fields)
        self._sql: dict[str, str] = {}

    def rows(self, params, using: str = "default") -> list[tuple]:
        connection = connections[using]
        sql = self._sql.get(connection.alias)
        if sql is None:
            select_list = ", ".join(c.select_list(connection) for c in self.columns)
            sql = self._sql[connection.alias] = self.build(connection.ops.quote_name, select_list)
        if self.param_fields:
            params = [
                field.get_db_prep_value(value, connection) if field is not None else value
                for field, value in zip(self.param_fields, params, strict=False)
            ] + list(params[len(self.param_fields) :])
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            fetched = cursor.fetchall()
        result = []
        for row in fetched:
            instances, start = [], 0
            for columns in self.columns:
                instances.append(columns.build(connection, row, start))
                start += len(columns)
            result.append(tuple(instances))
        return result


def fetch_one(model: type[Model], column: str, value, using: str = "default") -> Model | None:
    """The instance whose `column` (a unique one) equals `value`, or None."""
    select = _by_column.get((model, column))
    if select is None:
        table = model._meta.db_table
        select = _by_column[(model, column)] = Select(
            [ModelColumns(model, "t")],
            lambda q, columns: (
                f"SELECT {columns} FROM {q(table)} t WHERE t.{q(column)} = %s"  # noqa: S608
            ),
            param_fields=[next(f for f in model._meta.concrete_fields if f.column == column)],
        )
    found = select.rows([value], using=using)
    return found[0][0] if found else None


_by_column: dict = {}
