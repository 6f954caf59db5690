"""Feed aggregate and projector."""
from __future__ import annotations

import uuid

from tracker.eventstore.api import Aggregate, Projector, register_aggregate, register_projector

from .models import Feed

FEED = "feed"


def _registered(state: dict, data: dict, _stored: object) -> dict:
    state.update(data, active=True)
    return state


def _revised(state: dict, data: dict, _stored: object) -> dict:
    state.update(data["changes"])
    return state


@register_aggregate
class FeedAggregate(Aggregate):
    stream_type = FEED
    evolvers = {"FeedRegistered": _registered, "FeedRevised": _revised}
    revertible_fields = ("url", "title", "publisher", "interval_minutes", "active")


def _sync_feed(stream_id: uuid.UUID, state: dict, events: list) -> None:
    created = Feed.objects.filter(pk=stream_id).values_list("created_at", flat=True).first()
    Feed(
        id=stream_id,
        url=state["url"],
        title=state.get("title", ""),
        publisher=state.get("publisher", ""),
        interval_minutes=state.get("interval_minutes", 30),
        active=state.get("active", True),
        version=events[-1].version,
        created_at=created or events[0].recorded_at,
    ).save()


register_projector(Projector(name="feeds", syncs={FEED: _sync_feed}, models=[Feed]))
