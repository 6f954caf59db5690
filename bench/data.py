"""Fast data generation: events are written to the log with COPY, then projected by a rebuild.

Running a million commands would take longer than the benchmarks themselves, so large logs
are produced directly in the log's own format (one append batch per event, like commands).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import uuid

from django.db import connection

from .domain import STREAM_TYPE, meeting_data

COLUMNS = (
    "position", "stream_type", "stream_id", "version", "type", "schema_version",
    "data", "metadata", "event_id", "recorded_at",
)
BASE_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHUNK = 50_000


def _escape(text: str) -> str:
    # COPY text format: backslash, tab and newline must be escaped.
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def next_position() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM eventstore_event")
        return cur.fetchone()[0]


def copy_meeting_streams(*, events: int, stream_length: int, seed: int = 0) -> list[uuid.UUID]:
    """COPY `events` stand-in meeting events into the log, `stream_length` per stream.

    Each stream starts with BenchMeetingRecorded and continues with BenchMeetingRetitled;
    streams are interleaved in rounds so that a rebuild sees them in mixed order, as live.
    Returns the stream ids.
    """
    streams = max(1, -(-events // stream_length))
    ids = [uuid.UUID(int=(seed << 64) + s + 1) for s in range(streams)]
    position = next_position()
    metadata_base = {"actor_name": "bench", "actor_kind": "system", "via": "cli", "reason": ""}
    buf = io.StringIO()
    written = 0

    def flush() -> None:
        buf.seek(0)
        with connection.cursor() as cur:
            cur.copy_expert(
                f"COPY eventstore_event ({', '.join(COLUMNS)}) FROM STDIN", buf
            )
        buf.seek(0)
        buf.truncate()

    for version in range(1, stream_length + 1):
        for s, stream_id in enumerate(ids):
            if written >= events:
                break
            if version == 1:
                ev_type, data = "BenchMeetingRecorded", meeting_data(s)
            else:
                ev_type, data = "BenchMeetingRetitled", {"title": f"Talks no. {s}, revision {version}"}
            event_id = uuid.uuid4()
            metadata = {**metadata_base, "correlation_id": str(event_id), "batch": str(event_id)}
            recorded = BASE_TIME + dt.timedelta(seconds=position)
            buf.write(
                f"{position}\t{STREAM_TYPE}\t{stream_id}\t{version}\t{ev_type}\t1\t"
                f"{_escape(json.dumps(data))}\t{_escape(json.dumps(metadata))}\t{event_id}\t"
                f"{recorded.isoformat()}\n"
            )
            position += 1
            written += 1
            if written % CHUNK == 0:
                flush()
    flush()
    with connection.cursor() as cur:
        cur.execute("ANALYZE eventstore_event")
    return ids
