"""Turning command and store errors into HTTP answers (DRF's EXCEPTION_HANDLER)."""
from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from tracker.eventstore.api import CommandError, ConcurrencyConflict, StreamNotFound


class PreconditionRequired(APIException):
    """A write came without `If-Match`."""

    status_code = 428
    default_detail = 'Send If-Match: "<version>" with the ETag of the record you read.'
    default_code = "precondition_required"


class StaleVersion(Exception):
    """`If-Match` named a version the record has moved past."""

    def __init__(self, *, expected: int, current: int) -> None:
        self.expected = expected
        self.current = current
        super().__init__(f"the record is at version {current}, not {expected}")


def _stale(expected: int, current: int) -> Response:
    response = Response(
        {
            "detail": f"The record changed since you read it: it is at version {current}, "
            f"your If-Match named {expected}. Nothing was changed; reload and retry.",
            "code": "stale_version",
            "expected_version": expected,
            "current_version": current,
        },
        status=status.HTTP_412_PRECONDITION_FAILED,
    )
    response["ETag"] = f'"{current}"'
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler plus: stale version -> 412, CommandError -> 400 with field errors."""
    if isinstance(exc, StaleVersion):
        return _stale(exc.expected, exc.current)
    if isinstance(exc, ConcurrencyConflict):
        return _stale(exc.expected, exc.current)
    if isinstance(exc, CommandError):
        body: dict[str, Any] = {"detail": str(exc), "code": "invalid"}
        body.update({field: list(msgs) for field, msgs in exc.errors.items()})
        return Response(body, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, StreamNotFound):
        return Response({"detail": str(exc), "code": "not_found"}, status=status.HTTP_404_NOT_FOUND)
    return drf_exception_handler(exc, context)
