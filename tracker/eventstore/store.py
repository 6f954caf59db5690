"""Appending to and reading from the log.

Global order: every append takes one transaction-scoped lock (PostgreSQL:
`pg_advisory_xact_lock`; SQLite: the IMMEDIATE write lock), reads `MAX(position)` and
writes `position + 1 …` before committing. Appends therefore commit one at a time in
position order, so a reader polling `position > N` can never see N+2 before N+1 is
visible; positions are also gap-free because the number is taken under the lock. All
validation and payload building happens before the lock so it is held briefly.
"""
from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Max
from django.utils import timezone

from .aggregate import aggregate_for
from .bulk import insert_rows
from .context import Context
from .errors import ConcurrencyConflict, StreamNotFound
from .events import DomainEvent, upcast
from .models import Checkpoint, Event, EventLink, StreamState
from .projection import current_replay, projectors_for_stream, reacting_projectors
from .readmodel import projecting

COPY_STREAMS = 16  # appends to at least this many streams (bulk imports) go through COPY
APPEND_LOCK_KEY = 0x6D7472  # arbitrary constant naming the log's advisory lock ("mtr")
IDEMPOTENCY_NS = uuid.UUID("6f0c6a53-3d7e-4a8e-9b55-3a4a6c0e7d11")
INLINE_CHECKPOINT = "inline"
# The inline projection commits with its events, so it is never behind the log and its
# checkpoint is informational only. It is written by the append whose positions reach a
# multiple of CHECKPOINT_EVERY (recording that append's last position), not by every append:
# one write fewer per command. A replay computes the same value (`checkpoint_after`).
CHECKPOINT_EVERY = 100
REMEMBERED_STATES = 64  # stream states a transaction keeps from load() for its own append


@dataclasses.dataclass(frozen=True)
class StoredEvent:
    """An event as read back from the log, payload already upcast."""

    position: int
    stream_type: str
    stream_id: uuid.UUID
    version: int
    type: str
    schema_version: int
    data: dict[str, Any]
    metadata: dict[str, Any]
    event_id: uuid.UUID
    recorded_at: dt.datetime
    occurred_at: dt.datetime | None = None
    related_ids: tuple[uuid.UUID, ...] = ()

    @classmethod
    def from_row(cls, row: Event, related: Iterable[uuid.UUID] = ()) -> StoredEvent:
        schema_version, data = upcast(row.type, row.schema_version, row.data)
        return cls(
            position=row.position,
            stream_type=row.stream_type,
            stream_id=row.stream_id,
            version=row.version,
            type=row.type,
            schema_version=schema_version,
            data=data,
            metadata=row.metadata,
            event_id=row.event_id,
            recorded_at=row.recorded_at,
            occurred_at=row.occurred_at,
            related_ids=tuple(related),
        )


@dataclasses.dataclass
class StreamWrite:
    """Events for one stream, appended only if the stream is still at `expected_version`.

    `related_ids` are linked to every event of the write; `event_related_ids`, if given, holds
    each event's own links instead (a batch of what separate commands would have appended).
    """

    stream_type: str
    stream_id: uuid.UUID
    expected_version: int
    events: Sequence[DomainEvent]
    related_ids: Sequence[uuid.UUID] = ()
    event_related_ids: Sequence[Sequence[uuid.UUID]] | None = None

    def links(self, offset: int) -> tuple[uuid.UUID, ...]:
        """Ids the write's `offset`-th event (1-based) links to, without duplicates or itself."""
        related = self.related_ids if self.event_related_ids is None else self.event_related_ids[offset - 1]
        return tuple(r for r in dict.fromkeys(related) if r != self.stream_id)


def current_version(stream_id: uuid.UUID) -> int:
    """Version of a stream according to the log itself (0 if it has no events)."""
    return Event.objects.filter(stream_id=stream_id).aggregate(v=Max("version"))["v"] or 0


