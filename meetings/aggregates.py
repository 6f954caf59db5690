"""Meeting and article aggregates: pure folds of their streams into JSON state.

Meeting state: the scalar fields of `MEETING_FIELDS`, plus
  participants: [{"id", "name", "person_id", "side", "is_host", "absorbed_from"}]
  citations:    [{"id", "article_id", "evidence", "absorbed_from"}]
  merged_into:  id of the meeting this one was merged into, or None
  retracted:    bool
`absorbed_from` is the id of the merged meeting an entry came from (None for own entries),
so an un-merge gives exactly those back.
"""
from __future__ import annotations

import copy
from typing import Any

from tracker.eventstore.api import Aggregate, register_aggregate

from .events import ARTICLE, ARTICLE_FIELDS, MEETING, MEETING_FIELDS, PARTICIPANT_FIELDS


def _own(value: Any) -> Any:
    """A copy of a payload value the state may keep (strings and numbers need none)."""
    return value if value is None or isinstance(value, str | int | float) else copy.deepcopy(value)


def _participant(data: dict, absorbed_from: str | None = None) -> dict:
    entry = {"id": data["id"]}
    entry.update({k: data.get(k) for k in PARTICIPANT_FIELDS})
    entry["name"] = entry["name"] or ""
    entry["side"] = entry["side"] or ""
    entry["is_host"] = bool(entry["is_host"])
    entry["absorbed_from"] = data.get("absorbed_from", absorbed_from)
    return entry


def _citation(data: dict, absorbed_from: str | None = None) -> dict:
    return {
        "id": data["id"],
        "article_id": data["article_id"],
        "evidence": copy.deepcopy(data.get("evidence") or []),
        "absorbed_from": data.get("absorbed_from", absorbed_from),
    }


def _recorded(state: dict, data: dict, stored: Any) -> dict:
    state["id"] = str(stored.stream_id)
    for name in MEETING_FIELDS:
        if name in data:
            state[name] = _own(data[name])
    state["topics"] = list(state.get("topics") or [])
    state["participants"] = [_participant(p) for p in data.get("participants") or []]
    return state


def _revised(state: dict, data: dict, _stored: Any) -> dict:
    for name, value in data["changes"].items():
        if name in MEETING_FIELDS:
            state[name] = _own(value)
    return state


def _participant_added(state: dict, data: dict, _stored: Any) -> dict:
    state["participants"].append(_participant(data))
    return state


def _participant_removed(state: dict, data: dict, _stored: Any) -> dict:
    state["participants"] = [p for p in state["participants"] if p["id"] != data["id"]]
    return state


def _participant_revised(state: dict, data: dict, _stored: Any) -> dict:
    for p in state["participants"]:
        if p["id"] == data["id"]:
            p.update({k: v for k, v in data["changes"].items() if k in PARTICIPANT_FIELDS})
    return state


def _status_changed(state: dict, data: dict, _stored: Any) -> dict:
    state["status"] = data["status"]
    state["status_source"] = data.get("source", "")
    return state


def _cited(state: dict, data: dict, _stored: Any) -> dict:
    state["citations"].append(_citation(data))
    return state


def _uncited(state: dict, data: dict, _stored: Any) -> dict:
    state["citations"] = [c for c in state["citations"] if c["id"] != data["id"]]
    return state


def _merged_into(state: dict, data: dict, _stored: Any) -> dict:
    state["merged_into"] = data["into"]
    return state


def _absorbed(state: dict, data: dict, _stored: Any) -> dict:
    source = data["from_id"]
    state["participants"] += [_participant(p, source) | {"absorbed_from": source} for p in data["participants"]]
    state["citations"] += [_citation(c, source) | {"absorbed_from": source} for c in data["citations"]]
    return state


def _unmerged(state: dict, data: dict, _stored: Any) -> dict:
    if data["role"] == "loser":
        state["merged_into"] = None
    else:
        source = data["from_id"]
        state["participants"] = [p for p in state["participants"] if p.get("absorbed_from") != source]
        state["citations"] = [c for c in state["citations"] if c.get("absorbed_from") != source]
    return state


def _retracted(state: dict, _data: dict, _stored: Any) -> dict:
    state["retracted"] = True
    return state


def _restored(state: dict, _data: dict, _stored: Any) -> dict:
    state["retracted"] = False
    return state


@register_aggregate
class MeetingAggregate(Aggregate):
    """A meeting with its participants and citations."""

    stream_type = MEETING
    evolvers = {
        "MeetingRecorded": _recorded,
        "MeetingRevised": _revised,
        "ParticipantAdded": _participant_added,
        "ParticipantRemoved": _participant_removed,
        "ParticipantRevised": _participant_revised,
        "MeetingStatusChanged": _status_changed,
        "ArticleCited": _cited,
        "ArticleUncited": _uncited,
        "MeetingMergedInto": _merged_into,
        "MeetingAbsorbed": _absorbed,
        "MeetingUnmerged": _unmerged,
        "MeetingRetracted": _retracted,
        "MeetingRestored": _restored,
    }
    revertible_fields = MEETING_FIELDS

    @classmethod
    def initial(cls) -> dict[str, Any]:
        state: dict[str, Any] = {name: "" for name in MEETING_FIELDS}
        state.update(
            mode="in_person",
            status="held",
            topics=[],
            participants=[],
            citations=[],
            merged_into=None,
            retracted=False,
        )
        return state


def _article_registered(state: dict, data: dict, stored: Any) -> dict:
    state["id"] = str(stored.stream_id)
    state.update({name: data.get(name, "") or "" for name in ARTICLE_FIELDS})
    return state


def _article_revised(state: dict, data: dict, _stored: Any) -> dict:
    state.update({k: v for k, v in data["changes"].items() if k in ARTICLE_FIELDS})
    return state


def _article_duplicate(state: dict, data: dict, _stored: Any) -> dict:
    state["duplicate_of"] = data["of"] or None
    return state


@register_aggregate
class ArticleAggregate(Aggregate):
    """A source article's metadata."""

    stream_type = ARTICLE
    evolvers = {
        "ArticleRegistered": _article_registered,
        "ArticleRevised": _article_revised,
        "ArticleMarkedDuplicate": _article_duplicate,
    }
    revertible_fields = tuple(f for f in ARTICLE_FIELDS if f != "content_hash") + ("duplicate_of",)

    @classmethod
    def initial(cls) -> dict[str, Any]:
        return {name: "" for name in ARTICLE_FIELDS} | {"duplicate_of": None}
