"""Feeds (event-sourced read model) and the operational tables of ingestion.

`Feed` is part of the record (who registered which source, when, why) and is written only
by its projector. The other tables are operational state, not facts: conditional-GET
validators, which feed entries were seen, near-duplicate fingerprints and failures. They
are written directly by the ingestion services and are not rebuilt from the log.
"""
from __future__ import annotations

from django.db import models

from tracker.eventstore.api import ReadModel


class Feed(ReadModel):
    """An RSS/Atom feed polled for new articles."""

    id = models.UUIDField(primary_key=True, help_text="Stream id of the feed.")
    url = models.URLField(max_length=2000, help_text="Feed URL.")
    title = models.CharField(max_length=300, blank=True, help_text="Display name.")
    publisher = models.CharField(max_length=200, blank=True, help_text="Outlet the feed belongs to.")
    interval_minutes = models.PositiveIntegerField(default=30, help_text="How often to poll.")
    active = models.BooleanField(default=True, help_text="Polled only while active.")
    version = models.IntegerField(help_text="Stream version (the ETag).")
    created_at = models.DateTimeField(help_text="When it was registered.")

    class Meta:
        ordering = ["title", "url"]

    def __str__(self) -> str:
        return self.title or self.url


class FeedPollState(models.Model):
    """Conditional-GET validators and schedule of one feed (operational, not history)."""

    feed_id = models.UUIDField(primary_key=True, help_text="The feed.")
    etag = models.CharField(max_length=500, blank=True, help_text="Last ETag the server sent.")
    last_modified = models.CharField(max_length=100, blank=True, help_text="Last Last-Modified header.")
    last_polled_at = models.DateTimeField(null=True, blank=True, help_text="When it was last polled.")
    last_status = models.CharField(max_length=200, blank=True, help_text="Outcome of the last poll.")
    next_poll_at = models.DateTimeField(null=True, blank=True, db_index=True, help_text="When it is due.")
    entries_seen = models.PositiveIntegerField(default=0, help_text="Entries queued so far.")


class FeedEntrySeen(models.Model):
    """A feed entry already queued for ingestion (so a re-poll does not queue it again)."""

    feed_id = models.UUIDField(help_text="The feed.")
    guid = models.CharField(max_length=1000, help_text="Entry id (or link) in the feed.")
    url = models.URLField(max_length=2000, help_text="Entry link.")
    seen_at = models.DateTimeField(help_text="When it was first seen.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["feed_id", "guid"], name="feedentry_uniq")]


class ArticleFingerprint(models.Model):
    """MinHash signature of an article body, for recognising syndicated copies."""

    article_id = models.UUIDField(primary_key=True, help_text="The article.")
    signature = models.JSONField(help_text="MinHash values (one per permutation).")


class FingerprintBand(models.Model):
    """One LSH band of a signature; articles sharing a band are near-duplicate candidates."""

    band = models.PositiveSmallIntegerField(help_text="Band index.")
    digest = models.CharField(max_length=32, help_text="Hash of the band's values.")
    article_id = models.UUIDField(help_text="The article.")

    class Meta:
        indexes = [models.Index(fields=["band", "digest"], name="fpband_lookup_idx")]
        constraints = [models.UniqueConstraint(fields=["band", "article_id"], name="fpband_uniq")]


class IngestionFailure(models.Model):
    """Something that could not be fetched, decoded, extracted or analysed; curators can retry it."""

    class Stage(models.TextChoices):
        FEED = "feed", "feed poll"
        FETCH = "fetch", "fetch"
        DECODE = "decode", "decode"
        EXTRACT = "extract", "text extraction"
        SUGGEST = "suggest", "suggestions"

    stage = models.CharField(max_length=10, choices=Stage.choices, help_text="Where it failed.")
    kind = models.CharField(max_length=40, help_text="Error class, e.g. 'too_large', 'blocked'.")
    message = models.TextField(help_text="The error as shown to curators.")
    url = models.URLField(max_length=2000, blank=True, help_text="What was being fetched.")
    feed_id = models.UUIDField(null=True, blank=True, help_text="The feed, for feed failures.")
    article_id = models.UUIDField(null=True, blank=True, help_text="The stored article, if any.")
    raw_hash = models.CharField(max_length=64, blank=True, help_text="Raw input kept in the content store.")
    attempts = models.PositiveIntegerField(default=1, help_text="How many times it failed.")
    first_failed_at = models.DateTimeField(help_text="First failure.")
    last_failed_at = models.DateTimeField(help_text="Latest failure.")
    resolved_at = models.DateTimeField(null=True, blank=True, help_text="Set when a retry succeeded.")

    class Meta:
        ordering = ["-last_failed_at"]

    def __str__(self) -> str:
        return f"{self.get_stage_display()} failed: {self.kind}"
