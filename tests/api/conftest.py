"""Fixtures of the API tests: role clients with tokens, and records built through the commands."""
from __future__ import annotations

import itertools
import uuid

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from meetings.commands import article_register, meeting_cite_article, meeting_record
from people.commands import organization_register, person_register, person_tenure_start, post_create
from tracker.eventstore.api import Context, current_version

CTX = Context.system(reason="test data")
_counter = itertools.count()


def _client_for(role: str | None) -> APIClient:
    client = APIClient()
    if role is None:
        return client
    user = User.objects.create_user(username=f"{role}-{next(_counter)}", password="x")
    user.groups.add(Group.objects.get(name=role))
    token = Token.objects.create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user  # type: ignore[attr-defined]
    return client


@pytest.fixture
def anon() -> APIClient:
    return _client_for(None)


@pytest.fixture
def contributor(db) -> APIClient:  # type: ignore[no-untyped-def]
    return _client_for("contributor")


@pytest.fixture
def curator(db) -> APIClient:  # type: ignore[no-untyped-def]
    return _client_for("curator")


class Builder:
    """Records test data through the real commands, so it has history like real data."""

    def person(self, name: str, country: str = "", aliases: tuple[str, ...] = ()) -> uuid.UUID:
        return person_register(name=name, country=country, aliases=aliases, context=CTX)

    def post(self, title: str, organization: str, country: str = "") -> uuid.UUID:
        org = organization_register(name=organization, country=country, context=CTX)
        return post_create(title=title, organization_id=org, context=CTX)

    def tenure(self, person_id: uuid.UUID, post_id: uuid.UUID, start: str = "", end: str = "") -> None:
        person_tenure_start(
            person_id=person_id,
            post_id=post_id,
            start=start,
            end=end,
            expected_version=current_version(person_id),
            context=CTX,
        )

    def meeting(self, *people: uuid.UUID, date: str = "2025-10-15", **fields):  # type: ignore[no-untyped-def]
        participants = [{"person_id": str(p)} for p in people] or [{"name": "A"}, {"name": "B"}]
        return meeting_record(participants=participants, date=date, context=CTX, **fields)

    def article(self, url: str, text: str = "", **fields):  # type: ignore[no-untyped-def]
        return article_register(url=url, text=text, context=CTX, **fields)

    def cite(self, meeting_id: uuid.UUID, article_id: uuid.UUID, sentence: str) -> None:
        meeting_cite_article(
            meeting_id=meeting_id,
            article_id=article_id,
            evidence=[{"text": sentence, "start": 0, "end": len(sentence)}],
            expected_version=current_version(meeting_id),
            context=CTX,
        )


@pytest.fixture
def build(db) -> Builder:  # type: ignore[no-untyped-def]
    return Builder()
