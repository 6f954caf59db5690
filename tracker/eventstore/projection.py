"""Projector registry: copy folded stream state into read models, inline with each append.

A projector is registered per stream type. After events are appended, the store folds each
touched stream and calls `sync(stream_id, state, events)` of every projector for that stream
type inside `projecting()`; projectors may also react to other stream types' events
(`reacts_to`), e.g. meetings re-deriving the post a participant held when a tenure changes.
Projectors are pure functions of the log in position order: no clock, no randomness.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
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


PROJECTORS: dict[str, Projector] = {}


def register_projector(projector: Projector) -> Projector:
    PROJECTORS[projector.name] = projector
    return projector


def projectors_for_stream(stream_type: str) -> list[Projector]:
    return [p for p in PROJECTORS.values() if stream_type in p.syncs]


def reactions_for(event_type: str) -> list[Callable[[Any], None]]:
    return [p.reacts_to[event_type] for p in PROJECTORS.values() if event_type in p.reacts_to]


def owned_models() -> list[type[models.Model]]:
    """Every read model, children first, so they can be emptied in order."""
    from .models import Checkpoint, StreamState

    out: list[type[models.Model]] = []
    for projector in reversed(list(PROJECTORS.values())):
        out += [m for m in projector.models if m not in out]
    return out + [StreamState, Checkpoint]
