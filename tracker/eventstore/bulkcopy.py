"""Writing read-model rows with PostgreSQL COPY (text format), for replays into emptied tables.

Rows are tuples of Python values in the order of the model's concrete fields (attnames), as
Django would save them; each value is turned into COPY text the way the field would store it.
"""
from __future__ import annotations

import io
import json
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from django.db import connection, models

T = TypeVar("T")
CHUNK = 20_000  # rows per COPY statement: with the writer's queue, bounds the text in memory
NULL = "\\N"
# COPY text format: a backslash starts an escape, tab separates columns, newline ends a row.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def text(value: str) -> str:
    """One string as a COPY text field (most need no escape: checking is ~15x cheaper)."""
    return value.translate(_ESCAPES) if "\\" in value or not value.isprintable() else value


def json_text(value: Any) -> str:
    """A JSON value as a COPY text field."""
    # ASCII-only output (non-ASCII as \u escapes): only the backslashes need escaping.
    return (value if isinstance(value, JsonText) else json.dumps(value)).replace("\\", "\\\\")


class JsonText(str):
    """A JSON field's value already serialised by json.dumps (ASCII only)."""


_compact = json.JSONEncoder(separators=(",", ":")).encode


def compact_json_text(value: Any) -> str:
    """`json_text` without blanks after separators: less for PostgreSQL to parse (jsonb keeps
    no formatting, so the stored value is the same)."""
    return _compact(value).replace("\\", "\\\\")


def _nullable(fn: Callable[[Any], str]) -> Callable[[Any], str]:
    return lambda v: NULL if v is None else fn(v)


def _bool(value: Any) -> str:
    return "t" if value else "f"


def converter(field: models.Field, *, null: bool = True) -> Callable[[Any], str]:
    """COPY text of a column's values; `null=False` for one that never gets None (a call less
    per value, which bulk imports notice)."""
    kind = field.get_internal_type()
    wrap = _nullable if null else (lambda fn: fn)
    if kind == "JSONField":
        return wrap(json_text)
    if kind == "BooleanField":
        return wrap(_bool)
    if kind == "DateTimeField":
        # Text is PostgreSQL's own output of a time (a replay reads times as text); a naive
        # datetime is made aware by get_prep_value exactly as a save() would.
        return wrap(lambda v: v if isinstance(v, str) else field.get_prep_value(v).isoformat())
    if kind == "DateField":
        return wrap(lambda v: v.isoformat())
    if kind in ("CharField", "TextField", "URLField", "SlugField", "EmailField"):
        return wrap(text)
    return wrap(str)  # integers, UUIDs, foreign keys


def copy_statement(model: type[models.Model], fields: Iterable[models.Field], into: str | None = None) -> str:
    """`COPY <table> (<columns>) FROM STDIN` for these fields of the model, into its table or
    into the table `into` (quoted) that has the same columns."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table) if into is None else into
    return f"COPY {table} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"


def columns(model: type[models.Model]) -> list[str]:
    """Attribute names of the model's columns, in the order `CopyWriter.rows` takes values."""
    return [f.attname for f in model._meta.concrete_fields]


def line_of(model: type[models.Model]) -> Callable[[tuple], str]:
    """The COPY text line of a value tuple in `columns(model)` order."""
    convert = [converter(f) for f in model._meta.concrete_fields]
    return lambda row: "\t".join([c(v) for c, v in zip(convert, row, strict=True)])


def check_columns(model: type[models.Model], names: list[str] | None) -> None:
    """`names`, if given, must be every column of the model in `columns(model)` order."""
    if names is not None and names != columns(model):
        raise ValueError(f"{model.__name__} has the columns {columns(model)}, not {names}")


