"""Fast replay of the whole log into the read models (PostgreSQL).

The generic replay (rebuild.py) goes through `project()` batch by batch, with model instances
and ORM writes. This one makes the same calls in the same order, but:

- the log is read with a raw server-side cursor as value rows, links with one query;
- stream states are folded in place in memory by the aggregates' evolvers (upcasting only
  payloads whose schema version is old), and written into StreamState at the end;
- projectors with a `replayer` (see `Projector.replayer`) keep their rows in memory and write
  them at the end; the others run their ordinary syncs and reactions as they come, into
  tables the caller emptied. Those must not read a replayer's tables, which are written only
  at the end.

The rows are written by a `merge.MergeWriter`: COPYed into the tables that are empty, and
merged into the others (only the rows that differ are deleted and inserted), so a rebuild of
read models that are already (mostly) right writes (almost) nothing. A check writes them into
temporary tables only, and compares.
"""
from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime as dt
import json
import logging
import queue
import threading
import time
import uuid
from collections.abc import Iterator
from itertools import groupby
from typing import Any

from django.db import IntegrityError, connection, models

from . import foreignkeys
from .aggregate import AGGREGATES, aggregate_for
from .bulk import cyclic_gc_paused
from .bulkcopy import compact_json_text, text
from .events import EVENT_TYPES, upcast
from .merge import MergeWriter
from .models import Checkpoint, Event, EventLink, StreamState
from .progress import progress
from .projection import (
    PROJECTORS,
    Replay,
    owned_models,
    projectors_for_stream,
    reacting_projectors,
    replaying,
)
from .readmodel import projecting
from .store import CHECKPOINT_EVERY, INLINE_CHECKPOINT, StoredEvent

logger = logging.getLogger(__name__)
FETCH = 10_000  # rows per round trip of the server-side cursor
# PostgreSQL's text of a jsonb has no surrounding blanks: the scanner alone decodes it.
_decode = json.JSONDecoder().scan_once


class IdCache(dict):
    """Canonical text of ids (`ids[value]`), each parsed once: a replay keys its rows by text,
    the form COPY writes, and payloads may spell an id differently (upper case, no dashes)."""

    def __missing__(self, key: Any) -> str:
        text = str(key)
        if not (len(text) == 36 and text[8] == text[13] == text[18] == text[23] == "-" and text.islower()):
            text = str(uuid.UUID(text))  # not the canonical spelling (PostgreSQL checks the others)
        self[key] = text
        return text


class ReplayEvent:
    """One event of a replay, for evolvers and replayers: ids (`stream_id`, `related_ids`)
    are canonical text, and `recorded_at` is PostgreSQL's text of the time, ready for COPY."""

    __slots__ = (
        "pk", "position", "stream_type", "stream_id", "version", "type", "schema_version", "data",
        "metadata_json", "event_id", "recorded_at", "occurred_at", "related_ids",
    )

    def __init__(self, row: tuple, data: Any, schema_version: int, related_ids: tuple) -> None:
        (
            self.pk, self.position, self.stream_type, self.stream_id, self.version, self.type, _,
            _, self.metadata_json, _, self.event_id, self.recorded_at, self.occurred_at,
        ) = row
        self.data, self.schema_version, self.related_ids = data, schema_version, related_ids

    def stored(self) -> StoredEvent:
        """The StoredEvent a projector without a replayer gets."""
        return StoredEvent(
            position=self.position, stream_type=self.stream_type, stream_id=uuid.UUID(self.stream_id),
            version=self.version, type=self.type, schema_version=self.schema_version, data=self.data,
            metadata=json.loads(self.metadata_json), event_id=uuid.UUID(self.event_id),
            recorded_at=dt.datetime.fromisoformat(self.recorded_at), occurred_at=self.occurred_at,
            related_ids=tuple(uuid.UUID(r) for r in self.related_ids),
        )


def _links() -> dict[int, tuple[str, ...]]:
    table = connection.ops.quote_name(EventLink._meta.db_table)
    out: dict[int, list[str]] = {}
    with connection.cursor() as cur:
        cur.execute(f"SELECT event_id, related_id::text FROM {table} ORDER BY id")
        for event_pk, related in cur.fetchall():
            out.setdefault(event_pk, []).append(related)
    return {k: tuple(v) for k, v in out.items()}


