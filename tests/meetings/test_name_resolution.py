import pytest

from meetings.commands import meeting_record
from meetings.models import Participation
from people.commands import person_alias_add, person_register
from tracker.eventstore import rebuild
from tracker.eventstore.api import Context, current_version

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test", via="cli")


def test_participant_recorded_by_name_resolves_once_the_person_is_on_record():
    # given a meeting whose participants were not on record yet
    meeting = meeting_record(participants=[{"name": "Kevin Kim"}, {"name": "Ahn Gyu-baek"}], date="2025-11-21",
                             context=CTX)
    assert set(Participation.objects.values_list("person_id", flat=True)) == {None}
    # when the persons are registered (one under another spelling, known later as an alias)
    kim = person_register(name="Kevin Kim", country="US", context=CTX)
    ahn = person_register(name="Ahn Gyu-back", country="KR", context=CTX)
    assert Participation.objects.get(meeting=meeting, name="Ahn Gyu-baek").person_id is None
    person_alias_add(person_id=ahn, name="Ahn Gyu-baek", expected_version=current_version(ahn), context=CTX)
    # then both participations point at them, and a replay agrees
    resolved = dict(Participation.objects.values_list("name", "person_id"))
    assert resolved == {"Kevin Kim": kim, "Ahn Gyu-baek": ahn}
    assert rebuild.check()[0] == []


def test_a_name_shared_by_two_persons_stays_unresolved():
    meeting_record(participants=[{"name": "Kim Min-jae"}, {"name": "Park Ji-won"}], context=CTX)
    person_register(name="Kim Min-jae", country="KR", context=CTX)
    person_register(name="Kim Min-jae", country="US", context=CTX)
    assert Participation.objects.get(name="Kim Min-jae").person_id is None
