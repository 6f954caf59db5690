"""Streamed exports: CSV of a meeting list and JSON Lines of the whole record.

Both iterate the queryset with `.iterator(chunk_size=...)` (prefetches run per chunk) and
write through StreamingHttpResponse, so memory stays flat however many meetings there are.
"""
from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

CHUNK_SIZE = 500


class CSVRenderer(BaseRenderer):
    """Makes `?format=csv` / `Accept: text/csv` negotiable; the view streams the body itself."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        # Reached only for error answers (the list itself is streamed): render them as one
        # "detail" cell so a CSV client still sees why.
        detail = data.get("detail", data) if isinstance(data, dict) else data
        return f"detail\n{json.dumps(detail, cls=DjangoJSONEncoder)}\n".encode()


class _Echo:
    """A file-like object whose write returns the line, for csv.writer (Django's recipe)."""

    def write(self, value: str) -> str:
        return value


def stream_csv(
    rows: Iterable[Any], header: list[str], to_row: Callable[[Any], list[Any]], *, filename: str
) -> StreamingHttpResponse:
    """Stream `rows` as CSV with one `to_row(row)` line each."""
    writer = csv.writer(_Echo())

    def lines() -> Iterator[str]:
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow(to_row(row))

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stream_jsonl(rows: Iterable[Any], to_dict: Callable[[Any], dict], *, filename: str) -> StreamingHttpResponse:
    """Stream `rows` as JSON Lines, one `to_dict(row)` object per line."""

    def lines() -> Iterator[str]:
        for row in rows:
            yield json.dumps(to_dict(row), cls=DjangoJSONEncoder, ensure_ascii=False) + "\n"

    response = StreamingHttpResponse(lines(), content_type="application/x-ndjson; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
