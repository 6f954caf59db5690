"""Projector of meetings and articles: copies folded stream state into the read models.

A participation's `person` is the recorded person followed through merges, and its
`tenure` the post that person held on the meeting date; both are re-derived whenever the
meeting changes and whenever a person's tenures or merges change (`reacts_to`). Only the
people app's public selectors are used, and they read people's read models as they stand
at the same log position live and on replay, so a rebuild gives the same rows.
"""
from __future__ import annotations

import copy
import datetime as dt
import uuid
from typing import Any

from django.db import connection
from django.db.models import Q

from people.names import normalize_name
from tracker.common import partialdate
from tracker.eventstore.api import (
    InlineWrite,
    Projector,
    StoredEvent,
    current_replay,
    insert_rows,
    projecting,
    register_projector,
    row_written,
    update_row,
    update_row_statement,
    updated_row,
)

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
    """`_derive_now`, remembered during a replay until another projector changes its tables."""
    rows = _replay_rows()
    if rows is None:
        return _derive_now(recorded_person_id, date, name)
    return rows.derive(recorded_person_id, date, name)


def _derive_now(recorded_person_id: Any, date: str, name: str = "") -> tuple[Any, Any]:
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
_NEW_MEETING_COLUMNS = tuple(f.attname for f in Meeting._meta.concrete_fields)


def _meeting_row(stream_id: uuid.UUID, state: dict, version: int, updated_at: Any, created_at: Any) -> Meeting:
    values = _meeting_values(stream_id, state, version, updated_at, created_at)
    return Meeting(*[values[name] for name in _NEW_MEETING_COLUMNS])  # by position: half the cost


def _meeting_values(stream_id: uuid.UUID, state: dict, version: int, updated_at: Any, created_at: Any) -> dict:
    """The Meeting row's column values (by attname) for a folded state."""
    date = state.get("date") or ""
    return dict(
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
        merged_into_id=uuid.UUID(state["merged_into"]) if state.get("merged_into") else None,
        retracted=bool(state.get("retracted")),
        version=version,
        updated_at=updated_at,
        created_at=created_at,
    )


def _leaves_children(event: StoredEvent) -> bool:
    """An event after which the meeting's participations and citations need no look."""
    return event.type == "MeetingRevised" and "date" not in (event.data.get("changes") or {})


def presync_meeting(stream_id: uuid.UUID, state: dict, events: list[StoredEvent], condition: str) -> InlineWrite | None:
    """`sync_meeting`'s one-UPDATE branch as a write the append sends with its events (same
    row, same statement); None where the full sync is needed."""
    if events[0].version <= 1 or not all(_leaves_children(e) for e in events):
        return None
    row = _meeting_row(stream_id, state, events[-1].version, events[-1].recorded_at, None)
    sql, params = update_row_statement(row, keep=_KEPT, condition=condition)

    def done(found: tuple) -> bool:
        if not updated_row(row, _KEPT, found[0] is not None and found):
            return False  # no such row: `sync_meeting` writes it whole
        row_written(row)
        return True

    return InlineWrite(sql, params, len(_KEPT), done)


_KEPT = ("created_at",)  # kept by a revision's UPDATE, and read back for the command's row


