"""The benchmark harness runs end to end at a tiny size; timings are never asserted."""
import json

import pytest

from bench.benchmarks import BENCHMARKS
from bench.run import format_table, run_suite

FIELDS = {"value", "baseline", "ratio", "target", "unit", "sizes", "status", "passed"}


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_tiny_run_writes_every_benchmark_with_value_baseline_and_ratio(tmp_path):
    # given a results path
    path = tmp_path / "results.json"
    # when every benchmark runs at a tiny scale
    run_suite(scale=0.0001, json_path=path, log=lambda _line: None)
    # then the file lists each benchmark with its figures, or says plainly it is not available
    report = json.loads(path.read_text())
    results = report["benchmarks"]
    families = {"command_path" if name.startswith("command_path_") else name for name in results}
    assert families == set(BENCHMARKS)
    for name, result in results.items():
        assert FIELDS <= set(result), name
        if result["status"] == "ok":
            for field in ("value", "baseline", "ratio"):
                assert isinstance(result[field], float) and result[field] > 0, (name, field)
            if "ratio_min" in result["target"]:
                assert result["ratio"] == pytest.approx(result["value"] / result["baseline"]), name
        else:
            assert result["status"] == "not available" and result["note"], name
            assert result["value"] is None and result["ratio"] is None, name
    assert {"command_path_1_client", "command_path_2_clients", "rebuild", "as_of"} <= set(results)
    assert report["machine"]["cpus"] >= 1


def test_table_shows_not_available_instead_of_a_number():
    # given a report with a missing part
    report = {
        "benchmarks": {
            "api_reads": {
                "title": "API reads", "status": "not available", "note": "no API yet",
                "target": {"ratio_min": 0.5}, "unit": "requests/s",
            }
        }
    }
    # when it is formatted
    table = format_table(report)
    # then it says so
    assert "not available: no API yet" in table
