"""Facts of the moderation queue and of the 'not the same' memory."""
from __future__ import annotations

from tracker.eventstore.api import DomainEvent, event


@event("ChangeProposed")
class ChangeProposed(DomainEvent):
    """Someone proposed running `commands`; nothing touches the record until accepted."""

    author_id: int | None
    author_name: str
    author_kind: str
    kind: str
    # [{command, args, target_stream_id, expected_version}]
    commands: list
    # {article_id, sentences: [{text, start, end}]} or {} when a person proposes without a source
    evidence: dict
    confidence: float
    dedupe_key: str = ""
    summary: str = ""
    # a private note from the author to the reviewers (not shown to other contributors)
    note: str = ""


@event("ProposalEdited")
class ProposalEdited(DomainEvent):
    """A reviewer changed the commands (their args, or the versions they apply against)."""

    commands: list
    note: str = ""
    # a new kind when the edit changed what the proposal is (e.g. new meeting -> cite)
    kind: str = ""


@event("ProposalAccepted")
class ProposalAccepted(DomainEvent):
    """A reviewer accepted; the commands' events were appended in the same transaction."""

    reviewer_id: int | None
    reviewer_name: str
    applied_positions: list


@event("ProposalRejected")
class ProposalRejected(DomainEvent):
    """A reviewer rejected, with a reason that is kept."""

    reviewer_id: int | None
    reviewer_name: str
    reason: str


@event("ProposalMarkedStale")
class ProposalMarkedStale(DomainEvent):
    """Targets moved since the proposal was made; it must be reviewed again, not applied blindly."""

    # [{stream_id, expected_version, current_version, changes: {field: [before, after]}, events: [...]}]
    targets: list


@event("ProposalConflicted")
class ProposalConflicted(DomainEvent):
    """A robot proposal would change fields a curator set by hand; shown, not applied."""

    # [{stream_id, fields: [...], changes: {field: [before, proposed]}}]
    conflicts: list


@event("ProposalSuperseded")
class ProposalSuperseded(DomainEvent):
    """Another proposal replaces this one."""

    by_proposal_id: str
    reason: str = ""


@event("ProposalAttached")
class ProposalAttached(DomainEvent):
    """Another article's evidence now supports this pending proposal."""

    evidence: dict


@event("PairMarkedDistinct")
class PairMarkedDistinct(DomainEvent):
    """A curator said two records are not the same (never propose the pair again)."""

    kind: str
    a_id: str
    b_id: str
    reason: str = ""


@event("PairDistinctionWithdrawn")
class PairDistinctionWithdrawn(DomainEvent):
    """The 'not the same' verdict for a pair was taken back."""

    reason: str = ""
