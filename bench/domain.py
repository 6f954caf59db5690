"""A stand-in meeting stream for the benchmarks while the real meeting commands do not exist.

It goes through the same store path as a real command (validate, load, append under the
lock, fold, inline projection into the `meetings.Meeting` read model, commit); it exists so
that the event-store figures can be measured before `meetings/commands.py` lands. It is
registered only for the duration of a benchmark run (`installed()`), never by the app.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from collections.abc import Iterator

from meetings.models import Meeting
from tracker.eventstore import aggregate as aggregate_registry
from tracker.eventstore import projection as projection_registry
from tracker.eventstore.api import (
    Aggregate,
    CommandError,
    ConcurrencyConflict,
    Context,
    DomainEvent,
    Projector,
    StoredEvent,
    append,
    event,
    load,
)

STREAM_TYPE = "bench_meeting"


@event("BenchMeetingRecorded")
class BenchMeetingRecorded(DomainEvent):
    title: str
    date: str
    location_country: str
    participants: list
    citations: list


@event("BenchMeetingRetitled")
class BenchMeetingRetitled(DomainEvent):
    title: str


def _recorded(state: dict, data: dict, stored: StoredEvent) -> dict:
    state.update(
        title=data["title"],
        date=data["date"],
        location_country=data["location_country"],
        participants=data["participants"],
        citations=data["citations"],
        created_at=stored.recorded_at.isoformat(),
    )
    return state


def _retitled(state: dict, data: dict, _stored: StoredEvent) -> dict:
    state["title"] = data["title"]
    return state


class BenchMeeting(Aggregate):
    stream_type = STREAM_TYPE
    evolvers = {"BenchMeetingRecorded": _recorded, "BenchMeetingRetitled": _retitled}
    revertible_fields = ("title",)


def _sync(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    last = events[-1]
    Meeting(
        id=stream_id,
        title=state["title"][:300],
        date=state["date"],
        date_precision="day",
        date_first=dt.date.fromisoformat(state["date"]),
        date_last=dt.date.fromisoformat(state["date"]),
        location_country=state["location_country"],
        version=last.version,
        created_at=dt.datetime.fromisoformat(state["created_at"]),
        updated_at=last.recorded_at,
    ).save()


PROJECTOR = Projector(name="bench_meeting", syncs={STREAM_TYPE: _sync}, models=[Meeting])


@contextlib.contextmanager
def installed() -> Iterator[None]:
    """Register the stand-in aggregate and projector, and unregister them afterwards."""
    aggregate_registry.AGGREGATES[STREAM_TYPE] = BenchMeeting
    projection_registry.PROJECTORS[PROJECTOR.name] = PROJECTOR
    try:
        yield
    finally:
        aggregate_registry.AGGREGATES.pop(STREAM_TYPE, None)
        projection_registry.PROJECTORS.pop(PROJECTOR.name, None)


def meeting_data(i: int) -> dict:
    """A deterministic meeting payload of realistic size (3 participants, 2 citations)."""
    return {
        "title": f"Bilateral talks no. {i} on trade and security",
        "date": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "location_country": ("US", "KR", "JP", "CN", "DE")[i % 5],
        "participants": [
            {"id": str(uuid.UUID(int=(i << 8) + k)), "name": f"Official {i}-{k}", "side": s}
            for k, s in enumerate(("US", "KR", "JP"))
        ],
        "citations": [
            {"id": str(uuid.UUID(int=(i << 8) + 16 + k)), "url": f"https://news.example/{i}/{k}",
             "quote": "The two ministers met to discuss the alliance and tariffs."}
            for k in range(2)
        ],
    }


def bench_meeting_record(*, meeting_id: uuid.UUID, data: dict, context: Context) -> list[StoredEvent]:
    """Record a stand-in meeting (a new stream)."""
    if not data.get("title"):
        raise CommandError("a meeting needs a title", {"title": ["This field is required."]})
    return append(
        stream_type=STREAM_TYPE,
        stream_id=meeting_id,
        expected_version=0,
        events=[BenchMeetingRecorded(**data)],
        context=context,
    )


def bench_meeting_retitle(
    *, meeting_id: uuid.UUID, title: str, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Change a stand-in meeting's title: validate, load, check the version, append one event."""
    title = title.strip()
    if not title:
        raise CommandError("a title cannot be blank", {"title": ["This field is required."]})
    state, version = load(meeting_id, stream_type=STREAM_TYPE)
    if version != expected_version:
        raise ConcurrencyConflict(stream_id=meeting_id, expected=expected_version, current=version)
    if state["title"] == title:
        return []
    return append(
        stream_type=STREAM_TYPE,
        stream_id=meeting_id,
        expected_version=expected_version,
        events=[BenchMeetingRetitled(title=title)],
        context=context,
    )
