"""Relative and absolute date expressions resolved against the article's base date."""
from __future__ import annotations

import datetime as dt

import pytest

from meetings.suggest.dates import find_dates, resolve

D = dt.date


@pytest.mark.parametrize(
    ("expression", "base", "future", "expected"),
    [
        # NLP-NOTES §3.3: a weekday is on or before the base date
        ("on Friday", D(2025, 10, 10), False, ("2025-10-10", "day")),
        ("on Monday", D(2025, 1, 6), False, ("2025-01-06", "day")),
        ("on Friday", D(2025, 10, 12), False, ("2025-10-10", "day")),
        ("late Sunday", D(2025, 1, 6), False, ("2025-01-05", "day")),
        ("Tuesday's talks", D(2025, 8, 5), False, ("2025-08-05", "day")),
        ("last Friday", D(2025, 11, 21), False, ("2025-11-14", "day")),
        # future tense looks forward
        ("will meet on Friday", D(2025, 10, 8), True, ("2025-10-10", "day")),
        # month-day: nearest year, biased to the past
        ("Dec 3", D(2025, 1, 6), False, ("2024-12-03", "day")),
        ("on July 31", D(2025, 8, 1), False, ("2025-07-31", "day")),
        ("Nov. 21", D(2025, 11, 21), False, ("2025-11-21", "day")),
        ("21 November", D(2025, 11, 25), False, ("2025-11-21", "day")),
        ("March 3, 2024", D(2025, 11, 25), False, ("2024-03-03", "day")),
        # ranges give their first day
        ("October 31-November 1", D(2025, 10, 10), True, ("2025-10-31", "day")),
        # months
        ("In October", D(2025, 11, 21), False, ("2025-10", "month")),
        ("in December", D(2025, 11, 21), False, ("2024-12", "month")),
        ("in December", D(2025, 11, 21), True, ("2025-12", "month")),
        ("earlier this month", D(2025, 11, 21), False, ("2025-11", "month")),
        ("last month", D(2025, 1, 6), False, ("2024-12", "month")),
        ("next month", D(2025, 12, 6), True, ("2026-01", "month")),
        ("in October 2024", D(2025, 11, 21), False, ("2024-10", "month")),
        ("yesterday", D(2025, 8, 5), False, ("2025-08-04", "day")),
        ("2025-03-04", None, False, ("2025-03-04", "day")),
        # week or year granularity, or a weekday tied to a week offset: no date
        ("Earlier this week", D(2025, 11, 21), False, None),
        ("in two weeks, on Thursday", D(2025, 8, 5), True, None),
        ("next week", D(2025, 8, 5), True, None),
        ("last year", D(2025, 8, 5), False, None),
        # a modal verb is not the month of May
        ("he may visit", D(2025, 8, 1), False, None),
    ],
)
def test_resolution_table(expression, base, future, expected):
    assert resolve(expression, base, future=future) == expected


def test_range_keeps_its_last_day_and_offsets_index_the_input():
    text = "the APEC summit set for October 31-November 1 in Gyeongju"
    (mention,) = find_dates(text, D(2025, 10, 10), future=True)
    assert text[mention.start:mention.end] == "October 31-November 1"
    assert mention.end_value == "2025-11-01"


def test_relative_expressions_need_a_base_date():
    assert resolve("on Friday", None) is None
    assert resolve("earlier this month", None) is None
