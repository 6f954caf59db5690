"""Public surface of the event store; apps import from here only."""
from .aggregate import Aggregate, aggregate_for, register_aggregate
from .autocommit import appends_once
from .bulk import cyclic_gc_paused, insert_rows
from .content import content_get, content_hash, content_put, content_takedown
from .context import Context
from .errors import (
    CommandError,
    ConcurrencyConflict,
    EventStoreError,
    InvalidMetadata,
    ReadModelWriteRefused,
    StreamNotFound,
)
from .events import DomainEvent, event, upcaster
from .history import HistoryEntry, StateReverted, diff, history, revert_events, stream_revert
from .projection import InlineWrite, Projector, current_replay, register_projector
from .readmodel import (
    ReadModel,
    collecting_rows,
    projecting,
    row_written,
    update_row,
    update_row_statement,
    updated_row,
    written_row,
)
from .store import (
    StoredEvent,
    StreamWrite,
    append,
    append_many,
    current_version,
    events_after,
    hold_append_lock,
    load,
    load_stream,
)

__all__ = [
    "Aggregate",
    "CommandError",
    "ConcurrencyConflict",
    "Context",
    "DomainEvent",
    "EventStoreError",
    "HistoryEntry",
    "InlineWrite",
    "InvalidMetadata",
    "Projector",
    "ReadModel",
    "ReadModelWriteRefused",
    "StateReverted",
    "StoredEvent",
    "StreamNotFound",
    "StreamWrite",
    "aggregate_for",
    "collecting_rows",
    "append",
    "append_many",
    "hold_append_lock",
    "appends_once",
    "content_get",
    "content_hash",
    "content_put",
    "content_takedown",
    "current_replay",
    "current_version",
    "cyclic_gc_paused",
    "diff",
    "event",
    "events_after",
    "history",
    "insert_rows",
    "load",
    "load_stream",
    "projecting",
    "register_aggregate",
    "register_projector",
    "row_written",
    "revert_events",
    "stream_revert",
    "update_row",
    "update_row_statement",
    "updated_row",
    "upcaster",
    "written_row",
]
