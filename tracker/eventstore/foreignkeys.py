"""Checking a rebuild's foreign keys once per constraint instead of once per row (PostgreSQL).

A rebuild writes hundreds of thousands of read-model rows; each one's foreign keys are checked
by PostgreSQL's per-row triggers (a query, and a row lock on the referenced row, per key). With
`session_replication_role = replica` those triggers do not fire; `violations()` then checks
every row of each constraint at once (one anti-join), which proves the same thing: every
non-NULL key of every row has its referenced row.

It is used only when it is equivalent:

- the role may set `session_replication_role` (a superuser, or granted SET on it);
- the tables have no trigger other than the foreign keys' own (replica mode skips them all);
- every constraint is MATCH SIMPLE and links two read models: read models are written only
  by projectors, which write inside an append, under the log's append lock that the rebuild
  holds until it commits. So no one else changes them meanwhile, and the checked rows need
  no row locks against concurrent deletions.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.db import connection, models


@dataclasses.dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str  # quoted, like the columns
    columns: tuple[str, ...]
    referenced: str
    referenced_columns: tuple[str, ...]

    def violation_sql(self) -> str:
        """The first key of a row of `table` whose referenced row is missing (MATCH SIMPLE:
        a key with a NULL part refers to nothing)."""
        not_null = " AND ".join(f"c.{c} IS NOT NULL" for c in self.columns)
        same = " AND ".join(f"p.{r} = c.{c}" for c, r in zip(self.columns, self.referenced_columns, strict=True))
        key = " || ', ' || ".join(f"c.{c}::text" for c in self.columns)
        return (
            f"SELECT {key} FROM {self.table} c WHERE {not_null}"
            f" AND NOT EXISTS (SELECT FROM {self.referenced} p WHERE {same}) LIMIT 1"
        )


def _role_may_skip_triggers() -> bool:
    with connection.cursor() as cur:
        if connection.pg_version >= 150000:
            cur.execute("SELECT has_parameter_privilege('session_replication_role', 'SET')")
        else:
            cur.execute("SELECT current_setting('is_superuser') = 'on'")
        return bool(cur.fetchone()[0])


def checked_at_once(
    written: Iterable[type[models.Model]], read_models: Iterable[type[models.Model]],
) -> list[ForeignKey] | None:
    """The foreign keys to check with `violations()` if the `written` tables may be written
    without their per-row checks (see the module's docstring), else None."""
    if connection.vendor != "postgresql" or not _role_may_skip_triggers():
        return None
    tables = [m._meta.db_table for m in written]
    allowed = {m._meta.db_table for m in read_models}
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal"
            " AND tgrelid = ANY(SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [tables],
        )
        if cur.fetchone()[0]:
            return None
        # Every foreign key from or to a written table, with its columns in key order.
        cur.execute(
            "SELECT c.conname, c.conrelid::regclass::text, c.confrelid::regclass::text, c.confmatchtype,"
            " ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
            "       JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
            " ARRAY(SELECT quote_ident(a.attname) FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
            "       JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
            " FROM pg_constraint c, LATERAL (SELECT ARRAY(SELECT to_regclass(t) FROM unnest(%s::text[]) t) AS t) w"
            " WHERE c.contype = 'f' AND (c.conrelid = ANY(w.t) OR c.confrelid = ANY(w.t))"
            " ORDER BY c.conrelid::regclass::text, c.conname",
            [tables],
        )
        found = cur.fetchall()
    keys = []
    for name, table, referenced, match, columns, referenced_columns in found:
        if match != "s" or _unquoted(table) not in allowed or _unquoted(referenced) not in allowed:
            return None
        keys.append(ForeignKey(name, table, tuple(columns), referenced, tuple(referenced_columns)))
    return keys


def _unquoted(regclass_text: str) -> str:
    return regclass_text.strip('"')


def violations(keys: list[ForeignKey]) -> list[str]:
    """Per constraint broken, one row's key that refers to nothing (empty when all hold)."""
    out = []
    with connection.cursor() as cur:
        for key in keys:
            cur.execute(key.violation_sql())
            row = cur.fetchone()
            if row is not None:
                columns = ", ".join(key.columns)
                out.append(f"{key.table} ({columns}) = ({row[0]}) violates {key.name}: not in {key.referenced}")
    return out
