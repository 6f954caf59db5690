"""Reads about officials shared by the admin, the API, meetings and the news pipeline.

Public: other apps call these, never the read models' internals.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable

from tracker.common import partialdate
from tracker.eventstore.api import HistoryEntry, history

from .models import Alias, Person, Tenure
from .names import normalize_name

MAX_REDIRECTS = 50  # merge chains are short; this only guards against a corrupt cycle


def _as_uuid(value: uuid.UUID | str) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def person_resolve(person_id: uuid.UUID | str | None) -> uuid.UUID | None:
    """Return the id of the surviving person a (possibly merged) id redirects to, or None."""
    if person_id is None:
        return None
    try:
        current = _as_uuid(person_id)
    except ValueError:
        return None
    return follow_merges(current, _merged_into_row)


def _merged_into_row(person_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
    row = Person.objects.filter(pk=person_id).values("merged_into_id").first()
    return (False, None) if row is None else (True, row["merged_into_id"])


def follow_merges(
    person_id: uuid.UUID, merged_into_of: Callable[[uuid.UUID], tuple[bool, uuid.UUID | None]]
) -> uuid.UUID | None:
    """The surviving person `person_id` redirects to, given `merged_into_of(id)` = (exists,
    merged into); None if a person on the way does not exist. Shared with the replay."""
    current = person_id
    seen: set[uuid.UUID] = set()
    for _ in range(MAX_REDIRECTS):
        exists, target = merged_into_of(current)
        if not exists:
            return None
        if target is None or target in seen:
            return current
        seen.add(current)
        current = target
    return current


def _tenure_preference(tenure: Tenure) -> tuple:
    return tenure_preference(tenure.start, tenure.end, tenure.acting, tenure.id)


def tenure_preference(start: str, end: str, acting: bool, tenure_id: uuid.UUID) -> tuple:
    """Sort key, best first when reversed: latest start, then most precise start, then narrowest."""
    first = partialdate.first_day(start) if start else dt.date.min
    last = partialdate.last_day(end) if end else dt.date.max
    return (first, len(start), -last.toordinal(), not acting, str(tenure_id))


def posts_of(*, person_id: uuid.UUID | str, on: str) -> list[Tenure]:
    """Tenures the person (following merges) may have held on partial date `on`, best match first."""
    partialdate.validate(on)
    resolved = person_resolve(person_id)
    if resolved is None:
        return []
    tenures = Tenure.objects.filter(person_id=resolved).select_related("post__organization")
    held = [t for t in tenures if partialdate.contains(t.start or None, t.end or None, on)]
    return sorted(held, key=_tenure_preference, reverse=True)


def tenure_on(*, person_id: uuid.UUID | str, on: str) -> Tenure | None:
    """The tenure the person held on `on`: the latest-starting, most specific match, or None."""
    held = posts_of(person_id=person_id, on=on)
    return held[0] if held else None


def person_holding(*, post_id: uuid.UUID | str, on: str) -> list[Person]:
    """Persons (surviving records) who may have held the post on partial date `on`, latest first."""
    partialdate.validate(on)
    tenures = Tenure.objects.filter(post_id=_as_uuid(post_id)).select_related("person")
    held = sorted(
        (t for t in tenures if partialdate.contains(t.start or None, t.end or None, on)),
        key=_tenure_preference,
        reverse=True,
    )
    out: list[Person] = []
    seen: set[uuid.UUID] = set()
    for tenure in held:
        resolved = person_resolve(tenure.person_id)
        if resolved is None or resolved in seen:
            continue
        seen.add(resolved)
        out.append(
            tenure.person if resolved == tenure.person_id else Person.objects.get(pk=resolved)
        )
    return out


def person_find_by_name(name: str) -> list[Person]:
    """Persons whose canonical name or any alias equals `name` after normalisation (merges followed)."""
    key = normalize_name(name)
    if not key:
        return []
    ids = set(Person.objects.filter(name_key=key).values_list("id", flat=True))
    ids |= set(Alias.objects.filter(name_key=key).values_list("person_id", flat=True))
    resolved = {r for r in (person_resolve(i) for i in ids) if r is not None}
    return list(Person.objects.filter(pk__in=resolved).order_by("name", "id"))


def person_get(person_id: uuid.UUID | str) -> Person | None:
    """The surviving Person row for an id (following merges), or None."""
    resolved = person_resolve(person_id)
    return Person.objects.filter(pk=resolved).first() if resolved else None


def person_history(*, person_id: uuid.UUID | str) -> list[HistoryEntry]:
    """Every event of the person's stream with field diffs, plus merge events naming it."""
    return history(_as_uuid(person_id))


