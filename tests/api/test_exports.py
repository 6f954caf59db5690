"""Streamed exports: CSV of the meeting list, JSON Lines of the whole record."""
from __future__ import annotations

import csv
import io
import json

import pytest
from django.http import StreamingHttpResponse

pytestmark = pytest.mark.django_db


@pytest.fixture
def meetings(build):  # type: ignore[no-untyped-def]
    cho, rubio, park = build.person("Cho Hyun", "KR"), build.person("Marco Rubio", "US"), build.person("Park Y", "KR")
    minister = build.post("Minister of Foreign Affairs", "Ministry of Foreign Affairs", "KR")
    build.tenure(cho, minister, start="2025-07")
    first = build.meeting(cho, rubio, date="2025-10", title="Talks, with a comma", topics=["alliance", "tariffs"])
    second = build.meeting(cho, park, date="2025-11-03", title="Call", mode="phone")
    article = build.article("https://example.com/a")
    build.cite(first.pk, article.pk, "They met.")
    return first, second


def test_csv_export_streams_one_row_per_meeting_with_participants_joined(anon, meetings):
    # when
    response = anon.get("/api/v1/meetings/", {"format": "csv", "ordering": "date"})
    # then
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [str(meetings[0].pk), str(meetings[1].pk)]
    first = rows[0]
    assert first["title"] == "Talks, with a comma"
    assert sorted(first["participants"].split("; ")) == ["Cho Hyun", "Marco Rubio"]
    assert "Minister of Foreign Affairs, Ministry of Foreign Affairs" in first["posts"]
    assert first["topics"] == "alliance; tariffs"
    assert first["sources"] == "https://example.com/a"
    assert first["date_precision"] == "month"


def test_csv_export_applies_the_filters(anon, meetings):
    response = anon.get("/api/v1/meetings/", {"format": "csv", "mode": "phone"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r["id"] for r in rows] == [str(meetings[1].pk)]


def test_jsonl_export_streams_every_current_meeting_in_the_list_shape(anon, meetings):
    # when
    response = anon.get("/api/v1/export/meetings.jsonl")
    # then
    assert isinstance(response, StreamingHttpResponse)
    lines = b"".join(response.streaming_content).decode().splitlines()
    items = [json.loads(line) for line in lines]
    assert [i["id"] for i in items] == [str(m.pk) for m in meetings]
    listed = anon.get(f"/api/v1/meetings/{meetings[0].pk}/").json()
    assert items[0] == listed
