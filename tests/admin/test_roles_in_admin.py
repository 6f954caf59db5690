"""What each role may do in the admin: readers look, contributors propose, curators decide."""
import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from meetings import commands as meeting_commands
from tracker.eventstore.api import Context, load_stream
from tracker.eventstore.models import Event
from tracker.moderation.commands import proposal_submit
from tracker.moderation.models import Proposal

pytestmark = pytest.mark.django_db


def _user(username: str, group: str) -> User:
    user = User.objects.create_user(username=username, password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def _meeting():
    return meeting_commands.meeting_record(
        participants=[{"name": "Cho Hyun"}, {"name": "Marco Rubio"}], title="Talks", date="2025-07-11",
        context=Context.system(reason="fixture"),
    )


def _contributor_proposal(author: User) -> Proposal:
    sub = proposal_submit(
        user=author, context=Context.for_user(author, via="admin"), kind="new_person",
        commands=[{"command": "person_register", "args": {"name": "Wang Yi", "country": "CN"}}],
        summary="New person: Wang Yi", note="my source is a friend at the ministry",
    )
    return Proposal.objects.get(pk=sub.proposal_id)


def test_a_reader_sees_a_meeting_but_cannot_change_it(client):
    # given a reader and a meeting
    reader = _user("rita", "reader")
    meeting = _meeting()
    client.force_login(reader)
    url = reverse("admin:meetings_meeting_change", args=[meeting.pk])
    # when the reader opens it and tries to save a change
    view = client.get(url)
    post = client.post(url, {"title": "Vandalised", "reason": "x", "expected_version": meeting.version})
    # then the page is read-only, the save is refused and nothing is appended
    assert view.status_code == 200 and b'name="_save"' not in view.content
    assert b'name="reason"' not in view.content
    assert post.status_code == 403
    assert len(load_stream(meeting.pk)) == 1


def test_a_contributor_cannot_accept_even_through_the_review_page(client):
    # given a contributor's proposal and another contributor looking at it
    author, other = _user("carl", "contributor"), _user("cleo", "contributor")
    p = _contributor_proposal(author)
    client.force_login(other)
    # when the other contributor opens it, no decision buttons are offered
    page = client.get(reverse("admin:moderation_proposal_change", args=[p.pk]))
    assert page.status_code == 200 and b'name="_accept"' not in page.content
    # when the other contributor posts an acceptance anyway
    response = client.post(
        reverse("admin:moderation_proposal_change", args=[p.pk]),
        {"expected_version": p.version, "reason": "", "_accept": "Accept"},
    )
    # then it is refused and the proposal stays pending with nothing applied
    assert response.status_code == 200
    assert any("Not allowed" in e for e in response.context["errors"])
    p.refresh_from_db()
    assert p.status == "pending"
    assert Event.objects.filter(type="PersonRegistered").count() == 0


def test_private_notes_are_hidden_from_other_contributors_everywhere_in_the_admin(client):
    # given a contributor's proposal with a private note
    author, other = _user("carl", "contributor"), _user("cleo", "contributor")
    curator = _user("cora", "curator")
    p = _contributor_proposal(author)
    event = Event.objects.get(stream_id=p.pk, version=1)
    pages = [
        reverse("admin:moderation_proposal_change", args=[p.pk]),
        reverse("admin:moderation_proposal_history", args=[p.pk]),
        reverse("admin:moderation_proposal_history", args=[p.pk]) + f"?as_of={event.position}",
        reverse("admin:eventstore_event_change", args=[event.pk]),
    ]
    note = b"my source is a friend at the ministry"

    def seen_by(user: User) -> list[bool]:
        client.force_login(user)
        return [note in client.get(url).content for url in pages]

    # when the other contributor, the author and a curator open its pages
    # then only the author and the curator see the note
    assert seen_by(other) == [False, False, False, False]
    assert seen_by(author) == [True, True, True, True]
    assert seen_by(curator) == [True, True, True, True]
