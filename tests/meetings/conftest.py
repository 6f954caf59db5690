"""Fixtures for meetings: a context, two officials with their posts, and a recorder helper."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest

from meetings import commands
from meetings.models import Meeting
from people import commands as people_commands
from people.models import Person
from tracker.eventstore.api import Context


@pytest.fixture
def ctx() -> Context:
    return Context.system(reason="test")


def person_version(person_id: uuid.UUID) -> int:
    return Person.objects.get(pk=person_id).version


def meeting_version(meeting_id: uuid.UUID) -> int:
    return Meeting.objects.get(pk=meeting_id).version


@pytest.fixture
def fm_post(ctx: Context) -> uuid.UUID:
    return people_commands.post_ensure(
        title="Minister of Foreign Affairs", organization_name="Ministry of Foreign Affairs", country="KR", context=ctx
    )


@pytest.fixture
def sos_post(ctx: Context) -> uuid.UUID:
    return people_commands.post_ensure(
        title="Secretary of State", organization_name="Department of State", country="US", context=ctx
    )


@pytest.fixture
def cho(ctx: Context, fm_post: uuid.UUID) -> uuid.UUID:
    """Cho Hyun, Korea's foreign minister from 2025-07-19."""
    pid = people_commands.person_register(name="Cho Hyun", country="KR", context=ctx)
    people_commands.person_tenure_start(
        person_id=pid, post_id=fm_post, start="2025-07-19", expected_version=1, context=ctx
    )
    return pid


@pytest.fixture
def rubio(ctx: Context, sos_post: uuid.UUID) -> uuid.UUID:
    """Marco Rubio, US Secretary of State from 2025-01-21."""
    pid = people_commands.person_register(name="Marco Rubio", country="US", context=ctx)
    people_commands.person_tenure_start(
        person_id=pid, post_id=sos_post, start="2025-01-21", expected_version=1, context=ctx
    )
    return pid


@pytest.fixture
def record(ctx: Context, cho: uuid.UUID, rubio: uuid.UUID) -> Callable[..., Meeting]:
    """Record a Cho–Rubio meeting (fields overridable) through the command."""

    def _record(**fields: Any) -> Meeting:
        fields.setdefault(
            "participants",
            [{"person_id": cho, "side": "KR"}, {"person_id": rubio, "side": "US", "is_host": True}],
        )
        fields.setdefault("title", "Cho–Rubio talks")
        fields.setdefault("date", "2025-07-31")
        return commands.meeting_record(context=ctx, **fields)

    return _record
