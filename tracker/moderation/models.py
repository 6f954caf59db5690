"""Read models of moderation: the proposal queue, its evidence, and 'not the same' pairs.

Written only by tracker/moderation/projections.py; everything else reads them.
"""
from __future__ import annotations

from django.db import models

from tracker.eventstore.api import ReadModel


class Proposal(ReadModel):
    """A set of commands someone (a person or the robot) wants applied, awaiting review."""

    class Status(models.TextChoices):
        PENDING = "pending", "pending"
        ACCEPTED = "accepted", "accepted"
        REJECTED = "rejected", "rejected"
        STALE = "stale", "stale"
        CONFLICT = "conflict", "conflict (locked fields)"
        SUPERSEDED = "superseded", "superseded"

    class Kind(models.TextChoices):
        NEW_MEETING = "new_meeting", "new meeting"
        CITE_ARTICLE = "cite_article", "cite an article for a meeting"
        NEW_PERSON = "new_person", "new person"
        NEW_ALIAS = "new_alias", "new alias"
        NEW_TENURE = "new_tenure", "new tenure"
        MERGE_PERSONS = "merge_persons", "merge two persons"
        MERGE_MEETINGS = "merge_meetings", "merge two meetings"
        EDIT_MEETING = "edit_meeting", "edit a meeting"
        OTHER = "other", "other"

    id = models.UUIDField(primary_key=True, help_text="Stream id of the proposal.")
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True, help_text="What it proposes.")
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True, help_text="Review state."
    )
    # Plain ids and names rather than FKs to auth users: read models are a pure fold of the log.
    author_id = models.IntegerField(null=True, blank=True, db_index=True, help_text="User id of the author.")
    author_name = models.CharField(max_length=150, help_text="Username of the author.")
    author_kind = models.CharField(max_length=10, help_text="'user', 'robot' or 'system'.")
    confidence = models.FloatField(default=1.0, db_index=True, help_text="0..1, how sure the author is.")
    article_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="First evidence article.")
    dedupe_key = models.CharField(max_length=300, blank=True, db_index=True, help_text="Idempotency key.")
    summary = models.TextField(blank=True, help_text="One-line description for the queue.")
    note = models.TextField(
        blank=True, help_text="Private note from the author to reviewers; see selectors.proposal_note_for."
    )
    commands = models.JSONField(default=list, help_text="[{command, args, target_stream_id, expected_version}].")
    problems = models.JSONField(
        default=dict, blank=True, help_text="Why it is stale or in conflict: targets, diffs, locked fields."
    )
    reviewer_id = models.IntegerField(null=True, blank=True, help_text="User id of who decided.")
    reviewer_name = models.CharField(max_length=150, blank=True, help_text="Username of who decided.")
    reason = models.TextField(blank=True, help_text="Why it was rejected (required) or superseded.")
    superseded_by = models.UUIDField(null=True, blank=True, help_text="The proposal replacing this one.")
    applied_positions = models.JSONField(default=list, blank=True, help_text="Log positions it appended.")
    created_at = models.DateTimeField(db_index=True, help_text="When it was proposed.")
    decided_at = models.DateTimeField(null=True, blank=True, help_text="When it was accepted or rejected.")
    updated_at = models.DateTimeField(help_text="recorded_at of its last event.")
    version = models.IntegerField(help_text="Stream version (the ETag).")

    class Meta:
        ordering = ["-confidence", "created_at"]
        permissions = [
            ("propose_change", "Can propose changes for review"),
            ("review_proposal", "Can review (edit, reject) proposals"),
            ("apply_proposal", "Can accept proposals and apply their commands"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.status}) by {self.author_name}"


class ProposalEvidence(ReadModel):
    """An article and its sentences supporting a proposal (several when articles were attached)."""

    id = models.UUIDField(primary_key=True, help_text="Derived from the proposal id and the index.")
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,  # evidence only exists as part of its proposal
        related_name="evidences",
        help_text="The proposal.",
    )
    index = models.IntegerField(help_text="0 for the original evidence, then attachments in order.")
    article_id = models.UUIDField(null=True, blank=True, db_index=True, help_text="Source article stream id.")
    sentences = models.JSONField(default=list, help_text="[{text, start, end}] offsets into the article text.")

    class Meta:
        ordering = ["proposal", "index"]
        constraints = [models.UniqueConstraint(fields=["proposal", "index"], name="proposalevidence_uniq")]

    def __str__(self) -> str:
        return f"evidence {self.index} of {self.proposal_id}"


class DistinctPair(ReadModel):
    """Two records a curator said are not the same, so the matcher never pairs them again."""

    id = models.UUIDField(primary_key=True, help_text="Stream id derived from the sorted pair.")
    kind = models.CharField(max_length=20, blank=True, help_text="'person' or 'meeting'.")
    a_id = models.UUIDField(db_index=True, help_text="Lower of the two ids.")
    b_id = models.UUIDField(db_index=True, help_text="Higher of the two ids.")
    active = models.BooleanField(default=True, help_text="False once the distinction was withdrawn.")
    marked_by = models.CharField(max_length=150, blank=True, help_text="Who said they differ.")
    reason = models.TextField(blank=True, help_text="Why.")
    marked_at = models.DateTimeField(help_text="When it was last changed.")
    version = models.IntegerField(help_text="Stream version.")

    def __str__(self) -> str:
        return f"{self.a_id} ≠ {self.b_id}"
