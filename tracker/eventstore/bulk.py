"""Inserting many rows at once: one COPY on PostgreSQL, `bulk_create` elsewhere.

For bulk imports, where building model instances and letting the ORM quote every value
costs more than the database's own work. Read models are still written only by projectors:
`insert_rows` refuses a read model outside `projecting()` as `bulk_create` does.
"""
from __future__ import annotations

import contextlib
import gc
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from django.db import connection, models

from .bulkcopy import converter, copy_statement
from .readmodel import ReadModel, _refuse_outside_projector


def _repeated(to_text: Callable[[Any], str]) -> Callable[[Any], str]:
    """`to_text` that encodes the same object given again (one metadata dict or timestamp for
    a whole batch) only once."""
    last: list[Any] = [object(), ""]

    def encode(value: Any) -> str:
        if value is not last[0]:
            last[0], last[1] = value, to_text(value)
        return last[1]

    return encode


def _encoders(model: type[models.Model], columns: Sequence[str]) -> list[Callable[[Any], str]]:
    fields = [model._meta.get_field(c) for c in columns]
    return [
        _repeated(converter(f)) if isinstance(f, models.JSONField | models.DateField) else converter(f, null=f.null)
        for f in fields
    ]


def insert_rows(model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """INSERT rows of `model`, each a sequence of Python values in `columns` (attnames) order.

    PostgreSQL: one `COPY … FROM STDIN`. Values are str, int, bool, UUID, date/datetime,
    None, or JSON values for JSON fields; defaults are not applied, so give every column
    the ORM would.
    """
    if issubclass(model, ReadModel):
        _refuse_outside_projector(model, "insert_rows")
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(columns, row, strict=True))) for row in rows])
        return
    encoders = _encoders(model, columns)
    buffer = io.StringIO()
    write = buffer.write
    for row in rows:
        write("\t".join([encode(v) for encode, v in zip(encoders, row, strict=True)]))
        write("\n")
    if not buffer.tell():
        return
    buffer.seek(0)
    sql = copy_statement(model, [model._meta.get_field(c) for c in columns])
    with connection.cursor() as cur, connection.wrap_database_errors:  # Django's IntegrityError etc.
        cur.copy_expert(sql, buffer)


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a bulk write or a replay. Both allocate dicts
    and lists by the hundred thousand (a replay keeps millions); counted as new objects, they
    set off full collections over the whole heap (~10 % of an import) that find no cycles."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
