"""Backup and restore: pg_dump of the populated database, restored into a new database,
passes `rebuild_projections --check` there, and the restored log still refuses UPDATE and
DELETE (its triggers came along). The exact commands are in docs/reliability.md."""
from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
from django.db import connection

from tracker.eventstore.models import Event

from .harness import ROOT, child_env, database_url


@dataclasses.dataclass
class BackupResult:
    events: int
    restored_events: int
    triggers: int
    restored_triggers: int
    update_refused: bool
    check_output: str
    check_ok: bool

    def line(self) -> str:
        return (
            f"backup: events={self.events} restored={self.restored_events} "
            f"triggers={self.restored_triggers}/{self.triggers} "
            f"update_refused={'yes' if self.update_refused else 'NO'} "
            f"restore check={'ok' if self.check_ok else 'FAILED'}"
        )

    @property
    def ok(self) -> bool:
        return (self.check_ok and self.update_refused and self.events == self.restored_events
                and self.triggers == self.restored_triggers > 0)


def _triggers(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    with conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_trigger WHERE tgrelid = %s::regclass AND NOT tgisinternal", [table])
        return cur.fetchone()[0]


def _with_name(url: str, name: str) -> str:
    return url.rsplit("/", 1)[0] + "/" + name


def run_backup() -> BackupResult:
    table = Event._meta.db_table
    source = database_url()
    target_name = f"{connection.settings_dict['NAME']}_restored"
    target = _with_name(source, target_name)
    events = Event.objects.count()
    triggers = _triggers(connection, table)
    admin = psycopg2.connect(_with_name(source, "postgres").replace("postgres://", "postgresql://"))
    admin.autocommit = True
    with tempfile.TemporaryDirectory() as folder:
        dump = Path(folder) / "tracker.dump"
        try:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{target_name}"')
                cur.execute(f'CREATE DATABASE "{target_name}"')
            # the documented commands (docs/reliability.md)
            subprocess.run(["pg_dump", "--format=custom", "--no-owner", f"--file={dump}", source],
                           check=True, capture_output=True)
            subprocess.run(["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={target}", str(dump)],
                           check=True, capture_output=True)
            restored = psycopg2.connect(target.replace("postgres://", "postgresql://"))
            try:
                with restored.cursor() as cur:
                    cur.execute(f"SELECT count(*) FROM {table}")
                    restored_events = cur.fetchone()[0]
                restored_triggers = _triggers(restored, table)
                update_refused = False
                if restored_events:
                    try:
                        with restored.cursor() as cur:
                            cur.execute(f"UPDATE {table} SET type = type WHERE position = 1")
                    except psycopg2.Error:
                        update_refused = True
                    restored.rollback()
            finally:
                restored.close()
            check = subprocess.run(
                [sys.executable, "manage.py", "rebuild_projections", "--check"],
                env=child_env(DATABASE_URL=target, DJANGO_SETTINGS_MODULE=os.environ.get(
                    "DJANGO_SETTINGS_MODULE", "tracker.settings")),
                cwd=ROOT, capture_output=True, text=True, timeout=300,
            )
        finally:
            with admin.cursor() as cur:
                cur.execute(f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
            admin.close()
    output = (check.stdout.strip().splitlines() or [check.stderr.strip()[-300:]])[-1]
    return BackupResult(events, restored_events, triggers, restored_triggers, update_refused,
                        output, check.returncode == 0)
