"""`meeting_revise` outside a transaction (`appends_once`): its reads run in autocommit and its
append, one statement with its inline projection, is a transaction of its own. The guarantees
of the transactional path hold: stale versions write nothing, errors leave nothing, positions
stay gap-free and commit-ordered, and inside an outer transaction nothing changes."""
import contextlib
import functools
import threading

import pytest
from django.db import DataError, OperationalError, connection, connections, transaction
from psycopg2.extensions import TRANSACTION_STATUS_IDLE, TRANSACTION_STATUS_INTRANS

from meetings import commands, projections
from meetings.models import Meeting
from tests.meetings.test_inline_projection import _revise, _statements, _stored
from tracker.eventstore import rebuild, store
from tracker.eventstore.api import ConcurrencyConflict, events_after, projecting
from tracker.eventstore.models import Event, StreamState

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@contextlib.contextmanager
def _statement_log():
    """(in an atomic block, the server's transaction status after it, SQL) per statement."""
    log: list[tuple[bool, int, str]] = []

    def wrapper(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        log.append((connection.in_atomic_block, connection.connection.info.transaction_status, sql))
        return result

    with connection.execute_wrapper(wrapper):
        yield log


def _thread(work, outcomes: list) -> threading.Thread:
    """A thread running `work` on its own connection; "ok", or what it raised, goes to `outcomes`."""

    def target() -> None:
        try:
            work()
            outcomes.append("ok")
        except Exception as exc:  # reported by the caller
            outcomes.append(exc)
        finally:
            connections.close_all()

    return threading.Thread(target=target)


def _in_thread(work) -> None:
    """Run `work` on another thread, i.e. on its own connection; re-raise what it raised."""
    outcomes: list = []
    thread = _thread(work, outcomes)
    thread.start()
    thread.join()
    if outcomes != ["ok"]:
        raise outcomes[0]


def test_outside_a_transaction_a_revision_is_a_read_and_one_self_committing_statement(ctx, record):
    meeting = record()
    with _statement_log() as log:
        revised = _revise(ctx, meeting.id, 1, title="New title")
    assert [(atomic, status) for atomic, status, _ in log] == [(False, TRANSACTION_STATUS_IDLE)] * 2
    load, write = _statements([{"sql": sql} for _, _, sql in log])
    assert "eventstore_streamstate" in load and "pg_advisory_xact_lock" in write and "meetings_meeting" in write
    # committed: another connection sees the events, the state and the row
    seen: list[tuple] = []
    _in_thread(lambda: seen.append(_stored(meeting.id)))
    assert seen == [_stored(meeting.id)]
    events, state, row = seen[0]
    assert [v for v, _ in events] == [1, 2] and state[0] == 2
    assert state[2] == Event.objects.get(stream_id=meeting.id, version=2).position
    assert (row[:2], revised.title, revised.created_at) == ((2, "New title"), "New title", meeting.created_at)
    assert rebuild.check()[0] == []


def test_inside_an_outer_transaction_a_revision_joins_it_as_before(ctx, record):
    meeting = record()
    before = _stored(meeting.id)
    with _statement_log() as log, pytest.raises(RuntimeError), transaction.atomic():
        assert _revise(ctx, meeting.id, 1, title="Rolled back").version == 2
        raise RuntimeError("the caller fails after the command")
    assert all(atomic and status == TRANSACTION_STATUS_INTRANS for atomic, status, _ in log)
    assert _stored(meeting.id) == before
    assert _revise(ctx, meeting.id, 1, title="Kept").version == 2
    assert rebuild.check()[0] == []


def test_a_revision_the_statement_cannot_carry_is_a_transaction_of_its_own(ctx, record):
    meeting = record()
    with _statement_log() as log:
        revised = _revise(ctx, meeting.id, 1, date="2025-08-01", title="Later")  # the full sync
    assert log[0][:2] == (False, TRANSACTION_STATUS_IDLE)  # the load, in autocommit
    assert all(atomic and status == TRANSACTION_STATUS_INTRANS for atomic, status, _ in log[1:])
    assert not connection.in_atomic_block
    assert (revised.date, revised.title, revised.version) == ("2025-08-01", "Later", 2)
    seen: list[tuple] = []
    _in_thread(lambda: seen.append(_stored(meeting.id)))
    assert seen == [_stored(meeting.id)]
    assert _revise(ctx, meeting.id, 2, title="Later").version == 2  # nothing changed: nothing appended
    assert rebuild.check()[0] == []


def test_a_stream_moved_on_between_the_load_and_the_append_is_refused_with_nothing_written(
    ctx, record, monkeypatch
):
    meeting = record()
    validate = commands._validate_fields
    raced: list[bool] = []

    def validate_while_another_writer_commits(*args, **kwargs):
        if not raced:  # the first command only: its load has run, its append has not
            raced.append(True)
            _in_thread(lambda: _revise(ctx, meeting.id, 1, title="Other"))
        return validate(*args, **kwargs)

    monkeypatch.setattr(commands, "_validate_fields", validate_while_another_writer_commits)
    with pytest.raises(ConcurrencyConflict) as err:
        _revise(ctx, meeting.id, 1, title="Late")
    assert (err.value.expected, err.value.current) == (1, 2)
    events, state, row = _stored(meeting.id)
    assert [v for v, _ in events] == [1, 2] and state[0] == 2 and state[1]["title"] == "Other"
    assert row[:2] == (2, "Other")
    assert rebuild.check()[0] == []


def test_an_error_in_the_statement_leaves_nothing_and_no_gap(ctx, record, monkeypatch):
    meeting = record()
    before = _stored(meeting.id)
    statement = projections.update_row_statement

    def too_long_a_title(row, **kwargs):
        sql, params = statement(row, **kwargs)
        return sql, ["x" * 400 if p == row.title else p for p in params]  # the column holds 300

    with monkeypatch.context() as patch:
        patch.setattr(projections, "update_row_statement", too_long_a_title)
        with pytest.raises(DataError):
            _revise(ctx, meeting.id, 1, title="Refused by the database")
    assert _stored(meeting.id) == before
    assert not connection.in_atomic_block and connection.connection.info.transaction_status == TRANSACTION_STATUS_IDLE
    last = Event.objects.order_by("position").last().position
    assert _revise(ctx, meeting.id, 1, title="Stored").version == 2
    assert Event.objects.get(stream_id=meeting.id, version=2).position == last + 1
    assert rebuild.check()[0] == []


def test_the_lock_timeout_holds_for_the_statement_and_ends_with_it(ctx, record, settings):
    meeting = record()
    before = _stored(meeting.id)
    with connection.cursor() as cur:
        cur.execute("SHOW lock_timeout")
        session_timeout = cur.fetchone()[0]
    settings.EVENTSTORE_LOCK_TIMEOUT = "50ms"
    locked, release = threading.Event(), threading.Event()

    def hold_the_log_lock() -> None:
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [store.APPEND_LOCK_KEY])
            locked.set()
            release.wait(timeout=30)

    holder = threading.Thread(target=lambda: _in_thread(hold_the_log_lock))
    holder.start()
    try:
        assert locked.wait(timeout=30)
        with pytest.raises(OperationalError, match="lock timeout"):
            _revise(ctx, meeting.id, 1, title="Waited too long")
    finally:
        release.set()
        holder.join()
    assert _stored(meeting.id) == before
    with connection.cursor() as cur:
        cur.execute("SHOW lock_timeout")
        assert cur.fetchone()[0] == session_timeout
    assert _revise(ctx, meeting.id, 1, title="Now").version == 2


