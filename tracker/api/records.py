"""What every record endpoint does besides serializing: ETag/If-Match, 301 after a merge,
`?as_of=` (the record rebuilt from the log) and `/history/` (events with field diffs)."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.http import HttpResponsePermanentRedirect
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.eventstore.api import history, load

from .errors import PreconditionRequired, StaleVersion

AS_OF_PARAMETER = OpenApiParameter(
    "as_of",
    OpenApiTypes.STR,
    description=(
        "Return the record as it stood at this point, rebuilt from the event log: an event "
        "position (integer, as in the change feed) or an ISO 8601 datetime "
        "(`2025-11-01T12:00:00Z`). The answer then has the `RecordAsOf` shape."
    ),
    examples=[],
)
IF_MATCH_PARAMETER = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    location=OpenApiParameter.HEADER,
    required=True,
    description='The ETag of the version you read, e.g. `"3"`. A stale one answers 412.',
)

MAX_MERGE_HOPS = 20
MAX_POSITION = 2**63 - 1  # positions are bigints
_ETAG_RE = re.compile(r'^(?:W/)?"?(\d+)"?$')


class ErrorSerializer(serializers.Serializer):
    """An error answer."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False)


class StaleSerializer(ErrorSerializer):
    """412: the record moved on; nothing was changed."""

    expected_version = serializers.IntegerField()
    current_version = serializers.IntegerField()


class RecordAsOfSerializer(serializers.Serializer):
    """A record as it stood at a past position or time: the folded state of its stream."""

    id = serializers.UUIDField()
    stream_type = serializers.CharField()
    version = serializers.IntegerField(help_text="Stream version at that point.")
    as_of = serializers.CharField(help_text="The `as_of` value asked for.")
    state = serializers.DictField(help_text="The state folded from the log up to that point.")


class ChangeSerializer(serializers.Serializer):
    """One field's value before and after an event."""

    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class HistoryEntrySerializer(serializers.Serializer):
    """One event in a record's history: who, when, via what, why, and what it changed."""

    position = serializers.IntegerField()
    stream_type = serializers.CharField()
    stream_id = serializers.UUIDField()
    version = serializers.IntegerField()
    type = serializers.CharField()
    recorded_at = serializers.DateTimeField()
    actor = serializers.CharField(help_text="Actor name (user name, robot or system).")
    actor_kind = serializers.CharField(help_text="user, robot or system.")
    via = serializers.CharField(help_text="admin, api, suggestion, cli or system.")
    reason = serializers.CharField(allow_blank=True)
    proposal_id = serializers.CharField(allow_null=True)
    related = serializers.BooleanField(
        help_text="True for an event of another stream that links here (e.g. a merge)."
    )
    changes = serializers.DictField(child=ChangeSerializer(), help_text="field -> before/after.")


def history_entries(stream_id: Any) -> list[dict[str, Any]]:
    """Serialize `tracker.eventstore.api.history` for the API."""
    out = []
    for entry in history(stream_id):
        ev, meta = entry.event, entry.event.metadata
        out.append(
            {
                "position": ev.position,
                "stream_type": ev.stream_type,
                "stream_id": ev.stream_id,
                "version": ev.version,
                "type": ev.type,
                "recorded_at": ev.recorded_at,
                "actor": meta.get("actor_name", ""),
                "actor_kind": meta.get("actor_kind", ""),
                "via": meta.get("via", ""),
                "reason": meta.get("reason", ""),
                "proposal_id": meta.get("proposal_id"),
                "related": entry.related,
                "changes": {k: {"before": b, "after": a} for k, (b, a) in entry.changes.items()},
            }
        )
    return out


def parse_as_of(raw: str) -> tuple[int | None, dt.datetime | None]:
    """`as_of` as (position, None) or (None, aware datetime); ValidationError otherwise."""
    raw = raw.strip()
    if raw.isdigit() and raw.isascii():
        if int(raw) > MAX_POSITION:
            raise ValidationError({"as_of": [f"A position is at most {MAX_POSITION}."]})
        return int(raw), None
    # A "+" in an unencoded query string arrives as a space.
    try:
        value = parse_datetime(raw.replace(" ", "+")) if "T" in raw else None
    except ValueError:  # well-formed but not a real time, e.g. month 13
        value = None
    if value is None:
        raise ValidationError(
            {"as_of": ["Give an event position (integer) or an ISO 8601 datetime."]}
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value, dt.UTC)
    return None, value


