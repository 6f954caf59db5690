"""Projector registry: copy folded stream state into read models, inline with each append.

A projector is registered per stream type. After events are appended, the store folds each
touched stream and calls `sync(stream_id, state, events)` of every projector for that stream
type inside `projecting()`; projectors may also react to other stream types' events
(`reacts_to`), e.g. meetings re-deriving the post a participant held when a tenure changes.
Projectors are pure functions of the log in position order: no clock, no randomness.
"""
from __future__ import annotations

import contextlib
import contextvars
import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from django.db import models


@dataclasses.dataclass
class Projector:
    name: str
    # stream type -> fn(stream_id, state, stored_events) writing read models
    syncs: dict[str, Callable[[Any, dict, list], None]]
    # event type -> fn(stored_event) for cross-stream reactions (still pure projections)
    reacts_to: dict[str, Callable[[Any], None]] = dataclasses.field(default_factory=dict)
    # read models this projector owns, children before parents (rebuild empties them)
    models: list[type[models.Model]] = dataclasses.field(default_factory=list)
    # Optional, for replays: write the rows the projector buffered in memory (see `replaying`).
    flush: Callable[[], None] | None = None
    # Optional, for bulk imports: stream type -> fn([(stream_id, state, events), ...]) writing
    # the rows of many streams an append starts, as `syncs` would one by one (see `project`).
    syncs_new: dict[str, Callable[[list], None]] = dataclasses.field(default_factory=dict)
    # Optional, for fast replays on PostgreSQL (tracker/eventstore/replay.py): a factory
    # `fn(replay) -> replayer` of an object that keeps this projector's rows in memory for the
    # whole replay, given the same calls as `syncs` and `reacts_to` in the same order
    # (`sync(stream_type, stream_id, state, events)`, `react(event)`), and gives every row of
    # each of its tables, keyed by primary key, to `write(writer)` (`CopyWriter.keyed`). Its stream types' evolvers must copy whatever they keep of
    # a payload (the replay does not copy payloads for them).
    replayer: Callable[[Any], Any] | None = None
    # Optional, for single-stream appends on PostgreSQL: stream type -> fn(stream_id, state,
    # events, condition) -> `InlineWrite` or None. The write is sent in the append's own
    # statement, so `events` have no positions yet (position is None) and the statement must
    # write what `syncs` would, ANDing `condition` (true only if the events were inserted) to
    # its WHERE. None means "not this time": the append projects through `syncs` as usual.
    # A list of writes goes as one CTE each; `syncs` runs (once) if any of their `done` says so.
    presyncs: dict[str, Callable[[Any, dict, list, str], InlineWrite | list[InlineWrite] | None]] = dataclasses.field(
        default_factory=dict
    )


@dataclasses.dataclass
class InlineWrite:
    """A projector's write sent with an append (see `Projector.presyncs`): one data-modifying
    statement of at most one row, RETURNING `returns` columns. After the append, `done(row)`
    gets that row (all None if no row was written) and returns False if `syncs` must still run
    (e.g. the row was missing)."""

    sql: str
    params: list[Any]
    returns: int
    done: Callable[[tuple], bool]


PROJECTORS: dict[str, Projector] = {}


def register_projector(projector: Projector) -> Projector:
    PROJECTORS[projector.name] = projector
    return projector


def projectors_for_stream(stream_type: str) -> list[Projector]:
    return [p for p in PROJECTORS.values() if stream_type in p.syncs]


def reactions_for(event_type: str) -> list[Callable[[Any], None]]:
    return [p.reacts_to[event_type] for p in PROJECTORS.values() if event_type in p.reacts_to]


def reacting_projectors(event_type: str) -> list[Projector]:
    return [p for p in PROJECTORS.values() if event_type in p.reacts_to]


class Replay:
    """One replay of the log into emptied read models (a rebuild or a rebuild check).

    Projectors may use it to skip "does the row exist" reads and to buffer their writes in
    `buffers[name]`, provided every read of their tables (their own reactions included) sees
    the rows as of that point of the log: a projector with a buffer must give a `flush`, which
    the replay calls regularly and at the end. `changes` counts syncs and reactions run per
    projector, so a projector can tell whether another one's tables changed since it cached
    something it read from them.
    """

    def __init__(self) -> None:
        self.buffers: dict[str, Any] = {}
        self.changes: Counter[str] = Counter()
        self.replayers: dict[str, Any] = {}  # projector name -> its replayer (fast replays)

    def changed_except(self, name: str) -> int:
        return sum(n for other, n in self.changes.items() if other != name)

    def entering(self, projector: Projector) -> None:
        """`projector` is about to run: every other projector's buffered rows are written first,
        so whatever it reads or cascades to (ON DELETE SET NULL) is the table as live."""
        for other in PROJECTORS.values():
            if other is not projector and other.flush is not None:
                other.flush()

    def ran(self, projector: Projector) -> None:
        self.changes[projector.name] += 1


_replay: contextvars.ContextVar[Replay | None] = contextvars.ContextVar("replay", default=None)


@contextlib.contextmanager
def replaying() -> Iterator[Replay]:
    """Mark a replay into emptied read models; `flush_replay()` before reading them back."""
    session = Replay()
    token = _replay.set(session)
    try:
        yield session
    finally:
        _replay.reset(token)


def current_replay() -> Replay | None:
    """The replay in progress, or None when projecting live appends."""
    return _replay.get()


def flush_replay() -> None:
    """Write every projector's buffered rows (no-op outside a replay)."""
    if _replay.get() is None:
        return
    for projector in PROJECTORS.values():
        if projector.flush is not None:
            projector.flush()


def owned_models() -> list[type[models.Model]]:
    """Every read model, children first, so they can be emptied in order."""
    from .models import Checkpoint, StreamState

    out: list[type[models.Model]] = []
    for projector in reversed(list(PROJECTORS.values())):
        out += [m for m in projector.models if m not in out]
    return out + [StreamState, Checkpoint]
