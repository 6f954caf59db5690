import json

import pytest
from django.core.management import call_command

from people.models import Person, Tenure
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db

PEOPLE = [
    {"name": "Cho Hyun", "aliases": ["Cho Hyoung"], "country": "KR",
     "positions": [{"title": "Minister of Foreign Affairs", "organization": "Ministry of Foreign Affairs", "start": "2025-07"}]},
    {"name": "Marco Rubio", "aliases": [], "country": "US",
     "positions": [{"title": "Secretary of State", "organization": "Department of State", "start": "2025-01-21"}]},
]


def test_import_people_records_officials_once(tmp_path, capsys):
    path = tmp_path / "people.json"
    path.write_text(json.dumps(PEOPLE))
    call_command("import_people", str(path))
    assert "2 new" in capsys.readouterr().out
    events = Event.objects.count()
    assert set(Person.objects.values_list("name", flat=True)) == {"Cho Hyun", "Marco Rubio"}
    assert Tenure.objects.count() == 2
    # a second run adds only what is missing: here nothing
    call_command("import_people", str(path))
    assert "0 new, 2 already known" in capsys.readouterr().out
    assert Event.objects.count() == events


def test_import_people_refuses_a_malformed_file(tmp_path):
    path = tmp_path / "bad.json"
    path.write_bytes(b"\xff\xfe not json")
    with pytest.raises(Exception, match="cannot read a JSON list"):
        call_command("import_people", str(path))
