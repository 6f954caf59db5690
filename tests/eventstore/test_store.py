import threading
import uuid

import pytest
from django.db import DatabaseError, connection, connections, transaction

from tests.eventstore.sample import SampleNamed
from tracker.eventstore import rebuild, store
from tracker.eventstore.api import (
    ConcurrencyConflict,
    Context,
    InvalidMetadata,
    ReadModelWriteRefused,
    StreamNotFound,
    StreamWrite,
    append,
    append_many,
    events_after,
    history,
    load,
    projecting,
    stream_revert,
)
from tracker.eventstore.models import Checkpoint, Event

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test")


def _name(stream_id, version, name):
    return append(
        stream_type="sample",
        stream_id=stream_id,
        expected_version=version,
        events=[SampleNamed(name=name)],
        context=CTX,
    )


def test_append_assigns_versions_and_gapless_positions():
    # given
    a, b = uuid.uuid4(), uuid.uuid4()
    # when
    _name(a, 0, "one")
    _name(b, 0, "two")
    _name(a, 1, "three")
    # then
    rows = list(Event.objects.values_list("stream_id", "version", "position"))
    assert [(r[0], r[1]) for r in rows] == [(a, 1), (b, 1), (a, 2)]
    positions = [r[2] for r in rows]
    assert positions == list(range(positions[0], positions[0] + 3))
    assert load(a) == ({"name": "three", "language": "en"}, 2)


def test_stale_version_raises_conflict_with_current_version_and_appends_nothing():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    _name(stream, 1, "two")
    with pytest.raises(ConcurrencyConflict) as err:
        _name(stream, 1, "stale")
    assert err.value.current == 2 and err.value.expected == 1
    assert Event.objects.filter(stream_id=stream).count() == 2


def test_metadata_is_validated_and_stored():
    with pytest.raises(InvalidMetadata):
        append(
            stream_type="sample",
            stream_id=uuid.uuid4(),
            expected_version=0,
            events=[SampleNamed(name="x")],
            context=Context(actor_kind="martian"),
        )
    stored = append(
        stream_type="sample",
        stream_id=uuid.uuid4(),
        expected_version=0,
        events=[SampleNamed(name="x")],
        context=Context(actor_id=7, actor_name="ann", actor_kind="user", via="api", reason="typo"),
    )[0]
    assert stored.metadata["actor_name"] == "ann"
    assert stored.metadata["via"] == "api"
    assert stored.metadata["reason"] == "typo"
    assert stored.metadata["correlation_id"]


@pytest.mark.parametrize("sql", ["UPDATE eventstore_event SET type = 'x'", "DELETE FROM eventstore_event"])
def test_database_refuses_update_and_delete_on_the_log(sql):
    _name(uuid.uuid4(), 0, "kept")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute(sql)
    assert Event.objects.count() == 1


@pytest.mark.postgres
def test_database_refuses_truncate_on_postgres():
    _name(uuid.uuid4(), 0, "kept")
    with pytest.raises(DatabaseError, match="append-only"):
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("TRUNCATE eventstore_event CASCADE")
    assert Event.objects.count() == 1


def test_read_model_writes_outside_projector_are_refused():
    with pytest.raises(ReadModelWriteRefused):
        Checkpoint(name="rogue", last_position=1).save()
    with pytest.raises(ReadModelWriteRefused):
        Checkpoint.objects.update(last_position=0)
    with pytest.raises(ReadModelWriteRefused):
        Checkpoint.objects.all().delete()


def test_old_schema_versions_are_upcast_on_read():
    stream = uuid.uuid4()
    _name(stream, 0, "new")
    # given an event stored in the v1 shape (as an older release wrote it)
    Event.objects.create(
        position=Event.objects.order_by("-position").first().position + 1,
        stream_type="sample", stream_id=stream, version=2, type="SampleNamed", schema_version=1,
        data={"name": "old"}, metadata={"reason": "legacy"}, event_id=uuid.uuid4(),
        recorded_at=Event.objects.first().recorded_at,
    )
    # when / then
    assert load(stream, as_of_version=2)[0] == {"name": "old", "language": "en"}
    assert events_after(0)[-1].schema_version == 2


def test_history_diffs_as_of_and_revert():
    stream = uuid.uuid4()
    first = _name(stream, 0, "Cho Hyoung")[0]
    _name(stream, 1, "Cho Hyun")
    entries = history(stream)
    assert [e.changes for e in entries] == [
        {"name": (None, "Cho Hyoung"), "language": (None, "en")},
        {"name": ("Cho Hyoung", "Cho Hyun")},
    ]
    assert load(stream, as_of_position=first.position)[0]["name"] == "Cho Hyoung"
    # when
    stream_revert(stream_id=stream, to_version=1, expected_version=2, context=CTX)
    # then the revert is a new event; nothing was deleted
    assert load(stream) == ({"name": "Cho Hyoung", "language": "en"}, 3)
    assert Event.objects.filter(stream_id=stream).count() == 3


