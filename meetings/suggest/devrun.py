"""Dev harness: the pure pipeline over a corpus dir, in process, no database.

    python -m meetings.suggest.devrun CORPUS_DIR [--no-people] [--json] [--predictions OUT]

Articles run in published order; meetings are linked across articles in memory with
`same_meeting` (the DB matcher does the same against records), so the link metrics are those
of an accept-everything curator.
"""
from __future__ import annotations

import argparse
import json
import sys
import time

from .names import Gazetteer, normalize_name, tenure_title_resolver
from .pipeline import extract, meeting_record
from .scoring import load_corpus, same_meeting, score

LINK_THRESHOLD = 0.5


def run(corpus_dir: str, *, use_people: bool = True, ner=None) -> tuple[list[dict], dict, list[float]]:
    corpus = load_corpus(corpus_dir)
    people = corpus.people if use_people and corpus.people else []
    gazetteer = Gazetteer(people)
    resolver = tenure_title_resolver(people) if people else None
    records: list[dict] = []
    predictions, timings = [], []
    for g in corpus.in_published_order():
        t0 = time.process_time()
        ex = extract(corpus.articles[g["article"]], published=g.get("published"),
                     known_people=gazetteer, title_resolver=resolver, ner=ner)
        timings.append(time.process_time() - t0)  # CPU time: robust to a busy machine
        meetings = []
        for m in ex.meetings:
            rec = meeting_record(m)
            rec["meeting_id"] = link(records, rec)
            meetings.append(rec)
        predictions.append({"article": g["article"], "published": g.get("published"), "meetings": meetings})
    return predictions, score(corpus.gold, predictions, corpus.people), timings


def link(records: list[dict], meeting: dict) -> int:
    """Attach a meeting to the best matching record, or open a new one; returns its id."""
    keyed = dict(meeting, participants=[normalize_name(p) for p in meeting["participants"]])
    best, best_score = None, LINK_THRESHOLD
    for rec in records:
        s = same_meeting(rec, keyed)
        if s >= best_score:
            best, best_score = rec, s
    if best is None:
        best = {"id": len(records) + 1, **{k: keyed.get(k) for k in ("participants", "date", "precision", "status", "mode", "reported")}}
        records.append(best)
        return best["id"]
    if keyed["status"] == "held" and best["status"] == "planned":
        best["status"] = "held"
        best["date"] = keyed["date"] or best["date"]
    elif keyed.get("date") and (not best["date"] or len(keyed["date"]) > len(best["date"])):
        best["date"] = keyed["date"]
    return best["id"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m meetings.suggest.devrun", description=__doc__.splitlines()[0])
    ap.add_argument("corpus")
    ap.add_argument("--no-people", action="store_true", help="start cold: no known persons")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--ner", action="store_true", help="add PERSON spans from an installed spaCy model")
    ap.add_argument("--predictions", help="write predictions (gold layout) to this file")
    args = ap.parse_args(argv)
    ner = None
    if args.ner:
        from .ner import load_person_ner

        ner = load_person_ner()
        if ner is None:
            ap.error("--ner: spaCy or its model is not installed")
    predictions, metrics, timings = run(args.corpus, use_people=not args.no_people, ner=ner)
    metrics["cpu_ms_per_article_mean"] = round(1000 * sum(timings) / max(1, len(timings)), 2)
    metrics["cpu_ms_per_article_max"] = round(1000 * max(timings, default=0), 2)
    if args.predictions:
        with open(args.predictions, "w", encoding="utf-8") as fh:
            for p in predictions:
                fh.write(json.dumps(p, ensure_ascii=False) + "\n")
    if args.json:
        json.dump(metrics, sys.stdout, indent=1)
        print()
    else:
        for k, v in metrics.items():
            print(f"{k:28} {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
