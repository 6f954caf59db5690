"""Fixtures for suggestion tests: officials on record and a curator."""
import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from people.commands import person_register, person_tenure_start, post_ensure
from tracker.eventstore.api import Context, current_version

SYSTEM = Context.system(reason="test fixtures", via="cli")

OFFICIALS = [
    ("Park Yoon-joo", "KR", ["Park Yun-ju"], "First Vice Foreign Minister", "Ministry of Foreign Affairs", "2025-06"),
    ("Allison Hooker", "US", [], "Under Secretary of State for Political Affairs", "Department of State", "2025-04"),
    ("Cho Hyun", "KR", ["Cho Hyoung"], "Minister of Foreign Affairs", "Ministry of Foreign Affairs", "2025-07"),
    ("Marco Rubio", "US", [], "Secretary of State", "Department of State", "2025-01-21"),
]


@pytest.fixture
def officials(db):
    ids = {}
    for name, country, aliases, title, org, start in OFFICIALS:
        pid = person_register(name=name, country=country, aliases=aliases, context=SYSTEM)
        post = post_ensure(title=title, organization_name=org, country=country, context=SYSTEM)
        person_tenure_start(person_id=pid, post_id=post, start=start, expected_version=current_version(pid),
                            context=SYSTEM)
        ids[name] = pid
    return ids


@pytest.fixture
def curator(db):
    user = get_user_model().objects.create_user(username="carla", password="pw-carla-123", is_staff=True)
    user.groups.add(Group.objects.get(name="curator"))
    return user
