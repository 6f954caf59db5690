"""Faults: workers SIGKILLed while ingesting, a connection cut inside a merge, a backup
restored into a new database. Short versions of what `make reliability` runs."""
import pytest

from tracker.reliability.backup import run_backup
from tracker.reliability.kills import run_kills
from tracker.reliability.merge_cut import run_merge_cut

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.redis
@pytest.mark.slow
def test_killed_workers_lose_no_article_and_duplicate_no_proposal():
    # given at least 6 article URLs on a loopback server, queued for ingestion (more are
    # queued while kills remain, so every kill lands while there is ingesting to do)
    # when workers are SIGKILLed 3 times (pool processes and a whole worker)
    result = run_kills(kills=3, articles=6, deadline_seconds=60)
    print(result.line())

    # then every URL became one article, every article was analysed once
    assert result.kills == 3 and result.main_kills == 1, result.diagnosis()
    assert result.articles >= 6 and result.stored == result.articles, result.diagnosis()
    assert result.processed == result.articles and result.lost == 0, result.diagnosis()
    assert result.duplicate_articles == 0 and result.duplicate_proposals == 0, result.diagnosis()


def test_connection_cut_inside_merge_leaves_nothing_half_written_and_the_retry_succeeds():
    # given two people, and a lock that holds person_merge after its events are inserted
    # when its connection is terminated at that moment
    result = run_merge_cut()

    # then the cut landed after the append, and nothing of it remains
    assert result.cut_after_append, result.victim_error
    assert result.half_written == 0
    assert result.check_problems == []
    # and the same command with the same expected versions succeeds afterwards
    assert result.retried


def test_restored_backup_passes_the_rebuild_check_and_keeps_the_log_append_only():
    # given a populated database (the merge scenario writes people, aliases and a merge)
    run_merge_cut()

    # when it is dumped with pg_dump and restored with pg_restore into a new database
    result = run_backup()

    # then the restored log is whole, still append-only, and replays to its read models
    assert result.restored_events == result.events > 0
    assert result.restored_triggers == result.triggers > 0 and result.update_refused
    assert result.check_ok, result.check_output
