import pytest
from django.contrib.auth.models import Group, User
from django.core.exceptions import PermissionDenied

from tests.moderation.conftest import change, ctx, new_widget
from tracker.eventstore.api import load
from tracker.moderation.commands import proposal_accept, proposal_submit
from tracker.moderation.models import Proposal
from tracker.moderation.roles import can_apply, can_propose, can_review

pytestmark = pytest.mark.django_db


def test_migration_creates_the_four_roles_and_a_robot_that_cannot_log_in(robot):
    # given the migrated database
    # then
    assert set(Group.objects.values_list("name", flat=True)) >= {"reader", "contributor", "curator", "admin"}
    assert not robot.has_usable_password()
    assert list(robot.groups.values_list("name", flat=True)) == ["contributor"]


def test_each_role_may_do_what_its_name_says(reader, contributor, curator, robot):
    # given a user of each role and an admin-group member
    admin = User.objects.create_user(username="ada")
    admin.groups.add(Group.objects.get(name="admin"))
    admin = User.objects.get(pk=admin.pk)
    # then
    matrix = {u.username: (can_propose(u), can_apply(u), can_review(u)) for u in (reader, contributor, curator, robot, admin)}
    assert matrix == {
        "rita": (False, False, False),
        "carl": (True, False, False),
        "cora": (True, True, True),
        "robot": (True, False, False),
        "ada": (True, True, True),
    }


def test_curators_may_change_records_and_readers_only_view(reader, curator):
    assert curator.has_perm("meetings.change_meeting") and curator.has_perm("people.add_person")
    assert reader.has_perm("meetings.view_meeting") and not reader.has_perm("meetings.change_meeting")


def test_contributor_cannot_accept_but_curator_can(contributor, curator, curator2):
    # given a contributor's proposal
    widget = new_widget(curator2, name="old")
    sub = proposal_submit(user=contributor, context=ctx(contributor), kind="other", commands=[change(widget, name="new")])
    # when the contributor tries to accept it
    with pytest.raises(PermissionDenied):
        proposal_accept(proposal_id=sub.proposal_id, user=contributor, context=ctx(contributor), expected_version=1)
    # then nothing changed; a curator can accept it
    assert load(widget)[0]["name"] == "old"
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    assert outcome.accepted and load(widget)[0]["name"] == "new"
    assert Proposal.objects.get(pk=sub.proposal_id).reviewer_name == "cora"


def test_robot_can_never_apply_even_in_the_curator_group(robot, contributor, curator):
    # given a robot wrongly put into the curator group, and a pending proposal
    robot.groups.add(Group.objects.get(name="curator"))
    robot = User.objects.get(pk=robot.pk)
    widget = new_widget(curator, name="old")
    sub = proposal_submit(user=contributor, context=ctx(contributor), kind="other", commands=[change(widget, name="x")])
    # when / then
    assert not can_apply(robot)
    with pytest.raises(PermissionDenied):
        proposal_accept(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"), expected_version=1)
    assert Proposal.objects.get(pk=sub.proposal_id).status == "pending"


def test_reader_cannot_propose(reader, curator):
    widget = new_widget(curator, name="old")
    with pytest.raises(PermissionDenied):
        proposal_submit(user=reader, context=ctx(reader), kind="other", commands=[change(widget, name="x")])
    assert not Proposal.objects.exists()


def test_own_proposal_cannot_be_accepted_unless_the_setting_allows_it(curator, settings):
    # given a curator's own proposal
    widget = new_widget(curator, name="old")
    sub = proposal_submit(user=curator, context=ctx(curator), kind="edit_meeting", commands=[change(widget, name="mine")])
    # when accepting it with the default setting
    with pytest.raises(PermissionDenied):
        proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    assert load(widget)[0]["name"] == "old"
    # when a one-person install allows it
    settings.MODERATION_ALLOW_SELF_ACCEPT = True
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then
    assert outcome.accepted and load(widget)[0]["name"] == "mine"


def test_private_note_is_hidden_from_other_contributors(contributor, curator):
    # given a contributor's proposal with a private note, and a second contributor
    from tests.moderation.conftest import _user
    from tracker.moderation.selectors import proposal_note_for

    other = _user("olga", "contributor")
    widget = new_widget(curator, name="old")
    sub = proposal_submit(user=contributor, context=ctx(contributor), kind="other",
                          commands=[change(widget, name="x")], note="my source is a friend at the ministry")
    row = Proposal.objects.get(pk=sub.proposal_id)
    # then
    assert proposal_note_for(other, row) == ""
    assert proposal_note_for(contributor, row) == proposal_note_for(curator, row) == "my source is a friend at the ministry"


def test_robot_helpers_give_the_robot_and_its_context(robot):
    from tracker.moderation.roles import robot_context, robot_user

    assert robot_user() == robot
    context = robot_context()
    assert (context.actor_id, context.actor_kind, context.via) == (robot.pk, "robot", "suggestion")


def test_permissions_read_in_one_query_are_those_the_backend_reads(curator, robot, django_assert_num_queries):
    from django.contrib.auth.models import Permission

    from tracker.moderation.roles import with_permissions

    # given a user with a permission of its own besides its groups'
    curator.user_permissions.add(Permission.objects.get(codename="add_user"))
    for user in (curator, robot):
        # when its permissions are read in one query
        fresh = User.objects.get(pk=user.pk)
        with django_assert_num_queries(1):
            with_permissions(fresh)
        # then they are what Django's backend reads for the same user, and has_perm asks nothing more
        with django_assert_num_queries(0):
            held = fresh.get_all_permissions()
        assert held == User.objects.get(pk=user.pk).get_all_permissions() and held
