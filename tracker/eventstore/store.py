"""Appending to and reading from the log.

Global order: every append takes one transaction-scoped lock (PostgreSQL:
`pg_advisory_xact_lock`; SQLite: the IMMEDIATE write lock), reads `MAX(position)` and
writes `position + 1 …` before committing. Appends therefore commit one at a time in
position order, so a reader polling `position > N` can never see N+2 before N+1 is
visible; positions are also gap-free because the number is taken under the lock. All
validation and payload building happens before the lock so it is held briefly.
"""
from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import json
import uuid
from collections.abc import Iterable, Sequence
from itertools import groupby
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, connections, transaction
from django.db.models import Max
from django.utils import timezone

from .aggregate import aggregate_for
from .autocommit import current_appends_once
from .bulk import insert_rows
from .context import Context
from .errors import ConcurrencyConflict, StreamNotFound
from .events import DomainEvent, upcast
from .models import Checkpoint, Event, EventLink, StreamState
from .prepared import execute_prepared
from .projection import (
    InlineWrite,
    Projector,
    current_replay,
    projectors_for_stream,
    reacting_projectors,
)
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


# The lock timeout (SET LOCAL: only this transaction waits at most this long), then the log's
# advisory lock, in one statement: the outer row, and so the lock, comes only once the fenced
# (OFFSET 0) subquery has set the timeout. Sent before the statement that needs the lock (a
# statement of its own: that one's snapshot must be taken once the lock is held), in the
# same round trip.
_APPEND_LOCK = (
    "SELECT pg_advisory_xact_lock(%s) FROM (SELECT set_config('lock_timeout', %s, true) OFFSET 0) AS timeout"
)
_APPEND_PREFIX = _APPEND_LOCK + "; "


def _lock_params() -> list[Any]:
    """The parameters of `_APPEND_LOCK`."""
    return [APPEND_LOCK_KEY, settings.EVENTSTORE_LOCK_TIMEOUT]


