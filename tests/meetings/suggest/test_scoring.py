"""The corpus scoring contract on toy inputs, and same_meeting for cross-article links."""
from __future__ import annotations

import json

from meetings.suggest.scoring import (
    NameIndex,
    date_correct,
    load_corpus,
    match_meetings,
    same_meeting,
    score,
)

PEOPLE = [
    {"name": "Park Yoon-joo", "aliases": ["Park Yun-ju"]},
    {"name": "Allison Hooker", "aliases": []},
    {"name": "Cho Hyun", "aliases": ["Cho Hyoung"]},
    {"name": "Marco Rubio", "aliases": []},
    {"name": "Kevin Kim", "aliases": []},
]


def meeting(participants, **kw):
    return {"participants": participants, "date": None, "precision": None, "location": None,
            "status": "held", "mode": "in_person", **kw}


def test_names_match_by_normalised_canonical_or_alias():
    names = NameIndex(PEOPLE)
    assert names.key("park yoonjoo") == names.key("Park Yun-ju") == "Park Yoon-joo"
    assert names.key("Someone Else") == "someoneelse"


def test_matching_is_one_to_one_largest_overlap_first():
    gold = [meeting(["A One", "B Two"]), meeting(["A One", "B Two", "C Three"])]
    pred = [meeting(["A One", "B Two", "C Three"])]
    # the three-way prediction goes to the three-way gold meeting, not the first listed one
    assert match_meetings(gold, pred, NameIndex(None)) == [(1, 0, 3)]
    # one shared participant is not a match
    assert match_meetings([meeting(["A One", "B Two"])], [meeting(["A One", "D Four"])], NameIndex(None)) == []


def test_date_accuracy_compares_at_gold_precision():
    assert date_correct("2025-10", "month", "2025-10-30")
    assert not date_correct("2025-10-30", "day", "2025-10")
    assert not date_correct("2025-10-30", "day", None)


def test_score_counts_precision_recall_and_attribute_accuracy():
    gold = [
        {"article": "a", "meetings": [
            {"event": "e1", **meeting(["Park Yoon-joo", "Allison Hooker"], date="2025-10-10", precision="day", location="Seoul")},
            {"event": "e2", **meeting(["Cho Hyun", "Marco Rubio"], date="2025-07", precision="month")}]},
        {"article": "b", "meetings": [{"event": "e2", **meeting(["Cho Hyun", "Marco Rubio"], location="Washington, D.C.")}]},
    ]
    pred = [
        {"article": "a", "meetings": [
            {**meeting(["park yun-ju", "Allison Hooker"], date="2025-10-10", location="Seoul", mode="phone"), "confidence": 0.95, "meeting_id": 1},
            {**meeting(["Cho Hyoung", "Marco Rubio"], date="2025-07-31"), "confidence": 0.92, "meeting_id": 2},
            {**meeting(["Kevin Kim", "Marco Rubio"]), "confidence": 0.5, "meeting_id": 3}]},
        {"article": "b", "meetings": [{**meeting(["Cho Hyun", "Marco Rubio"], location="Washington"), "confidence": 0.9, "meeting_id": 2}]},
    ]
    m = score(gold, pred, PEOPLE)
    assert (m["matched"], m["predicted_meetings"], m["gold_meetings"]) == (3, 4, 3)
    assert m["meeting_precision"] == 0.75 and m["meeting_recall"] == 1.0
    assert m["meeting_f1"] == round(2 * 0.75 / 1.75, 4)
    assert m["participant_f1"] == 1.0
    assert m["date_accuracy"] == 1.0 and m["date_scored"] == 2
    assert m["location_accuracy"] == 1.0 and m["location_scored"] == 2
    assert m["mode_accuracy"] == round(2 / 3, 4)
    # the three confident predictions all name the right people
    assert m["confident_predictions"] == 3 and m["confident_accuracy"] == 1.0
    # e2 appears in a and b and both mentions ended on record 2
    assert m["link_recall"] == 1.0 and m["link_precision"] == 1.0 and m["link_pairs"] == 1


def test_wrong_links_lower_link_precision():
    gold = [
        {"article": "a", "meetings": [{"event": "x", **meeting(["A One", "B Two"])}]},
        {"article": "b", "meetings": [{"event": "y", **meeting(["A One", "B Two"])}]},
    ]
    pred = [
        {"article": "a", "meetings": [{**meeting(["A One", "B Two"]), "meeting_id": 7}]},
        {"article": "b", "meetings": [{**meeting(["A One", "B Two"]), "meeting_id": 7}]},
    ]
    m = score(gold, pred, None)
    assert m["link_precision"] == 0.0 and m["link_recall"] is None


def test_same_meeting_rules():
    base = {"participants": ["a", "b"], "status": "held", "mode": "phone"}
    # a day apart across time zones, month vs day
    assert same_meeting({**base, "date": "2025-10-02"}, {**base, "date": "2025-10-03"}) >= 0.5
    assert same_meeting({**base, "date": "2025-10"}, {**base, "date": "2025-10-03"}) >= 0.5
    # different days, different people
    assert same_meeting({**base, "date": "2025-10-02"}, {**base, "date": "2025-10-09"}) == 0.0
    assert same_meeting({**base, "date": "2025-10-02"}, {**base, "participants": ["a", "c"], "date": "2025-10-02"}) == 0.0
    # planned (undated, announced Aug 5) then held within the month; not two months later
    planned = {**base, "status": "planned", "date": None, "reported": "2025-08-05"}
    assert same_meeting(planned, {**base, "date": "2025-08-25"}) >= 0.5
    assert same_meeting(planned, {**base, "date": "2025-10"}) < 0.5
    # an undated held mention soon after the dated report
    assert same_meeting({**base, "date": "2025-07-31"}, {**base, "date": None, "reported": "2025-08-05"}) >= 0.5


def test_load_corpus_reads_the_layout(tmp_path):
    (tmp_path / "articles").mkdir()
    (tmp_path / "articles" / "x.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "gold.jsonl").write_text(json.dumps({"article": "x", "published": None, "meetings": []}) + "\n")
    corpus = load_corpus(tmp_path)
    assert corpus.articles == {"x": "Text."} and corpus.people is None
