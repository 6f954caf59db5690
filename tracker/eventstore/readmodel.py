"""Read models: ordinary Django models that only a running projector may write."""
from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Iterator
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models

from .errors import ReadModelWriteRefused

_projecting: contextvars.ContextVar[bool] = contextvars.ContextVar("projecting", default=False)
_collected: contextvars.ContextVar[dict | None] = contextvars.ContextVar("collected_rows", default=None)
M = TypeVar("M", bound=models.Model)


@contextlib.contextmanager
def projecting() -> Iterator[None]:
    """Allow read-model writes for the duration of a projector run."""
    token = _projecting.set(True)
    try:
        yield
    finally:
        _projecting.reset(token)


def _refuse_outside_projector(model: type, operation: str) -> None:
    if not _projecting.get():
        raise ReadModelWriteRefused(
            f"{model.__name__}.{operation}() outside a projector: read models are written only "
            "by projecting events; call a command instead"
        )


class ReadModelQuerySet(models.QuerySet):
    """A queryset whose bulk writes are refused outside projectors."""

    def update(self, **kwargs: Any) -> int:
        _refuse_outside_projector(self.model, "update")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_outside_projector(self.model, "delete")
        return super().delete()

    def _raw_delete(self, using: str) -> int:  # used by cascades and fast deletes
        _refuse_outside_projector(self.model, "delete")
        return super()._raw_delete(using)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list:
        _refuse_outside_projector(self.model, "bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        _refuse_outside_projector(self.model, "bulk_update")
        return super().bulk_update(objs, *args, **kwargs)

    def create(self, **kwargs: Any) -> Any:
        _refuse_outside_projector(self.model, "create")
        return super().create(**kwargs)


ReadModelManager = models.Manager.from_queryset(ReadModelQuerySet)


class ReadModel(models.Model):
    """Abstract base for projections: `save()`/`delete()` work only inside `projecting()`."""

    objects = ReadModelManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_outside_projector(type(self), "save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_outside_projector(type(self), "delete")
        return super().delete(*args, **kwargs)


# Fields whose Python values psycopg2 sends as they are (no get_db_prep_save call needed;
# PostgreSQL's adapt_datefield_value returns dates unchanged).
_PLAIN_FIELDS = (
    models.CharField, models.TextField, models.IntegerField, models.BooleanField, models.UUIDField,
    models.DateField,
)


@functools.lru_cache(maxsize=32)
def _update_sql(
    model: type[models.Model], returning: tuple[str, ...], condition: str = ""
) -> tuple[str, list[tuple[str, Any]]]:
    """The UPDATE statement and, per column, (attribute, converter or None if plain)."""
    qn = connection.ops.quote_name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key and f.attname not in returning]
    sql = (
        f"UPDATE {qn(model._meta.db_table)} SET {', '.join(f'{qn(f.column)} = %s' for f in fields)} "
        f"WHERE {qn(model._meta.pk.column)} = %s"
    )
    if condition:
        sql += f" AND {condition}"
    if returning:
        sql += f" RETURNING {', '.join(qn(model._meta.get_field(name).column) for name in returning)}"
    plain = (type(f) in _PLAIN_FIELDS for f in fields)
    return sql, [(f.attname, None if p else f.get_db_prep_save) for f, p in zip(fields, plain, strict=True)]


def update_row_statement(
    row: models.Model, *, keep: tuple[str, ...], condition: str = ""
) -> tuple[str, list[Any]]:
    """The UPDATE … RETURNING `keep` statement and parameters that `update_row` sends, for a
    projector to hand to the append (`Projector.presyncs`); `condition` is ANDed to its WHERE.
    Projectors only; finish the row with `updated_row` once the statement ran."""
    model = type(row)
    _refuse_outside_projector(model, "update_row")
    db = connections[DEFAULT_DB_ALIAS]  # one lookup of the thread's connection, not one per use
    assert db.vendor == "postgresql", "UPDATE … RETURNING with PostgreSQL's types"
    sql, columns = _update_sql(model, keep, condition)
    params = [getattr(row, name) if prep is None else prep(getattr(row, name), db) for name, prep in columns]
    params.append(row.pk)
    return sql, params


def updated_row(row: models.Model, keep: tuple[str, ...], found: Any) -> bool:
    """Finish `row` after its UPDATE: read the `keep` values back (`found`, the RETURNING row,
    None or false if no row had that key) and mark it saved."""
    if not found:
        return False
    for name, value in zip(keep, found if keep else (), strict=True):
        setattr(row, name, value)
    row._state.adding, row._state.db = False, DEFAULT_DB_ALIAS
    return True


def update_row(row: models.Model, *, keep: tuple[str, ...] = ()) -> bool:
    """UPDATE every column of `row` except those in `keep`, which are read back into `row`.

    One plain statement (PostgreSQL: UPDATE … RETURNING), without the ORM's per-call query
    building; False, and nothing read, when no row has that primary key. Projectors only.
    """
    sql, params = update_row_statement(row, keep=keep)
    with connections[DEFAULT_DB_ALIAS].cursor() as cur:
        cur.execute(sql, params)
        found = cur.fetchone() if keep else (cur.rowcount or None)
    return updated_row(row, keep, found)


@contextlib.contextmanager
def collecting_rows() -> Iterator[dict[tuple[type, Any], models.Model]]:
    """Collect the read-model rows projectors write inside the block, by (model, pk).

    A command wraps its append in it to return the row its events produced as the projector
    wrote it, instead of reading it back (`written_row`).
    """
    rows: dict[tuple[type, Any], models.Model] = {}
    token = _collected.set(rows)
    try:
        yield rows
    finally:
        _collected.reset(token)


def row_written(row: models.Model) -> None:
    """Hand a whole row a projector has just written to the enclosing `collecting_rows()`."""
    rows = _collected.get()
    if rows is not None:
        rows[(type(row), row.pk)] = row


def written_row(rows: dict[tuple[type, Any], models.Model], model: type[M], pk: Any) -> M:
    """The row of `model` with `pk` as collected, else read from the table."""
    found = rows.get((model, pk))
    return found if found is not None else model._default_manager.get(pk=pk)  # type: ignore[return-value]