def expected_version_from(request: Request, *, current: int) -> int:
    """The version named by `If-Match`; 428 when missing, 412 when stale."""
    header = request.headers.get("If-Match", "").strip()
    if not header:
        raise PreconditionRequired()
    match = _ETAG_RE.match(header)
    if not match:
        raise ValidationError({"If-Match": ['Expected an ETag such as "3".']})
    expected = int(match.group(1))
    if expected != current:
        raise StaleVersion(expected=expected, current=current)
    return expected


def with_etag(response: Response, version: int) -> Response:
    response["ETag"] = f'"{version}"'
    return response


class RecordViewMixin:
    """Detail behaviour of every record: 301 for merged ids, ETag, `?as_of=`, `/history/`.

    The viewset sets `detail_route_name` (the router's `<basename>-detail`).
    """

    merged_field: str | None = "merged_into_id"

    def survivor_of(self, instance: Any) -> Any:
        """Follow merge links to the record that now stands for `instance`."""
        if not self.merged_field:
            return instance
        model = type(instance)
        current = instance
        for _ in range(MAX_MERGE_HOPS):
            target = getattr(current, self.merged_field)
            if target is None:
                return current
            current = model.objects.only("pk", self.merged_field).get(pk=target)
        return current

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Any:
        instance = self.get_object()  # type: ignore[attr-defined]
        raw = request.query_params.get("as_of")
        if raw:
            return self.as_of_response(instance.pk, raw)
        survivor = self.survivor_of(instance)
        if survivor.pk != instance.pk:
            url = reverse(f"api:{self.basename}-detail", kwargs={"pk": survivor.pk})  # type: ignore[attr-defined]
            query = request.META.get("QUERY_STRING")
            return HttpResponsePermanentRedirect(
                request.build_absolute_uri(url + (f"?{query}" if query else ""))
            )
        etag = f'"{instance.version}"'
        if etag in [t.strip().removeprefix("W/") for t in request.headers.get("If-None-Match", "").split(",")]:
            # Conditional GET: the consumer's copy is current, send no body.
            return with_etag(Response(status=304), instance.version)
        data = self.get_serializer(instance).data  # type: ignore[attr-defined]
        return with_etag(Response(data), instance.version)

    def as_of_response(self, pk: Any, raw: str) -> Response:
        position, when = parse_as_of(raw)
        state, version = load(pk, as_of_position=position, as_of_time=when)
        stream_type = getattr(self, "stream_type", "")
        body = {"id": pk, "stream_type": stream_type, "version": version, "as_of": raw, "state": state}
        return with_etag(Response(RecordAsOfSerializer(body).data), version)

    @extend_schema(
        summary="Events of this record",
        description=(
            "Every event of the record's stream in log order, with who, when, via what, why and "
            "a field-level diff, plus events of other streams that link here (merges, citations)."
        ),
        responses={200: HistoryEntrySerializer(many=True), 404: ErrorSerializer},
        parameters=[],
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def history(self, request: Request, pk: Any = None) -> Response:
        instance = self.get_object()  # type: ignore[attr-defined]
        data = HistoryEntrySerializer(history_entries(instance.pk), many=True).data
        return with_etag(Response(data), instance.version)


def detail_schema(serializer: Any, *, description: str = "") -> Any:
    """extend_schema for a record detail: the record, or its past state with `as_of`."""
    from drf_spectacular.utils import PolymorphicProxySerializer

    return extend_schema(
        description=description
        + " Answers `ETag: \"<version>\"`; a merged id answers 301 to the surviving record.",
        parameters=[AS_OF_PARAMETER],
        responses={
            200: PolymorphicProxySerializer(
                component_name=f"{serializer.__name__.removesuffix('Serializer')}OrAsOf",
                serializers=[serializer, RecordAsOfSerializer],
                resource_type_field_name=None,
            ),
            301: OpenApiResponse(description="Merged: Location names the surviving record."),
            304: OpenApiResponse(description="Not modified: If-None-Match named the current ETag."),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Bad `as_of`."),
            404: ErrorSerializer,
        },
    )


WRITE_RESPONSES = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input; field errors by name."),
    403: ErrorSerializer,
    412: OpenApiResponse(StaleSerializer, description="Stale If-Match: nothing changed."),
    428: OpenApiResponse(ErrorSerializer, description="If-Match missing."),
}