def _lock_and_read_versions(stream_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, int], int]:
    """Take the append lock, then read each stream's version and the log's last position.

    One round trip: on PostgreSQL the lock timeout (SET LOCAL: only this transaction waits at
    most this long), the advisory lock and the read go as three statements in order, and the
    read runs once the lock is held. SQLite: settings use transaction_mode=IMMEDIATE, so the
    write lock is already held.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    subqueries = ", ".join(
        f"(SELECT MAX(version) FROM {table} WHERE stream_id = %s)" for _ in stream_ids
    )
    sql = f"SELECT (SELECT MAX(position) FROM {table}), {subqueries}"
    params: list[Any] = [Event._meta.get_field("stream_id").get_db_prep_value(s, connection) for s in stream_ids]
    if connection.vendor == "postgresql":
        sql = "SELECT set_config('lock_timeout', %s, true); SELECT pg_advisory_xact_lock(%s); " + sql
        params = [settings.EVENTSTORE_LOCK_TIMEOUT, APPEND_LOCK_KEY, *params]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()  # the last statement's result
    return {s: v or 0 for s, v in zip(stream_ids, row[1:], strict=True)}, row[0] or 0


def append(
    *,
    stream_type: str,
    stream_id: uuid.UUID,
    expected_version: int,
    events: Sequence[DomainEvent],
    context: Context,
    related_ids: Sequence[uuid.UUID] = (),
    idempotency_key: str | None = None,
) -> list[StoredEvent]:
    """Append events to one stream if it is still at `expected_version`, and project them."""
    write = StreamWrite(stream_type, stream_id, expected_version, events, related_ids)
    return append_many([write], context=context, idempotency_key=idempotency_key)


def append_many(
    writes: Sequence[StreamWrite], *, context: Context, idempotency_key: str | None = None
) -> list[StoredEvent]:
    """Append to several streams atomically, each checked against its own expected version.

    Streams are locked and written in a fixed (stream id) order so that two multi-stream
    commands cannot deadlock. A retried call with the same `idempotency_key` appends nothing
    and returns the events of the first call.
    """
    writes = sorted((w for w in writes if w.events), key=lambda w: str(w.stream_id))
    if not writes:
        return []
    metadata = context.metadata()
    count = sum(len(w.events) for w in writes)
    if idempotency_key:
        event_ids = [uuid.uuid5(IDEMPOTENCY_NS, f"{idempotency_key}:{i}") for i in range(count)]
        metadata["idempotency_key"] = idempotency_key
    else:
        event_ids = [uuid.uuid4() for _ in range(count)]
    metadata["batch"] = str(event_ids[0])
    # Build every row before taking the lock, so the lock covers only the inserts.
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]] = []
    ids = iter(event_ids)
    for w in writes:
        for offset, ev in enumerate(w.events, start=1):
            pending.append((w, offset, ev, next(ids)))
    payloads = [ev.to_data() for _, _, ev, _ in pending]

    # Inside a command's transaction no savepoint is taken (two round trips fewer): a stale
    # version is raised after the block has ended normally (nothing written yet), so callers
    # that catch ConcurrencyConflict can go on using their transaction.
    conflict: ConcurrencyConflict | None = None
    with transaction.atomic(savepoint=False):
        if idempotency_key and Event.objects.filter(event_id=event_ids[0]).exists():
            return read_events(Event.objects.filter(event_id__in=event_ids))
        if len(writes) >= COPY_STREAMS and connection.vendor == "postgresql":
            conflict, stored = _append_copy(writes, pending, payloads, metadata)
            if conflict is None:
                project(stored)
        else:
            versions, last_position = _lock_and_read_versions([w.stream_id for w in writes])
            for w in writes:
                current = versions.get(w.stream_id, 0)
                if current != w.expected_version:
                    conflict = ConcurrencyConflict(
                        stream_id=w.stream_id, expected=w.expected_version, current=current
                    )
                    break
            if conflict is None:
                stored = _insert_and_project(writes, pending, payloads, metadata, last_position + 1)
    if conflict is not None:
        raise conflict
    return stored


def _append_copy(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
) -> tuple[ConcurrencyConflict | None, list[StoredEvent]]:
    """Append to many streams (a bulk import) on PostgreSQL: lock and read every version in
    one query, then the events in one COPY and their links in one INSERT. Nothing is written
    when a version is stale."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT set_config('lock_timeout', %s, true); SELECT pg_advisory_xact_lock(%s); "
            f"SELECT stream_id, MAX(version) FROM {table} WHERE stream_id = ANY(%s::uuid[]) GROUP BY stream_id "
            f"UNION ALL SELECT NULL, MAX(position) FROM {table}",
            [settings.EVENTSTORE_LOCK_TIMEOUT, APPEND_LOCK_KEY, [w.stream_id for w in writes]],
        )
        found = dict(cur.fetchall())
    last_position = found.pop(None) or 0
    for w in writes:
        if found.get(w.stream_id, 0) != w.expected_version:
            return ConcurrencyConflict(
                stream_id=w.stream_id, expected=w.expected_version, current=found.get(w.stream_id, 0)
            ), []
    now = timezone.now()
    stored = [
        StoredEvent(
            position=last_position + n,
            stream_type=w.stream_type,
            stream_id=w.stream_id,
            version=w.expected_version + offset,
            type=ev.event_type,
            schema_version=ev.schema_version,  # written now: the current shape, nothing to upcast
            data=data,
            metadata=metadata,
            event_id=event_id,
            recorded_at=now,
            related_ids=w.links(offset),
        )
        for n, ((w, offset, ev, event_id), data) in enumerate(zip(pending, payloads, strict=True), start=1)
    ]
    columns = COPY_COLUMNS
    try:
        insert_rows(Event, columns, ([getattr(e, c) for c in columns] for e in stored))
    except IntegrityError as exc:
        # Only reachable if a writer bypassed the lock; still never two events per version.
        w = writes[0]
        raise ConcurrencyConflict(
            stream_id=w.stream_id, expected=w.expected_version, current=w.expected_version + 1
        ) from exc
    links = [(e.position, r) for e in stored for r in e.related_ids]
    if links:
        link_table = connection.ops.quote_name(EventLink._meta.db_table)
        with connection.cursor() as cur:
            # Link ids in link order, as bulk_create gives them (history lists links by id).
            cur.execute(
                f"INSERT INTO {link_table} (event_id, related_id) SELECT e.id, l.related_id "
                "FROM unnest(%s::bigint[], %s::uuid[]) WITH ORDINALITY AS l (position, related_id, n) "
                f"JOIN {table} e ON e.position = l.position ORDER BY l.n",
                [[p for p, _ in links], [r for _, r in links]],
            )
    return None, stored


