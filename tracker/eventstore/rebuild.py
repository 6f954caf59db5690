"""Rebuilding read models from the log, and proving they equal a replay."""
from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction

from .models import Checkpoint, Event
from .progress import progress
from .projection import flush_replay, owned_models, replaying
from .readmodel import projecting
from .replay import merged_models
from .replay import replay as fast_replay
from .store import (
    EVENT_COLUMNS,
    INLINE_CHECKPOINT,
    StateCache,
    StoredEvent,
    checkpoint_after,
    hold_append_lock,
    project,
    save_states,
    stored_from_values,
)

BATCH = 2000
STATE_FLUSH = 50_000  # events between bulk writes of cached stream states and buffered rows
STATE_CACHE = 200_000  # stream states kept in memory during a replay
FAST_REPLAY = True  # use replay.py on PostgreSQL


@dataclasses.dataclass
class RebuildStats:
    events: int
    seconds: float
    # the fast replay's time split (replay.ReplayResult.seconds); empty on the generic path
    phases: dict[str, float] = dataclasses.field(default_factory=dict)
    # rows the fast replay's merges deleted and inserted (replay.ReplayResult.merged)
    merged_rows: dict[str, int] = dataclasses.field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def _empty_read_models(models: list | None = None) -> None:
    """DELETE every row of the read models (all of them, or `models`, in the order given)."""
    with projecting(), connection.cursor() as cur:
        for model in owned_models() if models is None else models:
            # DELETE, not TRUNCATE: TRUNCATE takes an ACCESS EXCLUSIVE lock that blocks readers.
            cur.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")


def _iter_events(after: int = 0) -> Iterator[StoredEvent]:
    """All events in position order, read in keyset-paginated batches to keep memory flat."""
    last = after
    while True:
        rows = list(
            Event.objects.filter(position__gt=last).order_by("position").values_list(*EVENT_COLUMNS)[:BATCH]
        )
        if not rows:
            return
        yield from stored_from_values(rows)
        last = rows[-1][1]


def _fast() -> bool:
    return FAST_REPLAY and connection.vendor == "postgresql"


def _not_merged() -> list:
    """The read models the fast replay does not merge (their projectors have no replayer):
    emptied before it, and written by their projectors as live."""
    merged = set(merged_models())
    return [m for m in owned_models() if m not in merged]


def _replay(*, show_progress: bool) -> int:
    """Project every event again into emptied read models, one original append batch at a
    time (as they were live): the generic path, for SQLite and for tests that compare paths
    (PostgreSQL rebuilds and checks use replay.py, see `rebuild`).

    Stream states are kept in memory and written in bulk every STATE_FLUSH events (the read
    models were emptied, so the cache is authoritative until it is flushed); the inline
    checkpoint is computed batch by batch as live appends write it, and written once at the end. Projectors see exactly the same calls as live, inside
    `replaying()`: they may skip existence reads and buffer their rows, which are flushed
    with the stream states and at the end.
    """
    with replaying():
        count = _replay_events(show_progress=show_progress)
    return count


def _replay_events(*, show_progress: bool) -> int:
    total = Event.objects.count()
    batch: list[StoredEvent] = []
    states = StateCache()  # the read models were just emptied: complete until evicted
    count = 0
    events = _iter_events()
    if show_progress:
        events = progress(events, total=total, desc="replay", unit="ev")
    checkpoint = None  # computed as live appends write it, written once at the end
    for stored in events:
        if batch and stored.metadata.get("batch") != batch[-1].metadata.get("batch"):
            project(batch, states=states, checkpoint=False)
            if checkpoint_after(batch):
                checkpoint = batch[-1].position
            batch = []
        batch.append(stored)
        count += 1
        if count % STATE_FLUSH == 0:
            flush_replay()
            save_states(states)
            if len(states) > STATE_CACHE:
                states.clear()  # flushed rows are read back from the table when needed
                states.complete = False
    project(batch, states=states, checkpoint=False)
    if checkpoint_after(batch):
        checkpoint = batch[-1].position
    flush_replay()
    save_states(states)
    if checkpoint is not None:
        with projecting():
            Checkpoint(name=INLINE_CHECKPOINT, last_position=checkpoint).save()
    return count


