"""POST /api/v1/commands/: curators apply any proposable command directly (same registry and
adapters as accepted proposals, so the API, the admin and the queue behave identically)."""
from __future__ import annotations

import uuid
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from tracker.eventstore.api import CommandError, Context, current_version
from tracker.moderation.registry import command_spec, registered_commands

from .permissions import IsCurator
from .records import WRITE_RESPONSES, expected_version_from, with_etag


class CommandInputSerializer(serializers.Serializer):
    """A command to run now."""

    command = serializers.CharField(help_text="A registered command, e.g. person_alias_add.")
    args = serializers.DictField(help_text="Its keyword arguments (ids as strings).")
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class CommandResultSerializer(serializers.Serializer):
    """What a command changed."""

    command = serializers.CharField()
    target_stream_id = serializers.UUIDField(allow_null=True)
    version = serializers.IntegerField(allow_null=True, help_text="The target's version now (its new ETag).")


class CommandView(APIView):
    """Apply one command directly (curators)."""

    permission_classes = [IsCurator]

    @extend_schema(
        summary="Apply a command directly (curators)",
        description=(
            "Runs one registered command (the same ones proposals carry: "
            + ", ".join(f"`{c}`" for c in registered_commands())
            + "). A command on an existing record needs `If-Match` with the target's ETag; "
            "merges carry `loser_expected_version`/`winner_expected_version` in their args."
        ),
        request=CommandInputSerializer,
        parameters=[
            OpenApiParameter(
                "If-Match", OpenApiTypes.STR, location=OpenApiParameter.HEADER, required=False,
                description='ETag of the target record, e.g. `"3"` (not for commands that create one).',
            )
        ],
        responses={200: CommandResultSerializer, 201: CommandResultSerializer, **WRITE_RESPONSES},
        examples=[
            OpenApiExample(
                "Add an alias",
                request_only=True,
                value={"command": "person_alias_add", "args": {"person_id": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
                                                                "name": "Jo Hyeon"}, "reason": "Yonhap spelling"},
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = CommandInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        name, args = data.validated_data["command"], dict(data.validated_data["args"])
        try:
            spec = command_spec(name)
        except LookupError:
            raise ValidationError({"command": [f"Unknown command; one of {', '.join(registered_commands())}."]}) from None
        raw_target = spec.target_of_raw(args)
        try:
            target = uuid.UUID(str(raw_target)) if raw_target else None
        except ValueError:
            raise ValidationError({str(spec.target): ["Not a valid id."]}) from None
        if spec.creates:
            expected = 0
            if target is None and isinstance(spec.target, str):
                target = uuid.uuid4()
                args[spec.target] = str(target)
        elif spec.version_args:
            expected = 0  # merges name each stream's version in their args
        else:
            if target is None:
                raise ValidationError({str(spec.target or "args"): ["This field is required."]})
            expected = expected_version_from(request, current=current_version(target))
        context = Context.for_user(request.user, via="api", reason=data.validated_data["reason"])
        try:
            result = spec.fn(args, context, expected)
        except TypeError as exc:
            # A wrong argument name reaches the command's signature: bad input, not a crash.
            if "argument" not in str(exc):
                raise
            raise CommandError("bad arguments", {"args": [str(exc)]}) from None
        if target is None and spec.creates:
            target = getattr(result, "pk", None)  # a record whose id the command derived (an article)
        version = current_version(target) if target else None
        body: dict[str, Any] = {"command": name, "target_stream_id": target, "version": version}
        response = Response(CommandResultSerializer(body).data, status=201 if spec.creates else 200)
        return with_etag(response, version) if version is not None else response
