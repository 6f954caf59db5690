"""Commands for feeds."""
from __future__ import annotations

import uuid

from django.db import transaction

from tracker.eventstore.api import CommandError, ConcurrencyConflict, Context, append, load

from .events import FeedRegistered, FeedRevised
from .models import Feed
from .projections import FEED

FEED_NS = uuid.UUID("1d7c1f7e-5d2b-4f55-9a0e-4b4f7cbd3c21")
FIELDS = {"url", "title", "publisher", "interval_minutes", "active"}


def _validate(values: dict) -> dict:
    errors: dict[str, list[str]] = {}
    if "url" in values and not str(values["url"]).lower().startswith(("http://", "https://")):
        errors["url"] = ["Must be an http(s) URL."]
    if "interval_minutes" in values:
        value = values["interval_minutes"]
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 7 * 24 * 60:
            errors["interval_minutes"] = ["Must be a whole number of minutes from 1 to 10080."]
    if "active" in values and not isinstance(values["active"], bool):
        errors["active"] = ["Must be true or false."]
    for name in set(values) - FIELDS:
        errors[name] = ["Not a field of a feed."]
    if errors:
        raise CommandError("invalid feed", errors)
    return values


@transaction.atomic
def feed_register(
    *, url: str, context: Context, title: str = "", publisher: str = "", interval_minutes: int = 30
) -> Feed:
    """Register a feed to poll (registering the same URL again returns the existing feed)."""
    _validate({"url": url, "interval_minutes": interval_minutes})
    stream_id = uuid.uuid5(FEED_NS, url.strip())
    existing = Feed.objects.filter(pk=stream_id).first()
    if existing:
        return existing
    append(
        stream_type=FEED,
        stream_id=stream_id,
        expected_version=0,
        events=[FeedRegistered(url=url.strip(), title=title, publisher=publisher, interval_minutes=interval_minutes)],
        context=context,
    )
    return Feed.objects.get(pk=stream_id)


@transaction.atomic
def feed_revise(*, feed_id: uuid.UUID, changes: dict, context: Context, expected_version: int) -> Feed:
    """Change a feed's URL, title, publisher, interval or active flag."""
    state, version = load(feed_id, stream_type=FEED)
    if version != expected_version:
        raise ConcurrencyConflict(stream_id=feed_id, expected=expected_version, current=version)
    changes = {k: v for k, v in _validate(dict(changes)).items() if state.get(k) != v}
    if changes:
        append(
            stream_type=FEED,
            stream_id=feed_id,
            expected_version=version,
            events=[FeedRevised(changes=changes)],
            context=context,
        )
    return Feed.objects.get(pk=feed_id)
