"""Reads shared by the admin, the API and the news matcher."""
from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Count, QuerySet

from tracker.eventstore.api import current_version, diff, history, load, load_stream

from .models import DistinctPair, Proposal
from .registry import command_targets

PAIR_NS = uuid.UUID("3e9a4d2b-8c61-4f0e-b7a5-1c2d3e4f5a6b")


def pair_id(a_id: Any, b_id: Any) -> uuid.UUID:
    """Stream id of the 'not the same' verdict for a pair, whatever the order of the two."""
    a, b = sorted([str(a_id), str(b_id)])
    return uuid.uuid5(PAIR_NS, f"{a}:{b}")


def pair_is_distinct(a_id: Any, b_id: Any) -> bool:
    """True when a curator said these two records are not the same (the matcher skips them)."""
    return DistinctPair.objects.filter(pk=pair_id(a_id, b_id), active=True).exists()


def distinct_partners(record_id: Any) -> set[uuid.UUID]:
    """Every record a curator said is not the same as `record_id`."""
    rid = uuid.UUID(str(record_id))
    pairs = DistinctPair.objects.filter(active=True).filter(a_id=rid) | DistinctPair.objects.filter(
        active=True, b_id=rid
    )
    return {p.b_id if p.a_id == rid else p.a_id for p in pairs}


def is_hand_set(metadata: dict) -> bool:
    """Was an event written by a person (directly, or by accepting a person's proposal)?

    A curator accepting a robot's proposal does not lock the fields the robot set: the
    applied events say so in `source.proposal_author_kind`.
    """
    if metadata.get("actor_kind") != "user":
        return False
    return (metadata.get("source") or {}).get("proposal_author_kind", "user") == "user"


def locked_fields(stream_id: uuid.UUID) -> set[str]:
    """Fields of a record that a person set by hand, derived from its log."""
    locked: set[str] = set()
    for entry in history(stream_id):
        if not entry.related and is_hand_set(entry.event.metadata):
            locked |= set(entry.changes)
    return locked


def target_changes(stream_id: uuid.UUID, from_version: int, to_version: int) -> dict:
    """What happened to a stream between two versions: the field diff and the events."""
    before = load(stream_id, as_of_version=from_version)[0] if from_version else {}
    after = load(stream_id, as_of_version=to_version)[0] if to_version else {}
    events = [e for e in load_stream(stream_id, until_version=to_version) if e.version > from_version]
    return {
        "stream_id": str(stream_id),
        "expected_version": from_version,
        "current_version": to_version,
        "changes": {k: [a, b] for k, (a, b) in diff(before, after).items()},
        "events": [
            {
                "version": e.version,
                "position": e.position,
                "type": e.type,
                "actor_name": e.metadata.get("actor_name", ""),
                "actor_kind": e.metadata.get("actor_kind", ""),
                "reason": e.metadata.get("reason", ""),
                "recorded_at": e.recorded_at.isoformat(),
            }
            for e in events
        ],
    }


def stale_targets(commands: list[dict]) -> list[dict]:
    """Targets of proposed commands that moved since the proposal was made, with their diffs."""
    out, seen = [], set()
    for c in commands:
        for target, expected in command_targets(c):
            if target in seen:
                continue
            seen.add(target)
            now = current_version(uuid.UUID(target))
            if now != expected:
                out.append(target_changes(uuid.UUID(target), expected, now))
    return out


def proposal_staleness(proposal_id: uuid.UUID) -> list[dict]:
    """For the review page: what moved in the proposal's targets since it was made."""
    return stale_targets(Proposal.objects.get(pk=proposal_id).commands)


def proposal_list(
    *, status: str | None = None, kind: str | None = None, article_id: Any = None
) -> QuerySet[Proposal]:
    """The review queue, most confident first."""
    qs = Proposal.objects.all()
    if status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if article_id:
        qs = qs.filter(evidences__article_id=article_id).distinct()
    return qs.order_by("-confidence", "created_at")


def proposal_pending_counts() -> dict[str, int]:
    """Pending proposals per kind (for the curators' admin home)."""
    rows = Proposal.objects.filter(status=Proposal.Status.PENDING).values("kind").annotate(n=Count("id"))
    return {r["kind"]: r["n"] for r in rows}


def proposal_note_for(user: Any, proposal: Proposal) -> str:
    """The proposal's private note as `user` may see it (empty for other contributors)."""
    from .roles import can_see_note

    return proposal.note if can_see_note(user, proposal) else ""
