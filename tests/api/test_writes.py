"""Writes: curators apply (If-Match, 412, 400, nothing partial), contributors propose, roles."""
from __future__ import annotations

import pytest

from meetings.models import Meeting
from tracker.eventstore.models import Event
from tracker.moderation.models import Proposal

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(build):  # type: ignore[no-untyped-def]
    return build.person("Cho Hyun", "KR"), build.person("Marco Rubio", "US")


def _new_meeting(client, pair, **extra):  # type: ignore[no-untyped-def]
    body = {
        "participants": [{"person_id": str(pair[0])}, {"person_id": str(pair[1]), "is_host": True}],
        "date": "2025-10-30", "title": "Talks", "reason": "seen in the news", **extra,
    }
    return client.post("/api/v1/meetings/", body, format="json")


def test_curator_records_a_meeting_and_gets_it_with_its_etag(curator, pair):
    # when
    response = _new_meeting(curator, pair)
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["ETag"] == '"1"'
    assert {p["person_id"] for p in body["participants"]} == {str(pair[0]), str(pair[1])}
    event = Event.objects.get(stream_id=body["id"])
    assert event.metadata["via"] == "api" and event.metadata["actor_name"] == curator.user.username
    assert event.metadata["reason"] == "seen in the news"


@pytest.mark.parametrize("role", ["anon", "contributor"])
def test_only_curators_write_directly(request, role, pair):
    # given
    client = request.getfixturevalue(role)
    # when
    response = _new_meeting(client, pair)
    # then
    assert response.status_code in (401, 403)
    assert not Meeting.objects.exists()


def test_revise_with_current_if_match_applies(curator, pair):
    # given
    meeting_id = _new_meeting(curator, pair).json()["id"]
    etag = curator.get(f"/api/v1/meetings/{meeting_id}/")["ETag"]
    # when
    response = curator.patch(
        f"/api/v1/meetings/{meeting_id}/", {"title": "Talks in Seoul", "reason": "typo"},
        format="json", HTTP_IF_MATCH=etag,
    )
    # then
    assert response.status_code == 200, response.content
    assert response.json()["title"] == "Talks in Seoul"
    assert response["ETag"] == '"2"'


def test_stale_if_match_answers_412_with_current_version_and_changes_nothing(curator, pair):
    # given: two curators read version 1; the first one saves
    meeting_id = _new_meeting(curator, pair).json()["id"]
    url = f"/api/v1/meetings/{meeting_id}/"
    assert curator.patch(url, {"title": "First"}, format="json", HTTP_IF_MATCH='"1"').status_code == 200
    before = Event.objects.count()
    # when: the second saves against version 1
    response = curator.patch(url, {"title": "Second"}, format="json", HTTP_IF_MATCH='"1"')
    # then
    assert response.status_code == 412
    assert response.json()["current_version"] == 2
    assert response["ETag"] == '"2"'
    assert Event.objects.count() == before
    assert Meeting.objects.get(pk=meeting_id).title == "First"


def test_missing_if_match_answers_428(curator, pair):
    meeting_id = _new_meeting(curator, pair).json()["id"]
    response = curator.patch(f"/api/v1/meetings/{meeting_id}/", {"title": "x"}, format="json")
    assert response.status_code == 428
    assert Meeting.objects.get(pk=meeting_id).version == 1


