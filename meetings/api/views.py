"""Meetings API: filtered meeting lists, details with history/as_of, articles, exports."""
from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import F, Prefetch, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.functional import cached_property
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import viewsets
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from meetings.commands import meeting_record, meeting_revise
from meetings.events import ARTICLE, MEETING
from meetings.models import Citation, Meeting, Participation, SourceArticle
from tracker.api.export import CHUNK_SIZE, CSVRenderer, stream_csv, stream_jsonl
from tracker.api.pagination import MeetingCursorPagination
from tracker.api.permissions import ReadAnyoneWriteCurator, is_curator
from tracker.api.records import (
    IF_MATCH_PARAMETER,
    WRITE_RESPONSES,
    ErrorSerializer,
    RecordViewMixin,
    detail_schema,
    expected_version_from,
    with_etag,
)
from tracker.eventstore.api import Context

from .filters import ArticleFilter, MeetingFilter
from .serializers import (
    ArticleSerializer,
    ArticleWithBodySerializer,
    MeetingCreateSerializer,
    MeetingReviseSerializer,
    MeetingSerializer,
)

UNDATED = dt.date(1, 1, 1)
CSV_HEADER = [
    "id", "date", "date_precision", "title", "participants", "persons", "posts", "location",
    "location_country", "mode", "status", "kind", "topics", "occasion", "sources", "version",
]


def meeting_queryset() -> QuerySet:
    """Meetings with everything an item shows fetched in a fixed number of queries."""
    return (
        Meeting.objects.annotate(sort_date=Coalesce(F("date_first"), Value(UNDATED)))
        .prefetch_related(
            # N+1: each participant's person and post (tenure -> post -> organization).
            Prefetch(
                "participants",
                queryset=Participation.objects.select_related(
                    "person", "tenure__post__organization"
                ).order_by("-is_host", "name", "id"),
            ),
            # N+1: each citation's article.
            Prefetch("citations", queryset=Citation.objects.select_related("article").order_by("id")),
        )
    )


def meeting_csv_row(m: Meeting) -> list[Any]:
    participants = list(m.participants.all())
    posts = [
        f"{p.tenure.post.title}, {p.tenure.post.organization.name}" if p.tenure else "" for p in participants
    ]
    return [
        m.id, m.date, m.date_precision, m.title,
        "; ".join(p.name for p in participants),
        "; ".join(str(p.person_id or "") for p in participants),
        "; ".join(posts),
        m.location_name, m.location_country, m.mode, m.status, m.kind,
        "; ".join(m.topics or []), m.occasion,
        " ".join(c.article.canonical_url or c.article.url for c in m.citations.all()),
        m.version,
    ]