def _one_snapshot() -> None:
    """Make the check's transaction read the log and the read models as of one moment
    (PostgreSQL: REPEATABLE READ, its first statement), so a command committing during a
    check is in both or in neither, without making writers wait for the check."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")


def rebuild(*, show_progress: bool = False) -> RebuildStats:
    """Make every read model equal to a replay of the whole log, in one transaction.

    On PostgreSQL the fast replay writes only the rows that differ (replay.py, merge.py): a
    rebuild of read models that are already right writes nothing. Elsewhere every read model
    is emptied and replayed into.
    """
    started = time.perf_counter()
    with transaction.atomic():
        # A command appending meanwhile would project into rows the merge then puts back as the
        # replay (read before that event) has them: commands wait for the rebuild instead.
        hold_append_lock()
        if _fast():
            _empty_read_models(_not_merged())
            result = fast_replay(show_progress=show_progress)
            count, phases, merged = result.events, result.seconds, result.merged
        else:
            _empty_read_models()
            count, phases, merged = _replay(show_progress=show_progress), {}, {}
    return RebuildStats(events=count, seconds=time.perf_counter() - started, phases=phases, merged_rows=merged)


def snapshot(models: list | None = None) -> dict[str, dict[str, Any]]:
    """Canonical rows of every read model (or of `models`), keyed by table then primary key."""
    out: dict[str, dict[str, Any]] = {}
    for model in owned_models() if models is None else models:
        rows = {}
        for row in model.objects.order_by("pk").values():
            key = str(row[model._meta.pk.attname])
            rows[key] = json.loads(json.dumps(row, default=str, sort_keys=True))
        out[model._meta.db_table] = rows
    return out


def checksum(snap: dict[str, dict[str, Any]]) -> str:
    return hashlib.sha256(json.dumps(snap, sort_keys=True).encode()).hexdigest()


def compare(live: dict, rebuilt: dict, *, limit: int = 20) -> list[str]:
    """Human-readable differences between two snapshots (empty when equal)."""
    problems: list[str] = []
    for table in sorted(set(live) | set(rebuilt)):
        a, b = live.get(table, {}), rebuilt.get(table, {})
        for key in sorted(set(a) | set(b)):
            if a.get(key) != b.get(key):
                if key not in b:
                    problems.append(f"{table} {key}: live row missing from replay")
                elif key not in a:
                    problems.append(f"{table} {key}: replay row missing from live tables")
                else:
                    fields = [f for f in a[key] if a[key].get(f) != b[key].get(f)]
                    problems.append(f"{table} {key}: differs in {', '.join(fields)}")
                if len(problems) >= limit:
                    return problems
    return problems


def check(*, show_progress: bool = False) -> tuple[list[str], RebuildStats, str]:
    """Replay the log without changing the live tables (a rolled-back transaction) and compare:
    the differences (at most 20, by table then key), the replay's figures, and a checksum of
    the live read models.

    On PostgreSQL the fast replay writes its rows into temporary tables and the comparison
    runs in SQL (merge.MergeWriter); only the read models of projectors without a replayer
    are snapshotted, emptied and replayed into as on the generic path.
    """
    started = time.perf_counter()
    outermost = not connection.in_atomic_block  # else the caller's transaction has read already
    with transaction.atomic():
        if outermost:
            _one_snapshot()
        if _fast():
            digest = live_checksum()
            others = _not_merged()
            live = snapshot(others)
            _empty_read_models(others)
            result = fast_replay(show_progress=show_progress, check=True)
            count, phases = result.events, result.seconds
            by_table = {**result.differences, **_by_table(compare(live, snapshot(others)))}
            problems = [p for table in sorted(by_table) for p in by_table[table]][:20]
        else:
            live = snapshot()
            digest = checksum(live)
            _empty_read_models()
            count, phases = _replay(show_progress=show_progress), {}
            problems = compare(live, snapshot())
        transaction.set_rollback(True)  # the live tables stay exactly as they were
    stats = RebuildStats(events=count, seconds=time.perf_counter() - started, phases=phases)
    return problems, stats, digest


def _by_table(problems: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for problem in problems:
        out.setdefault(problem.split(" ", 1)[0], []).append(problem)
    return out


def live_checksum() -> str:
    """SHA-256 of every read model's row count and the sum of its rows' hashes (each column
    hashed by its type's hash function: a jsonb by value), computed by the server without
    sorting or printing rows: the checksum `check()` reports on PostgreSQL."""
    digest = hashlib.sha256()
    with connection.cursor() as cur:
        for model in owned_models():
            table = connection.ops.quote_name(model._meta.db_table)
            cur.execute(f"SELECT count(*), coalesce(sum(hash_record_extended(t, 0)::numeric), 0) FROM {table} t")
            count, total = cur.fetchone()
            digest.update(f"{model._meta.db_table}\t{count}\t{total}\n".encode())
    return digest.hexdigest()
