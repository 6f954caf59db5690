"""Article text in, what a careful curator would record out. Pure Python, no ORM.

The Django side (tasks, `manage.py evaluate`) calls `extract()` with the known persons from
the database in the people.json layout and a tenure lookup, then turns the result into
proposals; `ArticleExtraction.as_gold()` gives the corpus layout for scoring.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from .meetings import MeetingMention, extract_meetings
from .names import Gazetteer, Person, TitleResolver, alias_suggestions, find_people
from .text import Sentence, base_date, parse_dateline, split_sentences

# Only this many leading characters are analysed (a long news story is ~60,000): hostile input
# such as a 1 MB page of names must not hold a worker for minutes. Offsets stay valid (a prefix).
MAX_TEXT = 100_000


@dataclass
class PersonFound:
    """A person the article names: known (name = canonical) or a new-person candidate."""

    name: str
    known: bool
    mentions: list[dict]
    title: str | None = None
    organization: str | None = None
    country: str | None = None


@dataclass
class ArticleExtraction:
    published: str | None
    base_date: str | None
    dateline_city: str | None
    persons: list[PersonFound]
    meetings: list[MeetingMention]
    alias_suggestions: list[dict] = field(default_factory=list)

    def as_gold(self, article: str) -> dict:
        """The article in the corpus gold layout (plus confidence and evidence)."""
        return {
            "article": article,
            "published": self.published,
            "meetings": [meeting_record(m) for m in self.meetings],
        }


def meeting_record(m: MeetingMention) -> dict:
    return {
        "participants": list(m.participants),
        "date": m.date,
        "precision": m.precision,
        "location": m.location,
        "status": m.status,
        "mode": m.mode,
        "kind": m.kind,
        "occasion": m.occasion,
        "topics": list(m.topics),
        "confidence": m.confidence,
        "evidence": [asdict(e) for e in m.evidence],
        "reported": m.reported,  # lets same_meeting place an undated mention near its report
    }


def extract(
    text: str,
    *,
    published: str | None,
    known_people: list[dict] | Gazetteer,
    title_resolver: TitleResolver | None = None,
    ner: Callable[[str], list[tuple[int, int]]] | None = None,
) -> ArticleExtraction:
    """Persons, meetings and alias suggestions of one article.

    `known_people` is the people.json layout (or a prebuilt `Gazetteer`, which is what a worker
    should keep between articles); `title_resolver(title, country, date)` names the holder of a
    title such as "foreign minister" on the article date, or returns None. `ner(text)` may
    return PERSON character spans from a model (see `ner.py`); it only adds new-person
    candidates the rules missed.
    """
    text = text[:MAX_TEXT]
    gazetteer = known_people if isinstance(known_people, Gazetteer) else Gazetteer(known_people)
    dateline = parse_dateline(text, published)
    base: dt.date | None = base_date(text, published)
    body_start = dateline.end if dateline else 0
    sentences = _trim(split_sentences(text), body_start, text)
    found = find_people(
        text, gazetteer, start=body_start, title_resolver=title_resolver,
        date=base.isoformat() if base else None, extra_spans=ner(text) if ner else (),
    )
    meetings = extract_meetings(text, sentences, found.mentions, base)
    persons = []
    in_meetings = {k for m in meetings for k in m.participants}
    for key, p in found.persons.items():
        ms = [{"start": m.start, "end": m.end, "text": m.text, "how": m.how} for m in found.mentions if m.key == key]
        if not ms or (all(m["how"] in ("bare", "coref") for m in ms) and key not in in_meetings):
            continue
        persons.append(PersonFound(key, p.known, ms, p.title, p.organization, p.country))
    kept = {p.name for p in persons}
    new: list[Person] = [p for p in found.persons.values() if not p.known and p.key in kept]
    return ArticleExtraction(
        published=published,
        base_date=base.isoformat() if base else None,
        dateline_city=dateline.city if dateline else None,
        persons=persons,
        meetings=meetings,
        alias_suggestions=alias_suggestions(new, gazetteer) if gazetteer.persons else [],
    )


def _trim(sentences: list[Sentence], start: int, text: str) -> list[Sentence]:
    out = []
    for s in sentences:
        if s.end <= start:
            continue
        if s.start < start:
            s = Sentence(start, s.end, text[start:s.end])
        out.append(s)
    return out
