"""The known-people gazetteer a worker keeps between articles, and when it is rebuilt."""
import dataclasses
import uuid

import pytest

from meetings.ingest import suggestions
from meetings.ingest.services import article_ingest_text
from meetings.ingest.suggestions import known_people
from people.commands import person_alias_add, person_register, person_rename
from tracker.eventstore.api import Context, current_version

pytestmark = pytest.mark.django_db

SYSTEM = Context.system(reason="test", via="cli")


@pytest.fixture(autouse=True)
def _no_cache_from_another_test(monkeypatch):
    monkeypatch.setattr(suggestions, "_cache", None)


def _names(known):
    return set(known.gazetteer.persons)


def test_the_gazetteer_is_kept_while_no_person_changes():
    person_register(name="Cho Hyun", country="KR", context=SYSTEM)
    first = known_people()
    # other streams grow the log; the gazetteer does not depend on them
    article_ingest_text(text="Cho Hyun spoke on Friday.", context=SYSTEM, published="2025-10-10", suggest=False)
    assert known_people() is first


def test_a_person_registered_after_the_build_is_seen():
    person_register(name="Cho Hyun", country="KR", context=SYSTEM)
    assert _names(known_people()) == {"Cho Hyun"}
    person_register(name="Marco Rubio", country="US", context=SYSTEM)
    known = known_people()
    assert _names(known) == {"Cho Hyun", "Marco Rubio"}
    assert "marcorubio" in known.ids_by_key


def test_an_alias_or_a_new_name_added_after_the_build_is_seen():
    person_id = person_register(name="Cho Hyun", country="KR", context=SYSTEM)
    before = known_people()
    assert before.gazetteer.lookup("Cho Hyoung") is None
    person_alias_add(person_id=person_id, name="Cho Hyoung", context=SYSTEM, expected_version=current_version(person_id))
    assert known_people().gazetteer.lookup("Cho Hyoung") == "Cho Hyun"
    person_rename(person_id=person_id, name="Cho Hyun-dong", context=SYSTEM, expected_version=current_version(person_id))
    assert _names(known_people()) == {"Cho Hyun-dong"}


def test_a_gazetteer_built_on_events_no_longer_in_the_log_is_rebuilt():
    # as after a rolled-back test or a restored database: the position is there, its event is not
    person_register(name="Cho Hyun", country="KR", context=SYSTEM)
    built = known_people()
    position, _event_id = built.version
    suggestions._cache = dataclasses.replace(built, version=(position, uuid.uuid4()))
    rebuilt = known_people()
    assert rebuilt.version == built.version and rebuilt is not built