def _lock_and_read_versions(stream_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, int], int]:
    """Take the append lock, then read each stream's version and the log's last position.

    One round trip: on PostgreSQL the lock timeout and the advisory lock (`_APPEND_LOCK`),
    then the read, go as two statements in order, and the read runs once the lock is held.
    SQLite: settings use transaction_mode=IMMEDIATE, so the write lock is already held.
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    subqueries = ", ".join(
        f"(SELECT MAX(version) FROM {table} WHERE stream_id = %s)" for _ in stream_ids
    )
    sql = f"SELECT (SELECT MAX(position) FROM {table}), {subqueries}"
    params: list[Any] = [Event._meta.get_field("stream_id").get_db_prep_value(s, connection) for s in stream_ids]
    if connection.vendor == "postgresql":
        sql = _APPEND_PREFIX + sql
        params = [*_lock_params(), *params]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        row = cur.fetchone()  # the last statement's result
    return {s: v or 0 for s, v in zip(stream_ids, row[1:], strict=True)}, row[0] or 0


def hold_append_lock() -> None:
    """Take the log's append lock now, for the rest of the current transaction, as an append
    would (PostgreSQL; on SQLite a transaction holds the database's write lock from its start).

    For a decision that no append committed meanwhile may invalidate: a uniqueness check
    before the append that creates the record, a rebuild. Writers wait for the transaction
    (at most EVENTSTORE_LOCK_TIMEOUT); readers never do. Call it inside a transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(_APPEND_PREFIX, _lock_params())


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

    db = connections[DEFAULT_DB_ALIAS]
    once = current_appends_once(db)  # an appends_once command outside a transaction
    if once is not None:
        once.appending()
    inline = None
    if db.vendor == "postgresql" and len(writes) < COPY_STREAMS:
        now = timezone.now()
        inline = _inline_projection(writes, pending, payloads, metadata, now)
    # Inside a command's transaction no savepoint is taken (two round trips fewer): a stale
    # version is raised after the block has ended normally (nothing written yet), so callers
    # that catch ConcurrencyConflict can go on using their transaction. Outside one (`once`),
    # an append whose projection goes in its statement is that statement alone, a transaction
    # of its own that the server commits as the statement ends; any other is an atomic block.
    alone = once is not None and inline is not None
    conflict: ConcurrencyConflict | None = None
    with contextlib.nullcontext() if alone else transaction.atomic(savepoint=False):
        if idempotency_key and Event.objects.filter(event_id=event_ids[0]).exists():
            return read_events(Event.objects.filter(event_id__in=event_ids))
        if db.vendor != "postgresql":
            conflict, stored = _append_generic(writes, pending, payloads, metadata)
        elif len(writes) >= COPY_STREAMS:
            conflict, stored = _append_copy(writes, pending, payloads, metadata)
        else:
            conflict, stored, returned = _append_postgresql(db, writes, pending, payloads, metadata, now, inline)
        if conflict is None:
            if once is not None:
                once.appended_now()
            if inline is not None:
                inline.finish(stored, returned)
            elif db.vendor == "postgresql":  # the generic append projects as it inserts
                project(stored)
    if conflict is not None:
        raise conflict
    return stored


def _append_copy(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
) -> tuple[ConcurrencyConflict | None, list[StoredEvent]]:
    """Append to many streams (a bulk import) on PostgreSQL: lock and read the versions in one
    query, then the events in one COPY and their links in one INSERT. Nothing is written when
    a version is stale.

    Only streams that exist are looked up: a new stream's first event is version 1, which
    UNIQUE(stream_id, version) refuses if the stream was started meanwhile, so the COPY runs
    in a savepoint and such a refusal becomes the ConcurrencyConflict (a lookup of 500 new
    ids cost more than the rest of the append's queries).
    """
    versions, last_position = _lock_and_read_many([w.stream_id for w in writes if w.expected_version])
    for w in writes:
        if w.expected_version and versions.get(w.stream_id, 0) != w.expected_version:
            return _conflict(w, versions.get(w.stream_id, 0)), []
    # Written now: the current shape, nothing to upcast.
    values = _event_values(pending, payloads, metadata, last_position + 1, timezone.now())
    stored = [StoredEvent(**v, related_ids=w.links(offset)) for v, (w, offset, _, _) in zip(values, pending, strict=True)]
    columns = COPY_COLUMNS
    try:
        with transaction.atomic():  # the savepoint a started stream's refusal rolls back to
            insert_rows(Event, columns, ([getattr(e, c) for c in columns] for e in stored))
    except IntegrityError as exc:
        # Which new stream exists already? (The lock is held: taking it again is a no-op.)
        versions, _ = _lock_and_read_many([w.stream_id for w in writes if not w.expected_version])
        for w in writes:
            if not w.expected_version and versions.get(w.stream_id):
                return _conflict(w, versions[w.stream_id]), []
        # Only reachable if a writer bypassed the lock; still never two events per version.
        raise _conflict(writes[0], writes[0].expected_version + 1) from exc
    links = [(e.position, r) for e in stored for r in e.related_ids]
    if links:
        table = connection.ops.quote_name(Event._meta.db_table)
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


def _lock_and_read_many(stream_ids: list[uuid.UUID]) -> tuple[dict[uuid.UUID, int], int]:
    """Take the append lock (PostgreSQL), then read the streams' versions (those that exist)
    and the log's last position, in one round trip."""
    table = connection.ops.quote_name(Event._meta.db_table)
    with connection.cursor() as cur:
        cur.execute(
            _APPEND_PREFIX
            + f"SELECT stream_id, MAX(version) FROM {table} WHERE stream_id = ANY(%s::uuid[]) GROUP BY stream_id "
            f"UNION ALL SELECT NULL, MAX(position) FROM {table}",
            [*_lock_params(), stream_ids],
        )
        found = dict(cur.fetchall())
    return found, found.pop(None) or 0


def _conflict(w: StreamWrite, current: int) -> ConcurrencyConflict:
    return ConcurrencyConflict(stream_id=w.stream_id, expected=w.expected_version, current=current)


def _append_generic(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
) -> tuple[ConcurrencyConflict | None, list[StoredEvent]]:
    """Lock, check the versions, then insert and project through the ORM (SQLite)."""
    versions, last_position = _lock_and_read_versions([w.stream_id for w in writes])
    for w in writes:
        current = versions.get(w.stream_id, 0)
        if current != w.expected_version:
            return _conflict(w, current), []
    return None, _insert_and_project(writes, pending, payloads, metadata, last_position + 1)


@functools.lru_cache(maxsize=64)
def _append_sql(streams: int, events: int, links: int) -> str:
    """The one-round-trip append of `events` rows to `streams` streams with `links` links.

    Sent after `_APPEND_LOCK` (the lock timeout, SET LOCAL: only this transaction waits at
    most this long; then the advisory lock), both prepared, in one query string, which
    PostgreSQL runs as one transaction when no transaction is open (an `appends_once`
    command), so the lock timeout and the lock are that transaction's too: one statement that
    reads the last position and each stream's version once the lock is held, and inserts the
    rows and their links only if every version is the expected one. The caller adds any
    inline projection's CTEs and the final SELECT of (the last position before the append,
    the versions). Links get their ids in link order, as bulk_create gives them (history
    lists links by id).
    """
    table = connection.ops.quote_name(Event._meta.db_table)
    link_table = connection.ops.quote_name(EventLink._meta.db_table)
    versions = ", ".join(
        f"COALESCE((SELECT MAX(version) FROM {table} WHERE stream_id = %s::uuid), 0)" for _ in range(streams)
    )
    rows = ", ".join(
        "(%s::int, %s::varchar, %s::uuid, %s::int, %s::varchar, %s::smallint, %s::jsonb, %s::uuid)"
        for _ in range(events)
    )
    sql = (
        f"WITH cur AS (SELECT COALESCE((SELECT MAX(position) FROM {table}), 0) AS last, ARRAY[{versions}] AS versions), "
        f"ins AS (INSERT INTO {table} (position, stream_type, stream_id, version, type, schema_version, data, "
        "metadata, event_id, recorded_at) "
        "SELECT cur.last + r.n, r.stream_type, r.stream_id, r.version, r.type, r.schema_version, r.data, "
        "%s::jsonb, r.event_id, %s::timestamptz "
        f"FROM cur, (VALUES {rows}) AS r (n, stream_type, stream_id, version, type, schema_version, data, event_id) "
        f"WHERE cur.versions = ARRAY[{', '.join(['%s::int'] * streams)}] RETURNING id, position)"
    )
    if links:
        pairs = ", ".join(f"({k}, %s::int, %s::uuid)" for k in range(links))
        sql += (
            f", lnk AS (INSERT INTO {link_table} (event_id, related_id) SELECT ins.id, l.related_id "
            f"FROM ins, cur, (VALUES {pairs}) AS l (k, n, related_id) WHERE ins.position = cur.last + l.n "
            "ORDER BY l.k)"
        )
    return sql


def _append_postgresql(
    db: Any,
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
    now: dt.datetime,
    inline: _Inline | None = None,
) -> tuple[ConcurrencyConflict | None, list[StoredEvent], tuple]:
    """Lock, check the versions and insert the rows and links in one round trip (PostgreSQL),
    with the `inline` projection's writes if given; returns what those writes returned.

    Nothing is written when a version is stale, so the transaction stays usable for a caller
    that catches the ConcurrencyConflict.
    """
    related = [w.links(offset) for w, offset, _, _ in pending]
    params: list[Any] = _lock_params()
    params += [w.stream_id for w in writes]
    params += [json.dumps(metadata), now]
    for n, ((w, offset, ev, event_id), data) in enumerate(zip(pending, payloads, strict=True), start=1):
        params += [n, w.stream_type, w.stream_id, w.expected_version + offset, ev.event_type,
                   ev.schema_version, json.dumps(data), event_id]
    params += [w.expected_version for w in writes]
    links = [(n, r) for n, rs in enumerate(related, start=1) for r in rs]
    for n, r in links:
        params += [n, r]
    sql = _append_sql(len(writes), len(pending), len(links))
    if inline is None:
        sql += _APPEND_RESULT
    else:
        sql += inline.sql(params, len(pending))
    try:
        last_position, versions, *returned = execute_prepared(db, (_APPEND_LOCK, sql), params)
    except IntegrityError as exc:
        # Only reachable if a writer bypassed the lock; still never two events per version.
        raise _conflict(writes[0], writes[0].expected_version + 1) from exc
    for w, current in zip(writes, versions, strict=True):
        if current != w.expected_version:  # then the INSERT wrote nothing
            return _conflict(w, current), [], ()
    # Rows written now have the current schema, so nothing is upcast.
    values = _event_values(pending, payloads, metadata, last_position + 1, now)
    return None, [StoredEvent(**v, related_ids=rs) for v, rs in zip(values, related, strict=True)], tuple(returned)


_APPEND_RESULT = " SELECT cur.last, cur.versions FROM cur"
# True in the append's statement only if its rows were inserted (their versions were current).
APPENDED = "EXISTS (SELECT FROM ins)"


@functools.lru_cache(maxsize=2)
def _inline_state_sql(vendor: str) -> str:
    """The state UPDATE and the inline checkpoint's upsert (written where `checkpoint_after`
    says: the append's positions reach a multiple of CHECKPOINT_EVERY), as CTEs; parameters:
    the state's columns, then the number of events twice."""
    table = connection.ops.quote_name(StreamState._meta.db_table)
    checkpoints = connection.ops.quote_name(Checkpoint._meta.db_table)
    return (
        f", st AS (UPDATE {table} SET stream_type = %s, version = %s, state = %s::jsonb, "
        f"last_position = cur.last + %s, updated_at = %s FROM cur WHERE stream_id = %s AND {APPENDED}), "
        f"ck AS (INSERT INTO {checkpoints} (name, last_position) SELECT '{INLINE_CHECKPOINT}', cur.last + %s "
        f"FROM cur WHERE (cur.last + %s) / {CHECKPOINT_EVERY} > cur.last / {CHECKPOINT_EVERY} AND {APPENDED} "
        "ON CONFLICT (name) DO UPDATE SET last_position = EXCLUDED.last_position)"
    )


class _Inline:
    """A single-stream append projected in its own statement: the stream's state folded and
    every projector's write built before the append, sent as CTEs conditional on its INSERT.

    Only where the state load() read in this transaction is at the expected version (the
    append checks under the lock that the log still is, and a state is a function of the
    log), every projector of the stream type gives an `InlineWrite` and no projector reacts
    to the events. The fold reads no positions, which are unknown until the statement ran;
    the state row's last position is computed by the statement itself.
    """

    def __init__(self, write: StreamWrite, state: dict, last: StoredEvent, syncs: list[tuple[Projector, InlineWrite]]):
        self.write, self.state, self.last, self.syncs = write, state, last, syncs

    def sql(self, params: list[Any], count: int) -> str:
        """The CTEs and final SELECT to add to the append's statement; their parameters go
        onto `params`."""
        w, last = self.write, self.last
        params += [w.stream_type, last.version, json.dumps(self.state), count, last.recorded_at, w.stream_id, count, count]
        sql = _inline_state_sql("postgresql")
        joins = ""
        for i, (_, iw) in enumerate(self.syncs):
            sql += f", p{i} AS ({iw.sql})"
            joins += f" LEFT JOIN p{i} ON true"
            params += iw.params
        return f"{sql} SELECT cur.last, cur.versions{''.join(f', p{i}.*' for i in range(len(self.syncs)))} FROM cur{joins}"

    def finish(self, stored: list[StoredEvent], returned: tuple) -> None:
        """After the append: hand each write what it returned, and run `syncs` where a write
        asks for it (a row it should have updated was missing: written in a transaction of its
        own if the append was one, as a projection catching up)."""
        with projecting():
            offset, synced = 0, set()
            for projector, iw in self.syncs:
                if not iw.done(returned[offset:offset + iw.returns]) and projector.name not in synced:
                    synced.add(projector.name)
                    with transaction.atomic(savepoint=False):
                        projector.syncs[self.write.stream_type](self.write.stream_id, self.state, stored)
                offset += iw.returns


def _inline_projection(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
    now: dt.datetime,
) -> _Inline | None:
    """The append's projection as writes to send with it (see `_Inline`), or None."""
    if len(writes) != 1 or not writes[0].expected_version or current_replay() is not None:
        return None
    w = writes[0]
    projectors = projectors_for_stream(w.stream_type)
    presyncs = [p.presyncs.get(w.stream_type) for p in projectors]
    if not projectors or None in presyncs or any(reacting_projectors(ev.event_type) for _, _, ev, _ in pending):
        return None
    prior = _recall_state(w.stream_id, w.expected_version, keep=True)
    if prior is None:
        return None
    events = [
        StoredEvent(**v, related_ids=w.links(offset))
        for v, (_, offset, _, _) in zip(_event_values(pending, payloads, metadata, None, now), pending, strict=True)
    ]
    # The payloads were built for this append (to_data copies), so the state may share them.
    state = aggregate_for(w.stream_type).fold(events, prior, copy_state=False, copy_payloads=False)
    with projecting():
        built = [presync(w.stream_id, state, events, APPENDED) for presync in presyncs]
    if None in built:
        return None
    _forget_state(w.stream_id)  # used up, as project() would
    # A presync may give several writes (each of at most one row); `syncs` runs once if any asks.
    syncs = [(p, iw) for p, b in zip(projectors, built, strict=True) for iw in (b if isinstance(b, list) else [b])]
    return _Inline(w, state, events[-1], syncs)


def _event_values(
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
    position: int | None,
    now: dt.datetime,
) -> list[dict[str, Any]]:
    """The column values of the rows of an append whose first position is `position` (None:
    not known yet)."""
    return [
        {
            "position": None if position is None else position + i,
            "stream_type": w.stream_type,
            "stream_id": w.stream_id,
            "version": w.expected_version + offset,
            "type": ev.event_type,
            "schema_version": ev.schema_version,
            "data": payloads[i],
            "metadata": metadata,
            "event_id": event_id,
            "recorded_at": now,
        }
        for i, (w, offset, ev, event_id) in enumerate(pending)
    ]


def _insert_and_project(
    writes: list[StreamWrite],
    pending: list[tuple[StreamWrite, int, DomainEvent, uuid.UUID]],
    payloads: list[dict],
    metadata: dict,
    position: int,
) -> list[StoredEvent]:
    """Under the append lock: write the events and their links, then project them."""
    rows = [Event(**v) for v in _event_values(pending, payloads, metadata, position, timezone.now())]
    try:
        # No savepoint: under the lock a duplicate (stream, version) cannot happen.
        Event.objects.bulk_create(rows)
    except IntegrityError as exc:
        # Only reachable if a writer bypassed the lock; still never two events per version.
        # The transaction is aborted, so the stream's version cannot be read: it moved on.
        raise _conflict(writes[0], writes[0].expected_version + 1) from exc
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
    # Live on PostgreSQL, the StreamState writes ride along with the projectors' first query.
    db = connections[DEFAULT_DB_ALIAS]
    deferred = _Deferred(db) if states is None and db.vendor == "postgresql" else None
    with projecting(), db.execute_wrapper(deferred) if deferred else contextlib.nullcontext():
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
            elif events[0].version > 1:  # a new stream has no state row yet
                prior_state = _recall_state(stream_id, events[0].version - 1)
                if prior_state is None:
                    found = _read_state(stream_id)
                    prior_state = json.loads(found[2]) if found else None
            # The prior state is this call's own (a fresh read, a copy kept by load(), or a
            # replay's cache entry that the result replaces): the fold may change it in place.
            state = aggregate.fold(events, prior_state, copy_state=False)
            last = events[-1]
            if states is None:
                _write_state(stream_id, stream_type, last, state, insert=prior_state is None, deferred=deferred)
            else:
                states[stream_id] = StreamState(
                    stream_id=stream_id,
                    stream_type=stream_type,
                    version=last.version,
                    state=state,
                    last_position=last.position,
                    updated_at=last.recorded_at,
                )
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
        if deferred:
            deferred.flush()


_STATE_FIELDS = ("stream_type", "version", "state", "last_position", "updated_at", "stream_id")


@functools.lru_cache(maxsize=4)
def _state_sql(vendor: str, insert: bool) -> str:
    table = connection.ops.quote_name(StreamState._meta.db_table)
    if insert:
        return f"INSERT INTO {table} ({', '.join(_STATE_FIELDS)}) VALUES ({', '.join(['%s'] * len(_STATE_FIELDS))})"
    return f"UPDATE {table} SET {', '.join(f'{c} = %s' for c in _STATE_FIELDS[:-1])} WHERE stream_id = %s"


def _write_state(
    stream_id: uuid.UUID,
    stream_type: str,
    last: StoredEvent,
    state: dict,
    *,
    insert: bool,
    deferred: _Deferred | None = None,
) -> None:
    """Save a stream's StreamState row with one plain statement (a model save costs ~1 ms)."""
    values = (stream_type, last.version, state, last.position, last.recorded_at, stream_id)
    if deferred is not None:  # PostgreSQL takes these values as they are, the state as JSON text
        deferred.add(_state_sql("postgresql", insert), [*values[:2], json.dumps(state), *values[3:]])
        return
    params = [
        StreamState._meta.get_field(name).get_db_prep_save(value, connection)
        for name, value in zip(_STATE_FIELDS, values, strict=True)
    ]
    with connection.cursor() as cur:
        cur.execute(_state_sql(connection.vendor, insert), params)


class _Deferred:
    """Writes held back to go with the connection's next query, in the same round trip.

    An execute wrapper (PostgreSQL): the held statements are put before the next statement
    with parameters, which runs after them and whose result the caller gets (psycopg2 returns
    the last statement's); anything else, and `flush`, sends them on their own first. Any
    query after them, a read of their rows included, therefore sees them done.
    """

    def __init__(self, db: Any) -> None:
        self.db = db
        self.sql: list[str] = []
        self.params: list[Any] = []

    def add(self, sql: str, params: list[Any]) -> None:
        self.sql.append(sql)
        self.params += params

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: dict) -> Any:
        if many or not isinstance(params, list | tuple) or getattr(context["cursor"].cursor, "name", None):
            self.flush()  # executemany, no parameters (no % escaping) or a server-side cursor
        if not self.sql:
            return execute(sql, params, many, context)
        held, held_params = self._take()
        return execute(f"{held}; {sql}", [*held_params, *params], False, context)

    def _take(self) -> tuple[str, list[Any]]:
        held = "; ".join(self.sql), self.params
        self.sql, self.params = [], []
        return held

    def flush(self) -> None:
        """Send what is still held on its own."""
        if self.sql:
            held, held_params = self._take()
            with self.db.cursor() as cur:
                cur.execute(held, held_params)


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
        # The payloads were built for this append and are stored already, the state lives only
        # as long as this projection, and initial() is a new dict: the fold need copy nothing.
        aggregate = aggregate_for(stream_type)
        state = aggregate.fold(events, aggregate.initial(), copy_state=False, copy_payloads=False)
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


