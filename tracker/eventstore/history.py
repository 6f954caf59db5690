"""History with field-level diffs, and revert by compensating events."""
from __future__ import annotations

import dataclasses
import uuid
from typing import Any

from django.db.models import Q

from .aggregate import aggregate_for
from .context import Context
from .errors import CommandError, StreamNotFound
from .events import DomainEvent, event
from .models import Event
from .store import StoredEvent, append, load, load_stream, read_events


@event("StateReverted")
class StateReverted(DomainEvent):
    """Fields set back to the values they had at `to_version` (a compensating event)."""

    to_version: int
    fields: dict


@dataclasses.dataclass(frozen=True)
class HistoryEntry:
    """One event in an object's history, with what it changed."""

    event: StoredEvent
    changes: dict[str, tuple[Any, Any]]  # field -> (before, after); empty for related events
    related: bool = False  # True when the event belongs to another stream that links here


def diff(before: dict, after: dict) -> dict[str, tuple[Any, Any]]:
    """Top-level field differences between two states."""
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}


def history(stream_id: uuid.UUID) -> list[HistoryEntry]:
    """Every event of a stream with its field diff, plus events of other streams that link to it."""
    own = load_stream(stream_id)
    if not own:
        raise StreamNotFound(stream_id)
    aggregate = aggregate_for(own[0].stream_type)
    entries: list[HistoryEntry] = []
    state = aggregate.initial()
    for stored in own:
        new = aggregate.evolve(state, stored)
        entries.append(HistoryEntry(stored, diff(state, new)))
        state = new
    linked = read_events(
        Event.objects.filter(Q(links__related_id=stream_id) & ~Q(stream_id=stream_id)).distinct()
    )
    entries += [HistoryEntry(e, {}, related=True) for e in linked]
    entries.sort(key=lambda h: h.event.position)
    return entries


def revert_events(stream_id: uuid.UUID, *, to_version: int) -> list[DomainEvent]:
    """The compensating events that bring a stream's revertible fields back to `to_version`."""
    current, version = load(stream_id)
    if not 1 <= to_version <= version:
        raise CommandError(
            f"cannot revert to version {to_version}", {"to_version": [f"must be 1..{version}"]}
        )
    target, _ = load(stream_id, as_of_version=to_version)
    stream_type = load_stream(stream_id, until_version=1)[0].stream_type
    fields = {
        name: target.get(name)
        for name in aggregate_for(stream_type).revertible_fields
        if target.get(name) != current.get(name)
    }
    return [StateReverted(to_version=to_version, fields=fields)] if fields else []


def stream_revert(
    *, stream_id: uuid.UUID, to_version: int, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Append a compensating event restoring the stream's fields as of `to_version`."""
    if not context.reason:
        raise CommandError("a revert needs a reason", {"reason": ["This field is required."]})
    events = revert_events(stream_id, to_version=to_version)
    if not events:
        return []
    stream_type = load_stream(stream_id, until_version=1)[0].stream_type
    return append(
        stream_type=stream_type,
        stream_id=stream_id,
        expected_version=expected_version,
        events=events,
        context=context,
    )