def _insert_and_project(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
    position: int,
) -> list[StoredEvent]:
    """Under the append lock: write the events and their links, then project them."""
    now = timezone.now()
    rows = [
        Event(
            position=position + i,
            stream_type=w.stream_type,
            stream_id=w.stream_id,
            version=w.expected_version + offset,
            type=ev.event_type,
            schema_version=ev.schema_version,
            data=payloads[i],
            metadata=metadata,
            event_id=event_id,
            recorded_at=now,
        )
        for i, (w, offset, ev, event_id) in enumerate(pending)
    ]
    try:
        # No savepoint: under the lock a duplicate (stream, version) cannot happen.
        Event.objects.bulk_create(rows)
    except IntegrityError as exc:
        # Only reachable if a writer bypassed the lock; still never two events per version.
        # The transaction is aborted, so the stream's version cannot be read: it moved on.
        w = writes[0]
        raise ConcurrencyConflict(
            stream_id=w.stream_id, expected=w.expected_version, current=w.expected_version + 1
        ) from exc
    links = {}
    for row, (w, offset, _, _) in zip(rows, pending, strict=True):
        links[row.position] = w.links(offset)
    # bulk_create on PostgreSQL and SQLite returns primary keys, so links can refer to them.
    EventLink.objects.bulk_create(
        [EventLink(event=row, related_id=r) for row in rows for r in links[row.position]]
    )
    stored = [StoredEvent.from_row(row, links[row.position]) for row in rows]
    project(stored)
    return stored


class StateCache(dict):
    """StreamState rows a replay keeps in memory; `complete` while nothing was evicted, so a
    stream missing from it has no state yet and needs no lookup."""

    complete: bool = True

    def __init__(self) -> None:
        super().__init__()
        self.dirty: set[uuid.UUID] = set()


def project(
    stored: list[StoredEvent],
    *,
    states: StateCache | None = None,
    checkpoint: bool = True,
) -> None:
    """Fold a batch of newly appended events into stream states and every read model.

    A replay passes `states`, a cache of StreamState rows it writes itself later in bulk
    (`save_states`), and `checkpoint=False` to write the checkpoint once at the end: updating
    the same row once per batch inside one long transaction makes PostgreSQL walk an ever
    longer chain of row versions, which made rebuilds quadratic.
    """
    if not stored:
        return
    replay = current_replay()
    # An append that starts several streams (a bulk import) is projected stream type by type.
    new_streams = states is None and replay is None and _starts_streams(stored)
    with projecting():
        if new_streams:
            _project_new_streams(stored)
        for stream_id, group in groupby(() if new_streams else stored, key=lambda e: e.stream_id):
            events = list(group)
            stream_type = events[0].stream_type
            aggregate = aggregate_for(stream_type)
            prior_state: dict | None = None
            if states is not None and (stream_id in states or states.complete):
                cached = states.get(stream_id)
                prior_state = cached.state if cached else None
            elif events[0].version == 1:
                cached = None  # a new stream has no state row yet
            else:
                prior_state = _recall_state(stream_id, events[0].version - 1)
                if prior_state is None:
                    cached = StreamState.objects.filter(pk=stream_id).first()
                    prior_state = cached.state if cached else None
            # The prior state is this call's own (a fresh read, a copy kept by load(), or a
            # replay's cache entry that the result replaces): the fold may change it in place.
            state = aggregate.fold(events, prior_state, copy_state=False)
            last = events[-1]
            row = StreamState(
                stream_id=stream_id,
                stream_type=stream_type,
                version=last.version,
                state=state,
                last_position=last.position,
                updated_at=last.recorded_at,
            )
            if states is None:
                row.save(force_insert=prior_state is None, force_update=prior_state is not None)
            else:
                states[stream_id] = row
                states.dirty.add(stream_id)
            for projector in projectors_for_stream(stream_type):
                if replay is not None:
                    replay.entering(projector)
                projector.syncs[stream_type](stream_id, state, events)
                if replay is not None:
                    replay.ran(projector)
        for ev in stored:
            for projector in reacting_projectors(ev.type):
                if replay is not None:
                    replay.entering(projector)
                projector.reacts_to[ev.type](ev)
                if replay is not None:
                    replay.ran(projector)
        if checkpoint and checkpoint_after(stored):
            Checkpoint(name=INLINE_CHECKPOINT, last_position=stored[-1].position).save()


