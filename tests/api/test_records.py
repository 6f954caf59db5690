"""Detail endpoints: ETag, ?as_of= rebuilt from the log, /history/, 301 after a merge."""
from __future__ import annotations

import datetime as dt

import pytest

from meetings.commands import meeting_merge, meeting_revise
from people.commands import person_merge
from tracker.eventstore.api import Context, current_version
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test")


@pytest.fixture
def edited_three_times(build):  # type: ignore[no-untyped-def]
    """A meeting recorded, then revised three times; returns it and the position after each step."""
    a, b = build.person("Cho Hyun", "KR"), build.person("Marco Rubio", "US")
    meeting = build.meeting(a, b, date="2025-10", title="v1")
    positions = [Event.objects.filter(stream_id=meeting.pk).latest("position").position]
    for i, changes in enumerate(
        [{"title": "v2"}, {"date": "2025-10-14"}, {"title": "v4", "summary": "final"}], start=1
    ):
        meeting_revise(
            meeting_id=meeting.pk, changes=changes, expected_version=i,
            context=Context(actor_id=7, actor_name=f"editor{i}", actor_kind="user", via="api", reason=f"fix {i}"),
        )
        positions.append(Event.objects.filter(stream_id=meeting.pk).latest("position").position)
    return meeting.pk, positions


def test_detail_carries_the_version_as_etag(anon, edited_three_times):
    meeting_id, _ = edited_three_times
    response = anon.get(f"/api/v1/meetings/{meeting_id}/")
    assert response.status_code == 200
    assert response["ETag"] == '"4"'
    assert response.json()["title"] == "v4"


def test_as_of_position_returns_each_past_state(anon, edited_three_times):
    # given
    meeting_id, positions = edited_three_times
    expected = [
        ("v1", "2025-10", "", 1),
        ("v2", "2025-10", "", 2),
        ("v2", "2025-10-14", "", 3),
        ("v4", "2025-10-14", "final", 4),
    ]
    for position, (title, date, summary, version) in zip(positions, expected, strict=True):
        # when
        response = anon.get(f"/api/v1/meetings/{meeting_id}/", {"as_of": position})
        # then
        assert response.status_code == 200, response.content
        body = response.json()
        assert (body["state"]["title"], body["state"]["date"], body["state"]["summary"]) == (title, date, summary)
        assert body["version"] == version
        assert response["ETag"] == f'"{version}"'


def test_as_of_time_uses_recorded_time(anon, edited_three_times):
    # given
    meeting_id, positions = edited_three_times
    second = Event.objects.get(position=positions[1]).recorded_at
    # when
    at = anon.get(f"/api/v1/meetings/{meeting_id}/", {"as_of": second.isoformat()})
    before = anon.get(
        f"/api/v1/meetings/{meeting_id}/",
        {"as_of": (Event.objects.get(position=positions[0]).recorded_at - dt.timedelta(seconds=1)).isoformat()},
    )
    # then
    assert at.json()["state"]["title"] == "v2"
    assert before.status_code == 404  # the meeting did not exist yet


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01T00:00:00", "99999999999999999999999"])
def test_bad_as_of_is_a_400(anon, edited_three_times, value):
    meeting_id, _ = edited_three_times
    assert anon.get(f"/api/v1/meetings/{meeting_id}/", {"as_of": value}).status_code == 400


def test_history_lists_who_when_via_why_and_field_diff(anon, edited_three_times):
    # given
    meeting_id, positions = edited_three_times
    # when
    entries = anon.get(f"/api/v1/meetings/{meeting_id}/history/").json()
    # then
    assert [e["position"] for e in entries] == positions
    assert [e["type"] for e in entries] == ["MeetingRecorded"] + ["MeetingRevised"] * 3
    last = entries[-1]
    assert (last["actor"], last["actor_kind"], last["via"], last["reason"]) == ("editor3", "user", "api", "fix 3")
    assert last["changes"]["title"] == {"before": "v2", "after": "v4"}
    assert last["changes"]["summary"] == {"before": "", "after": "final"}


