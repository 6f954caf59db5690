"""The meeting and article folds, on hand-made events (no database)."""
import dataclasses
import datetime as dt
import uuid

from meetings import events as ev
from meetings.aggregates import ArticleAggregate, MeetingAggregate
from tracker.eventstore.api import StoredEvent
from tracker.eventstore.events import EVENT_TYPES

MEETING_ID = uuid.UUID(int=1)
LOSER_ID = uuid.UUID(int=2)
ARTICLE_ID = uuid.UUID(int=3)


def _stored(events, stream_id=MEETING_ID, stream_type=ev.MEETING) -> list[StoredEvent]:
    return [
        StoredEvent(
            position=i,
            stream_type=stream_type,
            stream_id=stream_id,
            version=i,
            type=e.event_type,
            schema_version=e.schema_version,
            data=e.to_data(),
            metadata={},
            event_id=uuid.UUID(int=100 + i),
            recorded_at=dt.datetime(2025, 7, 31, tzinfo=dt.UTC),
        )
        for i, e in enumerate(events, start=1)
    ]


def _p(n: int, name: str, person: str | None = None) -> dict:
    return {"id": f"p{n}", "name": name, "person_id": person, "side": "", "is_host": False}


def test_every_meetings_event_type_has_an_evolver():
    declared = {
        cls.event_type
        for cls in vars(ev).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.event_type in EVENT_TYPES
    }
    folded = set(MeetingAggregate.evolvers) | set(ArticleAggregate.evolvers)
    assert declared == folded


def test_a_meeting_folds_from_record_through_merge_and_unmerge():
    # given: a winner with Cho and Rubio, which absorbs an aide and a citation from a loser
    events = [
        ev.MeetingRecorded(title="Talks", date="2025-07", participants=[_p(1, "Cho Hyun", "a"), _p(2, "Marco Rubio", "b")]),
        ev.MeetingRevised(changes={"date": "2025-07-31"}),
        ev.ParticipantAdded(id="p3", name="Kim Min-jun"),
        ev.ParticipantRevised(id="p3", changes={"side": "KR", "is_host": True}),
        ev.MeetingStatusChanged(status="held", source="readout"),
        ev.MeetingAbsorbed(
            from_id=str(LOSER_ID),
            participants=[_p(4, "Allison Hooker")],
            citations=[{"id": "c1", "article_id": str(ARTICLE_ID), "evidence": []}],
        ),
    ]
    # when
    state = MeetingAggregate.fold(_stored(events))
    # then
    assert state["date"] == "2025-07-31" and state["status_source"] == "readout"
    assert [p["name"] for p in state["participants"]] == ["Cho Hyun", "Marco Rubio", "Kim Min-jun", "Allison Hooker"]
    assert state["participants"][2]["side"] == "KR" and state["participants"][2]["is_host"]
    assert state["participants"][3]["absorbed_from"] == str(LOSER_ID)
    assert state["citations"][0]["absorbed_from"] == str(LOSER_ID)
    # when: the merge is undone on the winner
    undone = MeetingAggregate.fold(
        _stored([ev.MeetingUnmerged(from_id=str(LOSER_ID), role="winner")]), state
    )
    assert [p["id"] for p in undone["participants"]] == ["p1", "p2", "p3"]
    assert undone["citations"] == []


def test_the_loser_side_of_a_merge_only_redirects():
    events = [
        ev.MeetingRecorded(participants=[_p(1, "A"), _p(2, "B")]),
        ev.MeetingMergedInto(into=str(MEETING_ID)),
    ]
    state = MeetingAggregate.fold(_stored(events, LOSER_ID))
    assert state["merged_into"] == str(MEETING_ID) and len(state["participants"]) == 2
    state = MeetingAggregate.fold(_stored([ev.MeetingUnmerged(from_id=str(MEETING_ID), role="loser")]), state)
    assert state["merged_into"] is None


def test_an_article_folds_metadata_and_duplicate_mark():
    events = [
        ev.ArticleRegistered(url="https://x.example/a", title="T", content_hash="ab" * 32),
        ev.ArticleRevised(changes={"title": "Better title"}),
        ev.ArticleMarkedDuplicate(of=str(MEETING_ID)),
    ]
    state = ArticleAggregate.fold(_stored(events, ARTICLE_ID, ev.ARTICLE))
    assert (state["title"], state["duplicate_of"], state["content_hash"]) == ("Better title", str(MEETING_ID), "ab" * 32)
    assert "content_hash" not in ArticleAggregate.revertible_fields
