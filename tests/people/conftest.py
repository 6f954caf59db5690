"""Fixtures for officials: a context and a few recorded posts and persons."""

from __future__ import annotations

import uuid

import pytest

from people import commands
from people.models import Person
from tracker.eventstore.api import Context


@pytest.fixture
def ctx() -> Context:
    return Context.system(reason="test")


@pytest.fixture
def fm_post(ctx: Context) -> uuid.UUID:
    return commands.post_ensure(
        title="Minister of Foreign Affairs",
        organization_name="Ministry of Foreign Affairs",
        country="KR",
        context=ctx,
    )


@pytest.fixture
def sos_post(ctx: Context) -> uuid.UUID:
    return commands.post_ensure(
        title="Secretary of State",
        organization_name="Department of State",
        country="US",
        context=ctx,
    )


def version_of(person_id: uuid.UUID) -> int:
    return Person.objects.get(pk=person_id).version
