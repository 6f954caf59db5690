"""People, organizations, posts and articles endpoints."""
from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_name_search_matches_any_alias_ignoring_accents_hyphens_and_case(anon, build):
    # given
    park = build.person("Park Yoon-joo", "KR", aliases=("Pak Yun-ju",))
    build.person("Someone Else", "US")
    # when / then
    for query in ["PARK YOONJOO", "park-yoon-joo", "Pák Yún Jú"]:
        found = anon.get("/api/v1/people/", {"name": query}).json()["results"]
        assert [p["id"] for p in found] == [str(park)], query


def test_person_detail_has_aliases_tenures_and_external_ids(anon, build):
    # given
    from people.commands import person_register

    from .conftest import CTX

    pid = person_register(name="Cho Hyun", country="KR", aliases=("Jo Hyeon",),
                          external_ids={"wikidata": "Q123"}, context=CTX)
    post = build.post("Minister of Foreign Affairs", "Ministry of Foreign Affairs", "KR")
    build.tenure(pid, post, start="2025-07")
    # when
    body = anon.get(f"/api/v1/people/{pid}/").json()
    # then
    assert [a["name"] for a in body["aliases"]] == ["Jo Hyeon"]
    assert body["external_ids"] == {"wikidata": "Q123"}
    assert body["tenures"][0]["title"] == "Minister of Foreign Affairs"
    assert body["tenures"][0]["start"] == "2025-07"


def test_counterparts_count_meetings_with_first_and_last_date(anon, build):
    # given
    cho, rubio, park = build.person("Cho Hyun", "KR"), build.person("Marco Rubio", "US"), build.person("Park Y", "KR")
    build.meeting(cho, rubio, date="2025-07-01")
    build.meeting(cho, rubio, date="2025-10")
    build.meeting(cho, park, date="2025-09-09")
    build.meeting(rubio, park, date="2025-08-08")
    # when
    rows = anon.get(f"/api/v1/people/{cho}/counterparts/").json()
    # then
    assert rows == [
        {"person_id": str(rubio), "name": "Marco Rubio", "country": "US", "meetings": 2,
         "first_date": "2025-07-01", "last_date": "2025-10"},
        {"person_id": str(park), "name": "Park Y", "country": "KR", "meetings": 1,
         "first_date": "2025-09-09", "last_date": "2025-09-09"},
    ]


def test_organizations_and_posts_are_listed(anon, build):
    post = build.post("Secretary of State", "Department of State", "US")
    orgs = anon.get("/api/v1/organizations/", {"country": "us"}).json()["results"]
    assert [o["name"] for o in orgs] == ["Department of State"]
    posts = anon.get("/api/v1/posts/", {"title": "secretary"}).json()["results"]
    assert [(p["id"], p["organization"]) for p in posts] == [(str(post), "Department of State")]
    assert anon.get(f"/api/v1/posts/{post}/").status_code == 200


def test_article_lists_supported_meetings_and_body_only_for_curators(anon, contributor, curator, build):
    # given
    a, b = build.person("A One", "KR"), build.person("B Two", "US")
    meeting = build.meeting(a, b, date="2025-10-01", title="Talks")
    article = build.article("https://example.com/x", text="Full body text.", publisher="Yonhap")
    build.cite(meeting.pk, article.pk, "A met B.")
    url = f"/api/v1/articles/{article.pk}/"
    # when
    public, contrib, cur = anon.get(url).json(), contributor.get(url).json(), curator.get(url).json()
    # then
    assert public["meetings"] == [
        {"meeting_id": str(meeting.pk), "title": "Talks", "date": "2025-10-01",
         "evidence": [{"text": "A met B.", "start": 0, "end": 8}]}
    ]
    assert "body" not in public and "body" not in contrib
    assert cur["body"] == "Full body text."
    listed = anon.get("/api/v1/articles/", {"meeting": str(meeting.pk)}).json()["results"]
    assert [x["id"] for x in listed] == [str(article.pk)]
