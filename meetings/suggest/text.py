"""Sentences with character offsets, and the dateline at the head of a wire story.

Pure Python: no Django, no model. Offsets always index the original article text.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

# Words ending in a period that do not end a sentence.
ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cmdr", "adm", "sgt",
    "sen", "rep", "gov", "pres", "sec", "amb", "st", "jr", "sr", "no", "vs", "etc", "inc",
    "corp", "co", "ltd", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct",
    "nov", "dec", "u.s", "u.k", "u.n", "d.c", "e.u", "a.m", "p.m", "rev", "hon", "ft", "mt",
}

_BOUNDARY = re.compile(r"""[.!?]["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])""")
# A "sentence" longer than this (a page with no punctuation, a 1 MB single line) is cut at
# whitespace into pieces of at most this length, so the per-sentence work stays linear.
MAX_SENTENCE = 2000


@dataclass(frozen=True)
class Sentence:
    """One sentence: its text and where it sits in the article."""

    start: int
    end: int
    text: str


def split_sentences(text: str) -> list[Sentence]:
    """Split into sentences on line breaks and on sentence-final punctuation.

    A period after a known abbreviation ("Gen.", "U.S.", "Nov.") or a single capital
    initial ("Donald J. Trump") does not end a sentence.
    """
    sentences: list[Sentence] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        chunk = line.group()
        cut = 0
        for m in _BOUNDARY.finditer(chunk):
            if chunk[m.start()] == ".":
                word = re.search(r"([\w.]+)$", chunk[max(0, m.start() - 64) : m.start()])
                token = (word.group(1) if word else "").lower().rstrip(".")
                if token in ABBREVIATIONS or (len(token) == 1 and token.isalpha()):
                    continue
            _add(sentences, chunk, base, cut, m.end())
            cut = m.end()
        _add(sentences, chunk, base, cut, len(chunk))
    return sentences


def _add(out: list[Sentence], chunk: str, base: int, start: int, end: int) -> None:
    piece = chunk[start:end]
    lead = len(piece) - len(piece.lstrip())
    piece = piece.strip()
    s = base + start + lead
    while len(piece) > MAX_SENTENCE:
        cut = piece.rfind(" ", MAX_SENTENCE // 2, MAX_SENTENCE)
        cut = cut if cut > 0 else MAX_SENTENCE
        out.append(Sentence(s, s + cut, piece[:cut]))
        rest = piece[cut:]
        s += cut + len(rest) - len(rest.lstrip())
        piece = rest.strip()
    if piece:
        out.append(Sentence(s, s + len(piece), piece))


MONTHS = {
    "january": 1, "february": 2, "march": 3, "april": 4, "may": 5, "june": 6, "july": 7,
    "august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "jun": 6, "jul": 7, "aug": 8, "sep": 9,
    "sept": 9, "oct": 10, "nov": 11, "dec": 12,
}
MONTH_RE = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December"
    r"|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)


@dataclass(frozen=True)
class Dateline:
    """What the story's dateline says: city, date (if any), where the body starts."""

    city: str | None
    date: dt.date | None
    month: int | None
    day: int | None
    end: int


_PREFIX = re.compile(r"^\s*date\s+(\d{4}-\d{2}-\d{2})\s+", re.I)
_CITY = r"(?P<city>[A-Z][A-Za-z.'’-]+(?:\s[A-Z][A-Za-z.'’-]+){0,2})"
_DATELINE = re.compile(
    _CITY + r"\s*,\s*(?:(?P<mon>" + MONTH_RE + r")\s+(?P<day>\d{1,2}))?"
    r"\s*(?:\((?P<agency>[A-Za-z .&-]{2,30})\))?\s*(?:--|—|–|-|:)?\s+"
)
_CITY_ONLY = re.compile(
    _CITY + r"\s*(?:\((?P<agency>[A-Za-z .&-]{2,30})\)\s*(?:--|—|–|-|:)|(?:--|—|–|:))\s+")


def parse_dateline(text: str, published: str | None = None) -> Dateline | None:
    """Read "SEOUL, Nov. 21 (Yonhap) --", "Seoul, Nov 21 ..." or "Seoul:" at the head of a story.

    A leading "date YYYY-MM-DD" marker (as some feeds prepend) gives the date. The year of a
    month-day dateline comes from the published date (or the marker), nearest to it.
    """
    pos = 0
    marked: dt.date | None = None
    m = _PREFIX.match(text)
    if m:
        marked = _safe_date(m.group(1))
        pos = m.end()
    else:
        pos = len(text) - len(text.lstrip())
        byline = re.match(r"(?:By|BY)\s[^\n]{1,60}\n\s*", text[pos:])
        if byline:
            pos += byline.end()
    head = text[pos: pos + 120]
    dm = _DATELINE.match(head)
    if not dm or not (dm.group("mon") or dm.group("agency")):
        dm = _CITY_ONLY.match(head) or (dm if dm and dm.group("mon") else None)
    if not dm:
        return Dateline(None, marked, None, None, pos) if marked else None
    city = dm.group("city")
    if city.isupper():
        city = city.title()
    month = day = None
    groups = dm.groupdict()
    if groups.get("mon"):
        month = MONTHS[groups["mon"].rstrip(".").lower()]
        day = int(groups["day"])
    anchor = marked or (_safe_date(published[:10]) if published and len(published) >= 10 else None)
    date = marked
    if month and day and anchor:
        best = None
        for year in (anchor.year - 1, anchor.year, anchor.year + 1):
            try:
                cand = dt.date(year, month, day)
            except ValueError:
                continue
            if best is None or abs((cand - anchor).days) < abs((best - anchor).days):
                best = cand
        date = best
    return Dateline(city, date, month, day, pos + dm.end())


def _safe_date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def base_date(text: str, published: str | None) -> dt.date | None:
    """The date relative expressions hang on: the published local date, else the dateline's.

    A dateline day within a day of the published date wins: it is the local date where the
    story was filed, while feeds often give the timestamp in UTC or the publisher's zone.
    """
    dl = parse_dateline(text, published)
    if published:
        d = _safe_date(published[:10])
        if d:
            if dl and dl.date and dl.day and abs((dl.date - d).days) <= 1:
                return dl.date
            return d
    return dl.date if dl else None