def _rows(full_stream_types: list[str], full_types: list[str]) -> Iterator[tuple]:
    """Every event in position order as a value row.

    Ids and times as text (parsing them costs more than the rest of a row; COPY takes text),
    the payload as JSON text, the append batch id extracted by the server. Metadata, event id
    and business time only for the events a StoredEvent is made of (of the stream types and
    event types given): the others do not need them. A thread
    fetches the next block of rows while the caller folds the current one (the wait for the
    server releases the GIL); the rows are decoded in the caller's thread.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            "DECLARE eventstore_replay NO SCROLL CURSOR FOR"
            " SELECT id, position, stream_type, stream_id::text, version, type, schema_version, data::text,"
            " CASE WHEN full_row THEN metadata::text END, metadata->>'batch',"
            " CASE WHEN full_row THEN event_id::text END, recorded_at::text, CASE WHEN full_row THEN occurred_at END"
            f" FROM (SELECT *, stream_type = ANY(%s) OR type = ANY(%s) AS full_row FROM {table}) e ORDER BY position",
            [full_stream_types, full_types],
        )
    raw = connection.connection
    blocks: queue.Queue = queue.Queue(maxsize=2)
    stop = threading.Event()

    def fetch() -> None:
        try:
            while not stop.is_set():
                cur = raw.cursor()
                cur.execute(f"FETCH FORWARD {FETCH} FROM eventstore_replay")
                blocks.put(cur)
                if cur.rowcount < FETCH:
                    return
        except BaseException as exc:  # re-raised in the caller's thread
            blocks.put(exc)

    thread = threading.Thread(target=fetch, name="replay-reader", daemon=True)
    thread.start()
    try:
        while True:
            block = blocks.get()
            if isinstance(block, BaseException):
                raise block
            rows = block.fetchall()
            block.close()
            yield from rows
            if len(rows) < FETCH:
                break
    finally:
        stop.set()
        while thread.is_alive():  # unblock a reader waiting to hand over a block
            with contextlib.suppress(queue.Empty):
                blocks.get(timeout=0.1)
        thread.join()
    with connection.cursor() as cur:
        cur.execute("CLOSE eventstore_replay")


class _Replay:
    def __init__(self, session: Replay, *, check: bool = False) -> None:
        self.session = session
        for projector in PROJECTORS.values():
            if projector.replayer is not None:
                session.replayers[projector.name] = projector.replayer(session)
        self.states: dict[str, list] = {}  # stream id -> [type, version, state, position, recorded_at]
        self.stream_plans: dict[str, tuple] = {}
        self.reaction_plans: dict[str, list[tuple[Any, Any]]] = {}
        self.checkpoint: int | None = None
        self.check = check
        self.writer: MergeWriter | None = None

    def _stream_plan(self, stream_type: str) -> tuple:
        """(aggregate, [(projector, its replayer or None)], trusted, evolvers, [replayers if
        trusted]) of a stream type.

        Trusted: every projector of the stream type has a replayer, which vouches that the
        aggregate's `initial()` is a fresh dict and its evolvers copy whatever they keep of a
        payload, so neither is copied here (payloads are fresh from JSON and then dropped).
        """
        plan = self.stream_plans.get(stream_type)
        if plan is None:
            syncs = [(p, self.session.replayers.get(p.name)) for p in projectors_for_stream(stream_type)]
            trusted = bool(syncs) and all(replayer is not None for _, replayer in syncs)
            aggregate = aggregate_for(stream_type)
            replayers = [replayer for _, replayer in syncs] if trusted else []
            plan = self.stream_plans[stream_type] = (aggregate, syncs, trusted, aggregate.evolvers, replayers)
        return plan

    def _reaction_plan(self, event_type: str) -> list[tuple[Any, Any]]:
        plan = self.reaction_plans.get(event_type)
        if plan is None:
            plan = self.reaction_plans[event_type] = [
                (p, self.session.replayers.get(p.name)) for p in reacting_projectors(event_type)
            ]
        return plan

    def project(self, batch: list[ReplayEvent]) -> None:
        """What `project()` does for one original append batch, in the same order."""
        plans = self.reaction_plans
        if len(batch) == 1:  # most appends are one event: its sync without the grouping
            ev = batch[0]
            stream = self.stream_plans.get(ev.stream_type) or self._stream_plan(ev.stream_type)
            entry = self.states.get(ev.stream_id)
            if stream[2] and entry is not None and ev.type != "StateReverted":
                # A trusted stream that has a state: fold and sync inline (what _sync does).
                fn = stream[3].get(ev.type)
                if fn is None:
                    raise LookupError(f"{stream[0].__name__} has no evolver for {ev.type}")
                state = entry[2] = fn(entry[2], ev.data, ev)
                entry[1], entry[3], entry[4] = ev.version, ev.position, ev.recorded_at
                for replayer in stream[4]:
                    replayer.sync(ev.stream_type, ev.stream_id, state, batch)
            else:
                self._sync(ev.stream_id, batch)
        else:
            for stream_id, group in groupby(batch, key=lambda e: e.stream_id):
                self._sync(stream_id, list(group))
        for ev in batch:
            plan = plans.get(ev.type)
            if plan is None:
                plan = self._reaction_plan(ev.type)
            if plan:
                self._react(plan, ev)
        first, last = batch[0].position, batch[-1].position
        if (last // CHECKPOINT_EVERY) * CHECKPOINT_EVERY >= first:  # store.checkpoint_after
            self.checkpoint = last

    @staticmethod
    def _react(plan: list[tuple[Any, Any]], ev: ReplayEvent) -> None:
        for projector, replayer in plan:
            if replayer is not None:
                replayer.react(ev)
            else:
                projector.reacts_to[ev.type](ev.stored())

    def _sync(self, stream_id: str, events: list[ReplayEvent]) -> None:
        stream_type = events[0].stream_type
        plan = self.stream_plans.get(stream_type)
        aggregate, syncs, trusted, evolvers, _ = plan if plan is not None else self._stream_plan(stream_type)
        entry = self.states.get(stream_id)
        if entry is None:
            initial = aggregate.initial()
            entry = self.states[stream_id] = [stream_type, 0, initial if trusted else copy.deepcopy(initial), 0, None]
        state = entry[2]
        stored = None if trusted else [ev.stored() for ev in events]
        for ev in events if trusted else stored:
            if ev.type == "StateReverted":
                state.update(copy.deepcopy(ev.data["fields"]))
                continue
            fn = evolvers.get(ev.type)
            if fn is None:
                raise LookupError(f"{aggregate.__name__} has no evolver for {ev.type}")
            state = fn(state, ev.data if trusted else copy.deepcopy(ev.data), ev)
        last = events[-1]
        entry[1], entry[2], entry[3], entry[4] = last.version, state, last.position, last.recorded_at
        for projector, replayer in syncs:
            if replayer is not None:
                replayer.sync(stream_type, stream_id, state, events)
            else:
                projector.syncs[stream_type](uuid.UUID(stream_id), state, stored)

    def close(self) -> None:
        """Drop the in-memory read models while the cyclic collector is still paused.

        Everything a replay allocates is young to the collector (it was paused), so its first
        collection afterwards would walk all of it (~0.6 s at 1,000,000 events); and replayers
        refer to each other (listeners), a cycle that would keep it all alive until a full
        collection (~2 s). Emptied here, it is freed by reference counting alone.
        """
        for replayer in self.session.replayers.values():
            vars(replayer).clear()
        self.session.replayers.clear()
        self.states.clear()
        self.stream_plans.clear()
        self.reaction_plans.clear()

    def write(self) -> None:
        """Write every replayer's rows and the stream states (`self.writer`). The foreign keys
        of the written rows are checked once per constraint after the write when that is
        equivalent (`foreignkeys.checked_at_once`); else the deferred per-row checks run before
        the (larger) stream states, so they overlap their formatting."""
        check = self.check
        at_once = None if check else foreignkeys.checked_at_once(merged_models(), owned_models())
        deferred = "" if check or at_once is not None else _deferred_foreign_keys()
        if at_once is not None:
            with connection.cursor() as cur:
                cur.execute("SELECT current_setting('session_replication_role')")
                (role,) = cur.fetchone()
        # Stream states are jsonb objects, which PostgreSQL prints with its own key order.
        merged = merged_models()
        writer = self.writer = MergeWriter(merged, check=check, by_line=[m for m in merged if m is not StreamState])
        try:
            if at_once is not None:  # the rows' foreign keys are checked at once afterwards
                writer.execute("SELECT set_config('session_replication_role', 'replica', true)", "settings")
            for replayer in self.session.replayers.values():
                replayer.write(writer)
            if deferred:
                writer.execute(f"SET CONSTRAINTS {deferred} IMMEDIATE", "foreign-key checks")
            writer.keyed(StreamState, self.states, _state_line, STATE_COLUMNS)
            if deferred:
                writer.execute(f"SET CONSTRAINTS {deferred} DEFERRED", "foreign-key checks")
            checkpoint = {} if self.checkpoint is None else {INLINE_CHECKPOINT: (self.checkpoint,)}
            writer.keyed_rows(Checkpoint, checkpoint)
            if at_once is not None:
                writer.execute(f"SELECT set_config('session_replication_role', '{role}', true)", "settings")
        finally:
            writer.close()
        if at_once is not None:
            started = time.perf_counter()
            broken = foreignkeys.violations(at_once)
            writer.seconds["foreign-key checks"] += time.perf_counter() - started
            if broken:
                raise IntegrityError("; ".join(broken))


STATE_COLUMNS = ["stream_id", "stream_type", "version", "state", "last_position", "updated_at"]


def _state_line(sid: str, entry: list) -> str:
    t, version, state, position, at = entry
    return f"{sid}\t{text(t)}\t{version}\t{compact_json_text(state)}\t{position}\t{at}"


def merged_models() -> list[type[models.Model]]:
    """The tables a fast replay writes (`_Replay.write`): those of the projectors that have a
    replayer, the stream states and the checkpoints. The others' projectors run as live."""
    out = [m for p in PROJECTORS.values() if p.replayer is not None for m in p.models]
    return [*out, StreamState, Checkpoint]


