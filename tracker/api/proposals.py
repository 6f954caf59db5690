"""Proposals over the API: contributors propose commands; curators read the unreviewed queue."""
from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, viewsets
from rest_framework.request import Request
from rest_framework.response import Response

from tracker.eventstore.api import Context
from tracker.moderation.commands import proposal_submit
from tracker.moderation.models import Proposal

from .permissions import IsContributor, is_curator
from .records import ErrorSerializer


class ProposedCommandSerializer(serializers.Serializer):
    """One command a proposal would run when accepted."""

    command = serializers.CharField(help_text="e.g. meeting_record, meeting_revise, person_alias_add.")
    args = serializers.DictField(help_text="The command's keyword arguments (no context/expected_version).")
    target_stream_id = serializers.UUIDField(required=False, allow_null=True)
    expected_version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text="The target version you read (its ETag); missing = current. A target that "
        "moves on before review makes the proposal stale, never applied blindly.",
    )


class EvidenceSentenceSerializer(serializers.Serializer):
    text = serializers.CharField()
    start = serializers.IntegerField(required=False, allow_null=True)
    end = serializers.IntegerField(required=False, allow_null=True)


class ProposalEvidenceSerializer(serializers.Serializer):
    article_id = serializers.UUIDField(required=False, allow_null=True)
    sentences = EvidenceSentenceSerializer(many=True, required=False)


class ProposalCreateSerializer(serializers.Serializer):
    """Input of POST /api/v1/proposals/."""

    kind = serializers.ChoiceField(choices=Proposal.Kind.choices)
    commands = ProposedCommandSerializer(many=True)
    evidence = ProposalEvidenceSerializer(required=False)
    confidence = serializers.FloatField(required=False, default=1.0, min_value=0.0, max_value=1.0)
    summary = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ProposalSubmittedSerializer(serializers.Serializer):
    """Output of POST /api/v1/proposals/."""

    id = serializers.UUIDField()
    created = serializers.BooleanField()
    version = serializers.IntegerField()
    status = serializers.CharField()


class ProposalSerializer(serializers.ModelSerializer):
    """A proposal in the queue."""

    class Meta:
        model = Proposal
        fields = [
            "id", "kind", "status", "author_id", "author_name", "author_kind", "confidence",
            "article_id", "summary", "commands", "problems", "reviewer_name", "reason",
            "superseded_by", "created_at", "decided_at", "updated_at", "version",
        ]


@extend_schema_view(
    list=extend_schema(
        summary="Proposals: the whole queue (curators), or your own (contributors)",
        description="Newest first. A contributor sees only the proposals they raised, with their status "
        "and the curator's decision.",
    ),
    retrieve=extend_schema(
        summary="One proposal (curators; contributors: their own)",
        responses={200: ProposalSerializer, 403: ErrorSerializer, 404: ErrorSerializer},
    ),
)
class ProposalViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, viewsets.GenericViewSet
):
    """Contributors POST proposals and follow their own; curators read the whole queue."""

    serializer_class = ProposalSerializer
    permission_classes = [IsContributor]
    filterset_fields = ["status", "kind"]

    def get_queryset(self) -> QuerySet:
        proposals = Proposal.objects.order_by("-created_at", "id")
        if is_curator(self.request.user):
            return proposals
        # someone else's proposal is not found (404), as if it did not exist
        return proposals.filter(author_id=self.request.user.pk)

    @extend_schema(
        summary="Propose changes (contributors)",
        description=(
            "Raise a proposal: the commands a curator will review and apply in one transaction. "
            "Nothing touches the record until then."
        ),
        request=ProposalCreateSerializer,
        responses={
            201: ProposalSubmittedSerializer,
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid input; field errors by name."),
            401: ErrorSerializer,
            403: ErrorSerializer,
        },
        examples=[
            OpenApiExample(
                "Add an alias",
                request_only=True,
                value={
                    "kind": "new_alias",
                    "commands": [
                        {
                            "command": "person_alias_add",
                            "args": {"person_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6", "name": "Cho Hyeon"},
                            "expected_version": 4,
                        }
                    ],
                    "summary": "Romanisation seen in Yonhap",
                },
            )
        ],
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = ProposalCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        commands = [
            {
                "command": c["command"],
                "args": dict(c["args"]),
                **({"target_stream_id": str(c["target_stream_id"])} if c.get("target_stream_id") else {}),
                **({"expected_version": c["expected_version"]} if c.get("expected_version") is not None else {}),
            }
            for c in values["commands"]
        ]
        evidence = None
        if values.get("evidence"):
            ev = values["evidence"]
            evidence = {
                "article_id": str(ev["article_id"]) if ev.get("article_id") else None,
                "sentences": [dict(s) for s in ev.get("sentences", [])],
            }
        submitted = proposal_submit(
            user=request.user,
            context=Context.for_user(request.user, via="api", reason=values["reason"]),
            kind=values["kind"],
            commands=commands,
            evidence=evidence,
            confidence=values["confidence"],
            summary=values["summary"],
        )
        body = {
            "id": submitted.proposal_id,
            "created": submitted.created,
            "version": submitted.version,
            "status": submitted.status,
        }
        response = Response(ProposalSubmittedSerializer(body).data, status=201)
        response["ETag"] = f'"{submitted.version}"'
        return response
