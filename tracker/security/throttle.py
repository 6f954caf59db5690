"""Login throttling: after LOGIN_FAILURE_LIMIT failed logins for one username from one IP
address within LOGIN_LOCKOUT_SECONDS, further attempts for that pair are refused (even with
the right password) until the window passes. Counters live in the default cache, so with
several web processes CACHE_URL must point at a shared cache (Redis).

Wired as the first authentication backend: Django's `authenticate()` stops at the
PermissionDenied it raises, so the admin login (and any other password login) is covered
without changing the views. A successful login clears the counter.
"""
from __future__ import annotations

import hashlib
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.dispatch import receiver


def _limit() -> int:
    return getattr(settings, "LOGIN_FAILURE_LIMIT", 5)


def _window() -> int:
    return getattr(settings, "LOGIN_LOCKOUT_SECONDS", 900)


def client_ip(request: Any) -> str:
    return (getattr(request, "META", None) or {}).get("REMOTE_ADDR", "") if request is not None else ""


def _key(username: str, ip: str) -> str:
    digest = hashlib.sha256(f"{username.strip().lower()}\0{ip}".encode()).hexdigest()[:32]
    return f"login-failures:{digest}"


def failures(username: str, ip: str) -> int:
    return cache.get(_key(username, ip), 0)


def is_locked(username: str, ip: str) -> bool:
    return failures(username, ip) >= _limit()


def record_failure(username: str, ip: str) -> int:
    key = _key(username, ip)
    if cache.add(key, 1, _window()):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, _window())
        return 1


def reset(username: str, ip: str) -> None:
    cache.delete(_key(username, ip))


class LoginThrottleBackend:
    """Refuses authentication for a locked username+IP; authenticates nobody itself."""

    def authenticate(self, request: Any, username: str | None = None, **credentials: Any) -> None:
        if username and is_locked(username, client_ip(request)):
            raise PermissionDenied("too many failed logins; try again later")
        return None

    # No get_user(): sessions must never name this backend (Client.force_login and login()
    # pick the first backend that has one).


@receiver(user_login_failed)
def _on_failure(sender: Any, credentials: dict, request: Any = None, **kwargs: Any) -> None:
    username = credentials.get("username")
    if username:
        record_failure(username, client_ip(request))


@receiver(user_logged_in)
def _on_success(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    reset(user.get_username(), client_ip(request))
