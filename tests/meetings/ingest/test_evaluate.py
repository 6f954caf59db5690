"""`manage.py evaluate` on the development corpus, run as a user runs it (a separate process)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT.parent / "shared" / "corpus"

pytestmark = pytest.mark.slow


def _evaluate(*extra: str) -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tracker.settings"}
    out = subprocess.run(
        [sys.executable, "manage.py", "evaluate", str(CORPUS), "--json", *extra],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout)


def test_development_corpus_comes_out_right(tmp_path):
    predictions = tmp_path / "pred.jsonl"
    metrics = _evaluate("--predictions", str(predictions))
    assert metrics["articles"] == 5 and metrics["gold_meetings"] == 11
    assert metrics["meeting_precision"] == 1.0 and metrics["meeting_recall"] == 1.0
    assert metrics["participant_f1"] == 1.0
    for field in ("date", "location", "status", "mode"):
        assert metrics[f"{field}_accuracy"] == 1.0, field
    assert metrics["link_recall"] == 1.0
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert {line["article"] for line in lines} == {f"seed-00{i}" for i in range(5)}
    assert all(m["meeting_id"] for line in lines for m in line["meetings"])


def test_cold_start_still_finds_meetings():
    metrics = _evaluate("--no-people")
    assert metrics["predicted_meetings"] > 0
    assert metrics["meeting_recall"] >= 0.5