def test_invalid_input_answers_400_with_field_errors_and_stores_nothing(curator, pair):
    # given
    before = Event.objects.count()
    # when: a bad date and a bad mode in one request
    response = _new_meeting(curator, pair, date="2025-02-30", mode="telepathy")
    # then
    assert response.status_code == 400
    body = response.json()
    assert "date" in body and "mode" in body
    assert Event.objects.count() == before
    # and a bad revision leaves the meeting untouched
    meeting_id = _new_meeting(curator, pair).json()["id"]
    response = curator.patch(
        f"/api/v1/meetings/{meeting_id}/", {"title": "ok", "date": "2025-13"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 400 and "date" in response.json()
    assert Meeting.objects.get(pk=meeting_id).title == "Talks"


def _alias_proposal(person_id):  # type: ignore[no-untyped-def]
    return {
        "kind": "new_alias",
        "commands": [{"command": "person_alias_add", "args": {"person_id": str(person_id), "name": "Jo Hyeon"}}],
        "summary": "Romanisation seen in Yonhap",
        "reason": "spotted",
    }


def test_contributor_proposes_and_nothing_changes_until_review(contributor, pair):
    # when
    response = contributor.post("/api/v1/proposals/", _alias_proposal(pair[0]), format="json")
    # then
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending" and body["created"] is True
    proposal = Proposal.objects.get(pk=body["id"])
    assert proposal.author_name == contributor.user.username
    assert proposal.commands[0]["command"] == "person_alias_add"
    assert not Event.objects.filter(stream_id=pair[0], type="AliasAdded").exists()


def test_proposal_with_unknown_command_is_a_400(contributor, pair):
    body = {"kind": "other", "commands": [{"command": "launch_rockets", "args": {}}]}
    response = contributor.post("/api/v1/proposals/", body, format="json")
    assert response.status_code == 400
    assert "commands" in response.json()


@pytest.mark.parametrize(("role", "post_status", "read_status"), [
    ("anon", 401, 401),
    ("contributor", 201, 200),
    ("curator", 201, 200),
])
def test_proposal_permissions_by_role(request, pair, role, post_status, read_status):
    # given
    client = request.getfixturevalue(role)
    # when
    posted = client.post("/api/v1/proposals/", _alias_proposal(pair[0]), format="json")
    listed = client.get("/api/v1/proposals/")
    # then
    assert posted.status_code == post_status
    assert listed.status_code == read_status
    if read_status == 200:
        assert [p["kind"] for p in listed.json()["results"]] == ["new_alias"]


def test_a_contributor_follows_their_own_proposals_and_sees_no_one_elses(contributor, curator, pair):
    # given a proposal by the contributor and one by the curator
    mine = contributor.post("/api/v1/proposals/", _alias_proposal(pair[0]), format="json").json()["id"]
    theirs = curator.post("/api/v1/proposals/", _alias_proposal(pair[1]), format="json").json()["id"]
    # when the contributor lists and opens proposals
    listed = contributor.get("/api/v1/proposals/").json()["results"]
    # then only their own is there, with its status; the other one is not found
    assert [(p["id"], p["status"]) for p in listed] == [(mine, "pending")]
    assert contributor.get(f"/api/v1/proposals/{mine}/").status_code == 200
    assert contributor.get(f"/api/v1/proposals/{theirs}/").status_code == 404
    # while the curator sees the whole queue
    assert {p["id"] for p in curator.get("/api/v1/proposals/").json()["results"]} == {mine, theirs}


def test_anonymous_reads_are_allowed(anon, pair):
    assert anon.get("/api/v1/people/").status_code == 200
    assert anon.get(f"/api/v1/people/{pair[0]}/").status_code == 200


def test_anonymous_reads_are_throttled_and_a_token_raises_the_limit(anon, contributor, monkeypatch):
    # given: low limits (the deployment sets them with API_THROTTLE_ANON / API_THROTTLE_USER)
    from django.core.cache import cache
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "3/min", "user": "6/min"})
    cache.clear()
    # when
    anon_codes = [anon.get("/api/v1/posts/").status_code for _ in range(5)]
    token_codes = [contributor.get("/api/v1/posts/").status_code for _ in range(5)]
    # then
    assert anon_codes == [200, 200, 200, 429, 429]
    assert token_codes == [200] * 5
    cache.clear()


def test_curator_applies_a_registered_command_directly_with_if_match(curator, contributor, pair):
    # given
    url, body = "/api/v1/commands/", {"command": "person_alias_add",
                                      "args": {"person_id": str(pair[0]), "name": "Jo Hyeon"}, "reason": "Yonhap"}
    # when
    refused = contributor.post(url, body, format="json", HTTP_IF_MATCH='"1"')
    missing = curator.post(url, body, format="json")
    applied = curator.post(url, body, format="json", HTTP_IF_MATCH='"1"')
    stale = curator.post(url, {**body, "args": {**body["args"], "name": "Cho Hyeon"}}, format="json",
                         HTTP_IF_MATCH='"1"')
    # then
    assert refused.status_code == 403 and missing.status_code == 428
    assert applied.status_code == 200, applied.content
    assert applied.json()["version"] == 2 and applied["ETag"] == '"2"'
    assert stale.status_code == 412 and stale.json()["current_version"] == 2
    aliases = [a["name"] for a in curator.get(f"/api/v1/people/{pair[0]}/").json()["aliases"]]
    assert aliases == ["Jo Hyeon"]


def test_curator_registers_an_article_through_the_commands_endpoint_once(curator, contributor, db):
    # given an article's URL, publisher and text
    body = {"command": "article_register", "reason": "wire copy",
            "args": {"url": "https://example.org/news/cho-rubio?utm_source=x", "publisher": "Yonhap",
                     "published_date": "2025-07-31", "text": "Cho Hyun met Marco Rubio in Washington."}}
    # when a contributor tries, then a curator registers it, twice
    refused = contributor.post("/api/v1/commands/", body, format="json")
    first = curator.post("/api/v1/commands/", body, format="json")
    again = curator.post("/api/v1/commands/", body, format="json")
    # then it is refused to the contributor, recorded once, and both answers name it
    assert refused.status_code == 403
    assert first.status_code == 201, first.content
    assert first.json()["target_stream_id"] == again.json()["target_stream_id"]
    assert first.json()["version"] == 1 and first["ETag"] == '"1"'
    article = curator.get(f"/api/v1/articles/{first.json()['target_stream_id']}/").json()
    assert article["publisher"] == "Yonhap" and article["body"] == body["args"]["text"]
    assert Event.objects.filter(type="ArticleRegistered").count() == 1


def test_command_with_unknown_name_or_argument_is_a_400(curator, pair):
    unknown = curator.post("/api/v1/commands/", {"command": "launch", "args": {}}, format="json")
    bad_arg = curator.post("/api/v1/commands/", {"command": "person_alias_add",
                                                  "args": {"person_id": str(pair[0]), "nickname": "x"}},
                           format="json", HTTP_IF_MATCH='"1"')
    created = curator.post("/api/v1/commands/", {"command": "person_register",
                                                  "args": {"name": "Kim Min-seok", "country": "KR"}}, format="json")
    assert unknown.status_code == 400 and "command" in unknown.json()
    assert bad_arg.status_code == 400 and "args" in bad_arg.json()
    assert created.status_code == 201 and created.json()["version"] == 1
    assert curator.get(f"/api/v1/people/{created.json()['target_stream_id']}/").json()["name"] == "Kim Min-seok"
