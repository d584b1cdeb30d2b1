"""Set-based database helpers: fast bulk inserts and exact money sums on every backend."""

import datetime
import json
import logging
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.db import connection

KOPECK = Decimal("0.01")


def bulk_insert(table: str, columns: Sequence[str], rows: Iterable[Sequence], *, json_columns=()):
    """Insert plain rows: COPY on PostgreSQL, executemany on SQLite. Returns the row count.

    Django's bulk_create builds a model instance per row and runs at ~40 000 rows/s here; the
    billing run and the imports need several times that.
    """
    json_idx = [columns.index(c) for c in json_columns]
    count = 0
    if connection.vendor == "postgresql":
        cols = ", ".join(columns)
        sql = f"COPY {table} ({cols}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            for row in rows:
                if json_idx:
                    row = list(row)
                    for i in json_idx:
                        row[i] = json.dumps(row[i], ensure_ascii=False)
                copy.write_row(row)
                count += 1
        return count
    placeholders = ", ".join("?" for _ in columns)
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"  # noqa: S608

    def prepared():
        # Decimals need no conversion here: Django registers str() as their SQLite adapter.
        # Aware datetimes must be stored as naive UTC, as the ORM does, or text order breaks.
        nonlocal count
        stamp_idx = None
        for row in rows:
            if stamp_idx is None:
                stamp_idx = [i for i, v in enumerate(row) if isinstance(v, datetime.datetime)]
            if json_idx or stamp_idx:
                row = list(row)
                for i in json_idx:
                    row[i] = json.dumps(row[i], ensure_ascii=False)
                for i in stamp_idx:
                    if row[i] is not None and row[i].tzinfo is not None:
                        row[i] = row[i].astimezone(datetime.UTC).replace(tzinfo=None)
            count += 1
            yield row

    connection.ensure_connection()
    connection.connection.executemany(sql, prepared())
    return count


def as_kopecks(column: str) -> str:
    """SQL for a money column as whole kopecks, per row (exact on SQLite's floats too)."""
    return f"CAST(ROUND({column} * 100) AS BIGINT)"


def kopecks_sum(column: str) -> str:
    """SQL for an exact sum of a money column in kopecks (SQLite sums decimals as floats).

    PostgreSQL sums numeric exactly: one multiplication per group, not a rounding per row.
    """
    if connection.vendor == "postgresql":
        return f"(SUM({column}) * 100)"
    return f"SUM(ROUND({column} * 100))"


def from_kopecks(value) -> Decimal:
    """Turn a kopecks sum from `kopecks_sum` back into roubles."""
    if value is None:
        return Decimal("0.00")
    try:
        return (Decimal(int(round(value))) * KOPECK).quantize(KOPECK)
    except (OverflowError, ValueError, ArithmeticError):
        # SQLite summed a value stored out of range (inf, NaN): give it back unrounded, never
        # fail the page (the filters show it as «—»).
        logging.getLogger("kvartplata.dbvalues").error("Unreadable kopecks sum: %r", value)
        return Decimal(value) / 100


def _binding_cursor():
    """A cursor that sends the parameters apart from the SQL (PostgreSQL), else the usual one.

    Django binds the parameters into the text on the client, so PostgreSQL parses and plans every
    query anew. A Select's text is the same on every call: sent with its parameters apart, the
    driver prepares it on the server after a few calls (psycopg's ``prepare_threshold``) and the
    plan is reused for the life of the connection. Django's wrapper stays around it (query
    logging, ``execute_wrapper``, database errors).
    """
    if connection.vendor != "postgresql":
        return connection.cursor()
    from django.db.backends.postgresql.base import ServerBindingCursor

    connection.ensure_connection()
    with connection.wrap_database_errors:
        return connection._prepare_cursor(ServerBindingCursor(connection.connection))


class Select:
    """A read written once as SQL; its rows typed as the ORM types them, on every backend.

    The ORM compiles a query anew on every call, which costs more than running the small indexed
    reads of a resident's page. The reads that run on every request are written once instead:
    ``columns`` are the model fields of the selected columns in order (``None`` for a column
    taken as the database returns it: counts, ids), so that SQLite's floats become the
    field's Decimal, its text dates dates, JSON documents dicts — what the ORM would return.
    ``{name}`` in the SQL stands for a list of ``%s`` of the length given by ``name=`` (an IN).
    """

    def __init__(self, sql: str, columns: Sequence):
        self.sql = sql
        self.columns = tuple(columns)
        self._converters: dict[str, list] = {}

    @classmethod
    def of(cls, model, where: str, order: str = "") -> "Select":
        """Every concrete column of ``model`` (for ``instances``), with a WHERE and an ORDER BY."""
        fields = model._meta.concrete_fields
        table = model._meta.db_table
        names = ", ".join(f"{table}.{f.column}" for f in fields)
        sql = f"SELECT {names} FROM {table} WHERE {where}"  # noqa: S608 - fixed identifiers
        if order:
            sql += f" ORDER BY {order}"
        select = cls(sql, fields)
        select.model = model
        return select

    @classmethod
    def joined(cls, models: Sequence[tuple], tail: str) -> "Select":
        """Every concrete column of several joined models, for ``instances_joined``.

        ``models``: (model, alias) pairs in the order of the result; ``tail``: the SQL from
        ``FROM`` on, naming the tables by those aliases.
        """
        names, fields = [], []
        for model, alias in models:
            for f in model._meta.concrete_fields:
                names.append(f"{alias}.{f.column}")
                fields.append(f)
        select = cls(f"SELECT {', '.join(names)} {tail}", fields)
        select.models = [model for model, _alias in models]
        return select

    def instances_joined(self, params: Sequence = (), **lists: int) -> list[tuple]:
        """Each row as a tuple of instances, one per model of ``Select.joined``."""
        db = connection.alias
        spans, start = [], 0
        for model in self.models:
            fields = model._meta.concrete_fields
            spans.append((model, [f.attname for f in fields], start, start + len(fields)))
            start += len(fields)
        return [
            tuple(model.from_db(db, names, row[a:b]) for model, names, a, b in spans)
            for row in self.rows(params, **lists)
        ]

    def _converters_now(self) -> list:
        converters = self._converters.get(connection.vendor)
        if converters is None:
            converters = []
            for i, field in enumerate(self.columns):
                if field is None:
                    continue
                col = field.get_col(field.model._meta.db_table)
                funcs = connection.ops.get_db_converters(col) + field.get_db_converters(connection)
                if funcs:
                    converters.append((i, col, funcs))
            self._converters[connection.vendor] = converters
        return converters

    def rows(self, params: Sequence = (), **lists: int) -> list[tuple]:
        sql = self.sql
        if lists:
            sql = sql.format(**{name: ", ".join(["%s"] * n) for name, n in lists.items()})
        with _binding_cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        converters = self._converters_now()
        if not converters or not rows:
            return rows
        typed = []
        for row in rows:
            row = list(row)
            for i, col, funcs in converters:
                value = row[i]
                for func in funcs:
                    value = func(value, col, connection)
                row[i] = value
            typed.append(tuple(row))
        return typed

    def instances(self, params: Sequence = (), **lists: int) -> list:
        """The rows as instances of the model of ``Select.of`` (no related objects loaded)."""
        names = [f.attname for f in self.columns]
        model = self.model
        db = connection.alias
        return [model.from_db(db, names, row) for row in self.rows(params, **lists)]
