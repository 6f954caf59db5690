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
from .replay import replay as fast_replay
from .store import (
    EVENT_COLUMNS,
    INLINE_CHECKPOINT,
    StateCache,
    StoredEvent,
    checkpoint_after,
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

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds else float("inf")


def _empty_read_models() -> None:
    with projecting(), connection.cursor() as cur:
        for model in owned_models():
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


def _replay(*, show_progress: bool) -> int:
    """Project every event again, one original append batch at a time (as they were live).

    On PostgreSQL the fast replay (replay.py) does it; the generic path below serves SQLite
    (and tests that compare both).

    Stream states are kept in memory and written in bulk every STATE_FLUSH events (the read
    models were emptied, so the cache is authoritative until it is flushed); the inline
    checkpoint is computed batch by batch as live appends write it, and written once at the end. Projectors see exactly the same calls as live, inside
    `replaying()`: they may skip existence reads and buffer their rows, which are flushed
    with the stream states and at the end.
    """
    if FAST_REPLAY and connection.vendor == "postgresql":
        return fast_replay(show_progress=show_progress)
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


def rebuild(*, show_progress: bool = False) -> RebuildStats:
    """Empty every read model and replay the whole log into them, in one transaction."""
    started = time.perf_counter()
    with transaction.atomic():
        _empty_read_models()
        count = _replay(show_progress=show_progress)
    return RebuildStats(events=count, seconds=time.perf_counter() - started)


def snapshot() -> dict[str, dict[str, Any]]:
    """Canonical rows of every read model, keyed by table then primary key."""
    out: dict[str, dict[str, Any]] = {}
    for model in owned_models():
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
    """Rebuild into a scratch copy (a rolled-back transaction) and compare with the live tables."""
    started = time.perf_counter()
    with transaction.atomic():
        live = snapshot()
        _empty_read_models()
        count = _replay(show_progress=show_progress)
        rebuilt = snapshot()
        transaction.set_rollback(True)  # the live tables stay exactly as they were
    stats = RebuildStats(events=count, seconds=time.perf_counter() - started)
    return compare(live, rebuilt), stats, checksum(live)
