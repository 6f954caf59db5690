"""Facts about meetings and source articles, one frozen dataclass each.

Stream types: "meeting" (a meeting with its participants and citations) and "article" (one
source article's metadata; its body lives in the content store under `content_hash`).
Child ids (participation id, citation id) are made by the command and carried here, so a
replay rebuilds the same rows. A shipped type name never changes.
"""
from __future__ import annotations

from dataclasses import field

from tracker.eventstore.api import DomainEvent, event

MEETING = "meeting"
ARTICLE = "article"

# Scalar fields of a meeting that MeetingRecorded carries and MeetingRevised may change.
MEETING_FIELDS = (
    "title",
    "summary",
    "date",
    "end_date",
    "location_name",
    "location_country",
    "mode",
    "status",
    "status_source",
    "kind",
    "topics",
    "occasion",
)

# Fields of a participant entry: {"id", "name", "person_id", "side", "is_host"}.
PARTICIPANT_FIELDS = ("name", "person_id", "side", "is_host")

ARTICLE_FIELDS = (
    "url",
    "canonical_url",
    "title",
    "publisher",
    "wire_service",
    "author",
    "published_at",
    "published_date",
    "language",
    "content_hash",
)


@event("MeetingRecorded")
class MeetingRecorded(DomainEvent):
    """A meeting was recorded with its first participants."""

    title: str = ""
    summary: str = ""
    date: str = ""
    end_date: str = ""
    location_name: str = ""
    location_country: str = ""
    mode: str = "in_person"
    status: str = "held"
    status_source: str = ""
    kind: str = ""
    topics: list = field(default_factory=list)
    occasion: str = ""
    # [{"id", "name", "person_id", "side", "is_host"}]
    participants: list = field(default_factory=list)


@event("MeetingRevised")
class MeetingRevised(DomainEvent):
    """Some scalar fields of a meeting changed; `changes` holds only the new values."""

    changes: dict


@event("ParticipantAdded")
class ParticipantAdded(DomainEvent):
    """Someone (a person id and/or a raw name) was added to a meeting."""

    id: str
    name: str
    person_id: str | None = None
    side: str = ""
    is_host: bool = False


@event("ParticipantRemoved")
class ParticipantRemoved(DomainEvent):
    """A participant was removed from a meeting."""

    id: str


@event("ParticipantRevised")
class ParticipantRevised(DomainEvent):
    """A participant's side, host flag, name or person were corrected (changed fields only)."""

    id: str
    changes: dict


@event("MeetingStatusChanged")
class MeetingStatusChanged(DomainEvent):
    """A meeting's status moved (planned -> held, cancelled, postponed...), with its source."""

    status: str
    source: str = ""


@event("ArticleCited")
class ArticleCited(DomainEvent):
    """An article was cited as supporting a meeting, with evidence sentences."""

    id: str
    article_id: str
    # [{"text": "...", "start": 120, "end": 210}]
    evidence: list = field(default_factory=list)


@event("ArticleUncited")
class ArticleUncited(DomainEvent):
    """A citation was withdrawn from a meeting."""

    id: str
    article_id: str = ""


@event("MeetingMergedInto")
class MeetingMergedInto(DomainEvent):
    """This meeting (the loser) is a duplicate of `into`; its id now redirects there."""

    into: str


@event("MeetingAbsorbed")
class MeetingAbsorbed(DomainEvent):
    """This meeting (the winner) took over a merged meeting's participants and citations."""

    from_id: str
    participants: list  # the loser's participant entries not already present here
    citations: list  # the loser's citation entries for articles not already cited here


@event("MeetingUnmerged")
class MeetingUnmerged(DomainEvent):
    """A merge was undone. On the loser: `from_id` is the former winner; on the winner:
    `from_id` is the loser whose absorbed entries are given back."""

    from_id: str
    role: str  # "loser" or "winner"


@event("MeetingRetracted")
class MeetingRetracted(DomainEvent):
    """The meeting was withdrawn from the record (kept for history)."""

    note: str = ""


@event("MeetingRestored")
class MeetingRestored(DomainEvent):
    """A retracted meeting was put back on the record."""

    note: str = ""


@event("ArticleRegistered")
class ArticleRegistered(DomainEvent):
    """A source article was stored (metadata; the body is in the content store by hash)."""

    url: str = ""
    canonical_url: str = ""
    title: str = ""
    publisher: str = ""
    wire_service: str = ""
    author: str = ""
    published_at: str = ""  # ISO 8601 with offset, or ""
    published_date: str = ""  # YYYY-MM-DD local to the publisher, or ""
    language: str = ""
    content_hash: str = ""


@event("ArticleRevised")
class ArticleRevised(DomainEvent):
    """Some metadata of an article changed; `changes` holds only the new values."""

    changes: dict


@event("ArticleMarkedDuplicate")
class ArticleMarkedDuplicate(DomainEvent):
    """This article is a syndicated copy of article `of` ("" clears it)."""

    of: str