def test_a_missing_meeting_row_is_written_whole_after_the_statement(ctx, record):
    meeting = record()
    with transaction.atomic():
        with projecting():
            Meeting.objects.filter(pk=meeting.id).delete()  # as a damaged read model could be
    revised = _revise(ctx, meeting.id, 1, summary="Back again")
    assert (revised.summary, revised.version, revised.title) == ("Back again", 2, meeting.title)
    assert Meeting.objects.get(pk=meeting.id).title == meeting.title  # the whole row, not just the change
    assert StreamState.objects.get(pk=meeting.id).version == 2


def test_racing_revisions_commit_in_position_order_for_a_polling_reader(ctx, record):
    meetings = [record(), record(), record()]
    first = Event.objects.order_by("position").last().position + 1
    per_writer = 40
    seen: list[int] = []
    done = threading.Event()
    outcomes: list[object] = []

    def writer(meeting: Meeting) -> None:
        for version in range(1, per_writer + 1):
            _revise(ctx, meeting.id, version, title=f"{meeting.id} {version}")

    def reader() -> None:
        cursor = first - 1
        try:
            while True:
                batch = events_after(cursor, limit=50)
                for ev in batch:
                    seen.append(ev.position)
                    cursor = ev.position
                if done.is_set() and not batch:
                    break
        finally:
            connections.close_all()

    threads = [threading.Thread(target=reader)] + [_thread(functools.partial(writer, m), outcomes) for m in meetings]
    for t in threads:
        t.start()
    for t in threads[1:]:
        t.join()
    done.set()
    threads[0].join(timeout=60)
    assert outcomes == ["ok"] * len(meetings)
    # the reader saw every position once, in order, never skipping one that committed late
    assert seen == list(range(first, first + per_writer * len(meetings)))
    for meeting in meetings:
        events, state, row = _stored(meeting.id)
        last = Event.objects.get(stream_id=meeting.id, version=per_writer + 1).position
        assert (len(events), state[0], state[2], row[0]) == (per_writer + 1, per_writer + 1, last, per_writer + 1)
    assert rebuild.check()[0] == []
