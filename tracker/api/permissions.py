"""Roles (Django groups reader / contributor / curator / admin, see tracker.moderation.roles)
as DRF permissions."""
from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission


def is_curator(user: Any) -> bool:
    """Whether the user may apply changes directly and read unreviewed material."""
    from tracker.moderation.roles import can_apply

    return can_apply(user)


def is_contributor(user: Any) -> bool:
    """Whether the user may propose changes (contributors, curators, admins, the robot)."""
    from tracker.moderation.roles import can_propose

    return can_propose(user)


class IsCurator(BasePermission):
    """Curators and admins only."""

    message = "This needs a curator token."

    def has_permission(self, request, view):  # type: ignore[no-untyped-def]
        return is_curator(request.user)


class IsContributor(BasePermission):
    """Contributors, curators and admins."""

    message = "This needs a contributor token."

    def has_permission(self, request, view):  # type: ignore[no-untyped-def]
        return is_contributor(request.user)


class ReadAnyoneWriteCurator(BasePermission):
    """Safe methods for everyone (throttled); writes for curators."""

    message = "Writing the record directly needs a curator token; contributors POST /api/v1/proposals/."

    def has_permission(self, request, view):  # type: ignore[no-untyped-def]
        if request.method in ("GET", "HEAD", "OPTIONS"):
            return True
        return is_curator(request.user)