@functools.lru_cache(maxsize=2)
def _state_read_sql(vendor: str) -> str:
    table = connection.ops.quote_name(StreamState._meta.db_table)
    return f"SELECT stream_type, version, state FROM {table} WHERE stream_id = %s"


def _read_state(stream_id: uuid.UUID) -> tuple[str, int, str] | None:
    """(stream type, version, state as JSON text) of a stream's StreamState row, if any.

    A plain query: the text is parsed once per use, which is cheaper than a model instance
    and a deep copy of its state.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor == "postgresql":  # every command reads it: prepared, planned once
        row = execute_prepared(db, (_state_read_sql(db.vendor),), [stream_id])
    else:
        with db.cursor() as cur:
            cur.execute(_state_read_sql(db.vendor), [StreamState._meta.pk.get_db_prep_value(stream_id, db)])
            row = cur.fetchone()
    if row is None:
        return None
    text = row[2]
    # Django hands jsonb over as text on PostgreSQL; a backend decoding it gets it re-encoded.
    return row[0], row[1], text if isinstance(text, str) else json.dumps(text)


def _transaction(db: Any) -> object | None:
    """An object that is the same for exactly one transaction, or for one run of an
    `appends_once` command outside a transaction (whose reads see committed rows only, so the
    states it loads are the log's as much as a transaction's are); None otherwise.

    Django replaces the list of on-commit callbacks whenever a transaction commits or rolls
    back, and whenever a savepoint rolls back, and appends to it otherwise. The outermost
    atomic block cannot serve: a decorated function reuses its Atomic for every call.
    """
    return db.run_on_commit if db.in_atomic_block else current_appends_once(db)


def _remember_state(stream_id: uuid.UUID, version: int, text: str) -> None:
    """Keep the state load() read inside a transaction (as text), for that transaction's append."""
    db = connections[DEFAULT_DB_ALIAS]
    current = _transaction(db)
    if current is None:
        return
    slot = getattr(db, "_eventstore_loaded", None)
    if slot is None or slot[0] is not current or len(slot[1]) >= REMEMBERED_STATES:
        slot = (current, {})
        db._eventstore_loaded = slot
    slot[1][stream_id] = (version, text)


