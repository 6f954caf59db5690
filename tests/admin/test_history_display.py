"""How the history page shows changes to child entries (participants, aliases, tenures)."""
import pytest
from django.urls import reverse

from people import commands
from tracker.admin_base import describe_change
from tracker.eventstore.api import Context

SYSTEM = Context.system(reason="fixture")


def test_list_entries_show_only_what_was_added_and_removed():
    # given participants before and after one was removed and one added
    cho = {"id": "1", "name": "Cho Hyun", "side": "KR"}
    rubio = {"id": "2", "name": "Marco Rubio", "side": "US"}
    wang = {"id": "3", "name": "Wang Yi", "side": "CN"}
    # when the change is described
    before, after = describe_change([cho, rubio], [cho, wang])
    # then only the difference is named
    assert (before, after) == ("removed: Marco Rubio (US)", "added: Wang Yi (CN)")


def test_entries_keyed_by_id_show_tenures_readably():
    # given a tenure added to a person's tenures dict
    tenure = {"post_id": "p", "start": "2025-07", "end": "", "acting": True, "sources": []}
    # when described
    # then it reads as a tenure, not JSON
    assert describe_change({}, {"t1": tenure}) == ("—", "added: tenure 2025-07– (acting)")


def test_scalars_are_shown_as_is():
    assert describe_change("2025-07-11", "2025-07-10") == ("2025-07-11", "2025-07-10")
    assert describe_change(None, ["alliance"]) == ("—", '["alliance"]')


@pytest.mark.django_db
def test_person_history_names_the_alias_added(curator_client):
    # given a person with an alias added
    person_id = commands.person_register(name="Cho Hyun", context=SYSTEM)
    commands.person_alias_add(person_id=person_id, name="조현", expected_version=1, context=SYSTEM)
    # when the curator opens the history
    response = curator_client.get(reverse("admin:people_person_history", args=[person_id]))
    # then the alias event reads "added: 조현"
    alias_entry = [e for e in response.context["entries"] if e["type"] == "AliasAdded"][0]
    assert ("aliases", "—", "added: 조현") in alias_entry["changes"]
