"""Facts about officials, organizations and posts.

Stream types: "person", "organization", "post". Child ids (alias, tenure) are made by the
command and carried here, so a replay builds the same rows. Ids are strings.

Merging: the loser's stream gets `PersonMergedInto` {"into": winner} and the winner's
stream gets `PersonAbsorbed` {"from": loser, "aliases": [...], "tenures": [...]}: the
loser's names become new aliases of the winner and its tenures move over (same tenure
ids). `PersonUnmerged` is appended to both streams and undoes both sides: on the winner
it removes the aliases and tenures listed, on the loser it clears the redirect and puts
the listed tenures back. All three carry `related_ids` with both person ids.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from tracker.eventstore.api import DomainEvent, event

PERSON = "person"
ORGANIZATION = "organization"
POST = "post"


# --- person -------------------------------------------------------------------------------


@event("PersonRegistered")
class PersonRegistered(DomainEvent):
    """A person was recorded under a canonical name."""

    name: str
    sort_name: str = ""
    country: str = ""
    external_ids: dict = dataclasses.field(default_factory=dict)


@event("PersonRenamed")
class PersonRenamed(DomainEvent):
    """The canonical (and sort) name changed."""

    name: str
    sort_name: str = ""


@event("PersonCountrySet")
class PersonCountrySet(DomainEvent):
    """The country the person serves changed (ISO 3166-1 alpha-2, or blank)."""

    country: str


@event("AliasAdded")
class AliasAdded(DomainEvent):
    """Another name the person is known by."""

    alias_id: str
    name: str
    kind: str = "variant"
    language: str = ""
    script: str = ""
    source: str = ""


@event("AliasRemoved")
class AliasRemoved(DomainEvent):
    alias_id: str


@event("TenureStarted")
class TenureStarted(DomainEvent):
    """The person holds a post from `start` (and, if known, to `end`)."""

    tenure_id: str
    post_id: str
    start: str = ""
    end: str = ""
    acting: bool = False
    sources: list = dataclasses.field(default_factory=list)


@event("TenureEnded")
class TenureEnded(DomainEvent):
    tenure_id: str
    end: str


@event("TenureCorrected")
class TenureCorrected(DomainEvent):
    """A tenure's facts were corrected; carries the full new values."""

    tenure_id: str
    post_id: str
    start: str = ""
    end: str = ""
    acting: bool = False
    sources: list = dataclasses.field(default_factory=list)


@event("TenureRemoved")
class TenureRemoved(DomainEvent):
    """A tenure recorded in error was withdrawn."""

    tenure_id: str


@event("ExternalIdRecorded")
class ExternalIdRecorded(DomainEvent):
    """An identifier in another system, e.g. scheme "wikidata", value "Q123"; blank removes it."""

    scheme: str
    value: str


@event("PersonMergedInto")
class PersonMergedInto(DomainEvent):
    """(Loser's stream.) This record is the same person as `into`; its id redirects there."""

    into: str
    tenure_ids: list = dataclasses.field(default_factory=list)


@event("PersonAbsorbed")
class PersonAbsorbed(DomainEvent):
    """(Winner's stream.) A duplicate record was merged in: its names and tenures.

    Serialised with the key "from" (a Python keyword, hence `from_person` here).
    """

    from_person: str
    aliases: list = dataclasses.field(default_factory=list)  # [{alias_id, name, kind, ...}]
    tenures: list = dataclasses.field(default_factory=list)  # [{tenure_id, post_id, ...}]

    def to_data(self) -> dict[str, Any]:
        return {"from": self.from_person, "aliases": self.aliases, "tenures": self.tenures}

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> PersonAbsorbed:
        return cls(
            from_person=data["from"],
            aliases=data.get("aliases", []),
            tenures=data.get("tenures", []),
        )


@event("PersonUnmerged")
class PersonUnmerged(DomainEvent):
    """(Both streams.) A merge was undone.

    On the winner: `alias_ids` and the `tenures` (by id) leave it. On the loser: the redirect
    is cleared and `tenures` (as they stand at un-merge time) come back.
    """

    loser: str
    winner: str
    alias_ids: list = dataclasses.field(default_factory=list)
    tenures: list = dataclasses.field(default_factory=list)


# --- organization and post ----------------------------------------------------------------


@event("OrganizationRegistered")
class OrganizationRegistered(DomainEvent):
    name: str
    country: str = ""


@event("OrganizationRenamed")
class OrganizationRenamed(DomainEvent):
    name: str


@event("PostCreated")
class PostCreated(DomainEvent):
    title: str
    organization_id: str


@event("PostRetitled")
class PostRetitled(DomainEvent):
    title: str
