"""Who may do what: every API operation and every admin action × every role, against a table.

The API operations come from the OpenAPI schema, so a new endpoint without a row here fails
`test_every_api_operation_has_a_row`. "Allowed" means the permission layer let the request
through (any status but 401/403; a write with an empty body then fails validation with 400).
Admin actions are run for real; "allowed" means the action had its effect.
"""
from __future__ import annotations

import itertools
import re
import uuid

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from meetings import commands as meeting_commands
from meetings.ingest.commands import feed_register
from meetings.ingest.models import FeedPollState, IngestionFailure
from people.commands import organization_register, person_register, post_create
from tracker.eventstore.api import Context
from tracker.eventstore.models import Event
from tracker.moderation.commands import proposal_submit
from tracker.moderation.models import Proposal
from tracker.moderation.roles import robot_user

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "reader", "contributor", "curator", "admin", "robot")
EVERYONE = set(ROLES)
PROPOSERS = {"contributor", "curator", "admin", "robot"}
CURATORS = {"curator", "admin"}
CTX = Context.system(reason="permission matrix fixtures")

# (method, path template) -> roles the permission layer lets through
API = {
    ("GET", "/api/v1/articles/"): EVERYONE,
    ("GET", "/api/v1/articles/{id}/"): EVERYONE,
    ("GET", "/api/v1/articles/{id}/history/"): EVERYONE,
    ("GET", "/api/v1/changes/"): EVERYONE,
    ("POST", "/api/v1/commands/"): CURATORS,
    ("GET", "/api/v1/export/meetings.jsonl"): EVERYONE,
    ("GET", "/api/v1/meetings/"): EVERYONE,
    ("POST", "/api/v1/meetings/"): CURATORS,
    ("GET", "/api/v1/meetings/{id}/"): EVERYONE,
    ("PATCH", "/api/v1/meetings/{id}/"): CURATORS,
    ("GET", "/api/v1/meetings/{id}/history/"): EVERYONE,
    ("GET", "/api/v1/organizations/"): EVERYONE,
    ("GET", "/api/v1/organizations/{id}/"): EVERYONE,
    ("GET", "/api/v1/organizations/{id}/history/"): EVERYONE,
    ("GET", "/api/v1/people/"): EVERYONE,
    ("GET", "/api/v1/people/{id}/"): EVERYONE,
    ("GET", "/api/v1/people/{id}/counterparts/"): EVERYONE,
    ("GET", "/api/v1/people/{id}/history/"): EVERYONE,
    ("GET", "/api/v1/people/{id}/meetings/"): EVERYONE,
    ("GET", "/api/v1/posts/"): EVERYONE,
    ("GET", "/api/v1/posts/{id}/"): EVERYONE,
    ("GET", "/api/v1/posts/{id}/history/"): EVERYONE,
    ("GET", "/api/v1/proposals/"): PROPOSERS,  # the whole queue for curators, one's own otherwise
    ("POST", "/api/v1/proposals/"): PROPOSERS,
    ("GET", "/api/v1/proposals/{id}/"): PROPOSERS,  # someone else's is a 404 for a contributor
}

_n = itertools.count()


