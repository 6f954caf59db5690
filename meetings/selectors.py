"""Reads of meetings and articles shared by the admin and the API."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q, QuerySet

from tracker.common import partialdate
from tracker.eventstore.api import HistoryEntry, StreamNotFound, history, load

from .events import MEETING
from .models import Meeting, SourceArticle


def _uuid(value: Any, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        raise ValueError(f"{field}: {value!r} is not a valid id") from None


def meeting_list(*, filters: dict[str, Any] | None = None) -> QuerySet[Meeting]:
    """Meetings matching `filters`; merged and retracted meetings are left out unless asked for.

    Filters (all optional):
      participant: person id; matches the recorded person and the person it now resolves to
      country: ISO code of the meeting place;  side: ISO code a participant represented
      date_from / date_to: partial dates; a meeting is inside when every day its own
        (partial) date can mean lies in [first day of date_from, last day of date_to],
        so a meeting dated "2025-10" is inside 2025-10-01..2025-10-31 but not inside
        2025-10-01..2025-10-15
      status, mode, kind, occasion: exact values;  q: text in title, summary or occasion
      article: id of a cited article
      include_merged, include_retracted: booleans (default False)
    """
    filters = dict(filters or {})
    qs = Meeting.objects.all()
    if not filters.get("include_merged"):
        qs = qs.filter(merged_into__isnull=True)
    if not filters.get("include_retracted"):
        qs = qs.filter(retracted=False)
    if filters.get("participant"):
        pid = _uuid(filters["participant"], "participant")
        qs = qs.filter(Q(participants__person_id=pid) | Q(participants__recorded_person_id=pid))
    if filters.get("side"):
        qs = qs.filter(participants__side=str(filters["side"]).upper())
    if filters.get("country"):
        qs = qs.filter(location_country=str(filters["country"]).upper())
    if filters.get("date_from"):
        qs = qs.filter(date_first__gte=partialdate.first_day(str(filters["date_from"])))
    if filters.get("date_to"):
        qs = qs.filter(date_last__lte=partialdate.last_day(str(filters["date_to"])))
    for name in ("status", "mode", "kind", "occasion"):
        if filters.get(name):
            qs = qs.filter(**{name: filters[name]})
    if filters.get("q"):
        text = str(filters["q"])
        qs = qs.filter(Q(title__icontains=text) | Q(summary__icontains=text) | Q(occasion__icontains=text))
    if filters.get("article"):
        qs = qs.filter(citations__article_id=_uuid(filters["article"], "article"))
    return qs.distinct()


def meeting_resolve(*, meeting_id: Any) -> Meeting | None:
    """The meeting with this id, following merges to the surviving one (None if unknown)."""
    meeting = Meeting.objects.filter(pk=_uuid(meeting_id, "meeting_id")).first()
    seen = set()
    while meeting is not None and meeting.merged_into_id and meeting.pk not in seen:
        seen.add(meeting.pk)
        meeting = Meeting.objects.filter(pk=meeting.merged_into_id).first()
    return meeting


def meeting_history(*, meeting_id: Any) -> list[HistoryEntry]:
    """Every event of a meeting with its field changes, plus linked events (merges) of others."""
    return history(_uuid(meeting_id, "meeting_id"))


def meeting_state(*, meeting_id: Any, as_of_position: int | None = None, as_of_time: Any = None) -> tuple[dict, int]:
    """The folded state and version of a meeting, now or as it stood at a position or time."""
    stream_id = _uuid(meeting_id, "meeting_id")
    return load(stream_id, stream_type=MEETING, as_of_position=as_of_position, as_of_time=as_of_time)


def article_find(url: str | None = None, content_hash: str | None = None) -> SourceArticle | None:
    """The stored article with this (canonical) URL or body hash, if any."""
    if url:
        url = url.strip().split("#", 1)[0]
        found = (
            SourceArticle.objects.filter(Q(canonical_url=url) | Q(url=url)).order_by("created_at", "id").first()
        )
        if found is not None:
            return found
    if content_hash:
        return SourceArticle.objects.filter(content_hash=content_hash).order_by("created_at", "id").first()
    return None


__all__ = [
    "StreamNotFound",
    "article_find",
    "meeting_history",
    "meeting_list",
    "meeting_resolve",
    "meeting_state",
]
