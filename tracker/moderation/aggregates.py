"""Stream types of moderation: 'proposal' and 'distinct_pair' (pure folds of their events)."""
from __future__ import annotations

import copy
from typing import Any

from tracker.eventstore.api import Aggregate, register_aggregate

OPEN_STATUSES = ("pending", "stale", "conflict")


def _proposed(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        author_id=data["author_id"],
        author_name=data["author_name"],
        author_kind=data["author_kind"],
        kind=data["kind"],
        commands=copy.deepcopy(data["commands"]),
        evidence=[copy.deepcopy(data["evidence"])] if data["evidence"] else [],
        evidence_articles=[data["evidence"].get("article_id")] if data["evidence"] else [],
        confidence=data["confidence"],
        dedupe_key=data["dedupe_key"],
        summary=data["summary"],
        note=data.get("note", ""),
        status="pending",
        created_at=stored.recorded_at.isoformat(),
    )
    return state


def _edited(state: dict, data: dict, _stored: Any) -> dict:
    state.update(commands=copy.deepcopy(data["commands"]), status="pending", problems={})
    if data.get("kind"):
        state["kind"] = data["kind"]
    return state


def _accepted(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        status="accepted",
        reviewer_id=data["reviewer_id"],
        reviewer_name=data["reviewer_name"],
        applied_positions=list(data["applied_positions"]),
        decided_at=stored.recorded_at.isoformat(),
        problems={},
    )
    return state


def _rejected(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        status="rejected",
        reviewer_id=data["reviewer_id"],
        reviewer_name=data["reviewer_name"],
        reason=data["reason"],
        decided_at=stored.recorded_at.isoformat(),
    )
    return state


def _stale(state: dict, data: dict, _stored: Any) -> dict:
    state.update(status="stale", problems={"stale": copy.deepcopy(data["targets"])})
    return state


def _conflicted(state: dict, data: dict, _stored: Any) -> dict:
    state.update(status="conflict", problems={"locked": copy.deepcopy(data["conflicts"])})
    return state


def _superseded(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        status="superseded",
        superseded_by=data["by_proposal_id"],
        reason=data["reason"],
        decided_at=stored.recorded_at.isoformat(),
    )
    return state


def evidence_articles(state: dict) -> list:
    """The article of each evidence item of a proposal's state, in order. A state folded
    before `evidence_articles` existed held every item whole in `evidence`."""
    articles = state.get("evidence_articles")
    return [e.get("article_id") for e in state.get("evidence", [])] if articles is None else articles


def _attached(state: dict, data: dict, _stored: Any) -> dict:
    """More evidence: its article joins `evidence_articles`; only the first item is kept whole
    in `evidence` (the attachments' sentences are in their events and the evidence rows), so
    a proposal that collects many copies of a story does not read and rewrite them all each
    time."""
    state["evidence_articles"] = [*evidence_articles(state), data["evidence"].get("article_id")]
    state["evidence"] = state.get("evidence", [])[:1] or [copy.deepcopy(data["evidence"])]
    return state


@register_aggregate
class ProposalAggregate(Aggregate):
    stream_type = "proposal"
    evolvers = {
        "ChangeProposed": _proposed,
        "ProposalEdited": _edited,
        "ProposalAccepted": _accepted,
        "ProposalRejected": _rejected,
        "ProposalMarkedStale": _stale,
        "ProposalConflicted": _conflicted,
        "ProposalSuperseded": _superseded,
        "ProposalAttached": _attached,
    }
    # A decision is undone by a new proposal, not by reverting the old one.
    revertible_fields = ()


def _marked(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        kind=data["kind"],
        a_id=data["a_id"],
        b_id=data["b_id"],
        active=True,
        reason=data["reason"],
        marked_by=stored.metadata.get("actor_name", ""),
        marked_at=stored.recorded_at.isoformat(),
    )
    return state


def _withdrawn(state: dict, data: dict, stored: Any) -> dict:
    state.update(
        active=False,
        reason=data["reason"],
        marked_by=stored.metadata.get("actor_name", ""),
        marked_at=stored.recorded_at.isoformat(),
    )
    return state


@register_aggregate
class DistinctPairAggregate(Aggregate):
    stream_type = "distinct_pair"
    evolvers = {"PairMarkedDistinct": _marked, "PairDistinctionWithdrawn": _withdrawn}
    revertible_fields = ("active", "reason")
