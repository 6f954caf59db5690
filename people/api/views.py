"""People API: officials (aliases, tenures), their meetings and counterparts, posts, organizations."""
from __future__ import annotations

from typing import Any

from django.db.models import Count, Max, Min, Prefetch, Q, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.generics import get_object_or_404
from rest_framework.request import Request
from rest_framework.response import Response

from meetings.api.filters import MeetingFilter
from meetings.api.serializers import MeetingSerializer
from meetings.api.views import meeting_queryset
from meetings.models import Participation
from people.events import ORGANIZATION, PERSON, POST
from people.models import Organization, Person, Post, Tenure
from people.selectors import person_resolve
from tracker.api.pagination import MeetingCursorPagination
from tracker.api.records import ErrorSerializer, RecordViewMixin, detail_schema

from .filters import OrganizationFilter, PersonFilter, PostFilter
from .serializers import (
    CounterpartSerializer,
    OrganizationSerializer,
    PersonSerializer,
    PostSerializer,
)


@extend_schema_view(
    list=extend_schema(summary="People", description="Officials (merged records left out), by sort name."),
    retrieve=detail_schema(PersonSerializer, description="One official with aliases, tenures and external ids."),
)
class PersonViewSet(RecordViewMixin, viewsets.ReadOnlyModelViewSet):
    """Officials, with their meetings and counterparts."""

    serializer_class = PersonSerializer
    filterset_class = PersonFilter
    filter_backends = [DjangoFilterBackend]
    stream_type = PERSON

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False) and self.action == "meetings":
            return meeting_queryset()  # lets the schema see MeetingFilter's parameters
        qs = Person.objects.prefetch_related(
            # N+1: each person's aliases and tenures (tenure -> post -> organization).
            "aliases",
            Prefetch("tenures", queryset=Tenure.objects.select_related("post__organization").order_by("start", "id")),
        ).order_by("sort_name", "name", "id")
        if self.action == "list":
            qs = qs.filter(merged_into__isnull=True)
        return qs

    @extend_schema(
        summary="Meetings of a person",
        description="Current meetings this person (or a record merged into it) took part in.",
        responses={200: MeetingSerializer(many=True), 404: ErrorSerializer},
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=MeetingSerializer,
        filterset_class=MeetingFilter,
        pagination_class=MeetingCursorPagination,
    )
    def meetings(self, request: Request, pk: Any = None) -> Response:
        # Not self.get_object(): this action's filters are MeetingFilter's, not the person's.
        survivor = _survivor(pk)
        qs = meeting_queryset().filter(
            merged_into__isnull=True,
            retracted=False,
            id__in=Participation.objects.filter(person_id=survivor).values("meeting_id"),
        )
        page = self.paginate_queryset(self.filter_queryset(qs))
        return self.get_paginated_response(MeetingSerializer(page, many=True).data)

    @extend_schema(
        summary="Counterparts of a person",
        description="Everyone this person met in current meetings: how often, first and last date.",
        responses={200: CounterpartSerializer(many=True), 404: ErrorSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def counterparts(self, request: Request, pk: Any = None) -> Response:
        survivor = _survivor(pk)
        mine = Participation.objects.filter(
            person_id=survivor, meeting__merged_into__isnull=True, meeting__retracted=False
        ).values("meeting_id")
        dated = ~Q(meeting__date="")
        rows = (
            Participation.objects.filter(meeting_id__in=mine, person__isnull=False)
            .exclude(person_id=survivor)
            .values("person_id", "person__name", "person__country")
            .annotate(
                meetings=Count("meeting_id", distinct=True),
                first_date=Min("meeting__date", filter=dated),
                last_date=Max("meeting__date", filter=dated),
            )
            .order_by("-meetings", "person__name", "person_id")
        )
        data = [
            {
                "person_id": r["person_id"],
                "name": r["person__name"],
                "country": r["person__country"],
                "meetings": r["meetings"],
                "first_date": r["first_date"] or "",
                "last_date": r["last_date"] or "",
            }
            for r in rows
        ]
        return Response(CounterpartSerializer(data, many=True).data)


def _survivor(pk: Any) -> Any:
    """Id of the person that stands for `pk` now (404 if there is none): one row read, and the
    merge redirects followed only when the person was merged (not get_object(), which would
    also read the aliases and tenures this answer does not show)."""
    person = get_object_or_404(Person.objects.only("pk", "merged_into_id"), pk=pk)
    if person.merged_into_id is None:
        return person.pk
    return person_resolve(person.merged_into_id) or person.pk


@extend_schema_view(
    list=extend_schema(summary="Organizations"),
    retrieve=detail_schema(OrganizationSerializer, description="One organization."),
)
class OrganizationViewSet(RecordViewMixin, viewsets.ReadOnlyModelViewSet):
    """Government bodies."""

    serializer_class = OrganizationSerializer
    filterset_class = OrganizationFilter
    filter_backends = [DjangoFilterBackend]
    merged_field = None
    stream_type = ORGANIZATION
    queryset = Organization.objects.order_by("name", "id")


@extend_schema_view(
    list=extend_schema(summary="Posts"),
    retrieve=detail_schema(PostSerializer, description="One post."),
)
class PostViewSet(RecordViewMixin, viewsets.ReadOnlyModelViewSet):
    """Titles at organizations."""

    serializer_class = PostSerializer
    filterset_class = PostFilter
    filter_backends = [DjangoFilterBackend]
    merged_field = None
    stream_type = POST
    # N+1: each post's organization name.
    queryset = Post.objects.select_related("organization").order_by("title", "id")
