"""Resolve the date expressions of news copy against the story's base date.

dateparser gets weekdays and month-days wrong for news (NLP-NOTES §3.3), so this is an
in-house resolver: a weekday is the latest such day on or before the base date (the next one
when the clause is about the future), a month-day or bare month takes the nearest year biased
to the past (to the future for planned events), "earlier this month" is the base month, and
week or year granularity gives nothing (the contract records day or month precision only).
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from .text import MONTH_RE, MONTHS

WEEKDAYS = {d: i for i, d in enumerate(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"])}
_WD = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"


@dataclass(frozen=True)
class DateMention:
    """A resolved date expression inside a string: where it is, its value and precision."""

    start: int
    end: int
    value: str
    precision: str  # "day" | "month"
    end_value: str | None = None  # the last day of a range


_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("iso", re.compile(r"\b(?P<y>\d{4})-(?P<m>\d{2})-(?P<d>\d{2})\b")),
    ("md_range", re.compile(
        r"\b(?P<mon>" + MONTH_RE + r")\s+(?P<d>\d{1,2})\s*[-–]\s*(?:(?P<mon2>" + MONTH_RE
        + r")\s+)?(?P<d2>\d{1,2})\b(?:,?\s+(?P<y>\d{4}))?")),
    ("md", re.compile(
        r"\b(?P<mon>" + MONTH_RE + r")\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?\b(?!\s*[-–:]\s*\d)"
        r"(?:,?\s+(?P<y>\d{4})\b)?")),
    ("dm", re.compile(
        r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>" + MONTH_RE + r")(?:,?\s+(?P<y>\d{4})\b)?")),
    ("month_year", re.compile(r"\b(?i:in\s+|since\s+|last\s+|this\s+|early\s+|late\s+|mid-?)?"
                              r"(?P<mon>" + MONTH_RE + r")\s+(?P<y>\d{4})\b")),
    ("month", re.compile(r"\b(?P<pre>(?i:in|since|during|last|this|early|late|mid-?|next))\s+(?P<mon>"
                         + MONTH_RE + r")(?![\w-])(?!\s+\d)")),
    ("this_month", re.compile(r"\b(?:earlier|later|early|late)?\s*(?:this|the current)\s+month\b", re.I)),
    ("last_month", re.compile(r"\b(?:last|previous|past)\s+month\b", re.I)),
    ("next_month", re.compile(r"\bnext\s+month\b", re.I)),
    ("yesterday", re.compile(r"\byesterday\b", re.I)),
    ("today", re.compile(r"\btoday\b|\bthis (?:morning|afternoon|evening)\b|\btonight\b", re.I)),
    ("tomorrow", re.compile(r"\btomorrow\b", re.I)),
    ("weekday", re.compile(r"\b(?:(?i:on|late|early|last|this|next)\s+)?(?P<wd>" + _WD + r")(?:['’]s)?\b")),
]
# A weekday tied to a week offset ("in two weeks, on Thursday", "next week on Monday"):
# the day is not fixed by the text.
_WEEK_SHIFT = re.compile(r"\b(?:in\s+(?:\w+\s+)?weeks?|next\s+week|last\s+week|weeks?\s+later)\b", re.I)


def _nearest(month: int, day: int | None, base: dt.date, future: bool) -> dt.date | None:
    cands = []
    for year in (base.year - 1, base.year, base.year + 1):
        try:
            cands.append(dt.date(year, month, day or 1))
        except ValueError:
            continue
    if not cands:
        return None
    if day is None:
        # month precision: compare months
        def key_m(c: dt.date) -> tuple[int, int]:
            return (c.year, c.month)
        b = (base.year, base.month)
        if future:
            ok = [c for c in cands if key_m(c) >= b]
            return min(ok) if ok else max(cands)
        ok = [c for c in cands if key_m(c) <= b]
        return max(ok) if ok else min(cands)
    slack = dt.timedelta(days=1)
    if future:
        ok = [c for c in cands if c >= base - slack]
        return min(ok) if ok else max(cands)
    ok = [c for c in cands if c <= base + slack]
    return max(ok) if ok else min(cands)


def _shift_month(base: dt.date, delta: int) -> str:
    y, m = base.year, base.month + delta
    while m < 1:
        y, m = y - 1, m + 12
    while m > 12:
        y, m = y + 1, m - 12
    return f"{y:04d}-{m:02d}"


def find_dates(text: str, base: dt.date | None, *, future: bool = False) -> list[DateMention]:
    """Every date expression in `text` that fixes a day or a month, resolved against `base`.

    Expressions that need a base (weekdays, "earlier this month", a month-day without a year)
    are skipped when `base` is None. Spans never overlap; earlier patterns win.
    """
    found: list[DateMention] = []
    taken: list[tuple[int, int]] = []
    for kind, pattern in _PATTERNS:
        for m in pattern.finditer(text):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            try:
                res = _resolve(kind, m, text, base, future)
            except (OverflowError, ValueError):  # the date would fall outside years 1-9999
                res = None
            if res is None or not all(_in_calendar(v) for v in res[::2] if v):
                continue
            value, precision, end_value = res
            found.append(DateMention(m.start(), m.end(), value, precision, end_value))
            taken.append((m.start(), m.end()))
    return sorted(found, key=lambda d: d.start)


def _in_calendar(value: str) -> bool:
    """A partial date's year has four digits and is not 0000 (Python dates start at year 1)."""
    year = value.split("-", 1)[0]
    return len(year) == 4 and year != "0000"


