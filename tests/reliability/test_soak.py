"""Concurrent curators over real HTTP: every write acknowledged and logged, or refused; the
change feed read meanwhile delivers every event once, in order; rebuild equals live."""
import pytest

from tracker.reliability.soak import run_soak

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_concurrent_api_writes_are_acknowledged_and_logged_or_refused(served):
    # given the app served by gunicorn and 4 curators' clients on overlapping records
    # when each sends 25 writes (If-Match from a GET) while a reader polls the change feed
    result = run_soak(base=served, clients=4, writes_per_client=25, people=6, meetings=2, seconds=90)

    print(*result.lines(), sep="\n")
    # then every write ended acknowledged or refused, and nothing acknowledged is missing
    assert result.attempted == 100
    assert result.errors == 0, result.error_samples
    assert result.acknowledged + result.refused == result.attempted
    assert result.lost == 0 and result.phantom == 0
    # and one command-level event group per acknowledged write
    assert result.event_groups == result.acknowledged
    # and the hot set really collided
    assert result.refused > 0
    # and the feed delivered every event exactly once, in order
    assert result.feed_delivered == result.feed_events > 0
    assert (result.feed_duplicates, result.feed_missing, result.feed_out_of_order) == (0, 0, 0)
    # and the read models equal a replay of the log
    assert result.check_problems == []
