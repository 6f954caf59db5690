"""Server-side prepared statements for the command path's statements (PostgreSQL).

PostgreSQL parses and plans every statement psycopg2 sends; for the append's statement (a
dozen CTEs) planning took longer than running it, and it runs under the log's lock. Prepared
once per connection (in the same round trip as its first use), a statement is then only
executed. The statements go through psycopg2's own cursor unless something watches Django's
(an execute wrapper, query logging): Django's cursor wrapper cost about a fifth of the
command's Python time and does nothing else here.
"""
from __future__ import annotations

import itertools
import uuid
from collections.abc import Sequence
from typing import Any

from django.conf import settings
from django.db import DatabaseError
from django.db.backends.postgresql.psycopg_any import Jsonb
from django.utils.asyncio import async_unsafe
from psycopg2.extras import Json

MAX_PREPARED = 64  # statements kept per connection; more are sent unprepared
_names = itertools.count()


def execute_prepared(db: Any, statements: Sequence[str], params: list[Any]) -> tuple | None:
    """Run `statements` (each one statement, `%s` placeholders, no literal `%`; they take the
    parameters in order) as one query string, each prepared on the connection; return the
    first row of the last one's result (None if it has none).

    Sent in one query string outside a transaction, they are one implicit transaction. A
    prepared statement the connection lost (`DISCARD ALL`, a pooler handing over another
    session) is prepared again: at once where nothing else was in the transaction (it
    rolled back whole), else on the next call.
    """
    db.close_if_health_check_failed()  # as Django's cursor() does first
    db.ensure_connection()  # the names belong to the connection
    cache = _cache(db)
    try:
        return _execute(db, cache, statements, params)
    except DatabaseError as exc:
        if getattr(exc.__cause__, "pgcode", None) != INVALID_STATEMENT_NAME:
            raise
        cache.clear()  # every name this connection kept is suspect (DISCARD drops them all)
        if db.in_atomic_block or not db.get_autocommit():
            raise
        return _execute(db, cache, statements, params)


INVALID_STATEMENT_NAME = "26000"  # "prepared statement … does not exist"


def _execute(db: Any, cache: dict[str, str], statements: Sequence[str], params: list[Any]) -> tuple | None:
    texts, preparing, plain = [], [], False
    for sql in statements:
        execute = cache.get(sql)  # the EXECUTE of the statement prepared on this connection
        if execute is None and len(cache) + len(preparing) < MAX_PREPARED:
            name = f"eventstore_{next(_names)}"  # never reused, even after a failed PREPARE
            execute = f"EXECUTE {name}({', '.join(['%s'] * sql.count('%s'))})"
            texts.append(f"PREPARE {name} AS {_renumber(sql)}")
            preparing.append((sql, execute))
        plain = plain or execute is None
        texts.append(sql if execute is None else execute)
    if not plain:
        params = [_literal(p) if type(p) in _QUOTED_IN_PYTHON else p for p in params]
    try:
        row = _run(db, "; ".join(texts), params)
    except BaseException:
        # A PREPARE may or may not have run (it outlives a rollback): never reuse its name.
        for sql, _ in preparing:
            cache.pop(sql, None)
        raise
    cache.update(preparing)
    return row


# Parameter types psycopg2 quotes in Python; strings it quotes in C. The prepared statement
# declares each parameter's type, so an EXECUTE's quoted string serves for uuid and jsonb alike.
_QUOTED_IN_PYTHON = frozenset((uuid.UUID, Json, Jsonb))


def _literal(value: uuid.UUID | Json) -> str:
    """A uuid or JSON parameter of an EXECUTE as a string."""
    return str(value) if type(value) is uuid.UUID else value.dumps(value.adapted)


def _run(db: Any, sql: str, params: list[Any]) -> tuple | None:
    if db.execute_wrappers or db.queries_logged:
        with db.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchone() if cur.description else None
    return _run_plain(db, sql, params)


@async_unsafe
def _run_plain(db: Any, sql: str, params: list[Any]) -> tuple | None:
    """`cur.execute` on psycopg2's cursor, with what Django's cursor() and execute() do
    besides (`execute_prepared` connected; one thread per connection, no use of a broken
    transaction, the cursor's time zone, errors raised as Django's)."""
    db.validate_thread_sharing()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors, db.connection.cursor() as cur:
        cur.tzinfo_factory = db.tzinfo_factory if settings.USE_TZ else None
        cur.execute(sql, params)
        return cur.fetchone() if cur.description else None


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