def sync_meeting(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    """Write the Meeting row and its participations and citations from the folded state."""
    rows = _replay_rows()
    if rows is not None:
        rows.sync_meeting(stream_id, state, events)
        return
    if events[0].version > 1 and all(_leaves_children(e) for e in events):
        # Only the meeting's own fields changed (not its date): its participations and
        # citations are as they were, so one UPDATE does (created_at is kept, and read back
        # so the command can return the whole row).
        row = _meeting_row(stream_id, state, events[-1].version, events[-1].recorded_at, None)
        if connection.vendor == "postgresql":
            if update_row(row, keep=_KEPT):
                row_written(row)
                return
        else:
            fields = {name: getattr(row, name) for name in _MEETING_COLUMNS if name != "created_at"}
            if Meeting.objects.filter(pk=stream_id).update(**fields):
                return
    date = state.get("date") or ""
    # A stream's first batch: no row of it exists yet, and its entries' ids were just made by
    # the command, so there is nothing to look up and the rows are inserted in bulk.
    fresh = events[0].version == 1
    prior = None if fresh else Meeting.objects.filter(pk=stream_id).only("created_at", "date").first()
    meeting = _meeting_row(stream_id, state, events[-1].version, events[-1].recorded_at, _created_at(prior, events))
    meeting.save(force_insert=prior is None, force_update=prior is not None)
    row_written(meeting)
    # A merged meeting's entries now live on the meeting it was merged into.
    merged = bool(state.get("merged_into"))
    participants = [] if merged else state.get("participants") or []
    citations = [] if merged else state.get("citations") or []
    wanted_ids = {uuid.UUID(p["id"]) for p in participants}
    existing = {} if fresh else {
        row.id: row for row in Participation.objects.filter(Q(meeting_id=stream_id) | Q(id__in=wanted_ids))
    }
    inserts: list[Participation] = []
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
        if row is None and fresh:
            inserts.append(wanted)
        elif row is None or any(getattr(row, f) != getattr(wanted, f) for f in _PARTICIPATION_FIELDS):
            wanted.save(force_insert=row is None, force_update=row is not None)
    if inserts:
        Participation.objects.bulk_create(inserts)
    cited_ids = {uuid.UUID(c["id"]) for c in citations}
    cited = {} if fresh else {
        row.id: row for row in Citation.objects.filter(Q(meeting_id=stream_id) | Q(id__in=cited_ids))
    }
    new_citations: list[Citation] = []
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
        if row is None and fresh:
            new_citations.append(wanted)
        elif row is None or (row.meeting_id, row.article_id, row.evidence) != (
            wanted.meeting_id,
            wanted.article_id,
            wanted.evidence,
        ):
            wanted.save(force_insert=row is None, force_update=row is not None)
    if new_citations:
        Citation.objects.bulk_create(new_citations)


def _derive_many(
    keys: set[tuple[Any, str, str]], name_keys: dict[str, str]
) -> dict[tuple[Any, str, str], tuple[Any, Any]]:
    """`_derive_now` of many (recorded person id, date, name) at once, in a few queries;
    `name_keys` maps each name to its `normalize_name`."""
    from people.selectors import person_ids_by_name_keys, person_resolve_many, tenure_on_many

    resolved = person_resolve_many({recorded for recorded, _, _ in keys if recorded})
    by_name = person_ids_by_name_keys({name_keys[name] for recorded, _, name in keys if not recorded})
    persons = {}
    for key in keys:
        recorded, _, name = key
        if recorded:
            persons[key] = resolved[recorded]
        else:
            found = by_name.get(name_keys[name], set()) if name else set()
            persons[key] = next(iter(found)) if len(found) == 1 else None
    tenures = tenure_on_many({(person_id, key[1]) for key, person_id in persons.items() if person_id and key[1]})
    return {
        key: (person_id, tenures[(person_id, key[1])] if key[1] else None) if person_id else (None, None)
        for key, person_id in persons.items()
    }


def sync_new_meetings(streams: list[tuple[uuid.UUID, dict, list[StoredEvent]]]) -> None:
    """Write the rows of many meetings an append starts (a bulk import): the rows `sync_meeting`
    writes for each, with persons and tenures derived in a few queries, one COPY per table."""
    meetings, citations = [], []
    wanted: list[tuple[uuid.UUID, str, dict]] = []
    for stream_id, state, events in streams:
        row = _meeting_values(stream_id, state, events[-1].version, events[-1].recorded_at, events[0].recorded_at)
        meetings.append([row[name] for name in _NEW_MEETING_COLUMNS])
        if state.get("merged_into"):
            continue  # a merged meeting's entries live on the meeting it was merged into
        date = state.get("date") or ""
        wanted += [(stream_id, date, p) for p in state.get("participants") or []]
        citations += [
            (c["id"], stream_id, c["article_id"], c.get("evidence") or [])  # ids as text, as COPY sends them
            for c in state.get("citations") or []
        ]
    keys = [
        (uuid.UUID(p["person_id"]) if p.get("person_id") else None, date, p.get("name") or "") for _, date, p in wanted
    ]
    name_keys = {name: normalize_name(name) for _, _, name in keys}
    derived = _derive_many(set(keys), name_keys)
    participations = [
        (p["id"], stream_id, key[2], name_keys[key[2]], key[0], *derived[key], p.get("side") or "",
         bool(p.get("is_host")))
        for (stream_id, _, p), key in zip(wanted, keys, strict=True)
    ]
    insert_rows(Meeting, _NEW_MEETING_COLUMNS, meetings)
    insert_rows(Participation, ("id", *_PARTICIPATION_FIELDS), participations)
    insert_rows(Citation, ("id", "meeting_id", "article_id", "evidence"), citations)


def sync_article(stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
    """Write the SourceArticle row from the folded state."""
    rows = _replay_rows()
    if rows is not None:
        rows.sync_article(stream_id, state, events)
        return
    fresh = events[0].version == 1  # a new stream: no row of it yet
    prior = None if fresh else SourceArticle.objects.filter(pk=stream_id).only("created_at").first()
    _article_row(stream_id, state, events, _created_at(prior, events)).save(force_insert=fresh)


def _article_row(stream_id: uuid.UUID, state: dict, events: list[StoredEvent], created_at: Any) -> SourceArticle:
    published_at = state.get("published_at") or ""
    return SourceArticle(
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
        created_at=created_at,
    )


def rederive_participations(stored: StoredEvent) -> None:
    """Re-derive person and tenure of participations touched by a people event."""
    rows = _replay_rows()
    if rows is not None:
        rows.flush()
    ids = {stored.stream_id, *stored.related_ids}
    affected = Participation.objects.filter(Q(recorded_person_id__in=ids) | Q(person_id__in=ids)).select_related(
        "meeting"
    )
    for part in affected.order_by("id"):
        person_id, tenure_id = _derive(part.recorded_person_id, part.meeting.date, part.name)
        if (part.person_id, part.tenure_id) != (person_id, tenure_id):
            part.person_id, part.tenure_id = person_id, tenure_id
            part.save(update_fields=["person", "tenure"])
            if rows is not None:
                rows.rederived(part)


def resolve_named_participations(stored: StoredEvent) -> None:
    """A person got (or lost) a name: re-derive participants recorded by name only that carry
    one of the person's spellings, or that were resolved to this person before."""
    from people.selectors import person_spellings

    rows = _replay_rows()
    if rows is not None:
        rows.flush()
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
            if rows is not None:
                rows.rederived(part)


# Replays ------------------------------------------------------------------------------------
# During a rebuild the read models start empty and only this projector writes them, so the
# rows are kept in memory (no "previous row" reads) and written in bulk by `flush`, which runs
# every few thousand events, at the end, and before this projector's own reactions read the
# tables. Reads of people's tables go through `_derive`, remembered until any other projector
# runs (people's tables may then have changed). Same rows as live, event for event.

REPLAY_CACHE = 100_000  # meetings kept in memory; beyond that, flushed rows are read back
_MEETING_FIELDS = [f.name for f in Meeting._meta.concrete_fields if not f.primary_key]
_MEETING_COLUMNS = [f.attname for f in Meeting._meta.concrete_fields if not f.primary_key]
_ARTICLE_FIELDS = [f.name for f in SourceArticle._meta.concrete_fields if not f.primary_key]
_PART_UPDATE = ["meeting", "name", "name_key", "recorded_person_id", "person", "tenure", "side", "is_host"]
_CITATION_UPDATE = ["meeting", "article", "evidence"]
_CHUNK = 500


def _replay_rows() -> _ReplayRows | None:
    replay = current_replay()
    if replay is None:
        return None
    rows = replay.buffers.get("meetings")
    if rows is None:
        rows = replay.buffers["meetings"] = _ReplayRows(replay)
    return rows


class _Children:
    """Participations or citations of a replay, by id and by meeting."""

    def __init__(self, model: type, fields: tuple[str, ...]) -> None:
        self.model, self.fields = model, fields
        self.complete = True  # nothing evicted: a row missing here is not in the table either
        self.rows: dict[uuid.UUID, dict] = {}
        self.of: dict[uuid.UUID, set[uuid.UUID]] = {}  # meeting id -> row ids
        self.loaded: set[uuid.UUID] = set()  # meetings whose rows were read back (not complete)
        self.dirty: set[uuid.UUID] = set()
        self.gone: set[uuid.UUID] = set()

    def forget(self) -> None:
        """Drop the (flushed) copies; rows are read back from the table when needed."""
        assert not self.dirty and not self.gone
        self.rows.clear()
        self.of.clear()
        self.loaded.clear()
        self.complete = False

    def load(self, meeting_id: uuid.UUID, ids: set[uuid.UUID]) -> None:
        """Make sure the meeting's rows and the rows `ids` are here (a no-op while complete)."""
        if self.complete:
            return
        query = Q(id__in=[pk for pk in ids if pk not in self.rows and pk not in self.gone])
        if meeting_id not in self.loaded:
            self.loaded.add(meeting_id)
            query |= Q(meeting_id=meeting_id)
        for row in self.model.objects.filter(query).values("id", *self.fields):
            if row["id"] not in self.rows and row["id"] not in self.gone:
                self.rows[row["id"]] = row
                self.of.setdefault(row["meeting_id"], set()).add(row["id"])

    def put(self, row: dict) -> None:
        before = self.rows.get(row["id"])
        if before is not None and before["meeting_id"] != row["meeting_id"]:
            self.of.get(before["meeting_id"], set()).discard(row["id"])
        self.rows[row["id"]] = row
        self.of.setdefault(row["meeting_id"], set()).add(row["id"])
        self.dirty.add(row["id"])

    def drop(self, pk: uuid.UUID) -> None:
        row = self.rows.pop(pk)
        self.of.get(row["meeting_id"], set()).discard(pk)
        self.dirty.discard(pk)
        self.gone.add(pk)

    def stale(self, meeting_id: uuid.UUID, wanted: set[uuid.UUID]) -> list[uuid.UUID]:
        return [pk for pk in self.of.get(meeting_id, ()) if pk not in wanted]


class _ReplayRows:
    def __init__(self, replay: Any) -> None:
        self.replay = replay
        self.complete = True  # meetings and articles: nothing evicted yet
        self.meetings: dict[uuid.UUID, tuple[Any, str]] = {}  # id -> (created_at, date)
        self.dirty_meetings: dict[uuid.UUID, tuple] = {}  # id -> (state, version, updated_at, created_at)
        self.articles: dict[uuid.UUID, Any] = {}  # id -> created_at
        self.dirty_articles: dict[uuid.UUID, SourceArticle] = {}
        self.parts = _Children(Participation, _PARTICIPATION_FIELDS)
        self.cites = _Children(Citation, ("meeting_id", "article_id", "evidence"))
        self.derived: dict[tuple, tuple[Any, Any]] = {}
        self.others_as_of = 0
        self.uuids: dict[str, uuid.UUID] = {}  # parsing ids and names once per replay
        self.name_keys: dict[str, str] = {}

    def _uuid(self, text: str) -> uuid.UUID:
        found = self.uuids.get(text)
        if found is None:
            if len(self.uuids) > REPLAY_CACHE * 10:
                self.uuids.clear()
            found = self.uuids[text] = uuid.UUID(text)
        return found

    def _name_key(self, name: str) -> str:
        found = self.name_keys.get(name)
        if found is None:
            if len(self.name_keys) > REPLAY_CACHE:
                self.name_keys.clear()
            found = self.name_keys[name] = normalize_name(name)
        return found

    def _others_ran(self) -> None:
        """Another projector ran since we last looked (after a flush: see Replay.entering).

        People's tables may have changed, so derivations are forgotten; and deleting a
        tenure or person nulls participations' references in the table (SET_NULL), so the
        copies of participations are forgotten too and read back when needed.
        """
        stamp = self.replay.changed_except("meetings")
        if stamp != self.others_as_of:
            self.others_as_of = stamp
            self.derived.clear()
            self.parts.forget()

    # reads ------------------------------------------------------------------------------
    def derive(self, recorded: Any, date: str, name: str) -> tuple[Any, Any]:
        self._others_ran()
        key = (recorded, date, "" if recorded else name)
        found = self.derived.get(key)
        if found is None:
            found = self.derived[key] = _derive_now(recorded, date, name)
        return found

    # writes -----------------------------------------------------------------------------
    def sync_meeting(self, stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
        self._others_ran()
        date = state.get("date") or ""
        merged = bool(state.get("merged_into"))
        participants = [] if merged else state.get("participants") or []
        citations = [] if merged else state.get("citations") or []
        wanted_ids = {self._uuid(p["id"]) for p in participants}
        cited_ids = {self._uuid(c["id"]) for c in citations}
        self.parts.load(stream_id, wanted_ids)
        self.cites.load(stream_id, cited_ids)
        if stream_id in self.meetings or self.complete:
            prior = self.meetings.get(stream_id)
        else:
            prior = Meeting.objects.filter(pk=stream_id).values_list("created_at", "date").first()
        created_at = events[0].recorded_at if prior is None or events[0].version == 1 else prior[0]
        self.meetings[stream_id] = (created_at, date)
        self.dirty_meetings[stream_id] = (state, events[-1].version, events[-1].recorded_at, created_at)
        for pk in self.parts.stale(stream_id, wanted_ids):
            self.parts.drop(pk)
        date_changed = prior is None or prior[1] != date
        for p in participants:
            pk = self._uuid(p["id"])
            name = p.get("name") or ""
            recorded = self._uuid(p["person_id"]) if p.get("person_id") else None
            row = self.parts.rows.get(pk)
            if (
                row is not None and row["meeting_id"] == stream_id and not date_changed
                and row["recorded_person_id"] == recorded and row["name"] == name
            ):
                person_id, tenure_id = row["person_id"], row["tenure_id"]
            else:
                person_id, tenure_id = _derive(recorded, date, name)
            wanted = {
                "id": pk,
                "meeting_id": stream_id,
                "name": name,
                "name_key": self._name_key(name),
                "recorded_person_id": recorded,
                "person_id": person_id,
                "tenure_id": tenure_id,
                "side": p.get("side") or "",
                "is_host": bool(p.get("is_host")),
            }
            if row != wanted:
                self.parts.put(wanted)
        for pk in self.cites.stale(stream_id, cited_ids):
            self.cites.drop(pk)
        for c in citations:
            wanted = {
                "id": self._uuid(c["id"]),
                "meeting_id": stream_id,
                "article_id": self._uuid(c["article_id"]),
                "evidence": c.get("evidence") or [],
            }
            if self.cites.rows.get(wanted["id"]) != wanted:
                # A copy: the replay's fold may change the state's lists in place later.
                self.cites.put({**wanted, "evidence": copy.deepcopy(wanted["evidence"])})

    def sync_article(self, stream_id: uuid.UUID, state: dict, events: list[StoredEvent]) -> None:
        if stream_id in self.articles or self.complete:
            prior = self.articles.get(stream_id)
        else:
            prior = SourceArticle.objects.filter(pk=stream_id).values_list("created_at", flat=True).first()
        created_at = events[0].recorded_at if prior is None or events[0].version == 1 else prior
        self.articles[stream_id] = created_at
        self.dirty_articles[stream_id] = _article_row(stream_id, state, events, created_at)

    def rederived(self, part: Participation) -> None:
        """A reaction re-derived a (flushed) participation in the table: keep the copy equal."""
        row = self.parts.rows.get(part.id)
        if row is not None:
            row["person_id"], row["tenure_id"] = part.person_id, part.tenure_id

    def flush(self) -> None:
        """Write what changed since the last flush: deletions first (a re-cited article never
        meets its old row's unique pair), then bulk upserts."""
        with projecting():
            for children in (self.cites, self.parts):
                ids = list(children.gone)
                for i in range(0, len(ids), _CHUNK):
                    children.model.objects.filter(pk__in=ids[i : i + _CHUNK]).delete()
                children.gone.clear()
            meetings = [
                _meeting_row(pk, state, version, updated_at, created_at)
                for pk, (state, version, updated_at, created_at) in self.dirty_meetings.items()
            ]
            _upsert(Meeting, meetings, _MEETING_FIELDS)
            _upsert(SourceArticle, list(self.dirty_articles.values()), _ARTICLE_FIELDS)
            _upsert(Participation, [Participation(**self.parts.rows[pk]) for pk in self.parts.dirty], _PART_UPDATE)
            _upsert(Citation, [Citation(**self.cites.rows[pk]) for pk in self.cites.dirty], _CITATION_UPDATE)
        self.dirty_meetings.clear()
        self.dirty_articles.clear()
        self.parts.dirty.clear()
        self.cites.dirty.clear()
        if len(self.meetings) > REPLAY_CACHE:
            self.complete = False
            self.meetings.clear()
            self.articles.clear()
            self.parts.forget()
            self.cites.forget()


def _upsert(model: type, rows: list, update_fields: list[str]) -> None:
    if rows:
        model.objects.bulk_create(
            rows, batch_size=_CHUNK, update_conflicts=True, unique_fields=["id"], update_fields=update_fields
        )


def flush_replay_rows() -> None:
    rows = _replay_rows()
    if rows is not None:
        rows.flush()


register_projector(
    Projector(
        name="meetings",
        syncs={MEETING: sync_meeting, ARTICLE: sync_article},
        syncs_new={MEETING: sync_new_meetings},
        presyncs={MEETING: presync_meeting},
        reacts_to={
            **{name: rederive_participations for name in PEOPLE_EVENTS},
            **{name: resolve_named_participations for name in NAME_EVENTS},
        },
        models=[Citation, Participation, Meeting, SourceArticle],
        flush=flush_replay_rows,
        replayer=lambda session: _replay_module().MeetingsReplay(session),
    )
)


def _replay_module() -> Any:
    from . import replay  # imports this module's event lists

    return replay
