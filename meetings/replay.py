"""Meetings' read models during a fast replay: in memory, written at the end.

Same rows as `meetings/projections.py` writes, call for call: a participation's person and
tenure are derived (from the people replay's in-memory indexes) exactly when the live sync
derives them, and kept otherwise; the reactions to people events re-derive the same
participations as live, found through indexes instead of queries; a deleted tenure nulls the
participations referring to it, as ON DELETE SET NULL does. Meeting, article and citation
rows are functions of the stream state at the stream's last sync, so they are built once, at
the end.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from people.names import normalize_name
from tracker.common import partialdate
from tracker.eventstore.bulkcopy import NULL, CopyWriter, JsonText, json_text, line_of, text
from tracker.eventstore.replay import IdCache

from .events import ARTICLE
from .models import Citation, Meeting, Participation, SourceArticle
from .projections import NAME_EVENTS, PEOPLE_EVENTS

# Events after which a meeting's participations and citations are as they were (the live
# sync finds nothing to write for them): only the meeting row changes.
_KEEPS_CHILDREN = frozenset({"MeetingStatusChanged", "MeetingRetracted", "MeetingRestored"})
# A participation as the live sync compares it: meeting id, recorded person id, name, person
# id, tenure id, side, is_host, name key.
MEETING, RECORDED, NAME, PERSON, TENURE, SIDE, HOST, KEY = range(8)


def _keeps_children(events: list) -> bool:
    if len(events) == 1:  # the common case, without the loop
        ev = events[0]
        if ev.type == "MeetingRevised":
            return "date" not in (ev.data.get("changes") or {})
        return ev.type in _KEEPS_CHILDREN
    for ev in events:
        if ev.type == "MeetingRevised":
            if "date" in (ev.data.get("changes") or {}):
                return False
        elif ev.type not in _KEEPS_CHILDREN:
            return False
    return True


class MeetingsReplay:
    def __init__(self, session: Any) -> None:
        self.session = session
        self._people: Any = None
        # meeting id -> [state, version, updated_at, created_at, date as of its last sync]
        self.meetings: dict[str, list] = {}
        self.articles: dict[str, list] = {}  # id -> [state, version, created_at]
        self.parts: dict[str, list] = {}
        self.parts_of: dict[str, set[str]] = {}  # meeting id -> participation ids
        self.by_recorded: dict[str, set[str]] = {}
        self.by_person: dict[str, set[str]] = {}
        self.by_tenure: dict[str, set[str]] = {}
        self.unrecorded_by_key: dict[str, set[str]] = {}  # name key -> participations by name only
        self.cites: dict[str, tuple] = {}  # id -> (meeting id, article id, evidence JSON)
        self.cites_of: dict[str, set[str]] = {}
        self.ids = IdCache()
        self.name_keys: dict[str, str] = {}

    @property
    def people(self) -> Any:
        if self._people is None:
            self._people = self.session.replayers["people"]
            self._people.on_tenure_deleted.append(self._tenure_deleted)
        return self._people

    def _id(self, text: str) -> str:
        return self.ids[text]

    def _name_key(self, name: str) -> str:
        found = self.name_keys.get(name)
        if found is None:
            found = self.name_keys[name] = normalize_name(name)
        return found

    # derivation (projections._derive_now) ------------------------------------------------
    def derive(self, recorded: str | None, date: str, name: str) -> tuple[Any, Any]:
        people = self.people
        if recorded:
            person_id = people.resolve(recorded)
        else:
            found = people.find_by_name(name, self._name_key(name)) if name else ()
            person_id = next(iter(found)) if len(found) == 1 else None
        if person_id is None:
            return None, None
        return person_id, (people.tenure_on(person_id, date) if date else None)

    # participations and their indexes ------------------------------------------------------
    def _index(self, pk: str, row: list, add: bool) -> None:
        for index, key in (
            (self.parts_of, row[MEETING]), (self.by_recorded, row[RECORDED]),
            (self.by_person, row[PERSON]), (self.by_tenure, row[TENURE]),
            (self.unrecorded_by_key, None if row[RECORDED] else row[KEY]),
        ):
            if key is None:
                continue
            if add:
                index.setdefault(key, set()).add(pk)
            else:
                index[key].discard(pk)

    def _put(self, pk: str, row: list) -> None:
        before = self.parts.get(pk)
        if before is not None:
            self._index(pk, before, False)
        self.parts[pk] = row
        self._index(pk, row, True)

    def _drop(self, pk: str) -> None:
        self._index(pk, self.parts.pop(pk), False)

    def _set_derived(self, pk: str, person_id: Any, tenure_id: Any) -> None:
        row = self.parts[pk]
        if (row[PERSON], row[TENURE]) != (person_id, tenure_id):
            new = list(row)
            new[PERSON], new[TENURE] = person_id, tenure_id
            self._put(pk, new)

    def _tenure_deleted(self, tenure_id: str) -> None:
        for pk in list(self.by_tenure.get(tenure_id, ())):
            self._set_derived(pk, self.parts[pk][PERSON], None)

    # syncs (projections.sync_meeting, sync_article) --------------------------------------
    def sync(self, stream_type: str, stream_id: str, state: dict, events: list) -> None:
        meeting = self.meetings.get(stream_id)
        if meeting is not None and _keeps_children(events):
            # Only the meeting row changes (the live sync finds its children as they are).
            last = events[-1]
            meeting[0], meeting[1], meeting[2] = state, last.version, last.recorded_at
            return
        first, last = events[0], events[-1]
        if stream_type == ARTICLE:
            prior = self.articles.get(stream_id)
            created = first.recorded_at if prior is None or first.version == 1 else prior[2]
            self.articles[stream_id] = [state, last.version, created]
            return
        date = state.get("date") or ""
        created = first.recorded_at if meeting is None or first.version == 1 else meeting[3]
        date_changed = meeting is None or meeting[4] != date
        self.meetings[stream_id] = [state, last.version, last.recorded_at, created, date]
        merged = bool(state.get("merged_into"))
        participants = {} if merged else {self._id(p["id"]): p for p in state.get("participants") or ()}
        for pk in [pk for pk in self.parts_of.get(stream_id, ()) if pk not in participants]:
            self._drop(pk)
        for pk, p in participants.items():
            name = p.get("name") or ""
            recorded = self._id(p["person_id"]) if p.get("person_id") else None
            row = self.parts.get(pk)
            if (
                row is not None and row[MEETING] == stream_id and not date_changed
                and row[RECORDED] == recorded and row[NAME] == name
            ):
                person_id, tenure_id = row[PERSON], row[TENURE]
            else:
                person_id, tenure_id = self.derive(recorded, date, name)
            wanted = [
                stream_id, recorded, name, person_id, tenure_id, p.get("side") or "", bool(p.get("is_host")),
                self._name_key(name),
            ]
            if row != wanted:
                self._put(pk, wanted)
        citations = {} if merged else {self._id(c["id"]): c for c in state.get("citations") or ()}
        for pk in [pk for pk in self.cites_of.get(stream_id, ()) if pk not in citations]:
            self.cites_of[stream_id].discard(pk)
            del self.cites[pk]
        for pk, c in citations.items():
            # Evidence as JSON text: the state's lists may change in place after this sync.
            wanted_cite = (stream_id, self._id(c["article_id"]), json.dumps(c.get("evidence") or []))
            before = self.cites.get(pk)
            if before != wanted_cite:
                if before is not None:
                    self.cites_of[before[0]].discard(pk)
                self.cites[pk] = wanted_cite
                self.cites_of.setdefault(stream_id, set()).add(pk)

    # reactions (projections.rederive_participations, resolve_named_participations) -------
    def react(self, event: Any) -> None:
        if event.type in PEOPLE_EVENTS:
            ids = {event.stream_id, *event.related_ids}
            affected = set()
            for i in ids:
                affected |= self.by_recorded.get(i, set()) | self.by_person.get(i, set())
        elif event.type in NAME_EVENTS:
            keys = {normalize_name(n) for n in self.people.spellings(event.stream_id)}
            if event.data.get("name"):
                keys.add(normalize_name(str(event.data["name"])))
            affected = {pk for pk in self.by_person.get(event.stream_id, ()) if self.parts[pk][RECORDED] is None}
            for key in keys:
                affected |= self.unrecorded_by_key.get(key, set())
        else:
            return
        for pk in sorted(affected):
            row = self.parts[pk]
            self._set_derived(pk, *self.derive(row[RECORDED], self.meetings[row[MEETING]][4], row[NAME]))

    # the end -----------------------------------------------------------------------------
    def write(self, writer: CopyWriter) -> None:
        ids, article = self.ids, line_of(SourceArticle)
        writer.keyed(SourceArticle, self.articles, lambda pk, a: article(_article_row(pk, ids, *a)))
        writer.keyed(Meeting, self.meetings, lambda pk, m: _meeting_line(pk, ids, *m), MEETING_COLUMNS)
        writer.keyed(Participation, self.parts, _participation_line, PARTICIPATION_COLUMNS)
        writer.keyed(Citation, self.cites, _citation_line, ["id", "meeting_id", "article_id", "evidence"])


def _participation_line(pk: str, r: list) -> str:
    return (
        f"{pk}\t{r[MEETING]}\t{text(r[NAME])}\t{text(r[KEY])}\t{r[RECORDED] or NULL}\t{r[PERSON] or NULL}\t"
        f"{r[TENURE] or NULL}\t{text(r[SIDE])}\t{'t' if r[HOST] else 'f'}"
    )


def _citation_line(pk: str, cite: tuple) -> str:
    meeting, article, evidence = cite
    return f"{pk}\t{meeting}\t{article}\t{json_text(JsonText(evidence))}"


MEETING_COLUMNS = [
    "id", "title", "summary", "date", "date_precision", "date_first", "date_last", "end_date", "location_name",
    "location_country", "mode", "status", "status_source", "kind", "topics", "occasion", "merged_into_id",
    "retracted", "version", "created_at", "updated_at",
]
PARTICIPATION_COLUMNS = [
    "id", "meeting_id", "name", "name_key", "recorded_person_id", "person_id", "tenure_id", "side", "is_host",
]
_dates: dict[str, str] = {}


def _date_columns(date: str) -> str:
    """date_precision, date_first and date_last of a partial date as COPY text, once per value."""
    found = _dates.get(date)
    if found is None:
        found = _dates[date] = (
            f"{partialdate.precision(date)}\t{partialdate.first_day(date)}\t{partialdate.last_day(date)}"
            if date else f"\t{NULL}\t{NULL}"
        )
    return found


def _meeting_line(
    pk: str, ids: IdCache, state: dict, version: int, updated_at: str, created_at: str, _date: str
) -> str:
    """projections._meeting_row, as a COPY text line."""
    g = state.get
    date = g("date") or ""
    merged = g("merged_into")
    return (
        f"{pk}\t{text(g('title') or '')}\t{text(g('summary') or '')}\t{text(date)}\t{_date_columns(date)}\t"
        f"{text(g('end_date') or '')}\t{text(g('location_name') or '')}\t{text(g('location_country') or '')}\t"
        f"{text(g('mode') or Meeting.Mode.IN_PERSON)}\t{text(g('status') or Meeting.Status.HELD)}\t"
        f"{text(g('status_source') or '')}\t{text(g('kind') or '')}\t{json_text(list(g('topics') or []))}\t"
        f"{text(g('occasion') or '')}\t{ids[merged] if merged else NULL}\t{'t' if g('retracted') else 'f'}\t"
        f"{version}\t{created_at}\t{updated_at}"
    )


def _article_row(pk: str, ids: IdCache, state: dict, version: int, created_at: str) -> tuple:
    """projections._article_row, as a value tuple."""
    published_at = state.get("published_at") or ""
    duplicate_of = state.get("duplicate_of")
    return (
        pk, state.get("url") or "", state.get("canonical_url") or "", state.get("title") or "",
        state.get("publisher") or "", state.get("wire_service") or "", state.get("author") or "",
        dt.datetime.fromisoformat(published_at) if published_at else None, state.get("published_date") or "",
        state.get("language") or "", state.get("content_hash") or "", ids[duplicate_of] if duplicate_of else None,
        version, created_at,
    )