def person_spellings(person_id: uuid.UUID | str) -> list[str]:
    """The canonical name and every alias of a person (empty if there is no such person)."""
    person = Person.objects.filter(pk=_as_uuid(person_id)).first()
    if person is None:
        return []
    return [person.name, *Alias.objects.filter(person=person).values_list("name", flat=True)]


# Batched forms of the reads above, for bulk imports: the same answers, a few queries per
# batch instead of a few per participant.


def person_resolve_many(person_ids: Iterable[uuid.UUID | str]) -> dict[uuid.UUID, uuid.UUID | None]:
    """`person_resolve` of many ids: one query per level of merge redirects."""
    wanted = {_as_uuid(p) for p in person_ids}
    merged_into: dict[uuid.UUID, uuid.UUID | None] = {}  # every row read; None: not merged
    frontier = set(wanted)
    for _ in range(MAX_REDIRECTS):
        if not frontier:
            break
        rows = Person.objects.filter(pk__in=frontier).values_list("id", "merged_into_id")
        merged_into.update(rows)
        frontier = {t for _, t in rows if t is not None and t not in merged_into}
    def merged_into_of(person_id: uuid.UUID) -> tuple[bool, uuid.UUID | None]:
        return person_id in merged_into, merged_into.get(person_id)

    return {person_id: follow_merges(person_id, merged_into_of) for person_id in wanted}


def person_ids_by_name_keys(keys: Iterable[str]) -> dict[str, set[uuid.UUID]]:
    """For each name key, the surviving persons `person_find_by_name` would find under it."""
    keys = {k for k in keys if k}
    if not keys:
        return {}
    found: dict[str, set[uuid.UUID]] = {}
    for key, person_id in Person.objects.filter(name_key__in=keys).values_list("name_key", "id"):
        found.setdefault(key, set()).add(person_id)
    for key, person_id in Alias.objects.filter(name_key__in=keys).values_list("name_key", "person_id"):
        found.setdefault(key, set()).add(person_id)
    resolved = person_resolve_many({p for ids in found.values() for p in ids})
    return {key: {r for r in (resolved[p] for p in ids) if r is not None} for key, ids in found.items()}


def tenure_on_many(pairs: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], uuid.UUID | None]:
    """`tenure_on(...).pk` for many (surviving person id, date) pairs: one query for all tenures."""
    pairs = set(pairs)
    by_person: dict[uuid.UUID, list[Tenure]] = {}
    for tenure in Tenure.objects.filter(person_id__in={p for p, _ in pairs}):
        by_person.setdefault(tenure.person_id, []).append(tenure)
    out: dict[tuple[uuid.UUID, str], uuid.UUID | None] = {}
    for person_id, on in pairs:
        partialdate.validate(on)
        held = [t for t in by_person.get(person_id, ()) if partialdate.contains(t.start or None, t.end or None, on)]
        out[(person_id, on)] = max(held, key=_tenure_preference).pk if held else None
    return out


def person_names_many(person_ids: Iterable[uuid.UUID | str]) -> dict[uuid.UUID, tuple[uuid.UUID, str]]:
    """`person_get` of many ids: id -> (surviving record's id, its name), for ids on record."""
    resolved = person_resolve_many(person_ids)
    names = dict(Person.objects.filter(pk__in={r for r in resolved.values() if r}).values_list("id", "name"))
    return {p: (r, names[r]) for p, r in resolved.items() if r is not None and r in names}