def test_idempotency_key_appends_once():
    stream = uuid.uuid4()
    kw = dict(stream_type="sample", stream_id=stream, expected_version=0, context=CTX)
    first = append(events=[SampleNamed(name="x")], idempotency_key="req-1", **kw)
    again = append(events=[SampleNamed(name="x")], idempotency_key="req-1", **kw)
    assert [e.event_id for e in first] == [e.event_id for e in again]
    assert Event.objects.filter(stream_id=stream).count() == 1


def test_rebuild_check_passes_then_detects_tampering():
    for i in range(3):
        _name(uuid.uuid4(), 0, f"n{i}")
    problems, stats, _ = rebuild.check()
    assert problems == [] and stats.events == 3
    from tracker.eventstore.api import projecting
    from tracker.eventstore.models import StreamState

    with projecting():
        StreamState.objects.update(version=99)
    problems, _, _ = rebuild.check()
    assert problems and "differs in version" in problems[0]
    rebuild.rebuild()
    assert rebuild.check()[0] == []


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_transactions_on_one_stream_end_in_one_success_and_one_conflict():
    stream = uuid.uuid4()
    _name(stream, 0, "start")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def writer(label: str) -> None:
        try:
            barrier.wait()
            with transaction.atomic():
                _name(stream, 1, label)
            outcomes.append("ok")
        except ConcurrencyConflict:
            outcomes.append("conflict")
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict", "ok"]
    assert list(Event.objects.filter(stream_id=stream).values_list("version", flat=True)) == [1, 2]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_polling_reader_never_skips_a_late_committing_event():
    """Concurrent writers with slow transactions; the reader sees positions strictly in order."""
    writers, per_writer = 4, 25
    seen: list[int] = []
    done = threading.Event()

    def writer(n: int) -> None:
        try:
            for i in range(per_writer):
                with transaction.atomic():
                    append(
                        stream_type="sample", stream_id=uuid.uuid4(), expected_version=0,
                        events=[SampleNamed(name=f"{n}-{i}")], context=CTX,
                    )
                    # hold the transaction open after the append: a late commit
                    connection.cursor().execute("SELECT pg_sleep(0.002)")
        finally:
            connections.close_all()

    def reader() -> None:
        cursor = 0
        try:
            while not done.is_set() or cursor < writers * per_writer:
                for ev in events_after(cursor, limit=50):
                    seen.append(ev.position)
                    cursor = ev.position
                if done.is_set() and Event.objects.filter(position__gt=cursor).count() == 0:
                    break
        finally:
            connections.close_all()

    r = threading.Thread(target=reader)
    ws = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    r.start()
    for w in ws:
        w.start()
    for w in ws:
        w.join()
    done.set()
    r.join(timeout=60)
    all_positions = list(Event.objects.values_list("position", flat=True))
    assert seen == all_positions
    assert len(seen) == writers * per_writer


# --- the append path: one round trip for lock, version check, rows and links ---------------------


def test_a_stale_append_inside_a_transaction_raises_the_current_version_and_leaves_it_usable():
    # given
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    _name(stream, 1, "two")
    # when: the caller catches the conflict and goes on in the same transaction
    with transaction.atomic():
        with pytest.raises(ConcurrencyConflict) as err:
            _name(stream, 1, "stale")
        _name(stream, 2, "three")
    # then
    assert (err.value.expected, err.value.current) == (1, 2)
    assert list(Event.objects.filter(stream_id=stream).values_list("version", flat=True)) == [1, 2, 3]
    assert load(stream) == ({"name": "three", "language": "en"}, 3)


def test_a_multi_stream_append_writes_gapless_positions_links_and_states():
    # given
    a, b, linked = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    _name(a, 0, "a1")
    # when: two streams, three events, each stream linking to the other and to a third object
    stored = append_many(
        [
            StreamWrite("sample", a, 1, [SampleNamed(name="a2"), SampleNamed(name="a3")], [b, linked, a]),
            StreamWrite("sample", b, 0, [SampleNamed(name="b1")], [a, linked]),
        ],
        context=CTX,
    )
    # then
    rows = list(Event.objects.values_list("stream_id", "version", "position"))
    positions = [r[2] for r in rows]
    assert positions == list(range(positions[0], positions[0] + 4))
    assert [e.position for e in stored] == positions[1:]
    assert {(e.stream_id, e.version) for e in stored} == {(a, 2), (a, 3), (b, 1)}
    links = {(e.stream_id, e.version): set(e.related_ids) for e in stored}
    assert links[(a, 2)] == links[(a, 3)] == {b, linked}
    assert links[(b, 1)] == {a, linked}
    assert events_after(positions[0]) == stored  # the links were written as returned
    assert load(a) == ({"name": "a3", "language": "en"}, 3)
    assert load(b) == ({"name": "b1", "language": "en"}, 1)
    assert {e.stream_id for e in Event.objects.filter(links__related_id=linked)} == {a, b}
    assert {e.event.version for e in history(b) if e.related} == {2, 3}  # a's events link to b
    assert rebuild.check()[0] == []


