"""`appends_once`: a command whose one write is its append. Outside a transaction its reads run
in autocommit and its append is a transaction of its own (here a stream without an inline
projection, so an atomic block around the append and its projection); inside a transaction
it is `transaction.atomic` as before."""
import threading
import uuid

import pytest
from django.db import connection, connections, transaction

from tests.eventstore.sample import SampleNamed
from tracker.eventstore import rebuild
from tracker.eventstore.api import (
    ConcurrencyConflict,
    Context,
    EventStoreError,
    append,
    appends_once,
    load,
)
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db(transaction=True)

CTX = Context.system(reason="test")


def _name(stream_id: uuid.UUID, version: int, name: str) -> None:
    append(stream_type="sample", stream_id=stream_id, expected_version=version, events=[SampleNamed(name=name)], context=CTX)


@appends_once
def _rename(stream_id: uuid.UUID, *names: str, on_commit=None) -> int:
    """A command: load, then append each name (one is its promise), then an on-commit callback."""
    _, version = load(stream_id)
    for name in names:
        _name(stream_id, version, name)
        version += 1
    if on_commit is not None:
        transaction.on_commit(on_commit)
    return version


def _versions(stream_id: uuid.UUID) -> list[int]:
    return list(Event.objects.filter(stream_id=stream_id).order_by("version").values_list("version", flat=True))


def _committed_versions(stream_id: uuid.UUID) -> list[int]:
    """The stream's versions as another connection sees them (committed ones only)."""
    seen: list[list[int]] = []

    def read() -> None:
        try:
            seen.append(_versions(stream_id))
        finally:
            connections.close_all()

    thread = threading.Thread(target=read)
    thread.start()
    thread.join()
    return seen[0]


def test_outside_a_transaction_the_append_is_committed_when_the_command_returns():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    assert _rename(stream, "two") == 2
    assert not connection.in_atomic_block
    assert _committed_versions(stream) == [1, 2]
    assert load(stream) == ({"name": "two", "language": "en"}, 2)
    assert rebuild.check()[0] == []


def test_a_second_append_outside_a_transaction_is_refused_before_it_writes():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    with pytest.raises(EventStoreError, match="appended twice"):
        _rename(stream, "two", "three")
    assert _versions(stream) == [1, 2]  # the first append was its own transaction
    assert load(stream) == ({"name": "two", "language": "en"}, 2)


def test_inside_a_transaction_the_command_is_atomic_as_before():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert _rename(stream, "two", "three") == 3  # two appends: one transaction
        raise RuntimeError("the caller fails after the command")
    assert _versions(stream) == [1]
    with transaction.atomic():
        _rename(stream, "two", "three")
    assert _versions(stream) == [1, 2, 3]
    assert rebuild.check()[0] == []


def test_a_refused_append_writes_nothing_so_the_command_may_append_after_it():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    _name(stream, 1, "two")

    @appends_once
    def rename_from_a_stale_version() -> None:
        with pytest.raises(ConcurrencyConflict):
            _name(stream, 1, "stale")
        _name(stream, 2, "three")

    rename_from_a_stale_version()
    assert _versions(stream) == [1, 2, 3]
    assert load(stream)[0]["name"] == "three"


def test_a_command_called_by_one_shares_its_single_append():
    stream = uuid.uuid4()
    _name(stream, 0, "one")

    @appends_once
    def rename_twice_through_another_command() -> None:
        _rename(stream, "two")
        _name(stream, 2, "three")

    with pytest.raises(EventStoreError):
        rename_twice_through_another_command()
    assert _versions(stream) == [1, 2]


def test_on_commit_callbacks_registered_after_the_append_see_it_committed():
    stream = uuid.uuid4()
    _name(stream, 0, "one")
    seen: list[list[int]] = []
    # outside a transaction: at once, the append being committed already
    _rename(stream, "two", on_commit=lambda: seen.append(_committed_versions(stream)))
    assert seen == [[1, 2]]
    # inside one: at the outer commit, and never after a rollback
    with transaction.atomic():
        _rename(stream, "three", on_commit=lambda: seen.append(_committed_versions(stream)))
        assert seen == [[1, 2]]
    assert seen == [[1, 2], [1, 2, 3]]
    with pytest.raises(RuntimeError), transaction.atomic():
        _rename(stream, "four", on_commit=lambda: seen.append(_committed_versions(stream)))
        raise RuntimeError("rolled back")
    assert seen == [[1, 2], [1, 2, 3]] and _versions(stream) == [1, 2, 3]
