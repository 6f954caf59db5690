"""No N+1: a list page costs the same number of queries for 1 item as for 50."""
from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

pytestmark = pytest.mark.django_db


def _queries(client, url):  # type: ignore[no-untyped-def]
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _people(build, post, start, count):  # type: ignore[no-untyped-def]
    people = [build.person(f"Person {start + i}", "KR" if i % 2 else "US", aliases=(f"Alias {start + i}",))
              for i in range(count)]
    for p in people:
        build.tenure(p, post, start="2020")
    return people


def _meetings(build, people, start, count):  # type: ignore[no-untyped-def]
    for i in range(start, start + count):
        meeting = build.meeting(people[i % len(people)], people[(i + 1) % len(people)], date=f"2025-{1 + i % 12:02d}")
        article = build.article(f"https://example.com/{i}")
        build.cite(meeting.pk, article.pk, f"Sentence {i}.")


URLS = [
    "/api/v1/meetings/?page_size=50",
    "/api/v1/meetings/?page_size=50&country_pair=KR,US&q=Sentence",
    "/api/v1/people/?page_size=50",
    "/api/v1/articles/?page_size=50",
    "/api/v1/meetings/?format=csv",
    "/api/v1/export/meetings.jsonl",
]


def test_list_query_count_is_constant_for_1_and_50_items(anon, build):
    # given one meeting (and two people)
    post = build.post("Minister", "Ministry", "KR")
    people = _people(build, post, 0, 2)
    _meetings(build, people, 0, 1)
    one = {url: _queries(anon, url) for url in URLS}
    # when there are fifty of each
    people += _people(build, post, 2, 48)
    _meetings(build, people, 1, 49)
    fifty = {url: _queries(anon, url) for url in URLS}
    # then
    assert fifty == one
    assert len(anon.get(URLS[0]).json()["results"]) == 50