def _resolve(kind: str, m: re.Match[str], text: str, base: dt.date | None, future: bool):
    g = m.groupdict()
    if kind == "iso":
        try:
            return dt.date(int(g["y"]), int(g["m"]), int(g["d"])).isoformat(), "day", None
        except ValueError:
            return None
    if kind in ("md", "dm", "md_range"):
        month = MONTHS[g["mon"].rstrip(".").lower()]
        day = int(g["d"])
        if g.get("y"):
            try:
                start = dt.date(int(g["y"]), month, day)
            except ValueError:
                return None
        elif base is None:
            return None
        else:
            start = _nearest(month, day, base, future)
            if start is None:
                return None
        end_value = None
        if kind == "md_range":
            month2 = MONTHS[g["mon2"].rstrip(".").lower()] if g.get("mon2") else month
            year2 = start.year + (1 if month2 < month else 0)
            try:
                end_value = dt.date(year2, month2, int(g["d2"])).isoformat()
            except ValueError:
                return None
        return start.isoformat(), "day", end_value
    if kind == "month_year":
        return f"{int(g['y']):04d}-{MONTHS[g['mon'].rstrip('.').lower()]:02d}", "month", None
    if base is None:
        return None
    if kind == "month":
        month = MONTHS[g["mon"].rstrip(".").lower()]
        pre = g["pre"].lower()
        fut = future or pre == "next"
        if pre == "last":
            fut = False
        d = _nearest(month, None, base, fut)
        if d is None:
            return None
        if pre == "last" and (d.year, d.month) == (base.year, base.month):
            d = dt.date(d.year - 1, d.month, 1)
        return f"{d.year:04d}-{d.month:02d}", "month", None
    if kind == "this_month":
        return f"{base.year:04d}-{base.month:02d}", "month", None
    if kind == "last_month":
        return _shift_month(base, -1), "month", None
    if kind == "next_month":
        return _shift_month(base, 1), "month", None
    if kind == "yesterday":
        return (base - dt.timedelta(days=1)).isoformat(), "day", None
    if kind == "today":
        return base.isoformat(), "day", None
    if kind == "tomorrow":
        return (base + dt.timedelta(days=1)).isoformat(), "day", None
    if kind == "weekday":
        window = text[max(0, m.start() - 30): m.end() + 30]
        if _WEEK_SHIFT.search(window):
            return None
        wd = WEEKDAYS[g["wd"].lower()]
        lead = m.group(0).split()[0].lower() if " " in m.group(0) else ""
        if lead == "next":
            future = True
        if lead == "last":
            future = False
        if future:
            delta = (wd - base.weekday()) % 7
        else:
            delta = -((base.weekday() - wd) % 7)
            if lead == "last" and delta == 0:
                delta = -7
        return (base + dt.timedelta(days=delta)).isoformat(), "day", None
    return None


def resolve(expression: str, base: dt.date | None, *, future: bool = False) -> tuple[str, str] | None:
    """(partial date, precision) for the first date expression in `expression`, else None."""
    found = find_dates(expression, base, future=future)
    if not found:
        return None
    return found[0].value, found[0].precision