def _deferred_foreign_keys() -> str:
    """The initially deferred foreign keys of the read models, as a SET CONSTRAINTS list."""
    tables = [m._meta.db_table for m in owned_models()]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.conname) FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace"
            " WHERE c.contype = 'f' AND c.condeferrable AND c.condeferred"
            " AND c.conrelid = ANY(SELECT to_regclass(t) FROM unnest(%s::text[]) t)",
            [tables],
        )
        return ", ".join(name for (name,) in cur.fetchall())


@dataclasses.dataclass
class ReplayResult:
    events: int
    # with check: up to 20 differences per table between the live rows and the replay's
    differences: dict[str, list[str]]
    # seconds: reading and folding the log, then the writer's time per table or step
    seconds: dict[str, float]
    # rows the merges deleted and inserted, per "<table> (deleted|inserted)"
    merged: dict[str, int]


def replay(*, show_progress: bool = False, check: bool = False) -> ReplayResult:
    """Replay the whole log; make the tables of `merged_models()` equal to it, writing only
    the rows that differ (merge.MergeWriter). With `check`, write none of them: compare."""
    started = time.perf_counter()
    links = _links()
    with replaying() as session, projecting(), cyclic_gc_paused():
        run = _Replay(session, check=check)
        try:
            count = _project_log(run, links, show_progress=show_progress)
            folded = time.perf_counter()
            run.write()
        finally:
            run.close()
    writer = run.writer
    seconds = {"read and fold": folded - started, **writer.seconds, "write": time.perf_counter() - folded}
    merged = dict(writer.rowcounts)
    logger.debug("replay: %s seconds, rows written by merges %s", seconds, merged)
    return ReplayResult(count, writer.differences() if check else {}, seconds, merged)


