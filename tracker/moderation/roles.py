"""Roles as Django groups, the robot user, and the permission helpers commands check.

reader: sees everything. contributor: may propose. curator: may apply and review (and edit
records directly). admin: everything, including users. The robot proposes as a contributor
and is never allowed to apply, whatever groups it is given.
"""
from __future__ import annotations

from typing import Any

from django.conf import settings

READER, CONTRIBUTOR, CURATOR, ADMIN = "reader", "contributor", "curator", "admin"
ROBOT_USERNAME = "robot"
RECORD_APPS = ("people", "meetings", "ingest")
VIEW_APPS = ("people", "meetings", "ingest", "moderation", "eventstore")


def _role_permissions(Permission: Any) -> dict[str, Any]:
    """Role name -> queryset of the permissions it holds (from whatever exists now)."""
    from django.db.models import Q

    view = Q(content_type__app_label__in=VIEW_APPS, codename__startswith="view_")
    propose = Q(content_type__app_label="moderation", codename="propose_change")
    review = Q(content_type__app_label="moderation", codename__in=["review_proposal", "apply_proposal"])
    edit_records = Q(content_type__app_label__in=RECORD_APPS) & (
        Q(codename__startswith="add_") | Q(codename__startswith="change_")
    )
    everything = Q(content_type__app_label__in=(*VIEW_APPS, "auth"))
    return {
        READER: Permission.objects.filter(view),
        CONTRIBUTOR: Permission.objects.filter(view | propose),
        CURATOR: Permission.objects.filter(view | propose | review | edit_records),
        ADMIN: Permission.objects.filter(everything),
    }


def sync_roles(*, Group: Any, Permission: Any) -> None:
    """Create the groups if missing and grant each its permissions (additive, idempotent)."""
    for name, perms in _role_permissions(Permission).items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(*perms)


def sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    """post_migrate: (re)create the groups and the robot, granting permissions of models added
    after the roles migration. Runs after every migrate and every flush (the test runner's
    flush between transactional tests empties auth tables), so roles always exist."""
    if sender.label != "moderation":
        return
    from django.contrib.auth.models import Group, Permission

    sync_roles(Group=Group, Permission=Permission)
    robot_user()


def is_robot(user: Any) -> bool:
    """Robot accounts propose only; the name rule matches Context.for_user's actor kind."""
    return bool(user) and getattr(user, "username", "").startswith(ROBOT_USERNAME)


def _active(user: Any) -> bool:
    return bool(user) and getattr(user, "is_authenticated", False) and getattr(user, "is_active", False)


def can_propose(user: Any) -> bool:
    """Contributors, curators, admins and the robot may raise proposals."""
    return _active(user) and user.has_perm("moderation.propose_change")


def can_apply(user: Any) -> bool:
    """Curators, admins and superusers may apply proposals; a robot never."""
    return _active(user) and not is_robot(user) and user.has_perm("moderation.apply_proposal")


def can_review(user: Any, proposal: Any = None) -> bool:
    """May `user` decide on proposals (on `proposal`: not one's own, unless the setting allows)?"""
    if not (_active(user) and not is_robot(user) and user.has_perm("moderation.review_proposal")):
        return False
    if proposal is None:
        return True
    return not is_own(user, proposal) or settings.MODERATION_ALLOW_SELF_ACCEPT


def is_own(user: Any, proposal: Any) -> bool:
    author_id = proposal.get("author_id") if isinstance(proposal, dict) else proposal.author_id
    return author_id is not None and author_id == user.pk


def can_see_note(user: Any, proposal: Any) -> bool:
    """The author's private note is for the author and reviewers, not other contributors."""
    return _active(user) and (is_own(user, proposal) or can_review(user))


def robot_user() -> Any:
    """The robot account news ingestion proposes as (created with the roles; recreated if missing)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    robot, created = get_user_model().objects.get_or_create(
        username=ROBOT_USERNAME, defaults={"is_active": True, "first_name": "News robot"}
    )
    if created:
        robot.set_unusable_password()
        robot.save(update_fields=["password"])
        group, _ = Group.objects.get_or_create(name=CONTRIBUTOR)
        robot.groups.add(group)
    return robot


def robot_context(**extra: Any) -> Any:
    """A context for the robot's proposals (via 'suggestion'); extra: source, correlation..."""
    from tracker.eventstore.api import Context

    return Context.for_user(robot_user(), via="suggestion", **extra)
