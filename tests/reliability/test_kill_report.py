"""The kill run's failure report: only this run's worker log lines that say something went wrong."""
from tracker.reliability.kills import KillResult, _worker_errors


def test_worker_errors_reads_only_this_runs_part_of_the_log(tmp_path):
    # given a worker log with an earlier run's error, then this run's lines
    log = tmp_path / "worker.log"
    log.write_text("[..: ERROR/MainProcess] an earlier run\n")
    start = log.stat().st_size
    with log.open("a") as f:
        f.write("[..: INFO/MainProcess] Connected to redis\n")
        f.write("[..: ERROR/MainProcess] Timed out waiting for UP message from <ForkProcess>\n")

    # when the errors of this run are read
    errors = _worker_errors(log, start)

    # then only this run's error line is reported
    assert errors == ["[..: ERROR/MainProcess] Timed out waiting for UP message from <ForkProcess>"]


def test_diagnosis_names_missing_urls_and_worker_errors(tmp_path):
    result = KillResult(kills=3, pool_kills=2, main_kills=1, articles=2, stored=1, processed=1, lost=1,
                        duplicate_articles=0, duplicate_proposals=0, restarts=0, seconds=9.0,
                        missing=["http://127.0.0.1:1/news/1"], worker_errors=["ERROR lost"])

    text = result.diagnosis()

    assert "lost=1" in text and "http://127.0.0.1:1/news/1" in text and "ERROR lost" in text
    assert _worker_errors(tmp_path / "absent.log", 0) == []
