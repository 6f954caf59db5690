"""Celery tasks of the news pipeline: thin, idempotent, taking ids and calling one service each.

Tasks that may be redelivered after a worker dies (acks_late + reject_on_worker_lost in
settings) are safe to run twice: articles dedupe by URL and text, proposals by dedupe key.
"""
from __future__ import annotations

import logging
import uuid

from celery import shared_task

from tracker.eventstore.api import Context

log = logging.getLogger(__name__)


class TransientIngestError(Exception):
    """A network-type failure worth retrying with backoff."""


def _robot_context(reason: str) -> Context:
    from tracker.moderation.roles import robot_user

    return Context.for_user(robot_user(), via="suggestion", reason=reason)


@shared_task(name="meetings.poll_due_feeds")
def poll_due_feeds_task() -> int:
    """Queue a poll of every feed that is due (run by beat every minute)."""
    from meetings.ingest.services import feeds_due

    due = feeds_due()
    from tracker.reliability.dispatch import enqueue

    for feed_id in due:
        enqueue(poll_feed_task, str(feed_id))
    return len(due)


@shared_task(
    name="meetings.poll_feed",
    acks_late=True,
    autoretry_for=(TransientIngestError,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def poll_feed_task(feed_id: str) -> int:
    """Poll one feed; returns the number of new entries queued."""
    from meetings.ingest.models import Feed
    from meetings.ingest.services import IngestError, feed_poll

    if not Feed.objects.filter(pk=feed_id, active=True).exists():
        log.info("feed %s is gone or inactive; nothing to poll", feed_id)
        return 0
    try:
        return len(feed_poll(uuid.UUID(feed_id)).new_entries)
    except IngestError as exc:
        if exc.retryable:
            raise TransientIngestError(str(exc)) from exc
        log.warning("feed %s failed: %s", feed_id, exc)
        return 0


@shared_task(
    name="meetings.ingest_url",
    acks_late=True,
    autoretry_for=(TransientIngestError,),
    retry_backoff=30,
    retry_backoff_max=900,
    max_retries=5,
)
def ingest_url_task(url: str, published: str | None = None, feed_id: str | None = None) -> str | None:
    """Fetch and store one article; returns its id (None if it failed for good)."""
    from meetings.ingest.services import IngestError, article_ingest_url

    try:
        result = article_ingest_url(
            url, context=_robot_context("news ingestion"), published=published, feed_id=feed_id
        )
    except IngestError as exc:
        if exc.retryable:
            raise TransientIngestError(str(exc)) from exc
        log.warning("ingesting %s failed: %s", url, exc)
        return None
    if not result.created:
        # A redelivered task whose worker died after the article's commit, perhaps before the
        # suggestion was queued, finds it stored: queue the suggestion again (it is idempotent).
        from tracker.reliability.dispatch import enqueue

        enqueue(suggest_from_article_task, str(result.article.id))
    return str(result.article.id)


@shared_task(name="meetings.suggest_from_article", acks_late=True)
def suggest_from_article_task(article_id: str) -> int:
    """Raise proposals for what an article reports; returns how many meeting mentions it had."""
    from meetings.ingest.suggestions import article_suggest
    from meetings.models import SourceArticle

    try:
        return len(article_suggest(article_id=uuid.UUID(article_id)))  # reads the article first
    except SourceArticle.DoesNotExist:
        log.info("article %s is gone; nothing to suggest", article_id)
        return 0