class CopyWriter:
    """COPY rows into tables from a background thread, so PostgreSQL stores one chunk while
    Python formats the next. Until `close()`, only the writer may use the connection.

    Statements (`execute`) run in order with the COPYs, e.g. `SET CONSTRAINTS ALL IMMEDIATE`
    to run the deferred foreign-key checks of the rows written so far while Python goes on.
    `seconds` adds up the time of the statements per label (the table of a COPY, or the label
    given), as the writer's thread waits for them (PostgreSQL's work, and the GIL's).
    """

    def __init__(self) -> None:
        connection.ensure_connection()
        self._raw = connection.connection
        self._queue: queue.Queue = queue.Queue(maxsize=4)
        self._error: BaseException | None = None
        self.seconds: Counter[str] = Counter()
        self.rowcounts: Counter[str] = Counter()  # rows statements (`execute`) wrote, per label
        self._thread = threading.Thread(target=self._run, name="copy-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        written = 0
        with self._raw.cursor() as cur:
            while (item := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # drain, so the producer never blocks
                label, sql, data, when_written = item
                try:
                    started = time.perf_counter()
                    if data is None:
                        if when_written and not written:
                            continue  # the statement before it wrote nothing
                        cur.execute(sql)
                        written = cur.rowcount if cur.description is None else 0  # rows written, not read
                        if written > 0:
                            self.rowcounts[label] += written
                    else:
                        # One read of the whole chunk: read in 8 KB parts (the default), each part
                        # waited for the GIL while the producer formatted the next chunk.
                        cur.copy_expert(sql, io.StringIO(data), size=len(data) + 1)
                    self.seconds[label] += time.perf_counter() - started
                except BaseException as exc:  # re-raised in the caller's thread
                    self._error = exc

    def _put(self, label: str, sql: str, data: str | None, when_written: bool = False) -> None:
        if self._error is not None:
            self.close()
        self._queue.put((label, sql, data, when_written))

    def execute(self, sql: str, label: str = "other statements", *, when_written: bool = False) -> None:
        """Run a statement in order with the COPYs; `when_written`: only if the statement
        before it (`execute`d) wrote rows."""
        self._put(label, sql, None, when_written)

    def rows(self, model: type[models.Model], rows: Iterable[tuple]) -> None:
        """COPY `rows` (value tuples in `columns(model)` order) into the model's table."""
        line = line_of(model)
        self.lines(model, (line(row) for row in rows))

    def lines(self, model: type[models.Model], lines: Iterable[str], names: list[str] | None = None) -> None:
        """COPY rows already formatted as COPY text lines, with the columns `names` (every
        column of the model, in `columns(model)` order if not given)."""
        check_columns(model, names)
        self._copy(model._meta.db_table, copy_statement(model, model._meta.concrete_fields), lines)

    def keyed(
        self, model: type[models.Model], rows: Mapping[str, T], line: Callable[[str, T], str],
        names: list[str] | None = None,
    ) -> None:
        """Every row of the model's table: `rows` maps a primary key (its text as PostgreSQL
        prints it) to a row, which `line(pk, row)` makes a COPY text line (`lines`). Here they
        are COPYed; a writer that merges them into non-empty tables needs the keys
        (`tracker.eventstore.merge`)."""
        self.lines(model, (line(pk, row) for pk, row in rows.items()), names)

    def keyed_rows(self, model: type[models.Model], rows: Mapping[str, tuple]) -> None:
        """`keyed` for rows given as value tuples without their primary key (the first column)."""
        line = line_of(model)
        self.keyed(model, rows, lambda pk, row: line((pk, *row)))

    def _copy(self, label: str, sql: str, lines: Iterable[str]) -> None:
        chunk: list[str] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= CHUNK:
                self._send(label, sql, chunk)
        self._send(label, sql, chunk)

    def _send(self, label: str, sql: str, lines: list[str]) -> None:
        if lines:
            lines.append("")  # the last row's newline
            self._put(label, sql, "\n".join(lines))
            lines.clear()

    def close(self) -> None:
        """Wait for every COPY; raise the first error."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