def test_one_stale_stream_of_a_multi_stream_append_writes_nothing():
    a, b = uuid.uuid4(), uuid.uuid4()
    _name(a, 0, "a1")
    _name(b, 0, "b1")
    before = Event.objects.count()
    with pytest.raises(ConcurrencyConflict) as err:
        append_many(
            [StreamWrite("sample", a, 1, [SampleNamed(name="a2")]), StreamWrite("sample", b, 0, [SampleNamed(name="b0")])],
            context=CTX,
        )
    assert (err.value.stream_id, err.value.expected, err.value.current) == (b, 0, 1)
    assert Event.objects.count() == before
    assert load(a) == ({"name": "a1", "language": "en"}, 1)


def test_a_state_remembered_in_a_rolled_back_transaction_is_not_recalled_later():
    """What load() keeps for the append may include the transaction's own, rolled-back writes."""
    stream = uuid.uuid4()
    _name(stream, 0, "one")

    @transaction.atomic  # one Atomic object, reused by every call
    def step(*, fail: bool) -> dict | None:
        load(stream)  # kept for this transaction's append
        if fail:
            raise RuntimeError("roll back")
        return store._recall_state(stream, 1)

    with pytest.raises(RuntimeError):
        step(fail=True)
    assert store._recall_state(stream, 1) is None
    with transaction.atomic():
        assert store._recall_state(stream, 1) is None
    assert step(fail=False) == {"name": "one", "language": "en"}  # the same transaction recalls it


def test_as_of_loads_equal_folds_of_the_stored_events():
    stream = uuid.uuid4()
    for version, name in enumerate(["one", "two", "three", "four"]):
        _name(stream, version, name)
    stored = Event.objects.filter(stream_id=stream).order_by("version")
    for row in stored:
        expected = ({"name": row.data["name"], "language": "en"}, row.version)
        assert load(stream, as_of_position=row.position) == expected
        assert load(stream, as_of_version=row.version) == expected
        assert load(stream, stream_type="sample", as_of_time=row.recorded_at)[1] >= row.version
    with pytest.raises(StreamNotFound):
        load(stream, stream_type="meeting", as_of_version=2)
    with pytest.raises(StreamNotFound):
        load(stream, as_of_position=stored[0].position - 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_racing_appends_to_many_streams_keep_positions_gapless_and_states_equal_to_a_replay():
    streams = [uuid.uuid4() for _ in range(3)]
    for stream in streams:
        _name(stream, 0, "start")
    barrier = threading.Barrier(3)
    conflicts: list[int] = []

    def writer(n: int) -> None:
        try:
            barrier.wait()
            for i in range(20):
                stream = streams[(n + i) % 3]
                try:
                    with transaction.atomic():
                        _, version = load(stream)
                        _name(stream, version, f"{n}-{i}")
                except ConcurrencyConflict:
                    conflicts.append(n)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    positions = list(Event.objects.values_list("position", flat=True))
    assert positions == list(range(positions[0], positions[0] + len(positions)))
    assert len(positions) == 3 + 60 - len(conflicts)
    for stream in streams:
        versions = list(Event.objects.filter(stream_id=stream).values_list("version", flat=True))
        assert versions == list(range(1, len(versions) + 1))
    assert rebuild.check()[0] == []


@pytest.mark.postgres
def test_held_state_writes_run_before_any_later_query_of_the_projection():
    from tracker.eventstore.models import StreamState

    # given two stream states to write, held back by the projection
    a, b = uuid.uuid4(), uuid.uuid4()
    _name(a, 0, "a")
    _name(b, 0, "b")
    held = store._Deferred(connection)
    update = "UPDATE eventstore_streamstate SET version = version + 10 WHERE stream_id = %s"
    with projecting(), connection.execute_wrapper(held):
        held.add(update, [a])
        # when: a query with parameters carries it, and reads its effect
        assert StreamState.objects.get(pk=a).version == 11
        held.add(update, [b])
        # a query without parameters sends it first, on its own
        with connection.cursor() as cur:
            cur.execute("SELECT 100 * 1")
            assert cur.fetchone() == (100,)
        assert StreamState.objects.get(pk=b).version == 11
        held.add(update, [a])
        held.flush()
    # then
    assert StreamState.objects.get(pk=a).version == 21 and not held.sql