@extend_schema_view(
    list=extend_schema(
        summary="Meetings",
        description=(
            "Current meetings (merged and retracted ones left out), newest first, cursor-paginated. "
            "`?format=csv` streams the whole filtered list as CSV (one row per meeting, "
            "participants joined with `; `)."
        ),
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"], description="csv: stream CSV."),
        ],
    ),
    retrieve=detail_schema(
        MeetingSerializer,
        description="One meeting. A retracted meeting still answers here, with `retracted: true`.",
    ),
)
class MeetingViewSet(RecordViewMixin, viewsets.ReadOnlyModelViewSet):
    """Meetings, with filters, history and as_of."""

    serializer_class = MeetingSerializer
    filterset_class = MeetingFilter
    filter_backends = [DjangoFilterBackend]
    pagination_class = MeetingCursorPagination
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, CSVRenderer]
    stream_type = MEETING

    def get_permissions(self) -> list:
        return [ReadAnyoneWriteCurator()]

    def get_queryset(self) -> QuerySet:
        qs = meeting_queryset()
        if self.action == "list":
            qs = qs.filter(merged_into__isnull=True, retracted=False)
        return qs

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        if getattr(request.accepted_renderer, "format", None) == "csv":
            qs = self.filter_queryset(self.get_queryset()).order_by(*MeetingCursorPagination().get_ordering(request, None, self))
            return stream_csv(qs.iterator(chunk_size=CHUNK_SIZE), CSV_HEADER, meeting_csv_row, filename="meetings.csv")
        return super().list(request, *args, **kwargs)


    def _fields(self, serializer_class: type, request: Request) -> tuple[dict[str, Any], Context]:
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        values = {k: (list(v) if k == "participants" else v) for k, v in data.validated_data.items()}
        reason = values.pop("reason", "")
        context = Context.for_user(request.user, via="api", reason=reason)
        return values, context

    def _written(self, meeting: Meeting, *, status_code: int) -> Response:
        fresh = meeting_queryset().get(pk=meeting.pk)
        response = Response(MeetingSerializer(fresh).data, status=status_code)
        response["Location"] = self.request.build_absolute_uri(
            reverse("api:meeting-detail", kwargs={"pk": fresh.pk})
        )
        return with_etag(response, fresh.version)

    @extend_schema(
        summary="Record a meeting (curators)",
        description="Calls `meeting_record`. Contributors propose instead: POST /api/v1/proposals/.",
        request=MeetingCreateSerializer,
        responses={201: MeetingSerializer, **WRITE_RESPONSES},
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        values, context = self._fields(MeetingCreateSerializer, request)
        participants = [
            {k: (str(v) if k == "person_id" and v else v) for k, v in p.items()}
            for p in values.pop("participants")
        ]
        meeting = meeting_record(participants=participants, context=context, **values)
        return self._written(meeting, status_code=201)

    @extend_schema(
        summary="Revise a meeting (curators)",
        description=(
            "Calls `meeting_revise` with the fields sent. Needs `If-Match` with the ETag read; "
            "a stale one answers 412 with the current version and changes nothing."
        ),
        request=MeetingReviseSerializer,
        parameters=[IF_MATCH_PARAMETER],
        responses={200: MeetingSerializer, 404: ErrorSerializer, **WRITE_RESPONSES},
    )
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        meeting = self.get_object()
        expected = expected_version_from(request, current=meeting.version)
        values, context = self._fields(MeetingReviseSerializer, request)
        revised = meeting_revise(
            meeting_id=meeting.pk, changes=values, context=context, expected_version=expected
        )
        return self._written(revised, status_code=200)


class MeetingExportView(APIView):
    """GET /api/v1/export/meetings.jsonl: the whole current record, one meeting per line."""

    @extend_schema(
        summary="Export all meetings (JSON Lines)",
        description="Every current meeting in the list item shape, one JSON object per line, streamed.",
        responses={(200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR)},
    )
    def get(self, request: Request) -> Any:
        qs = meeting_queryset().filter(merged_into__isnull=True, retracted=False).order_by("sort_date", "id")
        # One serializer for every row: building one per meeting deep-copies its fields each time.
        serializer = MeetingSerializer()
        return stream_jsonl(
            qs.iterator(chunk_size=CHUNK_SIZE), serializer.to_representation, filename="meetings.jsonl"
        )


@extend_schema_view(
    list=extend_schema(summary="Source articles", description="Article metadata and the meetings each supports."),
    retrieve=detail_schema(
        ArticleWithBodySerializer, description="One article; `body` only for curators."
    ),
)
class ArticleViewSet(RecordViewMixin, viewsets.ReadOnlyModelViewSet):
    """Source articles (metadata; the body text only for curators)."""

    filterset_class = ArticleFilter
    filter_backends = [DjangoFilterBackend]
    merged_field = None
    stream_type = ARTICLE

    @cached_property
    def _curator(self) -> bool:
        return is_curator(self.request.user)

    def get_serializer_class(self) -> type:
        if self.action == "retrieve" and self._curator:
            return ArticleWithBodySerializer
        return ArticleSerializer

    def get_queryset(self) -> QuerySet:
        # N+1: the meetings each article supports (citation -> meeting).
        return SourceArticle.objects.prefetch_related(
            Prefetch("citations", queryset=Citation.objects.select_related("meeting").order_by("id"))
        ).order_by("-published_at", "id")