def _user(role: str) -> User | None:
    if role == "anonymous":
        return None
    if role == "robot":
        return robot_user()
    user = User.objects.create_user(username=f"{role}-{next(_n)}", password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _schema_operations() -> set[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return {
        (method.upper(), path)
        for path, ops in schema["paths"].items()
        for method in ops
        if method in ("get", "post", "put", "patch", "delete")
    }


def test_every_api_operation_has_a_row():
    # given: the operations the API publishes / then: each has an expected set, and no extras
    assert _schema_operations() == set(API)


def test_no_api_operation_edits_or_deletes_an_event():
    # then: the change feed and every history are read-only; nothing deletes anything
    ops = _schema_operations()
    assert not [op for op in ops if op[0] in ("PUT", "DELETE")]
    assert not [op for op in ops if op[0] != "GET" and ("history" in op[1] or "changes" in op[1])]


@pytest.fixture
def records():
    person = person_register(name="Cho Hyun", country="KR", context=CTX)
    other = person_register(name="Marco Rubio", country="US", context=CTX)
    org = organization_register(name="Ministry of Foreign Affairs", country="KR", context=CTX)
    post = post_create(title="Minister", organization_id=org, context=CTX)
    meeting = meeting_commands.meeting_record(
        participants=[{"person_id": str(person)}, {"person_id": str(other)}], date="2025-07-11", context=CTX)
    article = meeting_commands.article_register(url="https://example.org/a", text="Cho met Rubio.", context=CTX)
    robot = robot_user()
    sub = proposal_submit(
        user=robot, context=Context.for_user(robot, via="suggestion"), kind="new_person",
        commands=[{"command": "person_register", "args": {"name": "Wang Yi", "country": "CN"}}],
        summary="New person: Wang Yi",
    )
    return {"articles": article.id, "meetings": meeting.id, "organizations": org, "people": person,
            "posts": post, "proposals": sub.proposal_id}


@pytest.mark.parametrize("role", ROLES)
def test_api_operations_allow_exactly_the_table(role, records):
    # given: a client acting as the role (token auth)
    client = APIClient()
    user = _user(role)
    if user is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    events_before = Event.objects.count()
    allowed, refused = set(), set()
    # when: every operation is called (writes with an empty body)
    for method, template in sorted(API):
        resource = template.split("/")[3]
        path = template.replace("{id}", str(records.get(resource, uuid.uuid4())))
        response = client.generic(method, path, data="{}", content_type="application/json",
                                  HTTP_IF_MATCH='"1"')
        assert response.status_code < 500, (method, path, response.status_code)
        (refused if response.status_code in (401, 403) else allowed).add((method, template))
    # then: exactly the table's operations were let through, and empty writes changed nothing
    expected = {op for op, roles in API.items() if role in roles}
    assert allowed == expected, {"unexpectedly allowed": allowed - expected, "unexpectedly refused": expected - allowed}
    assert Event.objects.count() == events_before


# --- admin -------------------------------------------------------------------------------

def _meeting(**kw):
    return meeting_commands.meeting_record(
        participants=[{"name": "Cho Hyun"}, {"name": "Marco Rubio"}], date="2025-07-11", context=CTX, **kw)


def _setup_meeting_action(action: str):
    m = _meeting()
    if action == "restore":
        meeting_commands.meeting_retract(meeting_id=m.pk, context=CTX, expected_version=m.version, note="x")
    if action == "merge":
        other = _meeting()
        return "meetings/meeting", [m.pk, other.pk], {"into": str(m.pk)}
    if action == "unmerge":
        other = _meeting()
        meeting_commands.meeting_merge(winner_id=m.pk, loser_id=other.pk, context=CTX,
                                       winner_expected_version=m.version, loser_expected_version=other.version)
        return "meetings/meeting", [other.pk], {}
    if action == "change_status":
        m = _meeting(status="planned")
    return "meetings/meeting", [m.pk], {"status": "held", "source": "https://example.org/s"}


def _setup_person_action(action: str):
    a = person_register(name="Cho Hyun", country="KR", context=CTX)
    b = person_register(name="Cho Hyoung", country="KR", context=CTX)
    if action == "merge":
        return "people/person", [a, b], {"into": str(a)}
    from people.commands import person_merge
    from tracker.eventstore.api import current_version

    person_merge(winner_id=a, loser_id=b, context=CTX, winner_expected_version=current_version(a),
                 loser_expected_version=current_version(b))
    return "people/person", [b], {}


def _setup_proposal_action(action: str):
    robot = robot_user()
    sub = proposal_submit(
        user=robot, context=Context.for_user(robot, via="suggestion"), kind="new_person",
        commands=[{"command": "person_register", "args": {"name": "Wang Yi", "country": "CN"}}],
        summary="New person: Wang Yi")
    return "moderation/proposal", [sub.proposal_id], {}


def _setup_feed_action(action: str):
    feed = feed_register(url="http://feed.invalid/rss", context=CTX)
    return "ingest/feed", [feed.pk], {}


def _setup_failure_action(action: str):
    f = IngestionFailure.objects.create(stage="fetch", kind="network", message="x", url="http://page.invalid/a",
                                        first_failed_at="2025-01-01T00:00Z", last_failed_at="2025-01-01T00:00Z")
    return "ingest/ingestionfailure", [f.pk], {}


def _effect() -> tuple:
    """Everything an admin action can change: the log, feed poll state, failure attempts."""
    return (Event.objects.count(), FeedPollState.objects.count(),
            sum(IngestionFailure.objects.values_list("attempts", flat=True)))


ADMIN_ACTIONS = {
    ("meetings.Meeting", "change_status"): (_setup_meeting_action, CURATORS),
    ("meetings.Meeting", "retract"): (_setup_meeting_action, CURATORS),
    ("meetings.Meeting", "restore"): (_setup_meeting_action, CURATORS),
    ("meetings.Meeting", "merge"): (_setup_meeting_action, CURATORS),
    ("meetings.Meeting", "unmerge"): (_setup_meeting_action, CURATORS),
    ("people.Person", "merge"): (_setup_person_action, CURATORS),
    ("people.Person", "unmerge"): (_setup_person_action, CURATORS),
    ("moderation.Proposal", "accept_selected"): (_setup_proposal_action, CURATORS),
    ("moderation.Proposal", "reject_selected"): (_setup_proposal_action, CURATORS),
    ("ingest.Feed", "poll_now"): (_setup_feed_action, CURATORS),
    ("ingest.IngestionFailure", "retry"): (_setup_failure_action, CURATORS),
}


def test_every_admin_action_has_a_row():
    declared = {
        (model._meta.label, name)
        for model, model_admin in admin.site._registry.items()
        for name in (model_admin.actions or [])
        if isinstance(name, str)
    }
    assert declared == set(ADMIN_ACTIONS)


@pytest.fixture
def eager_tasks():
    from tracker.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = previous


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("key", sorted(ADMIN_ACTIONS), ids=lambda k: f"{k[0]}.{k[1]}")
def test_admin_action_runs_only_for_the_table(key, role, eager_tasks):
    # given: the objects the action needs, and the role logged in to the admin
    setup, roles = ADMIN_ACTIONS[key]
    changelist, pks, extra = setup(key[1])
    client = Client()
    user = _user(role)
    if user is not None:
        client.force_login(user)
    before = _effect()
    # when: the action is posted, confirmed, with a reason
    response = client.post(f"/admin/{changelist}/", {
        "action": key[1], "_selected_action": [str(pk) for pk in pks], "confirm": "yes",
        "reason": "permission matrix", "index": "0", **extra,
    })
    # then: it had its effect exactly for the roles in the table
    assert response.status_code < 500
    had_effect = _effect() != before
    assert had_effect == (role in roles), f"{key} as {role}: effect={had_effect}, status={response.status_code}"


# The admin's model permissions: v(iew) a(dd) c(hange) d(elete) per role (robot: not staff).
ADMIN_PERMS = {
    "auth.Group": {"admin": "vacd"},
    "auth.User": {"admin": "vacd"},
    "authtoken.TokenProxy": {},
    "eventstore.Content": {"reader": "v", "contributor": "v", "curator": "v", "admin": "v"},
    "eventstore.Event": {"reader": "v", "contributor": "v", "curator": "v", "admin": "v"},
    "ingest.Feed": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
    "ingest.IngestionFailure": {"reader": "v", "contributor": "v", "curator": "v", "admin": "vd"},
    "meetings.Meeting": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
    "meetings.SourceArticle": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
    "moderation.DistinctPair": {"reader": "v", "contributor": "v", "curator": "v", "admin": "v"},
    "moderation.Proposal": {"reader": "v", "contributor": "v", "curator": "v", "admin": "vc"},
    "people.Organization": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
    "people.Person": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
    "people.Post": {"reader": "v", "contributor": "v", "curator": "vac", "admin": "vac"},
}


def test_admin_model_permissions_match_the_table(rf):
    # given: every registered admin and a user per role
    assert {m._meta.label for m in admin.site._registry} == set(ADMIN_PERMS)
    actual: dict[str, dict[str, str]] = {}
    for role in ROLES[1:]:
        request = rf.get("/admin/")
        request.user = _user(role)
        staff = request.user.is_staff
        for model, ma in admin.site._registry.items():
            flags = "".join(c for c, f in (("v", ma.has_view_permission), ("a", ma.has_add_permission),
                                           ("c", ma.has_change_permission), ("d", ma.has_delete_permission))
                            if staff and f(request))
            if flags:
                actual.setdefault(model._meta.label, {})[role] = flags
    # then: exactly the table (nobody but an admin deletes anything but failures and users)
    assert {label: actual.get(label, {}) for label in ADMIN_PERMS} == ADMIN_PERMS


@pytest.mark.parametrize("role", ROLES)
def test_nobody_edits_or_deletes_an_event_in_the_admin(role, records):
    # given: an event in the log and the role logged in (admins and superusers included)
    client = Client()
    user = _user(role)
    if user is not None:
        client.force_login(user)
    superuser = User.objects.create_superuser(username=f"root-{next(_n)}", password="x")
    event = Event.objects.order_by("pk").first()
    before = list(Event.objects.order_by("pk").values_list("pk", "data"))
    for who in (client, Client()):
        if who is not client:
            who.force_login(superuser)
        # when: the change page is posted and the delete page confirmed
        change = who.post(f"/admin/eventstore/event/{event.pk}/change/", {"type": "Hacked", "data": "{}"})
        delete = who.post(f"/admin/eventstore/event/{event.pk}/delete/", {"post": "yes"})
        bulk = who.post("/admin/eventstore/event/", {"action": "delete_selected", "_selected_action": [event.pk],
                                                      "post": "yes"})
        # then: every attempt is refused or a no-op, and the log is unchanged
        assert change.status_code in (302, 403) and delete.status_code in (302, 403) and bulk.status_code < 500
    assert list(Event.objects.order_by("pk").values_list("pk", "data")) == before


def test_review_page_decisions_only_for_curators(records):
    # given: a robot proposal; a contributor and the robot try to accept it on the review page
    proposal = Proposal.objects.get(pk=records["proposals"])
    for role in ("reader", "contributor"):
        client = Client()
        client.force_login(_user(role))
        client.post(f"/admin/moderation/proposal/{proposal.pk}/change/",
                    {"expected_version": proposal.version, "reason": "", "_accept": "Accept"})
        proposal.refresh_from_db()
        # then: still pending, nothing applied
        assert proposal.status == "pending"
    assert not re.search("Wang Yi", str(list(Event.objects.filter(type="PersonRegistered").values_list("data"))))
