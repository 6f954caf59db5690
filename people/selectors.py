"""Reads about officials shared by the admin, the API, meetings and the news pipeline.

Public: other apps call these, never the read models' internals.
"""

from __future__ import annotations

import datetime as dt
import uuid

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
    seen: set[uuid.UUID] = set()
    for _ in range(MAX_REDIRECTS):
        row = Person.objects.filter(pk=current).values("merged_into_id").first()
        if row is None:
            return None
        target = row["merged_into_id"]
        if target is None or target in seen:
            return current
        seen.add(current)
        current = target
    return current


def _tenure_preference(tenure: Tenure) -> tuple:
    """Sort key, best first when reversed: latest start, then most precise start, then narrowest."""
    start = partialdate.first_day(tenure.start) if tenure.start else dt.date.min
    end = partialdate.last_day(tenure.end) if tenure.end else dt.date.max
    return (start, len(tenure.start), -end.toordinal(), not tenure.acting, str(tenure.id))


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
