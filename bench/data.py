"""Fast data generation: real events are cloned into the log with COPY, then projected by a
rebuild (the rebuild benchmark) or read directly (as of).

Running a million commands would take longer than the benchmarks themselves, so one template
meeting is written through the real commands (record with participants, cite an article,
revise) and its events are cloned in the log's own format: new stream ids, new participant
and citation ids, one append batch per event as if each were its own command.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import uuid

from django.db import connection

from . import domain

COLUMNS = (
    "position", "stream_type", "stream_id", "version", "type", "schema_version",
    "data", "metadata", "event_id", "recorded_at",
)
BASE_TIME = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
CHUNK = 50_000
CLONE_NS = uuid.UUID("0b4a5e0e-5a43-4d1c-9c1e-6f1f2d9e7b11")


def _escape(text: str) -> str:
    # COPY text format: backslash, tab and newline must be escaped.
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")


def next_position() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT COALESCE(MAX(position), 0) + 1 FROM eventstore_event")
        return cur.fetchone()[0]


def _template(seed: int, length: int) -> tuple[uuid.UUID, list[tuple[str, str, int, str]], list[str]]:
    """A meeting written through the commands: (id, [(stream_type, type, schema, data)], child ids)."""
    article = domain.register_article(seed)
    meeting = domain.record(seed)
    domain.cite(meeting, article, expected_version=1)
    for version in range(3, min(length, 10) + 1):
        domain.revise(meeting, title=f"Talks no. {seed}, revision {version}", expected_version=version - 1)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT stream_type, type, schema_version, data::text FROM eventstore_event"
            " WHERE stream_id = %s ORDER BY version",
            [meeting],
        )
        rows = cur.fetchall()
    children: list[str] = []
    for _stream_type, ev_type, _schema, text in rows:
        data = json.loads(text)
        if ev_type == "MeetingRecorded":
            children += [p["id"] for p in data["participants"]]
        elif ev_type == "ArticleCited":
            children.append(data["id"])
    return meeting, rows, children


def clone_meetings(*, events: int, stream_length: int, seed: int = 0) -> list[uuid.UUID]:
    """COPY `events` meeting events into the log, `stream_length` per meeting.

    Streams are interleaved in rounds (every meeting's first event, then every second...) so
    that a rebuild sees them in mixed order, as live. Returns the new meeting ids.
    """
    template_id, rows, children = _template(seed, stream_length)
    streams = max(1, -(-events // stream_length))
    ids = [uuid.uuid5(CLONE_NS, f"meeting:{seed}:{s}") for s in range(streams)]
    position = next_position()
    metadata_base = {"actor_name": "bench", "actor_kind": "system", "via": "cli", "reason": "benchmark"}
    buf = io.StringIO()
    written = 0

    def flush() -> None:
        buf.seek(0)
        with connection.cursor() as cur:
            cur.copy_expert(f"COPY eventstore_event ({', '.join(COLUMNS)}) FROM STDIN", buf)
        buf.seek(0)
        buf.truncate()

    for version in range(1, stream_length + 1):
        for s, stream_id in enumerate(ids):
            if written >= events:
                break
            if version <= len(rows):
                stream_type, ev_type, schema, text = rows[version - 1]
                text = text.replace(str(template_id), str(stream_id))
                for child in children:
                    text = text.replace(child, str(uuid.uuid5(CLONE_NS, f"{child}:{s}")))
                if ev_type == "MeetingRecorded":
                    text = text.replace(f"no. {seed} ", f"no. {s} ")
            else:
                stream_type, ev_type, schema = "meeting", "MeetingRevised", 1
                text = json.dumps({"changes": {"title": f"Talks no. {s}, revision {version}"}})
            event_id = uuid.uuid4()
            metadata = {**metadata_base, "correlation_id": str(event_id), "batch": str(event_id)}
            recorded = BASE_TIME + dt.timedelta(seconds=position)
            buf.write(
                f"{position}\t{stream_type}\t{stream_id}\t{version}\t{ev_type}\t{schema}\t"
                f"{_escape(text)}\t{_escape(json.dumps(metadata))}\t{event_id}\t"
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
