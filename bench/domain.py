"""The real meeting commands the benchmarks drive, and payloads of realistic size."""
from __future__ import annotations

import uuid
from typing import Any

from meetings.commands import (
    article_register,
    meeting_cite_article,
    meeting_record,
    meeting_record_many,
    meeting_revise,
)
from tracker.eventstore.api import Context

CTX = Context.system(reason="benchmark", via="cli")
COUNTRIES = ("US", "KR", "JP", "CN", "DE")


def meeting_fields(i: int) -> dict[str, Any]:
    """Deterministic meeting fields and three raw-name participants."""
    a, b = COUNTRIES[i % 5], COUNTRIES[(i + 1) % 5]
    return {
        "title": f"Bilateral talks no. {i} on trade and security",
        "summary": "The ministers discussed the alliance, tariffs and regional security.",
        "date": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}",
        "location_name": "Washington",
        "location_country": a,
        "kind": "talks",
        "topics": ["alliance", "tariffs"],
        "participants": [
            {"name": f"Official {i} A", "side": a, "is_host": True},
            {"name": f"Official {i} B", "side": b},
            {"name": f"Official {i} C", "side": b},
        ],
    }


def record(i: int) -> uuid.UUID:
    """meeting_record: one MeetingRecorded event with its participants."""
    return meeting_record(context=CTX, **meeting_fields(i)).id


def revise(meeting_id: uuid.UUID, *, title: str, expected_version: int) -> None:
    """meeting_revise: one MeetingRevised event (the single-event command measured)."""
    meeting_revise(
        meeting_id=meeting_id, changes={"title": title}, context=CTX, expected_version=expected_version
    )


def register_article(i: int) -> uuid.UUID:
    return article_register(
        context=CTX,
        url=f"https://news.example/2025/{i}/talks",
        title=f"Ministers meet for talks ({i})",
        publisher="Example News",
        language="en",
    ).id


def citation(article_id: uuid.UUID) -> dict[str, Any]:
    """The citation `cite` appends: one evidence sentence."""
    return {
        "article_id": article_id,
        "evidence": [{"text": "The two ministers met on Tuesday.", "start": 0, "end": 33}],
    }


def record_many(numbers: range, articles: list[uuid.UUID]) -> list[uuid.UUID]:
    """meeting_record_many: meetings `numbers` (as `record` makes them), each citing an article."""
    items = [
        {**meeting_fields(i), "citations": [citation(articles[i % len(articles)])]} for i in numbers
    ]
    return meeting_record_many(meetings=items, context=CTX)


def cite(meeting_id: uuid.UUID, article_id: uuid.UUID, *, expected_version: int) -> None:
    """meeting_cite_article: one ArticleCited event with an evidence sentence."""
    meeting_cite_article(
        meeting_id=meeting_id,
        article_id=article_id,
        context=CTX,
        expected_version=expected_version,
        evidence=citation(article_id)["evidence"],
    )
