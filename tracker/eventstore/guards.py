"""Database-level guards that keep the event log append-only.

PostgreSQL: row triggers refuse UPDATE/DELETE and a statement trigger refuses TRUNCATE.
SQLite: row triggers call `eventstore_guard()`, a function registered on each connection
that raises unless the connection is purging test data. A connection without the function
(the sqlite3 shell) fails with "no such function", so it is refused too.

The only bypass is `allow_purge()`, used by the test runner's flush between transactional
tests; production protection also relies on the app's DB role lacking UPDATE/DELETE rights.
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

from django.db import connection
from django.db.backends.signals import connection_created
from django.dispatch import receiver

PROTECTED_TABLES = ("eventstore_event", "eventstore_eventlink")
PG_PURGE_SETTING = "eventstore.allow_purge"


@receiver(connection_created)
def _register_sqlite_guard(sender, connection, **kwargs) -> None:  # type: ignore[no-untyped-def]
    if connection.vendor != "sqlite":
        return
    state = {"purge": False}
    connection._eventstore_purge = state  # type: ignore[attr-defined]

    def guard() -> int:
        return 1 if state["purge"] else 0

    connection.connection.create_function("eventstore_guard", 0, guard, deterministic=False)


@contextlib.contextmanager
def allow_purge() -> Iterator[None]:
    """Let this connection empty the log (test flush only)."""
    connection.ensure_connection()
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SELECT set_config(%s, 'on', false)", [PG_PURGE_SETTING])
        try:
            yield
        finally:
            with connection.cursor() as cur:
                cur.execute("SELECT set_config(%s, 'off', false)", [PG_PURGE_SETTING])
    else:
        state = getattr(connection, "_eventstore_purge", {"purge": False})
        state["purge"] = True
        try:
            yield
        finally:
            state["purge"] = False


def install_sql(vendor: str) -> list[str]:
    """SQL that installs the append-only triggers for a database vendor."""
    if vendor == "postgresql":
        statements = [
            f"""
            CREATE OR REPLACE FUNCTION eventstore_refuse_change() RETURNS trigger AS $$
            BEGIN
              IF current_setting('{PG_PURGE_SETTING}', true) = 'on' THEN
                RETURN OLD;
              END IF;
              RAISE EXCEPTION 'eventstore: % on % is refused: the event log is append-only',
                TG_OP, TG_TABLE_NAME USING ERRCODE = 'insufficient_privilege';
            END $$ LANGUAGE plpgsql;
            """
        ]
        for table in PROTECTED_TABLES:
            statements += [
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION eventstore_refuse_change();",
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION eventstore_refuse_change();",
            ]
        return statements
    if vendor == "sqlite":
        statements = []
        for table in PROTECTED_TABLES:
            for op in ("UPDATE", "DELETE"):
                statements.append(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"WHEN eventstore_guard() = 0 BEGIN SELECT RAISE(ABORT, "
                    f"'eventstore: {op} on {table} is refused: the event log is append-only'); END;"
                )
        return statements
    raise NotImplementedError(f"no append-only triggers for {vendor}")


def uninstall_sql(vendor: str) -> list[str]:
    if vendor == "postgresql":
        out = []
        for table in PROTECTED_TABLES:
            out += [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            ]
        return out + ["DROP FUNCTION IF EXISTS eventstore_refuse_change();"]
    return [
        f"DROP TRIGGER IF EXISTS {table}_no_{op};"
        for table in PROTECTED_TABLES
        for op in ("update", "delete")
    ]
