"""Hot-path writes in as few database round trips as the backend allows.

A step transition or an audit append is a handful of small statements whose cost on
PostgreSQL is mostly the wait for each answer. :func:`run` sends a list of statements
as *one* query string there (psycopg's client-side binding runs them in order, each
with its own snapshot, and hands back one result each), and one by one on SQLite,
where a statement costs no round trip. Statements are plain SQL with ``%s``
placeholders, built from the models' own metadata (:func:`insert`), so they read the
same on both backends; rows read back become model instances with the backend's
converters applied (:func:`instance`), as the ORM would build them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Field, Model
from django.db.models.constants import OnConflict


@dataclass(frozen=True)
class Statement:
    sql: str
    params: Sequence[Any] = ()


@dataclass(frozen=True)
class Result:
    rowcount: int
    rows: list[tuple]


def one_trip() -> bool:
    """Whether this connection sends several statements in one round trip."""
    return connection.vendor == "postgresql"


def run(statements: Iterable[Statement]) -> list[Result]:
    """Execute ``statements`` in order in the current transaction; one result each."""
    todo = list(statements)
    results: list[Result] = []
    with connection.cursor() as cursor:
        if one_trip() and len(todo) > 1:
            cursor.execute(";\n".join(s.sql for s in todo), [p for s in todo for p in s.params])
            raw = cursor.cursor
            for n in range(len(todo)):
                if n:
                    raw.nextset()
                rows = raw.fetchall() if raw.description else []
                results.append(Result(raw.rowcount, rows))
            return results
        for s in todo:
            cursor.execute(s.sql, list(s.params))
            rows = cursor.fetchall() if cursor.description else []
            results.append(Result(cursor.rowcount, rows))
    return results


def q(name: str) -> str:
    return connection.ops.quote_name(name)


def columns(model: type[Model], alias: str = "") -> str:
    """Every concrete column of ``model``, in field order (as :func:`instance` reads them)."""
    return _columns(model, alias, connection.vendor)


@functools.cache
def _columns(model: type[Model], alias: str, vendor: str) -> str:
    prefix = f"{q(alias)}." if alias else ""
    return ", ".join(prefix + q(f.column or f.attname) for f in model._meta.concrete_fields)


def insert(
    model: type[Model],
    objs: Sequence[Model],
    *,
    returning: bool = False,
    skip_conflicts: bool = False,
) -> Statement:
    """One multi-row INSERT of ``objs`` (their primary key too when set), the values
    prepared by each field for this backend. ``skip_conflicts``: a row that would break a
    unique constraint is left out (as ``bulk_create(ignore_conflicts=True)``) — each row's
    insert a compare-and-set."""
    fields, head, row = _insert_parts(model, objs[0].pk is not None, connection.vendor)
    params = [
        f.get_db_prep_save(f.pre_save(obj, add=True), connection) for obj in objs for f in fields
    ]
    sql = head + ", ".join([row] * len(objs))
    if skip_conflicts:
        ignore = OnConflict.IGNORE
        sql = sql.replace("INSERT INTO", connection.ops.insert_statement(on_conflict=ignore), 1)
        suffix = connection.ops.on_conflict_suffix_sql(fields, ignore, None, None)
        sql += f" {suffix}" if suffix else ""
    if returning:
        pk = model._meta.pk
        sql += f" RETURNING {q(pk.column or pk.attname)}"
    return Statement(sql, params)


@functools.cache
def _insert_parts(model: type[Model], with_pk: bool, vendor: str) -> tuple[list, str, str]:
    meta = model._meta
    fields = [f for f in meta.concrete_fields if with_pk or f is not meta.pk]
    names = ", ".join(q(f.column or f.attname) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    return fields, f"INSERT INTO {q(meta.db_table)} ({names}) VALUES ", row


_converters: dict[tuple[type[Model], str], list[list]] = {}


def instance(model: type[Model], values: Sequence[Any]) -> Any:
    """A model instance from its concrete columns as :func:`columns` selected them."""
    fields = model._meta.concrete_fields
    key = (model, connection.vendor)
    convs = _converters.get(key)
    if convs is None:
        table = model._meta.db_table
        convs = []
        for f in fields:
            col = f.get_col(table)
            convs.append(
                [
                    (fn, col)
                    for fn in connection.ops.get_db_converters(col)
                    + f.get_db_converters(connection)
                ]
            )
        _converters[key] = convs
    out = []
    for value, fns in zip(values, convs, strict=True):
        for fn, col in fns:
            value = fn(value, col, connection)
        out.append(value)
    return model.from_db(connection.alias, [f.attname for f in fields], out)


def saved(obj: Model, pk: Any) -> None:
    """Mark ``obj`` as stored under ``pk`` (written by a raw INSERT)."""
    obj.pk = pk
    obj._state.adding = False
    obj._state.db = connection.alias


def for_update() -> str:
    """The row-lock clause where the backend has one (SQLite locks the whole database
    for a write transaction started IMMEDIATE)."""
    return " FOR UPDATE" if connection.features.has_select_for_update else ""


def update_each(
    model: type[Model],
    values: dict[str, dict[Any, Any]],
    *,
    where: str = "",
    where_params: Sequence[Any] = (),
    returning: bool = False,
) -> Statement:
    """One UPDATE giving each row its own values: ``values`` maps a field's name to
    ``{pk: value}`` (every field naming the same rows), each value prepared by its field
    for this backend. ``where``: a further condition on the rows (SQL with ``%s``
    placeholders, ``where_params`` for them) — a compare-and-set; ``returning``: the pks
    of the rows changed. What the ORM's ``Case(When(...))`` says, built in microseconds
    rather than milliseconds."""
    meta = model._meta
    pk = q(meta.pk.column or meta.pk.attname)
    pks = list(next(iter(values.values())))
    sets, params = [], []
    for name, by_pk in values.items():
        field = meta.get_field(name)
        assert isinstance(field, Field)  # a column of the model's own
        cases = " WHEN %s THEN %s" * len(pks)
        sets.append(f"{q(field.column or field.attname)} = CASE {pk}{cases} END")
        for key in pks:
            params += [key, field.get_db_prep_save(by_pk[key], connection)]
    sql = (
        f"UPDATE {q(meta.db_table)} SET {', '.join(sets)}"
        f" WHERE {pk} IN ({', '.join(['%s'] * len(pks))})"
        + (f" AND ({where})" if where else "")
        + (f" RETURNING {pk}" if returning else "")
    )
    return Statement(sql, [*params, *pks, *where_params])
