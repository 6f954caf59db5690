"""The whole pure pipeline over the development corpus beside the checkout."""
from __future__ import annotations

from pathlib import Path

from meetings.suggest.devrun import run

CORPUS = Path(__file__).resolve().parents[3] / ".." / "shared" / "corpus"


def test_every_development_article_comes_out_right_with_known_people():
    # given the corpus and its people.json, when every article runs in published order
    assert CORPUS.is_dir(), f"development corpus expected at {CORPUS}"
    predictions, metrics, timings = run(str(CORPUS), use_people=True)
    # then every meeting and every attribute matches the gold
    for key in ("meeting_precision", "meeting_recall", "meeting_f1", "participant_f1", "date_accuracy",
                "location_accuracy", "status_accuracy", "mode_accuracy", "link_recall", "link_precision"):
        assert metrics[key] == 1.0, (key, metrics)
    # and what is marked confident is right
    assert metrics["confident_accuracy"] in (None, 1.0)
    assert len(predictions) == 5 and max(timings) < 2.0


def test_cold_start_still_finds_the_meetings():
    # given no known persons at all: names come from titles, appositives and coreference
    _, metrics, _ = run(str(CORPUS), use_people=False)
    assert metrics["meeting_f1"] >= 0.9 and metrics["participant_f1"] >= 0.9


SYNTHETIC = Path(__file__).resolve().parent / "synthetic_corpus"


def test_synthetic_wire_corpus_calls_planned_visits_and_links():
    # given our own wire-style articles (phone/video calls, planned visits, receptions,
    # negations, officials the gazetteer lacks, the same call dated a day apart)
    _, metrics, _ = run(str(SYNTHETIC), use_people=True)
    # then meetings, modes and statuses come out, and cross-article mentions share a record
    assert metrics["meeting_f1"] >= 0.9 and metrics["participant_f1"] >= 0.9
    assert metrics["mode_accuracy"] >= 0.9 and metrics["status_accuracy"] >= 0.9
    assert metrics["date_accuracy"] >= 0.9
    assert metrics["link_recall"] == 1.0 and metrics["link_precision"] == 1.0
