"""Cut the database connection in the middle of a multi-stream command (person_merge).

A second connection holds a row lock on the read-model row of the stream person_merge
writes last. The merge takes the append lock, inserts the events of both streams, projects
the first stream, then waits on that row: the cut (pg_terminate_backend) lands after the
events were written and half the projection ran, all inside the command's transaction. Then
nothing may remain (both streams at their old versions, read models unchanged, replay equals
live), and the same command, retried with the same expected versions, succeeds.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import uuid

import psycopg2
from django.db import connection

from tracker.eventstore import rebuild
from tracker.eventstore.api import Context, current_version
from tracker.eventstore.models import Event

from .harness import database_url


@dataclasses.dataclass
class MergeCutResult:
    cut_after_append: bool
    victim_error: str
    half_written: int
    check_problems: list[str]
    retried: bool

    def line(self) -> str:
        return (
            f"merge cut: cut_after_append={'yes' if self.cut_after_append else 'no'} "
            f"half-written={self.half_written} rebuild_check={'ok' if not self.check_problems else 'FAILED'} "
            f"retried={'ok' if self.retried else 'FAILED'}"
        )

    @property
    def ok(self) -> bool:
        return self.cut_after_append and self.half_written == 0 and not self.check_problems and self.retried


def _query(sql: str, params: list | None = None) -> list[tuple]:
    with connection.cursor() as cur:
        cur.execute(sql, params or [])
        return cur.fetchall()


def run_merge_cut(*, timeout: float = 8.0) -> MergeCutResult:
    from people.commands import person_alias_add, person_merge, person_register
    from people.models import Person

    system = Context.system(reason="reliability: merge cut", via="cli")
    suffix = uuid.uuid4().hex[:6]
    loser = person_register(name=f"Cut Loser {suffix}", country="KR", aliases=["Cut L."], context=system)
    winner = person_register(name=f"Cut Winner {suffix}", country="KR", context=system)
    person_alias_add(person_id=loser, name=f"Loser Alias {suffix}", context=system,
                     expected_version=current_version(loser))
    versions = {loser: current_version(loser), winner: current_version(winner)}
    last_written = max((loser, winner), key=str)  # append_many writes streams in id order
    before_snapshot = rebuild.snapshot()
    before_events = Event.objects.count()

    blocker = psycopg2.connect(database_url().replace("postgres://", "postgresql://"))
    victim: dict = {}

    def merge() -> None:
        from django.db import connection as own

        try:
            with own.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                victim["pid"] = cur.fetchone()[0]
            person_merge(loser_id=loser, winner_id=winner, loser_expected_version=versions[loser],
                         winner_expected_version=versions[winner],
                         context=Context.system(reason="reliability: merge (cut)", via="cli"))
            victim["error"] = ""
        except Exception as exc:  # the cut surfaces as a database error in the command
            victim["error"] = type(exc).__name__
        finally:
            own.close()

    cut_after_append = False
    try:
        cur = blocker.cursor()
        cur.execute(f"SELECT 1 FROM {Person._meta.db_table} WHERE id = %s FOR UPDATE", [str(last_written)])
        thread = threading.Thread(target=merge, daemon=True)
        thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pid = victim.get("pid")
            if pid and _query("SELECT 1 FROM pg_stat_activity WHERE pid = %s AND wait_event_type = 'Lock'", [pid]):
                # it waits on the row while holding the append lock: its events are inserted
                cut_after_append = bool(_query(
                    "SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' AND granted", [pid]))
                _query("SELECT pg_terminate_backend(%s)", [pid])
                break
            time.sleep(0.05)
        thread.join(timeout=30)
    finally:
        blocker.rollback()
        blocker.close()

    half_written = 0
    half_written += sum(1 for sid, v in versions.items() if current_version(sid) != v)
    half_written += Event.objects.count() - before_events
    problems = rebuild.compare(before_snapshot, rebuild.snapshot())
    half_written += len(problems)
    check_problems, _stats, _sum = rebuild.check()
    retried = False
    try:
        person_merge(loser_id=loser, winner_id=winner, loser_expected_version=versions[loser],
                     winner_expected_version=versions[winner],
                     context=Context.system(reason="reliability: merge (retried)", via="cli"))
        retried = (Person.objects.get(pk=loser).merged_into_id == winner
                   and current_version(loser) == versions[loser] + 1
                   and current_version(winner) == versions[winner] + 1)
    except Exception as exc:  # reported as a failed retry
        victim["retry_error"] = repr(exc)
    check_after, _stats, _sum = rebuild.check()
    return MergeCutResult(
        cut_after_append=cut_after_append and bool(victim.get("error")),
        victim_error=victim.get("error", "still running"),
        half_written=half_written,
        check_problems=check_problems + check_after,
        retried=retried,
    )
