"""Bulk appends: many streams in one COPY, and `insert_rows` for projectors."""
import uuid

import pytest
from django.utils import timezone

from tests.eventstore.sample import SampleNamed
from tracker.eventstore import rebuild
from tracker.eventstore.api import (
    ConcurrencyConflict,
    Context,
    ReadModelWriteRefused,
    StreamWrite,
    append,
    append_many,
    history,
    insert_rows,
    load,
    projecting,
)
from tracker.eventstore.models import Checkpoint, Event, EventLink, StreamState
from tracker.eventstore.store import COPY_STREAMS

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test")
AWKWARD = 'tab\there, new\nline, back\\slash, "quotes", \\N, é, 한국'


@pytest.mark.parametrize("streams", [2, COPY_STREAMS], ids=["few", "many (COPY)"])
def test_many_new_streams_append_in_order_with_their_own_links(streams):
    # given
    ids = [uuid.uuid4() for _ in range(streams)]
    other = uuid.uuid4()
    writes = [
        StreamWrite("sample", s, 0, [SampleNamed(name=f"{AWKWARD} {n}"), SampleNamed(name="second")],
                    event_related_ids=[[other, s, other], []])
        for n, s in enumerate(ids)
    ]
    # when
    stored = append_many(writes, context=CTX)
    # then: streams in id order, positions gap-free, each event with only its own links
    assert [e.stream_id for e in stored] == [s for s in sorted(ids, key=str) for _ in range(2)]
    assert [e.position for e in stored] == list(range(stored[0].position, stored[0].position + 2 * streams))
    assert [e.related_ids for e in stored] == [(other,), ()] * streams
    rows = Event.objects.filter(stream_id__in=ids).order_by("position")
    assert [(r.position, r.version, r.data) for r in rows] == [(e.position, e.version, e.data) for e in stored]
    assert EventLink.objects.filter(related_id=other).count() == streams
    for n, s in enumerate(ids):
        assert load(s) == ({"name": "second", "language": "en"}, 2)
        assert history(s)[0].event.data["name"] == f"{AWKWARD} {n}"
    assert StreamState.objects.filter(stream_id__in=ids).count() == streams
    assert rebuild.check()[0] == []


@pytest.mark.postgres
def test_a_stale_stream_in_a_bulk_append_writes_nothing():
    # given: one of the streams already exists
    taken = uuid.uuid4()
    append(stream_type="sample", stream_id=taken, expected_version=0, events=[SampleNamed(name="a")], context=CTX)
    ids = [uuid.uuid4() for _ in range(COPY_STREAMS)] + [taken]
    events = Event.objects.count()
    # when
    with pytest.raises(ConcurrencyConflict) as caught:
        append_many([StreamWrite("sample", s, 0, [SampleNamed(name="b")]) for s in ids], context=CTX)
    # then: nothing written, and the transaction goes on (the COPY ran in a savepoint)
    assert caught.value.stream_id == taken and caught.value.current == 1
    assert Event.objects.count() == events
    assert not StreamState.objects.filter(stream_id__in=ids[:-1]).exists()


@pytest.mark.postgres
def test_a_bulk_append_to_existing_streams_checks_each_version():
    # given: streams at version 1
    ids = [uuid.uuid4() for _ in range(COPY_STREAMS)]
    append_many([StreamWrite("sample", s, 0, [SampleNamed(name="a")]) for s in ids], context=CTX)
    events = Event.objects.count()
    # when: one write was made against a stale version
    stale = [StreamWrite("sample", s, 0 if n == 3 else 1, [SampleNamed(name="b")]) for n, s in enumerate(ids)]
    with pytest.raises(ConcurrencyConflict) as caught:
        append_many(stale, context=CTX)
    # then
    assert (caught.value.stream_id, caught.value.expected, caught.value.current) == (ids[3], 0, 1)
    assert Event.objects.count() == events
    # when: every version is right
    append_many([StreamWrite("sample", s, 1, [SampleNamed(name="b")]) for s in ids], context=CTX)
    # then
    assert all(load(s) == ({"name": "b", "language": "en"}, 2) for s in ids)
    assert rebuild.check()[0] == []


def test_insert_rows_writes_awkward_values_and_only_inside_a_projector():
    now = timezone.now()
    with pytest.raises(ReadModelWriteRefused):
        insert_rows(Checkpoint, ("name", "last_position"), [("x", 1)])
    with projecting():
        insert_rows(Checkpoint, ("name", "last_position"), [(AWKWARD, 7), ("plain", 0)])
        insert_rows(Checkpoint, ("name", "last_position"), [])
    assert dict(Checkpoint.objects.filter(name__in=[AWKWARD, "plain"]).values_list("name", "last_position")) == {
        AWKWARD: 7, "plain": 0
    }
    stream_id = uuid.uuid4()
    state = {"text": AWKWARD, "list": [1, None, True, {"k": AWKWARD}]}
    with projecting():
        insert_rows(
            StreamState, ("stream_id", "stream_type", "version", "state", "last_position", "updated_at"),
            [(stream_id, "sample", 1, state, 1, now)],
        )
    row = StreamState.objects.get(pk=stream_id)
    assert (row.state, row.updated_at) == (state, now)


def test_the_cyclic_gc_is_paused_only_for_the_block_and_left_as_it_was():
    import gc

    from tracker.eventstore.api import cyclic_gc_paused

    assert gc.isenabled()
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        assert not gc.isenabled()
        raise RuntimeError("a failed batch")
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()  # someone else's pause is not ended by ours
    finally:
        gc.enable()


def test_every_aggregate_starts_from_a_new_state_on_each_call():
    # a fold of a new stream fills initial() in place (see _project_new_streams)
    from tracker.eventstore.aggregate import AGGREGATES

    def containers(value, found):
        if isinstance(value, dict | list):
            found.append(value)
            for v in value.values() if isinstance(value, dict) else value:
                containers(v, found)
        return found

    for aggregate in AGGREGATES.values():
        first, second = containers(aggregate.initial(), []), containers(aggregate.initial(), [])
        assert not {id(c) for c in first} & {id(c) for c in second}, aggregate.__name__
