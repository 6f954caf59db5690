"""Serializers of the meetings API: output shapes of the read models, input shapes of commands."""
from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from meetings.models import Citation, Meeting, Participation, SourceArticle


class PostHeldSerializer(serializers.Serializer):
    """The post a participant held on the meeting date (derived from their tenures)."""

    tenure_id = serializers.UUIDField(source="id")
    post_id = serializers.UUIDField()
    title = serializers.CharField(source="post.title")
    organization = serializers.CharField(source="post.organization.name")
    organization_id = serializers.UUIDField(source="post.organization_id")
    acting = serializers.BooleanField()


class ParticipantSerializer(serializers.ModelSerializer):
    """A participant: the name as recorded, the person it resolves to, the post held then."""

    person_id = serializers.UUIDField(allow_null=True)
    person_name = serializers.CharField(source="person.name", allow_null=True, default=None)
    post = PostHeldSerializer(source="tenure", allow_null=True)

    class Meta:
        model = Participation
        fields = ["id", "name", "person_id", "person_name", "side", "is_host", "post"]


class EvidenceSerializer(serializers.Serializer):
    """An evidence sentence with its character offsets in the article body."""

    text = serializers.CharField()
    start = serializers.IntegerField(required=False, allow_null=True)
    end = serializers.IntegerField(required=False, allow_null=True)


class CitationSerializer(serializers.ModelSerializer):
    """An article supporting the meeting, with the evidence sentences."""

    article_id = serializers.UUIDField()
    url = serializers.CharField(source="article.url")
    canonical_url = serializers.CharField(source="article.canonical_url")
    title = serializers.CharField(source="article.title")
    publisher = serializers.CharField(source="article.publisher")
    published_at = serializers.DateTimeField(source="article.published_at", allow_null=True)
    published_date = serializers.CharField(source="article.published_date")
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Citation
        fields = [
            "id", "article_id", "url", "canonical_url", "title", "publisher",
            "published_at", "published_date", "evidence",
        ]

    @extend_schema_field(EvidenceSerializer(many=True))
    def get_evidence(self, obj: Citation) -> list[dict[str, Any]]:
        out = []
        for item in obj.evidence or []:
            out.append(item if isinstance(item, dict) else {"text": str(item)})
        return EvidenceSerializer(out, many=True).data


class LocationSerializer(serializers.Serializer):
    """Where the meeting took place."""

    name = serializers.CharField(source="location_name")
    country = serializers.CharField(source="location_country")


class MeetingSerializer(serializers.ModelSerializer):
    """A meeting with participants (and the posts they held), location, date and citations."""

    location = LocationSerializer(source="*")
    participants = ParticipantSerializer(many=True)
    citations = CitationSerializer(many=True)
    merged_into = serializers.UUIDField(source="merged_into_id", allow_null=True)
    topics = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Meeting
        fields = [
            "id", "title", "summary", "date", "date_precision", "end_date", "location",
            "mode", "status", "status_source", "kind", "topics", "occasion",
            "participants", "citations", "merged_into", "retracted", "version",
            "created_at", "updated_at",
        ]


class ArticleMeetingSerializer(serializers.ModelSerializer):
    """A meeting an article supports (short form)."""

    meeting_id = serializers.UUIDField()
    title = serializers.CharField(source="meeting.title")
    date = serializers.CharField(source="meeting.date")

    class Meta:
        model = Citation
        fields = ["meeting_id", "title", "date", "evidence"]


class ArticleSerializer(serializers.ModelSerializer):
    """A source article's metadata and the meetings it supports (no body text)."""

    duplicate_of = serializers.UUIDField(source="duplicate_of_id", allow_null=True)
    meetings = ArticleMeetingSerializer(source="citations", many=True)

    class Meta:
        model = SourceArticle
        fields = [
            "id", "url", "canonical_url", "title", "publisher", "wire_service", "author",
            "published_at", "published_date", "language", "content_hash", "duplicate_of",
            "meetings", "version", "created_at",
        ]


class ArticleWithBodySerializer(ArticleSerializer):
    """An article with its body text from the content store (curators only)."""

    body = serializers.SerializerMethodField(help_text="Body text; null if taken down or not stored.")

    class Meta(ArticleSerializer.Meta):
        fields = [*ArticleSerializer.Meta.fields, "body"]

    def get_body(self, obj: SourceArticle) -> str | None:
        from tracker.eventstore.api import content_get

        return content_get(obj.content_hash) if obj.content_hash else None


# --- input shapes (writes call commands; nothing is saved through a serializer) ----------


class ParticipantInputSerializer(serializers.Serializer):
    """A participant to record: a person id and/or a name as written."""

    person_id = serializers.UUIDField(required=False, allow_null=True)
    name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    side = serializers.CharField(required=False, allow_blank=True, max_length=2)
    is_host = serializers.BooleanField(required=False, default=False)


class MeetingFieldsInputSerializer(serializers.Serializer):
    """The editable fields of a meeting; the command validates dates, choices and lengths."""

    title = serializers.CharField(required=False, allow_blank=True)
    summary = serializers.CharField(required=False, allow_blank=True)
    date = serializers.CharField(required=False, allow_blank=True, help_text="YYYY[-MM[-DD]]")
    end_date = serializers.CharField(required=False, allow_blank=True, help_text="YYYY[-MM[-DD]]")
    location_name = serializers.CharField(required=False, allow_blank=True)
    location_country = serializers.CharField(required=False, allow_blank=True)
    mode = serializers.CharField(required=False, help_text="in_person, phone or video")
    status = serializers.CharField(required=False, help_text="planned, held, cancelled or postponed")
    status_source = serializers.CharField(required=False, allow_blank=True)
    kind = serializers.CharField(required=False, allow_blank=True)
    topics = serializers.ListField(child=serializers.CharField(), required=False)
    occasion = serializers.CharField(required=False, allow_blank=True)
    reason = serializers.CharField(
        required=False, allow_blank=True, help_text="Why (stored with the event)."
    )


class MeetingCreateSerializer(MeetingFieldsInputSerializer):
    """Input of POST /api/v1/meetings/ (meeting_record)."""

    participants = ParticipantInputSerializer(many=True, help_text="At least two.")


class MeetingReviseSerializer(MeetingFieldsInputSerializer):
    """Input of PATCH /api/v1/meetings/{id}/ (meeting_revise); send only what changes."""