STATE_COLUMNS = ("stream_id", "stream_type", "version", "state", "last_position", "updated_at")


def _starts_streams(stored: list[StoredEvent]) -> bool:
    """Whether a batch holds more than one stream and begins every one of them."""
    return stored[0].stream_id != stored[-1].stream_id and all(
        ev.version == 1 for i, ev in enumerate(stored) if i == 0 or stored[i - 1].stream_id != ev.stream_id
    )


def _project_new_streams(stored: list[StoredEvent]) -> None:
    """Project an append of new streams: one INSERT of their states, then per stream type each
    projector's bulk `syncs_new` where it has one, else its `syncs` stream by stream."""
    by_type: dict[str, list[tuple[uuid.UUID, dict, list[StoredEvent]]]] = {}
    rows = []
    for stream_id, group in groupby(stored, key=lambda e: e.stream_id):
        events = list(group)
        stream_type = events[0].stream_type
        # The payloads were built for this append and are stored already, and the state lives
        # only as long as this projection: the fold need not copy them.
        state = aggregate_for(stream_type).fold(events, None, copy_state=False, copy_payloads=False)
        last = events[-1]
        rows.append((stream_id, stream_type, last.version, state, last.position, last.recorded_at))
        by_type.setdefault(stream_type, []).append((stream_id, state, events))
    insert_rows(StreamState, STATE_COLUMNS, rows)
    for stream_type, streams in by_type.items():
        for projector in projectors_for_stream(stream_type):
            sync_many = projector.syncs_new.get(stream_type)
            if sync_many is not None:
                sync_many(streams)
            else:
                for stream_id, state, events in streams:
                    projector.syncs[stream_type](stream_id, state, events)