def _project_log(run: _Replay, links: dict[int, tuple[str, ...]], *, show_progress: bool) -> int:
    """Read the log and project it, event by event, into `run`; the number of events."""
    current = {name: cls.schema_version for name, cls in EVENT_TYPES.items()}
    full_stream_types = [t for t in AGGREGATES if not run._stream_plan(t)[2]]
    full_types = [t for p in PROJECTORS.values() if p.replayer is None for t in p.reacts_to]
    total = Event.objects.count() if show_progress else None
    count = 0
    batch: list[ReplayEvent] = []
    batch_id: object = object()  # never equal to a first event's batch (None included)
    log = _rows(full_stream_types, full_types)
    try:
        rows = progress(log, total=total, desc="replay", unit="ev") if show_progress else log
        project, decode, current_version, links_of = run.project, _decode, current.get, links.get
        for row in rows:
            type_, schema, data = row[5], row[6], decode(row[7], 0)[0]
            if schema != current_version(type_, schema):
                schema, data = upcast(type_, schema, data)
            ev = ReplayEvent(row, data, schema, links_of(row[0], ()))
            # One original append per batch (metadata "batch"), as `project()` was called live.
            if row[9] != batch_id:
                if batch:
                    project(batch)
                batch = [ev]
                batch_id = row[9]
            else:
                batch.append(ev)
            count += 1
    finally:
        log.close()  # on an error too: the reader thread stops before the connection is reused
    if batch:
        run.project(batch)
    return count
