"""Roles as Django groups, the robot user, and the permission helpers commands check.

reader: sees everything. contributor: may propose. curator: may apply and review (and edit
records directly). admin: everything, including users. The robot proposes as a contributor
and is never allowed to apply, whatever groups it is given.
"""
from __future__ import annotations

import functools
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


@functools.cache
def _held_sql() -> str:
    """A user's permissions, its own and its groups': plain SQL (the ORM's OR over both
    relations joins every permission to both and took ~1 ms; this ~0.2 ms)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    user_model, q = get_user_model(), connection.ops.quote_name
    permission, content_type = q(Permission._meta.db_table), q(ContentType._meta.db_table)
    own = q(user_model.user_permissions.through._meta.db_table)
    memberships, granted = q(user_model.groups.through._meta.db_table), q(Group.permissions.through._meta.db_table)
    return (
        f"SELECT ct.app_label, p.codename FROM {permission} p JOIN {content_type} ct ON ct.id = p.content_type_id "
        f"WHERE p.id IN (SELECT permission_id FROM {own} WHERE user_id = %s UNION ALL "
        f"SELECT gp.permission_id FROM {granted} gp JOIN {memberships} ug ON ug.group_id = gp.group_id "
        "WHERE ug.user_id = %s)"
    )


def with_permissions(user: Any) -> Any:
    """Read `user`'s permissions now, its own and its groups', in one query, into the cache
    `has_perm` consults (ModelBackend's), and return it. A task that checks the same user's
    permissions for every write calls this once per run: a permission revoked meanwhile is
    seen by the next run, which reads them again. Superusers and inactive users are left to
    the backend (it answers them without the permission tables)."""
    if not _active(user) or user.is_superuser:
        return user
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(_held_sql(), [user.pk, user.pk])
        user._perm_cache = {f"{app}.{codename}" for app, codename in cur.fetchall()}
    return user


def robot_context(**extra: Any) -> Any:
    """A context for the robot's proposals (via 'suggestion'); extra: source, correlation..."""
    from tracker.eventstore.api import Context

    return Context.for_user(robot_user(), via="suggestion", **extra)
