"""Bulk import of officials from a people.json-layout file, through the commands."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from django.db import transaction

from tracker.eventstore.api import Context, current_version

from .commands import person_alias_add, person_register, person_tenure_start, post_ensure
from .selectors import person_find_by_name, person_spellings


@dataclasses.dataclass
class ImportStats:
    persons_new: int = 0
    persons_known: int = 0
    aliases_added: int = 0
    tenures_added: int = 0


def people_import(records: Iterable[dict], *, context: Context) -> ImportStats:
    """Record each official (name, aliases, country, positions); an official already on record
    under that name gets only the aliases and positions it lacks. Safe to run twice."""
    stats = ImportStats()
    for record in records:
        with transaction.atomic():
            found = person_find_by_name(record["name"])
            if found:
                person_id = found[0].pk
                stats.persons_known += 1
                known = {s.casefold() for s in person_spellings(person_id)}
                for alias in record.get("aliases", []):
                    if alias.casefold() not in known:
                        person_alias_add(person_id=person_id, name=alias, expected_version=current_version(person_id),
                                         context=context)
                        stats.aliases_added += 1
                held = {(t.post_id, t.start) for t in found[0].tenures.all()}
            else:
                person_id = person_register(
                    name=record["name"], country=record.get("country", ""), aliases=record.get("aliases", []),
                    context=context,
                )
                stats.persons_new += 1
                stats.aliases_added += len(record.get("aliases", []))
                held = set()
            for position in record.get("positions", []):
                post_id = post_ensure(
                    title=position["title"], organization_name=position["organization"],
                    country=record.get("country", ""), context=context,
                )
                if (post_id, position.get("start") or "") in held:
                    continue
                person_tenure_start(
                    person_id=person_id, post_id=post_id, start=position.get("start") or "",
                    end=position.get("end") or "", acting=bool(position.get("acting", False)),
                    expected_version=current_version(person_id), context=context,
                )
                stats.tenures_added += 1
    return stats
