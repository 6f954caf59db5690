"""Projector of meetings and articles: copies folded stream state into the read models.

A participation's `person` is the recorded person followed through merges, and its
`tenure` the post that person held on the meeting date; both are re-derived whenever the
meeting changes and whenever a person's tenures or merges change (`reacts_to`). Only the
people app's public selectors are used, and they read people's read models as they stand
at the same log position live and on replay, so a rebuild gives the same rows.
"""
from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.db.models import Q

from people.names import normalize_name
from tracker.common import partialdate
from tracker.eventstore.api import Projector, StoredEvent, register_projector

from .events import ARTICLE, MEETING
from .models import Citation, Meeting, Participation, SourceArticle

# People events after which the persons and tenures of participations may have changed.
PEOPLE_EVENTS = (
    "TenureStarted",
    "TenureEnded",
    "TenureCorrected",
    "TenureRemoved",
    "PersonMergedInto",
    "PersonAbsorbed",
    "PersonUnmerged",
)
# People events after which a participant recorded by name only may now name a known person.
NAME_EVENTS = ("PersonRegistered", "PersonRenamed", "AliasAdded", "AliasRemoved")


def _derive(recorded_person_id: Any, date: str, name: str = "") -> tuple[Any, Any]:
    """(person id now, tenure id held on `date`) for a participant; Nones if unknown.

    A participant recorded by name only resolves to the one person on record with that
    name or alias (none if two share it), the same exact-match rule the news pipeline uses.
    """
    from people.selectors import person_find_by_name, person_resolve, tenure_on

    if recorded_person_id:
        person_id = person_resolve(recorded_person_id)
    else:
        found = person_find_by_name(name) if name else []
        person_id = found[0].pk if len(found) == 1 else None
    if person_id is None:
        return None, None
    tenure = tenure_on(person_id=person_id, on=date) if date else None
    return person_id, (tenure.pk if tenure is not None else None)


def _created_at(existing: Any, events: list[StoredEvent]) -> dt.datetime:
    return events[0].recorded_at if existing is None or events[0].version == 1 else existing.created_at


_PARTICIPATION_FIELDS = ("meeting_id", "name", "name_key", "recorded_person_id", "person_id", "tenure_id", "side", "is_host")


