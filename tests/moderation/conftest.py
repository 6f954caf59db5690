"""Users in each role, and helpers to build proposals against the test widget."""
from __future__ import annotations

import uuid

import pytest
from django.contrib.auth.models import Group, User

from tests.moderation import sample
from tracker.eventstore.api import Context

__all__ = ["sample"]


def _user(username: str, group: str | None) -> User:
    user = User.objects.create_user(username=username, password="pw-for-tests")
    if group:
        user.groups.add(Group.objects.get(name=group))
    return User.objects.get(pk=user.pk)  # fresh instance: no cached permissions


@pytest.fixture
def reader(db) -> User:  # type: ignore[no-untyped-def]
    return _user("rita", "reader")


@pytest.fixture
def contributor(db) -> User:  # type: ignore[no-untyped-def]
    return _user("carl", "contributor")


@pytest.fixture
def curator(db) -> User:  # type: ignore[no-untyped-def]
    return _user("cora", "curator")


@pytest.fixture
def curator2(db) -> User:  # type: ignore[no-untyped-def]
    return _user("cody", "curator")


@pytest.fixture
def robot(db) -> User:  # type: ignore[no-untyped-def]
    return User.objects.get(username="robot")


def ctx(user: User, via: str = "admin", reason: str = "") -> Context:
    return Context.for_user(user, via=via, reason=reason)


def new_widget(user: User, **fields: str) -> uuid.UUID:
    """A widget written directly by `user` (so a curator's fields become locked)."""
    widget_id = uuid.uuid4()
    sample.widget_change(widget_id=str(widget_id), fields=fields, context=ctx(user), expected_version=0)
    return widget_id


def change(widget_id: uuid.UUID, **fields: str) -> dict:
    return {"command": "modtest_widget_change", "args": {"widget_id": str(widget_id), "fields": fields}}