def _forget_state(stream_id: uuid.UUID) -> None:
    """Drop what load() kept for this stream in this transaction."""
    slot = getattr(connections[DEFAULT_DB_ALIAS], "_eventstore_loaded", None)
    if slot is not None:
        slot[1].pop(stream_id, None)


def _recall_state(stream_id: uuid.UUID, version: int, *, keep: bool = False) -> dict | None:
    """The state load() kept for this stream in this transaction, if it is at `version`
    (a new dict on every call; the copy is used up unless `keep`).

    The append checked under the lock that the log is at `version`, and a stream's state at
    a version is a function of the log (as this transaction sees it), so the copy is the row
    the projection would read.
    """
    db = connections[DEFAULT_DB_ALIAS]
    slot = getattr(db, "_eventstore_loaded", None)
    if slot is None or slot[0] is not _transaction(db):
        return None
    found = slot[1].get(stream_id) if keep else slot[1].pop(stream_id, None)
    if found is None or found[0] != version:
        return None
    return json.loads(found[1])


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
    return read_events(_stream_rows(stream_id, until_position, until_time, until_version))


def _stream_rows(
    stream_id: uuid.UUID, until_position: int | None, until_time: dt.datetime | None, until_version: int | None
) -> Any:
    """The Event rows of one stream up to a position, time and/or version."""
    qs = Event.objects.filter(stream_id=stream_id)
    if until_position is not None:
        qs = qs.filter(position__lte=until_position)
    if until_time is not None:
        qs = qs.filter(recorded_at__lte=until_time)
    if until_version is not None:
        qs = qs.filter(version__lte=until_version)
    return qs


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
        found = _read_state(stream_id)
        if found is None or (stream_type and found[0] != stream_type):
            raise StreamNotFound(stream_id, stream_type)
        _, version, text = found
        _remember_state(stream_id, version, text)
        return json.loads(text), version
    events = _fold_inputs(stream_id, until_position=as_of_position, until_time=as_of_time, until_version=as_of_version)
    if not events or (stream_type and events[0].stream_type != stream_type):
        raise StreamNotFound(stream_id, stream_type)
    # the events were read for this fold alone, so their payloads need no defensive copies
    return aggregate_for(events[0].stream_type).fold(events, copy_payloads=False), events[-1].version