def sync_meeting(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    """Write the Meeting row and its participations and citations from the folded state."""
    date = state.get("date") or ""
    prior = Meeting.objects.filter(pk=stream_id).only("created_at", "date").first()
    meeting = Meeting(
        id=stream_id,
        title=state.get("title") or "",
        summary=state.get("summary") or "",
        date=date,
        date_precision=partialdate.precision(date) or "",
        date_first=partialdate.first_day(date) if date else None,
        date_last=partialdate.last_day(date) if date else None,
        end_date=state.get("end_date") or "",
        location_name=state.get("location_name") or "",
        location_country=state.get("location_country") or "",
        mode=state.get("mode") or Meeting.Mode.IN_PERSON,
        status=state.get("status") or Meeting.Status.HELD,
        status_source=state.get("status_source") or "",
        kind=state.get("kind") or "",
        topics=list(state.get("topics") or []),
        occasion=state.get("occasion") or "",
        merged_into_id=state.get("merged_into") or None,
        retracted=bool(state.get("retracted")),
        version=events[-1].version,
        updated_at=events[-1].recorded_at,
        created_at=_created_at(prior, events),
    )
    meeting.save(force_insert=prior is None, force_update=prior is not None)
    # A merged meeting's entries now live on the meeting it was merged into.
    merged = bool(state.get("merged_into"))
    participants = [] if merged else state.get("participants") or []
    citations = [] if merged else state.get("citations") or []
    wanted_ids = {uuid.UUID(p["id"]) for p in participants}
    existing = {
        row.id: row for row in Participation.objects.filter(Q(meeting_id=stream_id) | Q(id__in=wanted_ids))
    }
    stale = [pk for pk, row in existing.items() if row.meeting_id == stream_id and pk not in wanted_ids]
    if stale:
        Participation.objects.filter(pk__in=stale).delete()
    date_changed = prior is None or prior.date != date
    for p in participants:
        recorded = uuid.UUID(p["person_id"]) if p.get("person_id") else None
        row = existing.get(uuid.UUID(p["id"]))
        if (
            row is not None and row.meeting_id == stream_id and not date_changed
            and row.recorded_person_id == recorded and row.name == (p.get("name") or "")
        ):
            # Same person, same meeting, same date: the derivation is current, since every people
            # event that could change it re-derives it (rederive_participations).
            person_id, tenure_id = row.person_id, row.tenure_id
        else:
            person_id, tenure_id = _derive(recorded, date, p.get("name") or "")
        wanted = Participation(
            id=uuid.UUID(p["id"]),
            meeting_id=stream_id,
            name=p.get("name") or "",
            name_key=normalize_name(p.get("name") or ""),
            recorded_person_id=recorded,
            person_id=person_id,
            tenure_id=tenure_id,
            side=p.get("side") or "",
            is_host=bool(p.get("is_host")),
        )
        if row is None or any(getattr(row, f) != getattr(wanted, f) for f in _PARTICIPATION_FIELDS):
            wanted.save(force_insert=row is None, force_update=row is not None)
    cited_ids = {uuid.UUID(c["id"]) for c in citations}
    cited = {row.id: row for row in Citation.objects.filter(Q(meeting_id=stream_id) | Q(id__in=cited_ids))}
    stale = [pk for pk, row in cited.items() if row.meeting_id == stream_id and pk not in cited_ids]
    if stale:
        # Deleted before any save, so a re-cited article never meets its old row's unique pair.
        Citation.objects.filter(pk__in=stale).delete()
    for c in citations:
        row = cited.get(uuid.UUID(c["id"]))
        wanted = Citation(
            id=uuid.UUID(c["id"]),
            meeting_id=stream_id,
            article_id=uuid.UUID(c["article_id"]),
            evidence=c.get("evidence") or [],
        )
        if row is None or (row.meeting_id, row.article_id, row.evidence) != (
            wanted.meeting_id,
            wanted.article_id,
            wanted.evidence,
        ):
            wanted.save(force_insert=row is None, force_update=row is not None)


def sync_article(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    """Write the SourceArticle row from the folded state."""
    published_at = state.get("published_at") or ""
    prior = SourceArticle.objects.filter(pk=stream_id).only("created_at").first()
    SourceArticle(
        id=stream_id,
        url=state.get("url") or "",
        canonical_url=state.get("canonical_url") or "",
        title=state.get("title") or "",
        publisher=state.get("publisher") or "",
        wire_service=state.get("wire_service") or "",
        author=state.get("author") or "",
        published_at=dt.datetime.fromisoformat(published_at) if published_at else None,
        published_date=state.get("published_date") or "",
        language=state.get("language") or "",
        content_hash=state.get("content_hash") or "",
        duplicate_of_id=state.get("duplicate_of") or None,
        version=events[-1].version,
        created_at=_created_at(prior, events),
    ).save()


def rederive_participations(stored: StoredEvent) -> None:
    """Re-derive person and tenure of participations touched by a people event."""
    ids = {stored.stream_id, *stored.related_ids}
    affected = Participation.objects.filter(Q(recorded_person_id__in=ids) | Q(person_id__in=ids)).select_related(
        "meeting"
    )
    for part in affected.order_by("id"):
        person_id, tenure_id = _derive(part.recorded_person_id, part.meeting.date, part.name)
        if (part.person_id, part.tenure_id) != (person_id, tenure_id):
            part.person_id, part.tenure_id = person_id, tenure_id
            part.save(update_fields=["person", "tenure"])


def resolve_named_participations(stored: StoredEvent) -> None:
    """A person got (or lost) a name: re-derive participants recorded by name only that carry
    one of the person's spellings, or that were resolved to this person before."""
    from people.selectors import person_spellings

    keys = {normalize_name(n) for n in person_spellings(stored.stream_id)}
    if stored.data.get("name"):
        keys.add(normalize_name(str(stored.data["name"])))
    affected = Participation.objects.filter(recorded_person_id__isnull=True).filter(
        Q(name_key__in=keys) | Q(person_id=stored.stream_id)
    ).select_related("meeting")
    for part in affected.order_by("id"):
        person_id, tenure_id = _derive(None, part.meeting.date, part.name)
        if (part.person_id, part.tenure_id) != (person_id, tenure_id):
            part.person_id, part.tenure_id = person_id, tenure_id
            part.save(update_fields=["person", "tenure"])


register_projector(
    Projector(
        name="meetings",
        syncs={MEETING: sync_meeting, ARTICLE: sync_article},
        reacts_to={
            **{name: rederive_participations for name in PEOPLE_EVENTS},
            **{name: resolve_named_participations for name in NAME_EVENTS},
        },
        models=[Citation, Participation, Meeting, SourceArticle],
    )
)
