"""Writing a replay's rows into read models that are not empty: only the differences.

A fast replay (replay.py) knows every row of the tables its replayers own, by primary key
(`CopyWriter.keyed`). Emptying those tables (DELETE: TRUNCATE would take an ACCESS EXCLUSIVE
lock) and COPYing everything back writes every row twice over, past the dead rows and index
entries. Instead, `MergeWriter`:

- COPYs straight into the table the rows whose key is not in it (all of them when it is
  empty), as an ordinary replay does;
- COPYs the rows whose key is already there into a temporary table (no index, no WAL), then
  deletes the live rows that are not in the replay or differ from it, and inserts the replayed
  rows that differ. Rows are compared whole and typed (`IS DISTINCT FROM` of the two rows:
  no formatting matters, jsonb compares by value), so equal rows are not written at all.
  For the tables given `by_line`, the live rows are read as COPY text first, and a replayed
  row whose line is the same text is known equal without going through the temporary table
  (PostgreSQL reads its own text of a row back as the same values); only the others are
  compared typed (and the live rows not replayed deleted by key).

Every deletion of a table comes before its insertions (so no UNIQUE constraint sees an old and
a new row at once); foreign keys are deferred (checked by the replay: `SET CONSTRAINTS`, or
once per constraint, see foreignkeys.py), and none has an ON DELETE action in the database.

With `check=True` nothing of the live tables is written: every replayed row goes into a
temporary table and `differences()` lists the rows that are missing on either side or differ,
in the words of `rebuild.compare`. The caller rolls the transaction back.
"""
from __future__ import annotations

import io
import itertools
import time
from collections.abc import Callable, Collection, Mapping

from django.db import connection, models

from .bulkcopy import CopyWriter, T, check_columns, copy_statement

_temp_names = itertools.count(1)
MERGE_WORK_MEM = "256MB"


def _quote(name: str) -> str:
    return connection.ops.quote_name(name)


