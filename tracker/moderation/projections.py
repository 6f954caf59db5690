"""Projectors: proposal and distinct-pair streams into the queue's read models."""
from __future__ import annotations

import datetime as dt
import json
import uuid

from django.db import connection

from tracker.eventstore.api import InlineWrite, Projector, register_projector

from .aggregates import evidence_articles  # and registers the stream types
from .models import DistinctPair, Proposal, ProposalEvidence

EVIDENCE_NS = uuid.UUID("0d3f7c1e-5a43-4f55-8d0e-2b1f8f4b6a90")


def _time(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(str(value)) if value else None


def _evidence_added(events: list) -> list[dict]:
    """The evidence items `events` add, in order: a submission's own, then attachments (the
    proposal's state keeps only the first item whole, the events have them all)."""
    return [
        e.data["evidence"]
        for e in events
        if e.type == "ProposalAttached" or (e.type == "ChangeProposed" and e.data.get("evidence"))
    ]


def _evidence_count(state: dict) -> int:
    return len(evidence_articles(state))


def _attached_only(state: dict, events: list) -> bool:
    """Attachments to a proposal that had evidence before: the row changes in its version
    alone (the first item, and so article_id, stays) and only the new items are inserted."""
    return all(e.type == "ProposalAttached" for e in events) and _evidence_count(state) > len(events)


def _sync_proposal(stream_id: uuid.UUID, state: dict, events: list) -> None:
    added = _evidence_added(events)
    first = _evidence_count(state) - len(added)
    if _attached_only(state, events):
        # a proposal that collects evidence from many copies of a story costs the same per attachment
        Proposal.objects.filter(pk=stream_id).update(updated_at=events[-1].recorded_at, version=events[-1].version)
        _insert_evidence(stream_id, added, first=first)
        return
    evidence = state.get("evidence", [])
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
    if any(e.type == "ChangeProposed" for e in events):
        ProposalEvidence.objects.filter(proposal_id=stream_id).delete()
    if added:
        _insert_evidence(stream_id, added, first=first)


def _evidence_row(stream_id: uuid.UUID, index: int, item: dict) -> ProposalEvidence:
    return ProposalEvidence(
        id=uuid.uuid5(EVIDENCE_NS, f"{stream_id}:{index}"),
        proposal_id=stream_id,
        index=index,
        article_id=_uuid(item.get("article_id")),
        sentences=item.get("sentences", []),
    )


def _insert_evidence(stream_id: uuid.UUID, items: list[dict], *, first: int) -> None:
    """Evidence rows for `items`, the proposal's items `first`.. (ids derived from the proposal
    and index)."""
    ProposalEvidence.objects.bulk_create(
        [_evidence_row(stream_id, i, item) for i, item in enumerate(items, start=first)]
    )


def presync_proposal(stream_id: uuid.UUID, state: dict, events: list, condition: str) -> list[InlineWrite] | None:
    """One attachment sent with its append (PostgreSQL): the row's version and the new evidence
    row, as `_sync_proposal`'s attachment branch writes them; None otherwise."""
    if len(events) != 1 or not _attached_only(state, events):
        return None
    last = events[-1]
    row = _evidence_row(stream_id, _evidence_count(state) - 1, last.data["evidence"])
    proposal = connection.ops.quote_name(Proposal._meta.db_table)
    evidence = connection.ops.quote_name(ProposalEvidence._meta.db_table)
    update = InlineWrite(
        f"UPDATE {proposal} SET updated_at = %s, version = %s WHERE id = %s AND {condition} RETURNING id",
        [last.recorded_at, last.version, stream_id], 1,
        lambda found: found[0] is not None,  # no row: `_sync_proposal` runs as it would have
    )
    insert = InlineWrite(
        f"INSERT INTO {evidence} (id, proposal_id, index, article_id, sentences) "
        "SELECT %s::uuid, %s::uuid, %s, %s::uuid, %s::jsonb "
        f"WHERE {condition} AND EXISTS (SELECT FROM {proposal} WHERE id = %s::uuid) RETURNING id",
        [row.id, stream_id, row.index, row.article_id, json.dumps(row.sentences), stream_id], 1,
        lambda found: True,
    )
    return [update, insert]


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
        presyncs={"proposal": presync_proposal},
        models=[ProposalEvidence, Proposal, DistinctPair],
    )
)
