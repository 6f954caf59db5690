"""Officials in the admin: pages render, edits and merges go through people commands."""
import pytest
from django.urls import reverse

from people import commands
from people.models import Alias, Organization, Person, Post
from tracker.eventstore.api import Context, load_stream

pytestmark = pytest.mark.django_db

SYSTEM = Context.system(reason="fixture")


def _person(name: str = "Cho Hyun", country: str = "KR") -> Person:
    return Person.objects.get(pk=commands.person_register(name=name, country=country, context=SYSTEM))


def _person_form(person: Person, **overrides) -> dict:
    data = {
        "name": person.name, "sort_name": person.sort_name, "country": person.country,
        "add_alias": "", "add_alias_kind": "variant", "tenure_post": "", "tenure_start": "",
        "tenure_end": "", "reason": "spelling per the ministry", "expected_version": str(person.version),
        "aliases-TOTAL_FORMS": "0", "aliases-INITIAL_FORMS": "0",
        "tenures-TOTAL_FORMS": "0", "tenures-INITIAL_FORMS": "0",
    }
    return {**data, **overrides}


def test_people_pages_render_for_a_curator(curator_client):
    # given a person, an organization and a post
    person = _person()
    org_id = commands.organization_register(name="Ministry of Foreign Affairs", country="KR", context=SYSTEM)
    post_id = commands.post_create(title="Minister of Foreign Affairs", organization_id=org_id, context=SYSTEM)
    # when the curator opens every people page
    urls = [
        reverse("admin:people_person_changelist"),
        reverse("admin:people_person_add"),
        reverse("admin:people_person_change", args=[person.pk]),
        reverse("admin:people_person_history", args=[person.pk]),
        reverse("admin:people_organization_changelist"),
        reverse("admin:people_organization_change", args=[org_id]),
        reverse("admin:people_organization_history", args=[org_id]),
        reverse("admin:people_post_changelist"),
        reverse("admin:people_post_change", args=[post_id]),
        reverse("admin:people_post_history", args=[post_id]),
    ]
    # then each renders
    for url in urls:
        assert curator_client.get(url).status_code == 200, url


def test_rename_and_alias_through_the_admin_append_events_via_admin(curator_client, curator):
    # given a person
    person = _person("Cho Hyeon")
    # when the curator fixes the spelling and adds an alias in one save
    response = curator_client.post(
        reverse("admin:people_person_change", args=[person.pk]),
        _person_form(person, name="Cho Hyun", add_alias="조현"),
    )
    # then the person commands appended the events, each with via=admin and the reason
    assert response.status_code == 302, response.context["adminform"].form.errors
    events = load_stream(person.pk)[1:]
    assert [e.type for e in events][0] == "PersonRenamed"
    assert "AliasAdded" in [e.type for e in events]
    assert all(e.metadata["via"] == "admin" and e.metadata["actor_name"] == curator.username for e in events)
    assert Person.objects.get(pk=person.pk).name == "Cho Hyun"
    assert set(Alias.objects.filter(person=person).values_list("name", flat=True)) >= {"조현", "Cho Hyeon"}


def test_add_organization_and_post_through_the_admin(curator_client):
    # given nothing
    # when the curator adds an organization and then a post there
    r1 = curator_client.post(
        reverse("admin:people_organization_add"),
        {"name": "Department of State", "country": "US", "reason": "", "expected_version": ""},
    )
    org = Organization.objects.get(name="Department of State")
    r2 = curator_client.post(
        reverse("admin:people_post_add"),
        {"title": "Secretary of State", "organization": str(org.pk), "reason": "", "expected_version": ""},
    )
    # then both exist as projections of events appended via the admin
    assert r1.status_code == 302 and r2.status_code == 302
    post = Post.objects.get(title="Secretary of State")
    assert post.organization == org
    assert load_stream(post.pk)[0].metadata["via"] == "admin"


def test_merge_and_unmerge_persons_through_admin_actions(curator_client):
    # given the same official recorded twice
    keep, dupe = _person("Cho Hyun"), _person("Cho Hyeon")
    changelist = reverse("admin:people_person_changelist")
    selected = [str(keep.pk), str(dupe.pk)]
    # when the curator first opens the merge action, it asks which to keep and why
    page = curator_client.post(changelist, {"action": "merge", "_selected_action": selected})
    assert page.status_code == 200 and b"Keep this one" in page.content
    # and then confirms it
    curator_client.post(changelist, {"action": "merge", "_selected_action": selected, "confirm": "yes",
                                     "into": str(keep.pk), "reason": "same person"})
    # then the duplicate redirects to the kept person and its name became an alias
    assert Person.objects.get(pk=dupe.pk).merged_into_id == keep.pk
    assert Alias.objects.filter(person=keep, name="Cho Hyeon").exists()
    # when the curator un-merges it
    curator_client.post(changelist, {"action": "unmerge", "_selected_action": [str(dupe.pk)],
                                     "confirm": "yes", "reason": "two different people after all"})
    # then both records stand alone again
    assert Person.objects.get(pk=dupe.pk).merged_into_id is None
