"""The corpus scoring contract (see the corpus README), plus confidence calibration.

- Names compare after casefold, accent stripping and dropping non-letters; a name matches a
  person when it equals the canonical name or any alias in people.json.
- A predicted meeting matches a gold meeting of the same article when they share at least two
  participants; one-to-one, largest overlap first.
- Meeting P/R/F1 over all articles; participant F1 inside matched pairs; date accuracy (same
  day or month at the gold precision) over matched gold meetings with a date; location, status
  and mode accuracy over matched gold meetings that state them.
- Links: over gold event slugs in two or more articles, the share the system holds as one
  meeting record (recall); over article pairs the system put under one meeting, the share
  that really are one event (precision).
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

from .names import normalize_name


@dataclass
class Corpus:
    path: Path
    articles: dict[str, str]
    gold: list[dict]
    people: list[dict] | None

    def in_published_order(self) -> list[dict]:
        """Gold records by published date (undated last), then id: the ingestion order."""
        return sorted(self.gold, key=lambda g: (g.get("published") is None, g.get("published") or "", g["article"]))


def load_corpus(path: str | Path) -> Corpus:
    """Read `articles/<id>.txt`, `gold.jsonl` and the optional `people.json` of a corpus dir."""
    root = Path(path)
    gold = [json.loads(line) for line in (root / "gold.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    articles = {g["article"]: (root / "articles" / f"{g['article']}.txt").read_text(encoding="utf-8") for g in gold}
    people_file = root / "people.json"
    people = json.loads(people_file.read_text(encoding="utf-8")) if people_file.exists() else None
    return Corpus(root, articles, gold, people)


class NameIndex:
    """Maps any surface name to its person key: the canonical name when people.json knows it."""

    def __init__(self, people: list[dict] | None):
        self.index: dict[str, str] = {}
        for p in people or []:
            for n in [p["name"], *(p.get("aliases") or [])]:
                self.index.setdefault(normalize_name(n), p["name"])

    def key(self, name: str) -> str:
        norm = normalize_name(name)
        return self.index.get(norm, norm)

    def keys(self, names: list[str]) -> set[str]:
        return {self.key(n) for n in names}


def match_meetings(gold: list[dict], pred: list[dict], names: NameIndex) -> list[tuple[int, int, int]]:
    """One-to-one (gold index, predicted index, overlap) pairs sharing ≥2 participants."""
    cands = []
    for gi, g in enumerate(gold):
        gk = names.keys(g["participants"])
        for pi, p in enumerate(pred):
            ov = len(gk & names.keys(p["participants"]))
            if ov >= 2:
                cands.append((ov, -gi, -pi, gi, pi))
    cands.sort(reverse=True)
    used_g, used_p, out = set(), set(), []
    for ov, _, _, gi, pi in cands:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi, ov))
    return sorted(out)


def date_correct(gold_date: str, gold_precision: str | None, pred_date: str | None) -> bool:
    """Same day or month at the gold precision (a coarser prediction is wrong)."""
    n = {"day": 10, "month": 7, "year": 4}.get(gold_precision or "", len(gold_date))
    return bool(pred_date) and len(pred_date) >= n and pred_date[:n] == gold_date[:n]


def _loc_key(loc: str) -> str:
    k = normalize_name(loc)
    return k[:-2] if k.endswith("dc") and len(k) > 2 else k


def _ratio(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _f1(p: float | None, r: float | None) -> float | None:
    if p is None or r is None:
        return None
    return round(2 * p * r / (p + r), 4) if p + r else 0.0


def score(gold: list[dict], predictions: list[dict], people: list[dict] | None) -> dict:
    """All contract metrics. `predictions` are records in the gold layout; a meeting may carry
    `confidence` and `meeting_id` (the record it ended on, for the link metrics)."""
    names = NameIndex(people)
    pred_by = {p["article"]: p for p in predictions}
    tp = n_pred = n_gold = 0
    part_tp = part_pred = part_gold = 0
    acc = {k: [0, 0] for k in ("date", "location", "status", "mode")}
    matched_event: dict[tuple[str, int], str] = {}  # (article, pred index) -> gold event slug
    confident = [0, 0]
    bins: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for g in gold:
        a = g["article"]
        gm = g.get("meetings") or []
        pm = (pred_by.get(a) or {}).get("meetings") or []
        n_gold += len(gm)
        n_pred += len(pm)
        pairs = match_meetings(gm, pm, names)
        tp += len(pairs)
        right = set()
        for gi, pi, ov in pairs:
            G, P = gm[gi], pm[pi]
            gk, pk = names.keys(G["participants"]), names.keys(P["participants"])
            part_tp += ov
            part_pred += len(pk)
            part_gold += len(gk)
            if gk == pk:
                right.add(pi)
            if G.get("date"):
                acc["date"][1] += 1
                acc["date"][0] += date_correct(G["date"], G.get("precision"), P.get("date"))
            if G.get("location"):
                acc["location"][1] += 1
                acc["location"][0] += bool(P.get("location")) and _loc_key(P["location"]) == _loc_key(G["location"])
            for k in ("status", "mode"):
                if G.get(k):
                    acc[k][1] += 1
                    acc[k][0] += P.get(k) == G[k]
            if G.get("event"):
                matched_event[(a, pi)] = G["event"]
        for pi, P in enumerate(pm):
            c = P.get("confidence")
            if c is None:
                continue
            ok = pi in right
            b = f"{min(int(c * 10), 9) / 10:.1f}"
            bins[b][0] += ok
            bins[b][1] += 1
            if c >= 0.9:
                confident[0] += ok
                confident[1] += 1
    precision, recall = _ratio(tp, n_pred), _ratio(tp, n_gold)
    pp, pr = _ratio(part_tp, part_pred), _ratio(part_tp, part_gold)
    out = {
        "articles": len(gold),
        "gold_meetings": n_gold,
        "predicted_meetings": n_pred,
        "matched": tp,
        "meeting_precision": precision,
        "meeting_recall": recall,
        "meeting_f1": _f1(precision, recall) if n_pred and n_gold else (1.0 if not n_pred and not n_gold else 0.0),
        "participant_f1": _f1(pp, pr),
        **{f"{k}_accuracy": _ratio(*v) for k, v in acc.items()},
        **{f"{k}_scored": v[1] for k, v in acc.items()},
        "confident_predictions": confident[1],
        "confident_accuracy": _ratio(*confident),
        "calibration": {b: {"right": v[0], "n": v[1]} for b, v in sorted(bins.items())},
    }
    out.update(link_metrics(gold, predictions, matched_event))
    return out


def link_metrics(gold: list[dict], predictions: list[dict], matched_event: dict[tuple[str, int], str]) -> dict:
    """Cross-article link recall and precision from predicted `meeting_id`s (None without ids)."""
    has_ids = any(m.get("meeting_id") is not None for p in predictions for m in p.get("meetings") or [])
    if not has_ids:
        return {"link_recall": None, "link_precision": None, "link_events": None, "link_pairs": None}
    # gold events in ≥2 articles
    event_articles: dict[str, set[str]] = defaultdict(set)
    for g in gold:
        for m in g.get("meetings") or []:
            if m.get("event"):
                event_articles[m["event"]].add(g["article"])
    multi = {e for e, arts in event_articles.items() if len(arts) >= 2}
    event_ids: dict[str, dict[str, set]] = defaultdict(lambda: defaultdict(set))
    article_meeting: list[tuple[str, int, object]] = []
    for p in predictions:
        for pi, m in enumerate(p.get("meetings") or []):
            mid = m.get("meeting_id")
            if mid is None:
                continue
            article_meeting.append((p["article"], pi, mid))
            ev = matched_event.get((p["article"], pi))
            if ev in multi:
                event_ids[ev][p["article"]].add(mid)
    linked = 0
    for ev in multi:
        per_article = event_ids.get(ev, {})
        ids = [per_article.get(a, set()) for a in event_articles[ev]]
        if all(ids) and set.intersection(*ids):
            linked += 1
    by_id: dict[object, list[tuple[str, int]]] = defaultdict(list)
    for a, pi, mid in article_meeting:
        by_id[mid].append((a, pi))
    pairs = right = 0
    for members in by_id.values():
        for (a1, p1), (a2, p2) in combinations(members, 2):
            if a1 == a2:
                continue
            pairs += 1
            e1, e2 = matched_event.get((a1, p1)), matched_event.get((a2, p2))
            right += e1 is not None and e1 == e2
    return {
        "link_recall": _ratio(linked, len(multi)),
        "link_precision": _ratio(right, pairs),
        "link_events": len(multi),
        "link_pairs": pairs,
    }


# ------------------------------------------------------------------------- cross-article
def _bounds(date: str) -> tuple[dt.date, dt.date]:
    """First and last day a partial date YYYY[-MM[-DD]] can mean."""
    y = int(date[:4])
    if len(date) >= 10:
        d = dt.date.fromisoformat(date[:10])
        return d, d
    if len(date) >= 7:
        m = int(date[5:7])
        return dt.date(y, m, 1), dt.date(y, m, calendar.monthrange(y, m)[1])
    return dt.date(y, 1, 1), dt.date(y, 12, 31)


MAX_GAP_DAYS = 14  # same_meeting: two meetings whose days lie further apart are never the same
PLANNED_HORIZON_DAYS = 31  # an undated planned meeting: within a month of its report
HELD_LOOKBACK_DAYS = 45  # an undated held meeting: within six weeks before its report


def date_window(m: dict) -> tuple[dt.date, dt.date] | None:
    """The days a meeting can fall on: its date, else a window around the article's date."""
    if m.get("date"):
        return _bounds(m["date"])
    rep = m.get("reported")
    if not rep:
        return None
    day = dt.date.fromisoformat(rep[:10])
    if m.get("status") == "planned":
        return day - dt.timedelta(days=1), day + dt.timedelta(days=PLANNED_HORIZON_DAYS)
    return day - dt.timedelta(days=HELD_LOOKBACK_DAYS), day + dt.timedelta(days=1)