class FoldInput:
    """What a fold reads of an event (no metadata, id or links): lighter than a StoredEvent."""

    __slots__ = ("position", "stream_type", "stream_id", "version", "type", "schema_version", "data",
                 "recorded_at", "occurred_at")

    def __init__(self, stream_id: uuid.UUID, row: tuple) -> None:
        self.stream_id = stream_id
        (self.position, self.stream_type, self.version, self.type, schema_version, data,
         self.recorded_at, self.occurred_at) = row
        self.schema_version, self.data = upcast(self.type, schema_version, data)


_FOLD_COLUMNS = ("position", "stream_type", "version", "type", "schema_version", "data", "recorded_at", "occurred_at")


def _fold_inputs(
    stream_id: uuid.UUID,
    *,
    until_position: int | None = None,
    until_time: dt.datetime | None = None,
    until_version: int | None = None,
) -> list[FoldInput]:
    """A stream's events up to a position, time or version, in order, as fold inputs.

    On PostgreSQL with a plain query: the ORM's row conversions cost more than the fold.
    """
    db = connections[DEFAULT_DB_ALIAS]
    if db.vendor != "postgresql":
        qs = _stream_rows(stream_id, until_position, until_time, until_version).order_by("version")
        return [FoldInput(stream_id, row) for row in qs.values_list(*_FOLD_COLUMNS)]
    sql = f"SELECT {', '.join(_FOLD_COLUMNS)} FROM {db.ops.quote_name(Event._meta.db_table)} WHERE stream_id = %s"
    params: list[Any] = [stream_id]
    for column, bound in (("position", until_position), ("recorded_at", until_time), ("version", until_version)):
        if bound is not None:
            sql += f" AND {column} <= %s"
            params.append(bound)
    with db.cursor() as cur:
        cur.execute(sql + " ORDER BY version", params)
        rows = cur.fetchall()
    loads = json.loads  # Django has psycopg2 hand jsonb over as text
    return [FoldInput(stream_id, (*row[:5], loads(row[5]) if isinstance(row[5], str) else row[5], *row[6:])) for row in rows]


def events_after(position: int, *, limit: int = 100, types: Sequence[str] = ()) -> list[StoredEvent]:
    """The change feed: events with position > `position`, in order."""
    qs = Event.objects.filter(position__gt=position)
    if types:
        qs = qs.filter(type__in=list(types))
    return read_events(qs.order_by("position")[:limit])
