"""The event log, its links, projection checkpoints and the content store."""
from __future__ import annotations

from django.db import models

from .readmodel import ReadModel


class Event(models.Model):
    """One immutable fact; rows are never updated or deleted (database triggers refuse it)."""

    # `id` only allocates rows; `position` is the public, commit-ordered cursor.
    id = models.BigAutoField(primary_key=True)
    position = models.BigIntegerField(unique=True, help_text="Global, commit-ordered position.")
    stream_type = models.CharField(max_length=64, help_text="Kind of stream, e.g. 'meeting'.")
    stream_id = models.UUIDField(help_text="The object the event belongs to.")
    version = models.IntegerField(help_text="1-based version of the stream after this event.")
    type = models.CharField(max_length=128, help_text="Stable event name, never a Python path.")
    schema_version = models.SmallIntegerField(help_text="Payload shape version (upcast on read).")
    data = models.JSONField(help_text="Event payload.")
    metadata = models.JSONField(help_text="Actor, actor kind, via, reason, correlation/causation.")
    event_id = models.UUIDField(unique=True, help_text="Globally unique id of the event.")
    recorded_at = models.DateTimeField(help_text="When it was stored (display and 'as of' only).")
    occurred_at = models.DateTimeField(null=True, blank=True, help_text="Business time, if known.")

    class Meta:
        constraints = [
            # The optimistic-concurrency guard: one event per stream version, ever.
            models.UniqueConstraint(fields=["stream_id", "version"], name="event_stream_version_uniq"),
        ]
        indexes = [models.Index(fields=["type", "position"], name="event_type_position_idx")]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"#{self.position} {self.type} {self.stream_type}:{self.stream_id} v{self.version}"


class EventLink(models.Model):
    """An extra object an event touches (merge, link), so it shows in that object's history too."""

    # A link table instead of a uuid[] column keeps the log portable to SQLite; related_id is indexed.
    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(
        Event,
        on_delete=models.PROTECT,  # events are never deleted; PROTECT documents that
        related_name="links",
        help_text="The event.",
    )
    related_id = models.UUIDField(db_index=True, help_text="Id of another stream the event touches.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["event", "related_id"], name="eventlink_uniq"),
        ]


class Checkpoint(ReadModel):
    """How far a projection (or consumer) has processed the log."""

    name = models.CharField(max_length=100, primary_key=True, help_text="Projection name.")
    last_position = models.BigIntegerField(default=0, help_text="Last position applied.")

    def __str__(self) -> str:
        return f"{self.name} @ {self.last_position}"


class StreamState(ReadModel):
    """Current folded state and version of each stream; the cache commands read from."""

    stream_id = models.UUIDField(primary_key=True, help_text="The stream.")
    stream_type = models.CharField(max_length=64, db_index=True, help_text="Kind of stream.")
    version = models.IntegerField(help_text="Version after the last event.")
    state = models.JSONField(help_text="Aggregate state after the last event.")
    last_position = models.BigIntegerField(help_text="Position of the last event.")
    updated_at = models.DateTimeField(help_text="recorded_at of the last event.")

    def __str__(self) -> str:
        return f"{self.stream_type}:{self.stream_id} v{self.version}"


class Content(models.Model):
    """Bulky, takedown-prone text (article bodies) keyed by its SHA-256; events carry only the hash."""

    sha256 = models.CharField(max_length=64, primary_key=True, help_text="Hex SHA-256 of the text.")
    text = models.TextField(blank=True, help_text="The text; emptied by a takedown.")
    size = models.IntegerField(help_text="Length of the text in characters when stored.")
    stored_at = models.DateTimeField(help_text="When it was first stored.")
    removed_at = models.DateTimeField(null=True, blank=True, help_text="Set by a takedown.")
    removal_reason = models.TextField(blank=True, help_text="Why the text was taken down.")

    def __str__(self) -> str:
        return self.sha256[:12]