def checkpoint_after(batch: list[StoredEvent]) -> bool:
    """Whether the inline checkpoint is written after this append (see CHECKPOINT_EVERY)."""
    return bool(batch) and (batch[-1].position // CHECKPOINT_EVERY) * CHECKPOINT_EVERY >= batch[0].position


def _remember_state(row: StreamState) -> None:
    """Keep a copy of a state load() read inside a transaction, for that transaction's append."""
    if not connection.in_atomic_block:
        return
    block = connection.atomic_blocks[0]
    slot = getattr(connection, "_eventstore_loaded", None)
    if slot is None or slot[0] is not block or len(slot[1]) >= REMEMBERED_STATES:
        slot = (block, {})
        connection._eventstore_loaded = slot
    slot[1][row.stream_id] = (row.version, copy.deepcopy(row.state))


def _recall_state(stream_id: uuid.UUID, version: int) -> dict | None:
    """The state load() kept for this stream in this transaction, if it is at `version`.

    The append checked under the lock that the log is at `version`, and a stream's state at
    a version is a function of the log, so the copy is the row the projection would read.
    """
    slot = getattr(connection, "_eventstore_loaded", None)
    if slot is None or not connection.in_atomic_block or slot[0] is not connection.atomic_blocks[0]:
        return None
    found = slot[1].pop(stream_id, None)
    if found is None or found[0] != version:
        return None
    return found[1]


def save_states(states: StateCache) -> None:
    """Write the cached StreamState rows changed since the last call, as bulk upserts."""
    if not states.dirty:
        return
    rows = [states[stream_id] for stream_id in states.dirty]
    states.dirty.clear()
    with projecting():
        StreamState.objects.bulk_create(
            rows,
            batch_size=1000,
            update_conflicts=True,
            unique_fields=["stream_id"],
            update_fields=["stream_type", "version", "state", "last_position", "updated_at"],
        )


# Columns of a new event as `_append_copy` writes them (`id` is left to the database).
COPY_COLUMNS = (
    "position", "stream_type", "stream_id", "version", "type", "schema_version", "data", "metadata",
    "event_id", "recorded_at",
)
EVENT_COLUMNS = (
    "id", "position", "stream_type", "stream_id", "version", "type", "schema_version", "data",
    "metadata", "event_id", "recorded_at", "occurred_at",
)


def _links_of(event_pks: list[int]) -> list[tuple[int, uuid.UUID]]:
    """(event pk, related id) of the given events, in link order."""
    if connection.vendor == "postgresql":
        # One array parameter instead of an IN list Django would build parameter by parameter.
        table = connection.ops.quote_name(EventLink._meta.db_table)
        with connection.cursor() as cur:
            cur.execute(
                f"SELECT event_id, related_id FROM {table} WHERE event_id = ANY(%s) ORDER BY id", [event_pks]
            )
            return [(e, r if isinstance(r, uuid.UUID) else uuid.UUID(str(r))) for e, r in cur.fetchall()]
    return list(EventLink.objects.filter(event_id__in=event_pks).order_by("id").values_list("event_id", "related_id"))


def stored_from_values(rows: list[tuple]) -> list[StoredEvent]:
    """StoredEvents (with links, upcast) from `EVENT_COLUMNS` value rows in position order.

    Plain value rows rather than model instances: building an Event per row dominated the
    cost of reading long streams ("as of", history, replay).
    """
    links: dict[int, list[uuid.UUID]] = {}
    if rows:
        for event_id, related_id in _links_of([r[0] for r in rows]):
            links.setdefault(event_id, []).append(related_id)
    out = []
    for pk, position, stream_type, stream_id, version, type_, schema, data, meta, eid, rec, occ in rows:
        schema_version, data = upcast(type_, schema, data)
        out.append(StoredEvent(
            position=position, stream_type=stream_type, stream_id=stream_id, version=version, type=type_,
            schema_version=schema_version, data=data, metadata=meta, event_id=eid, recorded_at=rec,
            occurred_at=occ, related_ids=tuple(links.get(pk, ())),
        ))
    return out


def read_events(queryset: Any) -> list[StoredEvent]:
    """Materialise Event rows (with their links) as upcast StoredEvents in position order."""
    rows = sorted(queryset.values_list(*EVENT_COLUMNS), key=lambda r: r[1])
    return stored_from_values(rows)


def load_stream(
    stream_id: uuid.UUID,
    *,
    until_position: int | None = None,
    until_time: dt.datetime | None = None,
    until_version: int | None = None,
) -> list[StoredEvent]:
    """The events of one stream, optionally only those up to a position, time or version."""
    qs = Event.objects.filter(stream_id=stream_id)
    if until_position is not None:
        qs = qs.filter(position__lte=until_position)
    if until_time is not None:
        qs = qs.filter(recorded_at__lte=until_time)
    if until_version is not None:
        qs = qs.filter(version__lte=until_version)
    return read_events(qs)


def load(
    stream_id: uuid.UUID,
    *,
    stream_type: str | None = None,
    as_of_position: int | None = None,
    as_of_time: dt.datetime | None = None,
    as_of_version: int | None = None,
) -> tuple[dict, int]:
    """Return (state, version) of a stream, now or as it stood at a position, time or version."""
    if as_of_position is None and as_of_time is None and as_of_version is None:
        cached = StreamState.objects.filter(pk=stream_id).first()
        if cached is None or (stream_type and cached.stream_type != stream_type):
            raise StreamNotFound(stream_id, stream_type)
        _remember_state(cached)
        return cached.state, cached.version
    events = load_stream(
        stream_id, until_position=as_of_position, until_time=as_of_time, until_version=as_of_version
    )
    if not events or (stream_type and events[0].stream_type != stream_type):
        raise StreamNotFound(stream_id, stream_type)
    # the events were read for this fold alone, so their payloads need no defensive copies
    return aggregate_for(events[0].stream_type).fold(events, copy_payloads=False), events[-1].version


def events_after(position: int, *, limit: int = 100, types: Sequence[str] = ()) -> list[StoredEvent]:
    """The change feed: events with position > `position`, in order."""
    qs = Event.objects.filter(position__gt=position)
    if types:
        qs = qs.filter(type__in=list(types))
    return read_events(qs.order_by("position")[:limit])