def live_keys(model: type[models.Model]) -> set[str]:
    """The primary keys of the model's table, as PostgreSQL prints them."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT {_quote(model._meta.pk.column)}::text FROM {_quote(model._meta.db_table)}")
        return {key for (key,) in cur.fetchall()}


def live_lines(model: type[models.Model]) -> dict[str, str]:
    """The rows of the model's table as PostgreSQL's COPY text lines (columns in
    `copy_statement` order), by primary key (the first column)."""
    out = io.StringIO()
    columns = ", ".join(_quote(f.column) for f in model._meta.concrete_fields)
    with connection.cursor() as cur:
        cur.copy_expert(f"COPY {_quote(model._meta.db_table)} ({columns}) TO STDOUT", out)
    return {line[:line.index("\t")]: line for line in out.getvalue().split("\n") if line}


def _key_first(model: type[models.Model]) -> bool:
    """Whether a COPY text line of the model starts with its primary key (`live_lines`)."""
    return model._meta.concrete_fields[0] is model._meta.pk


class MergeWriter(CopyWriter):
    """A CopyWriter whose `keyed` tables end equal to the rows given, writing only the
    differences (see the module's docstring); `check=True` writes nothing but temporary
    tables. `models` are the tables that will be given, whose keys are read first (the
    writer's thread then owns the connection); of those in `by_line`, the whole rows as COPY
    text: a replayed row whose line is the live row's line is left as it is, unwritten
    (PostgreSQL reads its own text of a row back as the same values, so equal text proves
    equal rows; any other line goes through the typed comparison). Worth it for tables whose
    lines the replay formats as PostgreSQL prints them (not jsonb objects: key order).
    """

    def __init__(
        self, models_: list[type[models.Model]], *, check: bool = False, by_line: Collection[type[models.Model]] = (),
    ) -> None:
        self.check = check
        started = time.perf_counter()
        self.live: dict[str, set[str] | dict[str, str]] = {} if check else {
            m._meta.db_table: live_lines(m) if m in by_line and _key_first(m) else live_keys(m) for m in models_
        }
        read_keys = time.perf_counter() - started
        self.temps: dict[str, tuple[type[models.Model], str]] = {}  # table -> (model, temp table)
        with connection.cursor() as cur:
            cur.execute("SELECT current_setting('work_mem')")
            (self._work_mem,) = cur.fetchone()
        super().__init__()
        self.seconds["live keys"] = read_keys
        # Room to hash or sort a table's replayed rows without spilling to disk (the default
        # 4 MB would spill at a few thousand stream states), for this writer's statements only.
        self.execute(f"SET LOCAL work_mem = '{MERGE_WORK_MEM}'", "settings")

    def close(self) -> None:
        # A check's transaction is rolled back, and the setting with it (`differences` uses it).
        if not self.check and self._thread.is_alive() and self._error is None:
            self.execute(f"SELECT set_config('work_mem', '{self._work_mem}', true)", "settings")
        super().close()

    def keyed(
        self, model: type[models.Model], rows: Mapping[str, T], line: Callable[[str, T], str],
        names: list[str] | None = None,
    ) -> None:
        check_columns(model, names)
        table = model._meta.db_table
        live = None if self.check else self.live[table]
        if live is not None and not live:  # an empty table: COPY, as a replay into it would
            self._copy(table, copy_statement(model, model._meta.concrete_fields), (
                line(pk, row) for pk, row in rows.items()
            ))
            return
        if isinstance(live, dict):
            self._keyed_by_line(model, rows, line, live)
            return
        temp = self._temp(model)
        known = rows.keys() if live is None else rows.keys() & live
        self._copy(f"{table} (temporary)", copy_statement(model, model._meta.concrete_fields, temp), (
            line(pk, rows[pk]) for pk in known
        ))
        if live is None:
            return
        self._merge(model, temp)
        if len(known) < len(rows):
            self._copy(table, copy_statement(model, model._meta.concrete_fields), (
                line(pk, row) for pk, row in rows.items() if pk not in live
            ))

    def _keyed_by_line(
        self, model: type[models.Model], rows: Mapping[str, T], line: Callable[[str, T], str], live: dict[str, str],
    ) -> None:
        """`keyed` into a table whose live lines are known: only the replayed rows whose line
        differs go through the temporary table and the typed comparison."""
        table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
        differ = [text for key in rows.keys() & live.keys() if (text := line(key, rows[key])) != live[key]]
        gone = live.keys() - rows.keys()
        if differ:
            temp = self._temp(model)
            into = copy_statement(model, model._meta.concrete_fields, temp)
            self._copy(f"{model._meta.db_table} (temporary)", into, differ)
            self.execute(
                f"DELETE FROM {table} l USING {temp} r WHERE r.{pk} = l.{pk} AND r IS DISTINCT FROM l",
                f"{model._meta.db_table} (deleted)",
            )
        if gone:
            with self._raw.cursor() as cur:  # quoting only, no statement
                keys = cur.mogrify("%s", [sorted(gone)]).decode()
            self.execute(
                f"DELETE FROM {table} WHERE {pk} IN"
                f" (SELECT k::{model._meta.pk.db_type(connection)} FROM unnest({keys}::text[]) k)",
                f"{model._meta.db_table} (deleted)",
            )
        if differ:  # after every deletion of the table (UNIQUE constraints)
            self.execute(
                f"INSERT INTO {table} SELECT r.* FROM {temp} r"
                f" WHERE NOT EXISTS (SELECT FROM {table} l WHERE l.{pk} = r.{pk})",
                f"{model._meta.db_table} (inserted)",
            )
        # Formatted as they are sent: the writer's thread stores a chunk while the next is made.
        self._copy(model._meta.db_table, copy_statement(model, model._meta.concrete_fields), (
            line(key, row) for key, row in rows.items() if key not in live
        ))

    def _temp(self, model: type[models.Model]) -> str:
        table = model._meta.db_table
        temp = _quote(f"replay_{next(_temp_names)}_{table}")
        # ON COMMIT DROP: gone with the rebuild's transaction (or its rollback), no DROP here.
        self.execute(
            f"CREATE TEMPORARY TABLE {temp} (LIKE {_quote(table)} INCLUDING DEFAULTS) ON COMMIT DROP",
            f"{table} (temporary)",
        )
        self.temps[table] = (model, temp)
        return temp

    def _merge(self, model: type[models.Model], temp: str) -> None:
        """Delete the live rows that are not replayed as they are; insert the replayed rows the
        table then lacks (the temporary table holds only keys the table had)."""
        table, pk = _quote(model._meta.db_table), _quote(model._meta.pk.column)
        self.execute(
            f"DELETE FROM {table} l WHERE NOT EXISTS"
            f" (SELECT FROM {temp} r WHERE r.{pk} = l.{pk} AND r IS NOT DISTINCT FROM l)",
            f"{model._meta.db_table} (deleted)",
        )
        self.execute(
            f"INSERT INTO {table} SELECT r.* FROM {temp} r"
            f" WHERE NOT EXISTS (SELECT FROM {table} l WHERE l.{pk} = r.{pk})",
            f"{model._meta.db_table} (inserted)",
            when_written=True,  # the temporary table holds only live keys: none to insert else
        )

    def differences(self, *, limit: int = 20) -> dict[str, list[str]]:
        """With `check`, after `close()`: per table, up to `limit` differences between the live
        rows and the replayed ones, ordered by key, worded as `rebuild.compare` words them."""
        out: dict[str, list[str]] = {}
        for table, (model, temp) in self.temps.items():
            pk = _quote(model._meta.pk.column)
            fields = model._meta.concrete_fields
            flags = ", ".join(f"l.{_quote(f.column)} IS DISTINCT FROM r.{_quote(f.column)}" for f in fields)
            with connection.cursor() as cur:
                key = f"coalesce(l.{pk}, r.{pk})::text"
                cur.execute(
                    f"SELECT {key}, l.{pk} IS NULL, r.{pk} IS NULL, {flags}"
                    f" FROM {_quote(table)} l FULL JOIN {temp} r ON l.{pk} = r.{pk}"
                    f" WHERE l.{pk} IS NULL OR r.{pk} IS NULL OR l IS DISTINCT FROM r"
                    f' ORDER BY {key} COLLATE "C" LIMIT %s',
                    [limit],
                )
                rows = cur.fetchall()
            problems = []
            for key, not_live, not_replayed, *differs in rows:
                if not_replayed:
                    problems.append(f"{table} {key}: live row missing from replay")
                elif not_live:
                    problems.append(f"{table} {key}: replay row missing from live tables")
                else:
                    names = [f.attname for f, d in zip(fields, differs, strict=True) if d]
                    problems.append(f"{table} {key}: differs in {', '.join(names)}")
            if problems:
                out[table] = problems
        return out
