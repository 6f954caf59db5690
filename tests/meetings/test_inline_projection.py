"""A revision of a meeting's own fields is projected in its append's statement (the lean path):
the same guarantees as the append-then-project path, and the same rows as a replay."""
import re
import threading
import uuid

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from meetings import commands, projections
from meetings.events import MEETING, MeetingRevised
from meetings.models import Meeting, Participation
from tracker.eventstore import rebuild
from tracker.eventstore.api import ConcurrencyConflict, append, load, projecting
from tracker.eventstore.models import Checkpoint, Event, StreamState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _revise(ctx, meeting_id, version, **changes):
    return commands.meeting_revise(meeting_id=meeting_id, changes=changes, context=ctx, expected_version=version)


def _stored(meeting_id: uuid.UUID) -> tuple:
    """What a revision writes: the stream's events, its state row and its meeting row."""
    state = StreamState.objects.get(pk=meeting_id)
    row = Meeting.objects.get(pk=meeting_id)
    events = list(Event.objects.filter(stream_id=meeting_id).order_by("version").values_list("version", "data"))
    return events, (state.version, state.state, state.last_position), (row.version, row.title, row.updated_at)


def _statements(queries: CaptureQueriesContext) -> list[str]:
    """The statements sent, each prepared statement's text in place of its EXECUTE."""
    with connection.cursor() as cur:
        cur.execute("SELECT name, statement FROM pg_prepared_statements")
        prepared = dict(cur.fetchall())
    return [re.sub(r"EXECUTE (eventstore_\d+)", lambda m: prepared[m.group(1)], q["sql"]) for q in queries]


def test_a_field_revision_writes_its_events_state_and_row_in_one_statement(ctx, record):
    meeting = record()
    with CaptureQueriesContext(connection) as queries:
        revised = _revise(ctx, meeting.id, 1, title="New title")
    writes = [sql for sql in _statements(queries) if "meetings_meeting" in sql or "eventstore_" in sql]
    # the state read, then the append carrying the state and meeting UPDATEs
    assert len(writes) == 2 and "eventstore_streamstate" in writes[0]
    assert all(t in writes[1] for t in ("INSERT INTO", "UPDATE \"eventstore_streamstate\"", "UPDATE \"meetings_meeting\""))
    last = Event.objects.get(stream_id=meeting.id, version=2)
    state = StreamState.objects.get(pk=meeting.id)
    assert (state.version, state.last_position, state.updated_at) == (2, last.position, last.recorded_at)
    assert state.state["title"] == "New title"
    assert (revised.title, revised.version, revised.created_at) == ("New title", 2, meeting.created_at)
    assert rebuild.check()[0] == []


def test_an_error_in_the_projection_rolls_back_the_events_too(ctx, record, monkeypatch):
    meeting = record()
    before = _stored(meeting.id)

    def fail(*_args, **_kwargs):
        raise RuntimeError("projector failed")

    # after the append's statement ran (the row handed to the command) and before it (building the write)
    for name in ("row_written", "update_row_statement"):
        with monkeypatch.context() as patch:
            patch.setattr(projections, name, fail)
            with pytest.raises(RuntimeError):
                _revise(ctx, meeting.id, 1, title="Never stored")
        assert _stored(meeting.id) == before
    assert _revise(ctx, meeting.id, 1, title="Stored").version == 2


def test_a_missing_meeting_row_is_written_whole_by_the_full_sync(ctx, record):
    meeting = record()
    with projecting():
        Meeting.objects.filter(pk=meeting.id).delete()  # as a damaged read model could be
    revised = _revise(ctx, meeting.id, 1, summary="Back again")
    assert (revised.summary, revised.version) == ("Back again", 2)
    assert Participation.objects.filter(meeting_id=meeting.id).count() == 2
    assert Meeting.objects.get(pk=meeting.id).title == meeting.title  # the whole row, not just the change


def test_a_date_change_still_takes_the_full_sync(ctx, record):
    meeting = record()
    revised = _revise(ctx, meeting.id, 1, date="2025-08-01", title="Later")
    assert (revised.date, revised.title, revised.version) == ("2025-08-01", "Later", 2)
    assert rebuild.check()[0] == []


@pytest.mark.django_db(transaction=True)
def test_a_stream_that_moved_on_after_the_load_is_refused_with_nothing_written(ctx, record):
    meeting = record()

    def other() -> None:
        try:
            _revise(ctx, meeting.id, 1, title="Other")
        finally:
            connections.close_all()

    with transaction.atomic():
        assert load(meeting.id)[1] == 1  # the state the lean path folds from
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        with CaptureQueriesContext(connection) as queries, pytest.raises(ConcurrencyConflict) as err:
            append(
                stream_type=MEETING,
                stream_id=meeting.id,
                expected_version=1,
                events=[MeetingRevised(changes={"title": "Late"})],
                context=ctx,
            )
        assert any("UPDATE \"meetings_meeting\"" in sql for sql in _statements(queries))  # the lean path ran
        assert (err.value.expected, err.value.current) == (1, 2)
        # nothing written, and the transaction is still usable
        events, state, row = _stored(meeting.id)
        assert [v for v, _ in events] == [1, 2] and state[:2] == (2, load(meeting.id)[0]) and row[:2] == (2, "Other")
    assert rebuild.check()[0] == []


@pytest.mark.django_db(transaction=True)
def test_racing_revisions_keep_positions_gap_free_and_equal_to_a_replay(ctx, record):
    meetings = [record(), record()]
    first = Event.objects.order_by("position").last().position + 1
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def writer(meeting: Meeting) -> None:
        try:
            barrier.wait()
            for version in range(1, 61):
                _revise(ctx, meeting.id, version, title=f"{meeting.id} {version}")
            outcomes.append("ok")
        except Exception as exc:  # reported by the assertion below
            outcomes.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(m,)) for m in meetings]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes == ["ok", "ok"]
    positions = list(Event.objects.filter(position__gte=first).order_by("position").values_list("position", flat=True))
    assert positions == list(range(first, first + 120))
    for meeting in meetings:
        last = Event.objects.filter(stream_id=meeting.id).order_by("version").last()
        state = StreamState.objects.get(pk=meeting.id)
        assert (last.version, state.version, state.last_position) == (61, 61, last.position)
    checkpoint = Checkpoint.objects.get(name="inline").last_position  # written by a revision too
    assert checkpoint % 100 == 0 and checkpoint >= first
    assert rebuild.check()[0] == []
