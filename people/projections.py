"""Copy folded person, organization and post state into the read models.

Each sync is a pure function of the stream's state and the batch of events just applied:
rows no longer in state are deleted, times come from the events, never from the clock.
"""
from __future__ import annotations

import uuid
from typing import Any

from tracker.eventstore.api import Projector, StoredEvent, register_projector

from . import aggregates  # noqa: F401  (registers the stream types)
from .events import ORGANIZATION, PERSON, POST
from .models import Alias, Organization, Person, Post, Tenure
from .names import normalize_name


def _sync_person(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    existing = Person.objects.filter(pk=stream_id).values_list("created_at", flat=True).first()
    Person(
        id=stream_id,
        name=state["name"],
        sort_name=state["sort_name"],
        name_key=normalize_name(state["name"]),
        country=state["country"],
        external_ids=state["external_ids"],
        merged_into_id=state["merged_into"],
        version=events[-1].version,
        created_at=existing or events[0].recorded_at,
        updated_at=events[-1].recorded_at,
    ).save()

    aliases: dict[str, Any] = state["aliases"]
    Alias.objects.filter(person_id=stream_id).exclude(pk__in=list(aliases)).delete()
    for alias_id, alias in aliases.items():
        Alias(
            id=alias_id,
            person_id=stream_id,
            name=alias["name"],
            name_key=normalize_name(alias["name"]),
            kind=alias["kind"],
            language=alias["language"],
            script=alias["script"],
            source=alias["source"],
        ).save()

    tenures: dict[str, Any] = state["tenures"]
    # Filtered by person: a tenure that moved to the winner of a merge in the same batch
    # may already have been re-pointed by the winner's sync.
    Tenure.objects.filter(person_id=stream_id).exclude(pk__in=list(tenures)).delete()
    for tenure_id, tenure in tenures.items():
        Tenure(
            id=tenure_id,
            person_id=stream_id,
            post_id=tenure["post_id"],
            start=tenure["start"],
            end=tenure["end"],
            acting=tenure["acting"],
            sources=tenure["sources"],
        ).save()


def _sync_organization(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    Organization(
        id=stream_id, name=state["name"], country=state["country"], version=events[-1].version
    ).save()


def _sync_post(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    Post(
        id=stream_id,
        title=state["title"],
        organization_id=state["organization_id"],
        version=events[-1].version,
    ).save()


register_projector(
    Projector(
        name="people",
        syncs={PERSON: _sync_person, ORGANIZATION: _sync_organization, POST: _sync_post},
        models=[Tenure, Alias, Post, Person, Organization],
    )
)
