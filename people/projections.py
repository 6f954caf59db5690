"""Copy folded person, organization and post state into the read models.

Each sync is a pure function of the stream's state and the batch of events just applied:
rows no longer in state are deleted, times come from the events, never from the clock.
"""

from __future__ import annotations

import uuid

from django.db.models import Q

from tracker.eventstore.api import Projector, StoredEvent, register_projector

from . import aggregates  # noqa: F401  (registers the stream types)
from .events import ORGANIZATION, PERSON, POST
from .models import Alias, Organization, Person, Post, Tenure
from .names import normalize_name
from .replay import PeopleReplay


def _sync_person(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    # A stream's first batch: no row of it exists yet, nor of its aliases and tenures, whose
    # ids the command just made; nothing to look up.
    fresh = events[0].version == 1
    existing = None if fresh else Person.objects.filter(pk=stream_id).values_list("created_at", flat=True).first()
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
    ).save(force_insert=existing is None, force_update=existing is not None)

    aliases = [
        Alias(
            id=uuid.UUID(alias_id),
            person_id=stream_id,
            name=alias["name"],
            name_key=normalize_name(alias["name"]),
            kind=alias["kind"],
            language=alias["language"],
            script=alias["script"],
            source=alias["source"],
        )
        for alias_id, alias in state["aliases"].items()
    ]
    _replace_children(Alias, stream_id, aliases, ALIAS_COLUMNS, fresh=fresh)

    tenures = [
        Tenure(
            id=uuid.UUID(tenure_id),
            person_id=stream_id,
            post_id=uuid.UUID(tenure["post_id"]),
            start=tenure["start"],
            end=tenure["end"],
            acting=tenure["acting"],
            sources=tenure["sources"],
        )
        for tenure_id, tenure in state["tenures"].items()
    ]
    _replace_children(Tenure, stream_id, tenures, TENURE_COLUMNS, fresh=fresh)


ALIAS_COLUMNS = ("person_id", "name", "name_key", "kind", "language", "script", "source")
TENURE_COLUMNS = ("person_id", "post_id", "start", "end", "acting", "sources")


def _replace_children(
    model: type, person_id: uuid.UUID, wanted: list, columns: tuple[str, ...], *, fresh: bool = False
) -> None:
    """Make the person's child rows equal `wanted`, writing only what differs.

    Rows are looked up by person and by id: on a merge a tenure keeps its id and moves
    to the winner, whose sync may run before or after the loser's in the same batch.
    """
    if fresh:
        if wanted:
            model.objects.bulk_create(wanted)
        return
    ids = [row.pk for row in wanted]
    current = {
        row["id"]: row
        for row in model.objects.filter(Q(person_id=person_id) | Q(pk__in=ids)).values(
            "id", *columns
        )
    }
    stale = [pk for pk, row in current.items() if row["person_id"] == person_id and pk not in ids]
    if stale:
        model.objects.filter(pk__in=stale).delete()
    new = [row for row in wanted if row.pk not in current]
    if new:
        model.objects.bulk_create(new)
    for row in wanted:
        before = current.get(row.pk)
        if before is not None and any(before[c] != getattr(row, c) for c in columns):
            row.save(force_update=True)


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
        replayer=lambda session: PeopleReplay(session),
    )
)
