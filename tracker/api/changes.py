"""The change feed: every event in commit order, with a cursor a consumer keeps itself.

Positions are gap-free and become visible strictly in order: each append takes one
transaction-scoped lock, reads MAX(position) and writes the next numbers before it commits
(see tracker/eventstore/store.py). A consumer that polls `?after=<last position seen>`
therefore never misses an event that commits late and never sees one twice; a position
it has not seen yet is simply not committed yet. No gaps occur, so none need skipping.
"""
from __future__ import annotations

from urllib.parse import urlencode

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.eventstore.api import events_after

MAX_LIMIT = 1000


class ChangeFeedQuerySerializer(serializers.Serializer):
    """Query parameters of the change feed."""

    after = serializers.IntegerField(
        min_value=0, max_value=2**63 - 1, default=0, help_text="Last position seen."
    )
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, default=100)
    type = serializers.CharField(
        required=False, allow_blank=True, help_text="Only these event types (comma-separated)."
    )


class FeedEventSerializer(serializers.Serializer):
    """One event as stored, payload upcast to its current schema version."""

    position = serializers.IntegerField()
    stream_type = serializers.CharField()
    stream_id = serializers.UUIDField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    schema_version = serializers.IntegerField()
    data = serializers.DictField()
    metadata = serializers.DictField()
    recorded_at = serializers.DateTimeField()
    related_ids = serializers.ListField(child=serializers.UUIDField())


class ChangeFeedSerializer(serializers.Serializer):
    """A page of the change feed."""

    results = FeedEventSerializer(many=True)
    last_position = serializers.IntegerField(
        help_text="Position of the last event returned (or `after` if none): the next cursor."
    )
    next = serializers.URLField(help_text="Poll this URL for what comes next.")


class ChangeFeedView(APIView):
    """GET /api/v1/changes/?after=<position>&limit=<n>."""

    @extend_schema(
        summary="Change feed",
        description=(
            "Every event in commit order (records, merges, retractions, reverts, proposals). "
            "Keep the `last_position` you saw and poll `?after=<it>`: positions are gap-free "
            "and become visible strictly in order (one append lock, position taken under it), "
            "so a poller never misses an event committed late and never sees one twice, even "
            "while writers commit concurrently. An empty page means nothing new yet."
        ),
        parameters=[
            OpenApiParameter("after", OpenApiTypes.INT, description="Last position seen (default 0)."),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"Page size, 1..{MAX_LIMIT} (default 100)."),
            OpenApiParameter("type", OpenApiTypes.STR, description="Comma-separated event types."),
        ],
        responses={
            200: OpenApiResponse(
                ChangeFeedSerializer,
                examples=[
                    OpenApiExample(
                        "One event",
                        value={
                            "results": [
                                {
                                    "position": 42,
                                    "stream_type": "meeting",
                                    "stream_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                    "version": 3,
                                    "type": "MeetingRevised",
                                    "schema_version": 1,
                                    "data": {"summary": "Talks on tariffs."},
                                    "metadata": {"actor_name": "ann", "via": "api", "reason": "typo"},
                                    "recorded_at": "2025-11-01T12:00:00Z",
                                    "related_ids": [],
                                }
                            ],
                            "last_position": 42,
                            "next": "http://localhost:8000/api/v1/changes/?after=42&limit=100",
                        },
                    )
                ],
            ),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Bad after/limit."),
        },
    )
    def get(self, request: Request) -> Response:
        query = ChangeFeedQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after, limit = query.validated_data["after"], query.validated_data["limit"]
        types = [t for t in query.validated_data.get("type", "").split(",") if t.strip()]
        events = events_after(after, limit=limit, types=[t.strip() for t in types])
        last = events[-1].position if events else after
        params = {"after": last, "limit": limit}
        if types:
            params["type"] = ",".join(types)
        body = {
            "results": [
                {
                    "position": e.position,
                    "stream_type": e.stream_type,
                    "stream_id": e.stream_id,
                    "version": e.version,
                    "type": e.type,
                    "schema_version": e.schema_version,
                    "data": e.data,
                    "metadata": e.metadata,
                    "recorded_at": e.recorded_at,
                    "related_ids": list(e.related_ids),
                }
                for e in events
            ],
            "last_position": last,
            "next": request.build_absolute_uri(f"{request.path}?{urlencode(params)}"),
        }
        return Response(ChangeFeedSerializer(body).data)
