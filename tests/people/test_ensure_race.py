"""Concurrent first calls of post_ensure / organization_register for a record not on file yet:
each creates it once. Each thread waits after its first lookup until the other has looked up
too (at most 2 s): without a lock both miss and both append, the race the append lock closes;
with it, the second lookup waits for the first call's commit."""
import threading

import pytest
from django.db import connection, connections

from people import commands
from people.models import Organization, Post
from tracker.eventstore.api import CommandError

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two writers at once: PostgreSQL"),
]


def _race(monkeypatch, call):  # type: ignore[no-untyped-def]
    """Run `call()` in two threads whose first organization lookups both miss, side by side."""
    barrier = threading.Barrier(2, timeout=2)
    find = commands._organization_find
    seen: set[int] = set()

    def find_then_wait(name, country):  # type: ignore[no-untyped-def]
        found = find(name, country)
        if threading.get_ident() not in seen:  # each thread's first lookup only
            seen.add(threading.get_ident())
            try:
                barrier.wait()
            except threading.BrokenBarrierError:
                pass  # the other thread is waiting for the lock this one holds
        return found

    monkeypatch.setattr(commands, "_organization_find", find_then_wait)
    results: list = [None, None]

    def run(i: int) -> None:
        try:
            results[i] = call()
        except Exception as exc:  # noqa: BLE001 (reported by the test)
            results[i] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    return results


def test_two_concurrent_first_post_ensures_create_the_post_and_organization_once(ctx, monkeypatch):
    # when two callers ensure the same new post at the same new organization at once
    results = _race(monkeypatch, lambda: commands.post_ensure(
        title="Minister of Unification", organization_name="Ministry of Unification", country="KR", context=ctx,
    ))
    # then both get the same post, and one organization and one post exist
    assert not any(isinstance(r, Exception) for r in results), results
    assert results[0] == results[1]
    assert Organization.objects.filter(name="Ministry of Unification").count() == 1
    assert Post.objects.filter(title="Minister of Unification").count() == 1


def test_two_concurrent_registrations_of_one_organization_record_it_once(ctx, monkeypatch):
    # when two curators register the same organization at once
    results = _race(monkeypatch, lambda: commands.organization_register(
        name="Ministry of Gender Equality", country="KR", context=ctx,
    ))
    # then one is recorded and the other is refused as a duplicate
    assert sorted(type(r).__name__ for r in results) == ["CommandError", "UUID"]
    assert any(isinstance(r, CommandError) for r in results)
    assert Organization.objects.filter(name="Ministry of Gender Equality").count() == 1
