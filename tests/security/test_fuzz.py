"""Property-based fuzzing: the parsers and the extraction pipeline never raise and stay valid."""
import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings.ingest.decode import CONTROL, DecodeError, decode_utf8, decode_web
from meetings.ingest.feeds import FeedError, parse_feed
from meetings.suggest.dates import find_dates, resolve
from meetings.suggest.pipeline import extract
from tracker.common import partialdate

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN = [
    {"id": "p1", "name": "Cho Hyun", "country": "KR", "aliases": ["Cho Hyoung"],
     "title": "Minister of Foreign Affairs", "organization": "Ministry of Foreign Affairs"},
    {"id": "p2", "name": "Marco Rubio", "country": "US", "aliases": [],
     "title": "Secretary of State", "organization": "Department of State"},
    {"id": "p3", "name": "Park Yoon-joo", "country": "KR", "aliases": ["Park Yun-ju"]},
]
# Words the pipeline reacts to, so generated text reaches the deep code paths, mixed with noise.
WORDS = [
    "Cho Hyun", "Marco Rubio", "Park Yoon-joo", "Rubio", "Cho", "Foreign Minister", "Secretary of State",
    "Vice Minister", "President", "Xi Jinping", "met", "held talks with", "will meet", "meeting", "talks",
    "discussed", "called off", "by phone", "in Washington", "in Seoul", "at the State Department", "on",
    "Monday", "Thursday", "last Friday", "next week", "yesterday", "today", "tomorrow", "this month",
    "March 3", "Aug. 1", "1-2 September", "Sept. 30-Oct. 2", "2025-02-29", "2025-08-01", "in May 2024",
    "0000", "9999-12-31", "the", "and", "with", "his", "her", "counterpart", "said", "SEOUL, Aug. 1 (Yonhap) --",
    ".", ",", "!", "?", "\n", "\n\n", "(", ")", "\"", "'s", "—", "-", "U.S.", "Mr.", "Gen.", "J.",
]
texts = st.one_of(
    st.text(max_size=400),
    st.lists(st.one_of(st.sampled_from(WORDS), st.text(max_size=8)), max_size=80).map(" ".join),
)
published = st.one_of(st.none(), st.dates().map(dt.date.isoformat), st.sampled_from(["2025", "2025-08", "garbage"]))


def _valid_partial(value):
    return partialdate.validate(value) == value


@FUZZ
@given(text=texts, published=published)
def test_extract_never_raises_and_output_is_valid(text, published):
    # given: arbitrary article text and publication date / when: extracted
    result = extract(text, published=published, known_people=KNOWN)
    # then: every meeting is well-formed and its evidence points into the text
    for m in result.meetings:
        assert len(set(m.participants)) >= 2
        assert 0.0 <= m.confidence <= 1.0
        if m.date is not None:
            assert _valid_partial(m.date)
            assert m.precision == partialdate.precision(m.date)
        for ev in m.evidence:
            assert 0 <= ev.start <= ev.end <= len(text)
            assert text[ev.start:ev.end] == ev.text
    for p in result.persons:
        for mention in p.mentions:
            assert text[mention["start"]:mention["end"]] == mention["text"]
    if result.base_date is not None:
        assert _valid_partial(result.base_date)


@FUZZ
@given(text=texts, base=st.one_of(st.none(), st.dates()), future=st.booleans())
def test_relative_date_resolver_never_raises(text, base, future):
    # given: any text and any base date (including the first and last representable days)
    # when: its date expressions are resolved
    found = find_dates(text, base, future=future)
    # then: spans are in the text, in order, not overlapping, and values are valid partial dates
    previous_end = 0
    for d in found:
        assert previous_end <= d.start < d.end <= len(text)
        previous_end = d.end
        assert _valid_partial(d.value) and d.precision == partialdate.precision(d.value)
        if d.end_value is not None:
            assert _valid_partial(d.end_value)
    resolved = resolve(text, base, future=future)
    assert resolved is None or _valid_partial(resolved[0])