def same_meeting(a: dict, b: dict) -> float:
    """How likely two meeting descriptions (from different articles) are one real meeting.

    Each is a dict with `participants` (person keys), `date` (partial date or None), `status`,
    `mode` and optionally `reported` (the article's published date). Needs the same
    participants (a superset sharing ≥2 counts less) and compatible dates: a day inside a month,
    a day apart (time zones), a planned meeting before its held one; an undated mention is
    placed near its report (planned: the month after; held: the six weeks before). 0.0 means
    not the same; callers link at ≥ 0.5.
    """
    pa, pb = set(a["participants"]), set(b["participants"])
    common = pa & pb
    if len(common) < 2:
        return 0.0
    score = 1.0 if pa == pb else 0.7
    da, db = a.get("date"), b.get("date")
    statuses = {a.get("status"), b.get("status")}
    wa, wb = date_window(a), date_window(b)
    if wa and wb:
        gap = max((wb[0] - wa[1]).days, (wa[0] - wb[1]).days, 0)
        if gap == 0:
            if da and db:
                score *= 1.0 if len(da) == len(db) else 0.9
            else:
                # share of the dated side's span that the undated window covers
                dated = wa if da else wb
                other = wb if da else wa
                span = (dated[1] - dated[0]).days + 1
                inside = (min(dated[1], other[1]) - max(dated[0], other[0])).days + 1
                score *= 0.75 if da or db else 0.65
                if inside < span:
                    score *= 0.6
        elif gap == 1:
            score *= 0.85
        elif statuses == {"planned", "held"} and gap <= MAX_GAP_DAYS and da and db:
            score *= 0.6
        else:
            return 0.0
    elif da or db:
        score *= 0.75
    else:
        score *= 0.65
    if a.get("mode") and b.get("mode") and a["mode"] != b["mode"]:
        score *= 0.5
    return round(score, 3)