def test_merged_meeting_id_answers_301_to_the_survivor(anon, build):
    # given
    a, b = build.person("A One", "KR"), build.person("B Two", "US")
    winner, loser = build.meeting(a, b, date="2025-10-01"), build.meeting(a, b, date="2025-10-01")
    meeting_merge(
        loser_id=loser.pk, winner_id=winner.pk, loser_expected_version=current_version(loser.pk),
        winner_expected_version=current_version(winner.pk), context=CTX,
    )
    # when
    response = anon.get(f"/api/v1/meetings/{loser.pk}/")
    # then
    assert response.status_code == 301
    assert response["Location"].endswith(f"/api/v1/meetings/{winner.pk}/")
    assert anon.get(response["Location"]).status_code == 200
    # the merge also shows in the loser's own history
    assert "MeetingMergedInto" in [e["type"] for e in anon.get(f"/api/v1/meetings/{loser.pk}/history/").json()]


def _merged_person_who_met_someone(build):  # type: ignore[no-untyped-def]
    """(winner, loser, other, meeting): the loser met `other` in `meeting`, then was merged."""
    winner, loser, other = build.person("Cho Hyun", "KR"), build.person("Jo Hyeon", "KR"), build.person("X Y", "US")
    meeting = build.meeting(loser, other, date="2025-09")
    person_merge(
        loser_id=loser, winner_id=winner, loser_expected_version=current_version(loser),
        winner_expected_version=current_version(winner), context=CTX,
    )
    return winner, loser, other, meeting


def test_merged_person_id_answers_301_and_survivor_lists_the_meetings(anon, build):
    # given
    winner, loser, other, meeting = _merged_person_who_met_someone(build)
    # when
    response = anon.get(f"/api/v1/people/{loser}/")
    # then
    assert response.status_code == 301
    assert response["Location"].endswith(f"/api/v1/people/{winner}/")
    meetings = anon.get(f"/api/v1/people/{winner}/meetings/").json()["results"]
    assert [m["id"] for m in meetings] == [str(meeting.pk)]
    # the loser's names now find the survivor
    assert [p["id"] for p in anon.get("/api/v1/people/", {"name": "jo hyeon"}).json()["results"]] == [str(winner)]


def test_unknown_id_is_404(anon, db):
    assert anon.get("/api/v1/meetings/00000000-0000-0000-0000-000000000000/").status_code == 404


def test_conditional_get_with_current_etag_answers_304(anon, edited_three_times):
    meeting_id, _ = edited_three_times
    url = f"/api/v1/meetings/{meeting_id}/"
    assert anon.get(url, HTTP_IF_NONE_MATCH='"4"').status_code == 304
    assert anon.get(url, HTTP_IF_NONE_MATCH='"3"').status_code == 200


def test_meetings_and_counterparts_of_a_merged_id_are_the_survivors(anon, build):
    # given a person merged into another, who met someone before and after the merge
    winner, loser, other, before = _merged_person_who_met_someone(build)
    after = build.meeting(winner, other, date="2025-10-02")
    # when the merged id's meetings and counterparts are asked for
    meetings = anon.get(f"/api/v1/people/{loser}/meetings/").json()["results"]
    counterparts = anon.get(f"/api/v1/people/{loser}/counterparts/").json()
    # then both answer for the survivor
    assert sorted(m["id"] for m in meetings) == sorted([str(before.pk), str(after.pk)])
    assert [(c["person_id"], c["meetings"], c["first_date"], c["last_date"]) for c in counterparts] == [
        (str(other), 2, "2025-09", "2025-10-02")
    ]
    assert counterparts == anon.get(f"/api/v1/people/{winner}/counterparts/").json()


@pytest.mark.parametrize("pk", ["00000000-0000-0000-0000-000000000000", "not-a-uuid"])
def test_meetings_and_counterparts_of_an_unknown_person_are_404(anon, db, pk):
    assert anon.get(f"/api/v1/people/{pk}/meetings/").status_code == 404
    assert anon.get(f"/api/v1/people/{pk}/counterparts/").status_code == 404
