"""People's read models during a fast replay: in memory, written at the end.

Same rows as `people/projections.py` writes, call for call, and the lookups the meetings
replay needs (merges followed, the tenure held on a date, a person by name or alias), answered
from in-memory indexes exactly as `people.selectors` answers them from the tables. A deleted
tenure is reported to `on_tenure_deleted` listeners: in the tables, participations referring
to it are set to NULL (ON DELETE SET NULL).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tracker.common import partialdate
from tracker.eventstore.bulkcopy import CopyWriter
from tracker.eventstore.replay import IdCache

from .events import ORGANIZATION, PERSON, POST
from .models import Alias, Organization, Person, Post, Tenure
from .names import normalize_name
from .selectors import follow_merges, tenure_preference

# Row layouts (model field order, see bulkcopy.columns), without the id.
# Person: name, sort_name, name_key, country, external_ids, merged_into_id, version, created_at, updated_at
P_NAME_KEY, P_MERGED, P_CREATED = 2, 5, 7
# Alias: person_id, name, name_key, kind, language, script, source
# Tenure: person_id, post_id, start, end, acting, sources


class _Children:
    """Alias or tenure rows by id, with the ids of each person's rows."""

    def __init__(self) -> None:
        self.rows: dict[str, tuple] = {}
        self.of: dict[str, set[str]] = {}

    def put(self, pk: str, row: tuple) -> tuple | None:
        before = self.rows.get(pk)
        if before is not None and before[0] != row[0]:
            self.of[before[0]].discard(pk)
        self.rows[pk] = row
        self.of.setdefault(row[0], set()).add(pk)
        return before

    def drop(self, pk: str) -> tuple:
        row = self.rows.pop(pk)
        self.of[row[0]].discard(pk)
        return row


class PeopleReplay:
    def __init__(self, _session: Any) -> None:
        self.persons: dict[str, list] = {}
        self.by_key: dict[str, set[str]] = {}  # name_key -> persons
        self.aliases = _Children()
        self.alias_keys: dict[str, set[str]] = {}  # name_key -> alias ids
        self.tenures = _Children()
        self.organizations: dict[str, tuple] = {}
        self.posts: dict[str, tuple] = {}
        self.on_tenure_deleted: list[Callable[[str], None]] = []
        self.ids = IdCache()

    def _id(self, value: Any) -> str | None:
        return self.ids[value] if value else None

    # syncs (people/projections.py) -----------------------------------------------------
    def sync(self, stream_type: str, stream_id: str, state: dict, events: list) -> None:
        last = events[-1]
        if stream_type == ORGANIZATION:
            self.organizations[stream_id] = (state["name"], state["country"], last.version)
        elif stream_type == POST:
            self.posts[stream_id] = (state["title"], self._id(state["organization_id"]), last.version)
        elif stream_type == PERSON:
            self._sync_person(stream_id, state, events)

    def _sync_person(self, stream_id: str, state: dict, events: list) -> None:
        fresh = events[0].version == 1
        before = None if fresh else self.persons.get(stream_id)
        key = normalize_name(state["name"])
        if before is not None and before[P_NAME_KEY] != key:
            self.by_key[before[P_NAME_KEY]].discard(stream_id)
        self.by_key.setdefault(key, set()).add(stream_id)
        self.persons[stream_id] = [
            state["name"], state["sort_name"], key, state["country"], state["external_ids"],
            self._id(state["merged_into"]), events[-1].version,
            (before[P_CREATED] if before is not None else None) or events[0].recorded_at,
            events[-1].recorded_at,
        ]
        aliases = {
            self._id(aid): (
                stream_id, a["name"], normalize_name(a["name"]), a["kind"], a["language"], a["script"], a["source"],
            )
            for aid, a in state["aliases"].items()
        }
        for pk in self._stale(self.aliases, stream_id, aliases, fresh):
            self._unkey_alias(pk, self.aliases.drop(pk))
        for pk, row in aliases.items():
            before_alias = self.aliases.put(pk, row)
            if before_alias is not None:
                self._unkey_alias(pk, before_alias)
            self.alias_keys.setdefault(row[2], set()).add(pk)
        tenures = {
            self._id(tid): (stream_id, self._id(t["post_id"]), t["start"], t["end"], t["acting"], t["sources"])
            for tid, t in state["tenures"].items()
        }
        for pk in self._stale(self.tenures, stream_id, tenures, fresh):
            self.tenures.drop(pk)
            for listener in self.on_tenure_deleted:
                listener(pk)
        for pk, row in tenures.items():
            self.tenures.put(pk, row)

    @staticmethod
    def _stale(children: _Children, person_id: str, wanted: dict, fresh: bool) -> list[str]:
        """The person's rows no longer wanted (a fresh stream has none: `_replace_children`)."""
        if fresh:
            return []
        return [pk for pk in children.of.get(person_id, ()) if pk not in wanted]

    def _unkey_alias(self, pk: str, row: tuple) -> None:
        self.alias_keys[row[2]].discard(pk)

    def react(self, _event: Any) -> None:
        raise AssertionError("the people projector reacts to nothing")

    # lookups (people/selectors.py) -----------------------------------------------------
    def _merged_into_of(self, person_id: str) -> tuple[bool, str | None]:
        row = self.persons.get(person_id)
        return (False, None) if row is None else (True, row[P_MERGED])

    def resolve(self, person_id: str) -> str | None:
        """`person_resolve`."""
        row = self.persons.get(person_id)
        if row is not None and row[P_MERGED] is None:
            return person_id  # the common case, without the general walk
        return follow_merges(person_id, self._merged_into_of)

    def tenure_on(self, person_id: str, on: str) -> str | None:
        """Id of `tenure_on(person_id=..., on=...)`."""
        partialdate.validate(on)
        resolved = self.resolve(person_id)
        if resolved is None:
            return None
        best = None
        for pk in self.tenures.of.get(resolved, ()):
            _, _, start, end, acting, _ = self.tenures.rows[pk]
            if partialdate.contains(start or None, end or None, on):
                key = tenure_preference(start, end, acting, pk)
                if best is None or key > best[0]:
                    best = (key, pk)
        return best[1] if best is not None else None

    def find_by_name(self, name: str, key: str | None = None) -> set[str]:
        """Ids of `person_find_by_name(name)`; `key` is its name key, if already known."""
        key = normalize_name(name) if key is None else key
        if not key:
            return set()
        ids = set(self.by_key.get(key, ()))
        ids.update(self.aliases.rows[pk][0] for pk in self.alias_keys.get(key, ()))
        return {r for r in (self.resolve(i) for i in ids) if r is not None}

    def spellings(self, person_id: str) -> list[str]:
        """`person_spellings`."""
        row = self.persons.get(person_id)
        if row is None:
            return []
        return [row[0], *(self.aliases.rows[pk][1] for pk in self.aliases.of.get(person_id, ()))]

    # the end ---------------------------------------------------------------------------
    def write(self, writer: CopyWriter) -> None:
        writer.keyed_rows(Organization, self.organizations)
        writer.keyed_rows(Post, self.posts)
        writer.keyed_rows(Person, self.persons)
        writer.keyed_rows(Alias, self.aliases.rows)
        writer.keyed_rows(Tenure, self.tenures.rows)
