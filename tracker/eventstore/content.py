"""Content store: article bodies keyed by SHA-256, removable without rewriting history."""
from __future__ import annotations

import hashlib
import uuid

from django.db import transaction
from django.utils import timezone

from .aggregate import Aggregate, register_aggregate
from .context import Context
from .events import DomainEvent, event
from .models import Content
from .store import append, current_version

CONTENT_NS = uuid.UUID("0b8f7f0e-3c55-4b8e-8e0a-6a0f6f9d2c44")


@event("ContentTakenDown")
class ContentTakenDown(DomainEvent):
    """A stored text was removed (legal takedown); the hash and history remain."""

    sha256: str


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def content_put(text: str) -> str:
    """Store a text once and return its hash (idempotent)."""
    digest = content_hash(text)
    # One INSERT ... ON CONFLICT DO NOTHING (get_or_create took a SELECT and a savepoint);
    # a text already stored, or taken down, is left as it is.
    Content.objects.bulk_create(
        [Content(sha256=digest, text=text, size=len(text), stored_at=timezone.now())], ignore_conflicts=True
    )
    return digest


def content_get(sha256: str) -> str | None:
    """The text for a hash, or None if it was never stored or was taken down."""
    row = Content.objects.filter(sha256=sha256, removed_at__isnull=True).only("text").first()
    return row.text if row else None


def content_stream_id(sha256: str) -> uuid.UUID:
    return uuid.uuid5(CONTENT_NS, sha256)


@transaction.atomic
def content_takedown(*, sha256: str, context: Context) -> None:
    """Remove a text from the store, recording who and why in the log."""
    from .errors import CommandError

    if not context.reason:
        raise CommandError("a takedown needs a reason", {"reason": ["This field is required."]})
    stream_id = content_stream_id(sha256)
    updated = Content.objects.filter(sha256=sha256, removed_at__isnull=True).update(
        text="", removed_at=timezone.now(), removal_reason=context.reason
    )
    if not updated:
        return
    append(
        stream_type="content",
        stream_id=stream_id,
        expected_version=current_version(stream_id),
        events=[ContentTakenDown(sha256=sha256)],
        context=context,
    )


def _evolve_taken_down(state: dict, data: dict, _stored: object) -> dict:
    state.update(sha256=data["sha256"], taken_down=True)
    return state


@register_aggregate
class ContentAggregate(Aggregate):
    """The audit stream of one stored text."""

    stream_type = "content"
    evolvers = {"ContentTakenDown": _evolve_taken_down}
