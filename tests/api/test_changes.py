"""The change feed: every event in commit order; a polling consumer never misses or repeats one."""
from __future__ import annotations

import threading
import time
import uuid

import pytest
from django.db import connections
from rest_framework.test import APIClient

from meetings.commands import meeting_merge
from tests.eventstore.sample import SampleNamed
from tracker.eventstore.api import ConcurrencyConflict, Context, append, current_version
from tracker.eventstore.models import Event

CTX = Context.system(reason="test")


def _drain(client, after=0, limit=7):  # type: ignore[no-untyped-def]
    """Follow `next` until an empty page; return every event seen."""
    seen, url = [], f"/api/v1/changes/?after={after}&limit={limit}"
    while True:
        page = client.get(url).json()
        seen += page["results"]
        if not page["results"]:
            return seen, page["last_position"]
        url = page["next"]


@pytest.mark.django_db
def test_feed_pages_follow_next_and_include_merges(anon, build):
    # given
    a, b = build.person("A One", "KR"), build.person("B Two", "US")
    winner, loser = build.meeting(a, b), build.meeting(a, b)
    meeting_merge(
        loser_id=loser.pk, winner_id=winner.pk, loser_expected_version=current_version(loser.pk),
        winner_expected_version=current_version(winner.pk), context=CTX,
    )
    # when
    events, last = _drain(anon, limit=2)
    # then
    all_positions = list(Event.objects.order_by("position").values_list("position", flat=True))
    assert [e["position"] for e in events] == all_positions
    assert last == all_positions[-1]
    assert {"MeetingMergedInto", "MeetingAbsorbed"} <= {e["type"] for e in events}
    first = events[0]
    assert set(first) >= {"position", "stream_type", "stream_id", "version", "type", "schema_version",
                          "data", "metadata", "recorded_at"}
    assert first["metadata"]["reason"] == "test data"


@pytest.mark.django_db
def test_feed_filters_by_type_and_validates_its_cursor(anon, build):
    build.person("A One", "KR")
    build.person("B Two", "US")
    only = anon.get("/api/v1/changes/", {"type": "PersonRegistered"}).json()["results"]
    assert [e["type"] for e in only] == ["PersonRegistered", "PersonRegistered"]
    assert anon.get("/api/v1/changes/", {"after": "-1"}).status_code == 400
    assert anon.get("/api/v1/changes/", {"limit": "100000"}).status_code == 400
    assert anon.get("/api/v1/changes/", {"after": "9" * 30}).status_code == 400


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_polling_reader_never_misses_or_repeats_while_writers_commit_concurrently():
    """Writers append in parallel; a reader polling the HTTP feed sees each event exactly once."""
    # given
    writers, per_writer = 4, 25
    errors: list[BaseException] = []
    written: list[uuid.UUID] = []
    lock = threading.Lock()

    def write(n: int) -> None:
        try:
            stream = uuid.uuid4()
            shared = uuid.UUID(int=n % 2)  # two writers contend on each shared stream
            for i in range(per_writer):
                stored = append(stream_type="sample", stream_id=stream, expected_version=i,
                                events=[SampleNamed(name=f"w{n}-{i}")], context=CTX)
                with lock:
                    written.extend(e.event_id for e in stored)
                try:
                    stored = append(stream_type="sample", stream_id=shared,
                                    expected_version=current_version(shared),
                                    events=[SampleNamed(name=f"s{n}-{i}")], context=CTX)
                    with lock:
                        written.extend(e.event_id for e in stored)
                except ConcurrencyConflict:
                    pass  # lost the race: nothing was appended, which the feed must also show
        except BaseException as exc:  # noqa: BLE001  (reported by the main thread)
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    client = APIClient()
    seen: list[dict] = []
    cursor = 0
    # when: the reader polls while the writers run
    for t in threads:
        t.start()
    while True:
        finished = all(not t.is_alive() for t in threads)
        page = client.get("/api/v1/changes/", {"after": cursor, "limit": 5}).json()
        seen += page["results"]
        cursor = page["last_position"]
        if finished and not page["results"]:
            break
        if not page["results"]:
            time.sleep(0.005)
    for t in threads:
        t.join()
    # then
    assert not errors, errors
    positions = [e["position"] for e in seen]
    assert positions == sorted(set(positions)), "an event was repeated or seen out of order"
    assert positions == list(range(positions[0], positions[0] + len(positions))), "a position was skipped"
    # each append wrote one event, whose id is also its batch id
    assert {uuid.UUID(e["metadata"]["batch"]) for e in seen} == set(written)
    assert len(seen) == len(written) == Event.objects.count()
    connections.close_all()
