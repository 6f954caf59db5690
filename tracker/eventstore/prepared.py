"""Server-side prepared statements for the append's hot statement (PostgreSQL).

PostgreSQL parses and plans every statement psycopg2 sends; for the append's statement (a
dozen CTEs) planning took longer than running it, and it runs under the log's lock. Prepared
once per connection (in the same round trip as its first use), it is then only executed.
"""
from __future__ import annotations

import itertools
from typing import Any

MAX_PREPARED = 64  # statements kept per connection; more are sent unprepared
_names = itertools.count()


def execute_prepared(db: Any, cur: Any, prefix: str, sql: str, params: list[Any]) -> None:
    """Execute `prefix` (statements sent as they are, taking the first parameters) and then
    `sql` (one statement, `%s` placeholders, no literal `%`), prepared on the connection."""
    cache = _cache(db)
    execute = cache.get(sql)  # the EXECUTE of the statement prepared on this connection
    if execute is not None:
        text = f"{prefix}{execute}"
    elif len(cache) >= MAX_PREPARED:
        cur.execute(f"{prefix}{sql}", params)
        return
    else:
        name = f"eventstore_{next(_names)}"  # never reused, even after a failed PREPARE
        execute = f"EXECUTE {name}({', '.join(['%s'] * sql.count('%s'))})"
        text = f"{prefix}PREPARE {name} AS {_renumber(sql)}; {execute}"
    try:
        cur.execute(text, params)
    except Exception:
        # The PREPARE may or may not have run (it outlives a rollback): never reuse the name.
        cache.pop(sql, None)
        raise
    cache[sql] = execute


def _renumber(sql: str) -> str:
    """`sql` with its `%s` placeholders as `$1`, `$2`, … in order."""
    parts = sql.split("%s")
    return parts[0] + "".join(f"${n}{part}" for n, part in enumerate(parts[1:], start=1))


def _cache(db: Any) -> dict[str, str]:
    """The statements prepared on `db`'s current connection, each with its EXECUTE (a new
    connection has none)."""
    slot = getattr(db, "_eventstore_prepared", None)
    if slot is None or slot[0] is not db.connection:
        slot = (db.connection, {})
        db._eventstore_prepared = slot
    return slot[1]
