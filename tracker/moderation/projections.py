"""Projectors: proposal and distinct-pair streams into the queue's read models."""
from __future__ import annotations

import datetime as dt
import uuid

from tracker.eventstore.api import Projector, register_projector

from . import aggregates  # noqa: F401  (registers the stream types)
from .models import DistinctPair, Proposal, ProposalEvidence

EVIDENCE_NS = uuid.UUID("0d3f7c1e-5a43-4f55-8d0e-2b1f8f4b6a90")


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _sync_proposal(stream_id: uuid.UUID, state: dict, events: list) -> None:
    evidence = state.get("evidence", [])
    types = {e.type for e in events}
    attached = sum(e.type == "ProposalAttached" for e in events)
    if types == {"ProposalAttached"} and len(evidence) > attached:
        # Attachments only append evidence (the first item, and so article_id, stays): the row
        # changes in its version alone, and only the new items are inserted, so a proposal
        # that collects evidence from many copies of a story costs the same per attachment.
        Proposal.objects.filter(pk=stream_id).update(updated_at=events[-1].recorded_at, version=events[-1].version)
        _insert_evidence(stream_id, evidence, first=len(evidence) - attached)
        return
    Proposal(
        id=stream_id,
        kind=state["kind"],
        status=state["status"],
        author_id=state["author_id"],
        author_name=state["author_name"],
        author_kind=state["author_kind"],
        confidence=state["confidence"],
        article_id=_uuid(evidence[0].get("article_id")) if evidence else None,
        dedupe_key=state.get("dedupe_key", ""),
        summary=state.get("summary", ""),
        note=state.get("note", ""),
        commands=state["commands"],
        problems=state.get("problems", {}),
        reviewer_id=state.get("reviewer_id"),
        reviewer_name=state.get("reviewer_name", ""),
        reason=state.get("reason", ""),
        superseded_by=_uuid(state.get("superseded_by")),
        applied_positions=state.get("applied_positions", []),
        created_at=_time(state["created_at"]),
        decided_at=_time(state.get("decided_at")),
        updated_at=events[-1].recorded_at,
        version=events[-1].version,
    ).save()
    if "ChangeProposed" in types:
        ProposalEvidence.objects.filter(proposal_id=stream_id).delete()
        _insert_evidence(stream_id, evidence, first=0)
    elif attached:
        _insert_evidence(stream_id, evidence, first=len(evidence) - attached)


def _insert_evidence(stream_id: uuid.UUID, evidence: list[dict], *, first: int) -> None:
    """Evidence rows for items `first`.. of the list (ids derived from the proposal and index)."""
    ProposalEvidence.objects.bulk_create(
        [
            ProposalEvidence(
                id=uuid.uuid5(EVIDENCE_NS, f"{stream_id}:{i}"),
                proposal_id=stream_id,
                index=i,
                article_id=_uuid(item.get("article_id")),
                sentences=item.get("sentences", []),
            )
            for i, item in enumerate(evidence[first:], start=first)
        ]
    )


def _sync_pair(stream_id: uuid.UUID, state: dict, events: list) -> None:
    DistinctPair(
        id=stream_id,
        kind=state["kind"],
        a_id=uuid.UUID(state["a_id"]),
        b_id=uuid.UUID(state["b_id"]),
        active=state["active"],
        marked_by=state["marked_by"],
        reason=state["reason"],
        marked_at=_time(state["marked_at"]),
        version=events[-1].version,
    ).save()


register_projector(
    Projector(
        name="moderation",
        syncs={"proposal": _sync_proposal, "distinct_pair": _sync_pair},
        models=[ProposalEvidence, Proposal, DistinctPair],
    )
)
