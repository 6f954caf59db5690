"""Read models of meetings: meetings, participations, source articles and citations.

Written only by meetings/projections.py; everything else reads them.
"""
from __future__ import annotations

from django.db import models

from tracker.eventstore.api import ReadModel


class Meeting(ReadModel):
    """A meeting (in person, by phone or video) between two or more officials."""

    class Mode(models.TextChoices):
        IN_PERSON = "in_person", "in person"
        PHONE = "phone", "phone"
        VIDEO = "video", "video"

    class Status(models.TextChoices):
        PLANNED = "planned", "planned"
        HELD = "held", "held"
        CANCELLED = "cancelled", "cancelled"
        POSTPONED = "postponed", "postponed"

    class Kind(models.TextChoices):
        TALKS = "talks", "talks"
        SUMMIT = "summit", "summit"
        COURTESY_CALL = "courtesy_call", "courtesy call"
        STRATEGIC_DIALOGUE = "strategic_dialogue", "strategic dialogue"
        PHONE_CALL = "phone_call", "phone call"
        OTHER = "other", "other"

    id = models.UUIDField(primary_key=True, help_text="Stream id of the meeting.")
    title = models.CharField(max_length=300, blank=True, help_text="Short description, e.g. 'Cho–Rubio talks'.")
    summary = models.TextField(blank=True, help_text="What was discussed, in a few sentences.")
    date = models.CharField(max_length=10, blank=True, help_text="YYYY[-MM[-DD]]; blank if unknown.")
    date_precision = models.CharField(max_length=5, blank=True, help_text="'year', 'month' or 'day'.")
    # first/last possible day of the partial date, so range filters can use an index
    date_first = models.DateField(null=True, blank=True, db_index=True, help_text="Earliest day `date` can mean.")
    date_last = models.DateField(null=True, blank=True, db_index=True, help_text="Latest day `date` can mean.")
    end_date = models.CharField(max_length=10, blank=True, help_text="Last day of a multi-day meeting.")
    location_name = models.CharField(max_length=200, blank=True, help_text="Place, e.g. 'Washington'.")
    location_country = models.CharField(max_length=2, blank=True, help_text="ISO country code of the place.")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.IN_PERSON, help_text="How they met.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD, help_text="Lifecycle state.")
    status_source = models.CharField(max_length=500, blank=True, help_text="Source of the latest status change.")
    kind = models.CharField(max_length=20, choices=Kind.choices, blank=True, help_text="Kind of meeting.")
    topics = models.JSONField(default=list, blank=True, help_text="Topic tags, e.g. ['alliance', 'tariffs'].")
    occasion = models.CharField(max_length=200, blank=True, help_text="e.g. 'APEC 2025'.")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # meetings are merged, never deleted; SET_NULL only guards rebuilds
        related_name="merged_from",
        help_text="Set when merged into another meeting; the id keeps redirecting there.",
    )
    retracted = models.BooleanField(default=False, help_text="Withdrawn from the record (kept for history).")
    version = models.IntegerField(help_text="Stream version (the ETag).")
    created_at = models.DateTimeField(help_text="When the first event was recorded.")
    updated_at = models.DateTimeField(help_text="When the last event was recorded.")

    class Meta:
        ordering = ["-date_first", "id"]

    def __str__(self) -> str:
        return self.title or f"Meeting {self.date or '(undated)'}"


class Participation(ReadModel):
    """A person (or a not yet resolved name) taking part in a meeting."""

    id = models.UUIDField(primary_key=True, help_text="Participation id (from the event).")
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,  # a participation is part of its meeting
        related_name="participants",
        help_text="The meeting.",
    )
    name = models.CharField(max_length=200, help_text="Name as recorded (kept even when resolved).")
    name_key = models.CharField(
        max_length=200, blank=True, db_index=True, help_text="Normalised name, to resolve it once the person is known."
    )
    recorded_person_id = models.UUIDField(null=True, blank=True, help_text="Person id as recorded in the event.")
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # an unresolved name is data, not an error
        related_name="participations",
        help_text="The person now (follows merges).",
    )
    tenure = models.ForeignKey(
        "people.Tenure",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # derived; re-derived when tenures change
        related_name="participations",
        help_text="Post held on the meeting date (derived).",
    )
    side = models.CharField(max_length=2, blank=True, help_text="Country the participant represented.")
    is_host = models.BooleanField(default=False, help_text="Hosted the meeting.")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SourceArticle(ReadModel):
    """A news article (metadata only; the body lives in the content store under `content_hash`)."""

    id = models.UUIDField(primary_key=True, help_text="Stream id of the article.")
    url = models.URLField(max_length=2000, blank=True, help_text="URL it was fetched from.")
    canonical_url = models.URLField(max_length=2000, blank=True, db_index=True, help_text="Canonical URL.")
    title = models.CharField(max_length=500, blank=True, help_text="Headline.")
    publisher = models.CharField(max_length=200, blank=True, help_text="Outlet, e.g. 'The Korea Herald'.")
    wire_service = models.CharField(max_length=100, blank=True, help_text="e.g. 'Yonhap', if syndicated.")
    author = models.CharField(max_length=300, blank=True, help_text="Byline.")
    published_at = models.DateTimeField(null=True, blank=True, help_text="Publication time (with zone).")
    published_date = models.CharField(max_length=10, blank=True, help_text="Local publication date, YYYY-MM-DD.")
    language = models.CharField(max_length=16, blank=True, help_text="BCP 47 language tag.")
    content_hash = models.CharField(max_length=64, blank=True, db_index=True, help_text="SHA-256 of the body text.")
    duplicate_of = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,  # a copy stays even if its original is re-linked
        related_name="copies",
        help_text="The original, when this is a syndicated copy.",
    )
    version = models.IntegerField(help_text="Stream version (the ETag).")
    created_at = models.DateTimeField(help_text="When it was stored.")

    class Meta:
        ordering = ["-published_at"]

    def __str__(self) -> str:
        return self.title or self.url


class Citation(ReadModel):
    """An article supporting a meeting, with the evidence sentences and their offsets."""

    id = models.UUIDField(primary_key=True, help_text="Citation id (from the event).")
    meeting = models.ForeignKey(
        Meeting,
        on_delete=models.CASCADE,  # part of the meeting's record
        related_name="citations",
        help_text="The meeting supported.",
    )
    article = models.ForeignKey(
        SourceArticle,
        on_delete=models.CASCADE,  # rebuilt together with the article
        related_name="citations",
        help_text="The supporting article.",
    )
    # [{"text": "...", "start": 120, "end": 210}], offsets into the article body
    evidence = models.JSONField(default=list, blank=True, help_text="Evidence sentences with character offsets.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["meeting", "article"], name="citation_meeting_article_uniq")]

    def __str__(self) -> str:
        return f"{self.article} → {self.meeting}"