@pytest.mark.parametrize("base", [dt.date.min, dt.date.max])
@pytest.mark.parametrize("expr", ["yesterday", "tomorrow", "last Monday", "next Sunday", "next month",
                                  "last month", "in March", "next March", "March 3", "Jan 30-Feb 2"])
def test_relative_dates_at_the_ends_of_the_calendar(expr, base):
    # given: a base date at the very start or end of the calendar / when: resolved
    # then: no OverflowError escapes; a date outside the calendar is simply not found
    resolved = resolve(expr, base)
    assert resolved is None or _valid_partial(resolved[0])


partial_like = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A\d{4}(-\d{2}(-\d{2})?)?\Z"),
    st.tuples(st.dates(), st.sampled_from([4, 7, 10])).map(lambda p: p[0].isoformat()[: p[1]]),
)


@FUZZ
@given(value=st.one_of(partial_like, st.none(), st.integers()))
def test_partial_dates_raise_only_invalid_partial_date(value):
    # given: anything / when: validated and turned into first and last days
    try:
        partialdate.validate(value)
    except partialdate.InvalidPartialDate:
        return
    # then: a value that validates always has a first day no later than its last day
    assert partialdate.first_day(value) <= partialdate.last_day(value)
    assert partialdate.contains(value, value, value)


@FUZZ
@given(start=st.one_of(st.none(), partial_like), end=st.one_of(st.none(), partial_like), on=partial_like)
def test_contains_raises_only_invalid_partial_date(start, end, on):
    try:
        result = partialdate.contains(start, end, on)
    except partialdate.InvalidPartialDate:
        return
    assert isinstance(result, bool)


@FUZZ
@given(data=st.binary(max_size=2000), declared=st.one_of(st.none(), st.sampled_from(
    ["utf-8", "latin-1", "utf-16", "shift_jis", "x-bogus", "", "utf-8\x00", "euc-kr"])))
def test_decode_web_returns_clean_text_or_decode_error(data, declared):
    try:
        text, encoding = decode_web(data, declared=declared)
    except DecodeError:
        return
    assert isinstance(text, str) and isinstance(encoding, str)
    assert not CONTROL.search(text)


@FUZZ
@given(data=st.binary(max_size=2000))
def test_decode_utf8_returns_clean_text_or_decode_error(data):
    try:
        text = decode_utf8(data)
    except DecodeError:
        return
    assert not CONTROL.search(text) and "\r" not in text


feed_items = st.lists(
    st.tuples(st.text(max_size=30), st.text(max_size=40), st.text(max_size=30)), max_size=5
)


@FUZZ
@given(items=feed_items, noise=st.binary(max_size=50), cut=st.integers(min_value=0, max_value=2000))
def test_feed_parsing_returns_entries_or_feed_error(items, noise, cut):
    # given: an RSS document with arbitrary titles, links and dates, possibly truncated or noisy
    from xml.sax.saxutils import escape

    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link><pubDate>{escape(d)}</pubDate></item>"
        for t, link, d in items
    )
    doc = f'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>{body}</channel></rss>'.encode()
    # when: parsed
    try:
        entries = parse_feed(doc[:cut] + noise if cut < len(doc) else doc)
    except FeedError:
        return
    # then: every entry has a guid and a link, and any timestamp is aware
    for e in entries:
        assert e.guid and e.url
        assert e.published is None or e.published.tzinfo is not None


@pytest.mark.parametrize("value", ["0000", "0000-01-01", "2025\n", "２０２５", "٢٠٢٥-٠١"])
def test_partial_dates_refuse_year_zero_trailing_newlines_and_non_ascii_digits(value):
    # given: values the old pattern let through (then first_day crashed or text order broke)
    # when/then: they are refused with the documented error
    with pytest.raises(partialdate.InvalidPartialDate):
        partialdate.validate(value)


def test_declared_charset_with_a_nul_byte_falls_back_instead_of_raising():
    # given: a declared charset name containing a NUL (codecs.lookup raises ValueError)
    # when/then: decoding falls back to UTF-8
    assert decode_web("Séoul".encode(), declared="utf-8\x00") == ("Séoul", "utf-8")
