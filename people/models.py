"""Read models of officials: persons, aliases, organizations, posts and tenures.

Written only by people/projections.py; everything else reads them.
"""
from __future__ import annotations

from django.db import models

from tracker.eventstore.api import ReadModel


class Person(ReadModel):
    """An official, under a canonical name."""

    id = models.UUIDField(primary_key=True, help_text="Stream id of the person.")
    name = models.CharField(max_length=200, help_text="Canonical name, e.g. 'Cho Hyun'.")
    sort_name = models.CharField(max_length=200, blank=True, help_text="Name for sorting, e.g. 'Cho, Hyun'.")
    name_key = models.CharField(max_length=200, db_index=True, help_text="Normalised name for exact lookup.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 country code.")
    external_ids = models.JSONField(default=dict, blank=True, help_text="e.g. {'wikidata': 'Q123'}.")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        # a merge target is never deleted (persons are only ever merged), so SET_NULL is a safe default
        on_delete=models.SET_NULL,
        related_name="merged_from",
        help_text="Set when this person was merged into another; the id keeps redirecting there.",
    )
    version = models.IntegerField(help_text="Stream version (the ETag).")
    created_at = models.DateTimeField(help_text="When the first event was recorded.")
    updated_at = models.DateTimeField(help_text="When the last event was recorded.")

    class Meta:
        ordering = ["sort_name", "name"]
        verbose_name_plural = "people"

    def __str__(self) -> str:
        return self.name


class Alias(ReadModel):
    """Another name a person is known by (romanisation variant, misspelling, short form...)."""

    class Kind(models.TextChoices):
        VARIANT = "variant", "romanisation variant"
        MISSPELLING = "misspelling", "misspelling"
        SHORT = "short", "short form"
        FORMER = "former", "former name"
        MERGED = "merged", "name of a merged record"
        OTHER = "other", "other"

    id = models.UUIDField(primary_key=True, help_text="Alias id (from the event).")
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,  # an alias means nothing without its person
        related_name="aliases",
        help_text="Whose alias this is.",
    )
    name = models.CharField(max_length=200, help_text="The alias as written.")
    name_key = models.CharField(max_length=200, db_index=True, help_text="Normalised alias for lookup.")
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.VARIANT, help_text="What sort of alias.")
    language = models.CharField(max_length=16, blank=True, help_text="BCP 47 language tag, e.g. 'ko'.")
    script = models.CharField(max_length=8, blank=True, help_text="ISO 15924 script, e.g. 'Latn', 'Hang'.")
    source = models.CharField(max_length=500, blank=True, help_text="Where it was seen (URL or note).")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "aliases"

    def __str__(self) -> str:
        return self.name


class Organization(ReadModel):
    """A government body, ministry, embassy or office."""

    id = models.UUIDField(primary_key=True, help_text="Stream id of the organization.")
    name = models.CharField(max_length=300, help_text="e.g. 'Ministry of Foreign Affairs'.")
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166-1 alpha-2 country code.")
    version = models.IntegerField(help_text="Stream version (the ETag).")

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.country})" if self.country else self.name


class Post(ReadModel):
    """A title at an organization, e.g. Minister of Foreign Affairs at the Ministry of Foreign Affairs."""

    id = models.UUIDField(primary_key=True, help_text="Stream id of the post.")
    title = models.CharField(max_length=300, help_text="The title, e.g. 'Secretary of State'.")
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,  # posts outlive renames; an organization with posts is never dropped
        related_name="posts",
        help_text="Where the post sits.",
    )
    version = models.IntegerField(help_text="Stream version (the ETag).")

    class Meta:
        ordering = ["title"]

    def __str__(self) -> str:
        return f"{self.title}, {self.organization.name}"


class Tenure(ReadModel):
    """A person holding a post from a start to an end (partial dates), possibly acting."""

    id = models.UUIDField(primary_key=True, help_text="Tenure id (from the event).")
    person = models.ForeignKey(
        Person,
        on_delete=models.CASCADE,  # a tenure is part of its person's record
        related_name="tenures",
        help_text="Who held the post.",
    )
    post = models.ForeignKey(
        Post,
        on_delete=models.PROTECT,  # never lose who held a post because a post row went away
        related_name="tenures",
        help_text="The post held.",
    )
    start = models.CharField(max_length=10, blank=True, help_text="YYYY[-MM[-DD]]; blank if unknown.")
    end = models.CharField(max_length=10, blank=True, help_text="YYYY[-MM[-DD]]; blank while in office.")
    acting = models.BooleanField(default=False, help_text="Held in an acting capacity.")
    sources = models.JSONField(default=list, blank=True, help_text="URLs or notes supporting the tenure.")

    class Meta:
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.person} — {self.post} ({self.start or '?'}–{self.end})"
