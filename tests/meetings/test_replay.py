"""Rebuilds that evict their in-memory rows still equal live (the read-back path of a replay)."""
import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import meetings.projections as meeting_projections
from tests.meetings.test_projections import _example, step, world  # noqa: F401  (world is a fixture)
from tracker.eventstore import rebuild

pytestmark = pytest.mark.django_db


@pytest.fixture
def tiny_replay_caches(monkeypatch):
    # Flush every 3 events and forget every buffered meeting after each flush, so most syncs
    # read their prior rows back from the tables instead of from memory.
    monkeypatch.setattr(rebuild, "STATE_FLUSH", 3)
    monkeypatch.setattr(meeting_projections, "REPLAY_CACHE", 0)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_random_sequences_rebuild_equal_to_live_when_the_replay_evicts_its_rows(world, tiny_replay_caches, steps):  # noqa: F811
    # given / when: random meeting and people commands, then a rebuild check (inside _example)
    with transaction.atomic():
        _example(steps, *world)
        transaction.set_rollback(True)


def test_a_rebuild_with_evictions_gives_the_same_rows(world, tiny_replay_caches):  # noqa: F811
    # given: meetings recorded, revised and cited, with people changes in between
    persons, articles, post = world
    steps = [
        ("record", 0, 1, "2025-07"), ("record", 1, 2, "2025-07-31"), ("cite", 0, 0, ""),
        ("tenure_start", 0, 0, "2025-07-01"), ("revise", 1, 3, "2025-07-31"), ("add", 0, 2, ""),
        ("merge", 0, 1, ""), ("unmerge", 0, 0, ""), ("person_merge", 0, 1, ""), ("revise", 0, 4, "2026-01-15"),
    ]
    _example(steps, persons, articles, post)
    before = rebuild.checksum(rebuild.snapshot())
    # when
    rebuild.rebuild()
    # then
    assert rebuild.checksum(rebuild.snapshot()) == before
    assert rebuild.check()[0] == []
