"""Sentence offsets and datelines."""
from __future__ import annotations

import datetime as dt

from meetings.suggest.text import base_date, parse_dateline, split_sentences


def test_sentences_carry_offsets_into_the_original_text_and_skip_abbreviations():
    text = "U.S. Secretary Antony J. Blinken met Gen. Kim in Washington, D.C. on Nov. 3.\nHe left. Then he returned!"
    sentences = split_sentences(text)
    assert [s.text for s in sentences] == [
        "U.S. Secretary Antony J. Blinken met Gen. Kim in Washington, D.C. on Nov. 3.",
        "He left.",
        "Then he returned!",
    ]
    assert all(text[s.start:s.end] == s.text for s in sentences)


def test_wire_datelines():
    dl = parse_dateline("SEOUL, Nov. 21 (Yonhap) -- South Korea said", "2025-11-21T09:00:00+09:00")
    assert (dl.city, dl.date) == ("Seoul", dt.date(2025, 11, 21))
    assert parse_dateline("Seoul, Nov 21 South Korea's minister", None).day == 21
    marked = parse_dateline(" date 2025-08-05 Seoul, Aug 5 South Korea and", None)
    assert (marked.city, marked.date) == ("Seoul", dt.date(2025, 8, 5))
    assert parse_dateline("WASHINGTON (AP) -- The talks", None).city == "Washington"
    assert parse_dateline("By Kim Soo-yeon\nSEOUL, Nov. 3 (Yonhap) -- x", "2025-11-03").day == 3
    assert parse_dateline("President Lee met Trump.", None) is None
    assert parse_dateline("SINGAPORE (Reuters) - U.S. Defense Secretary", None).city == "Singapore"


def test_base_date_prefers_published_local_date_then_dateline():
    assert base_date("anything", "2025-01-06T08:30:00+09:00") == dt.date(2025, 1, 6)
    assert base_date(" date 2025-10-10 Seoul: text", None) == dt.date(2025, 10, 10)
    assert base_date("No dateline here.", None) is None


def test_dateline_day_beats_a_published_timestamp_a_day_off():
    # a Seoul story filed on the 6th local time, published with a UTC timestamp of the 5th
    assert base_date("SEOUL, Jan. 6 (Yonhap) -- Talks", "2025-01-05T23:30:00Z") == dt.date(2025, 1, 6)
    # a dateline far from the published date is not trusted
    assert base_date("SEOUL, Jan. 20 (Yonhap) -- Talks", "2025-01-05") == dt.date(2025, 1, 5)
