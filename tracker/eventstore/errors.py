"""Errors raised by the event store and by commands built on it."""
from __future__ import annotations

import uuid


class EventStoreError(Exception):
    """Base class for event-store errors."""


class ConcurrencyConflict(EventStoreError):
    """The stream moved on since its author read it: a stale version, never overwritten."""

    def __init__(self, *, stream_id: uuid.UUID, expected: int, current: int) -> None:
        self.stream_id = stream_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"stream {stream_id} is at version {current}, but the change was made "
            f"against version {expected}; reload and try again"
        )


class StreamNotFound(EventStoreError):
    """No events exist for the stream (or not of the expected type)."""

    def __init__(self, stream_id: uuid.UUID, stream_type: str | None = None) -> None:
        self.stream_id = stream_id
        self.stream_type = stream_type
        super().__init__(f"no {stream_type or 'stream'} with id {stream_id}")


class CommandError(EventStoreError):
    """A command refused its input; `errors` maps field names to messages."""

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        self.errors = errors or {}
        super().__init__(message)


class ReadModelWriteRefused(RuntimeError):
    """A read model was written outside a projector."""


class InvalidMetadata(EventStoreError):
    """Event metadata failed validation (missing actor, unknown kind, no reason...)."""
