"""Deployment checks (`manage.py check --deploy`) for what Django's own checks cannot know."""
from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

DEV_KEY_PREFIX = "insecure-dev-key-"


@register(Tags.security, deploy=True)
def deployment_checks(app_configs, **kwargs):  # type: ignore[no-untyped-def]
    problems = []
    if settings.SECRET_KEY.startswith(DEV_KEY_PREFIX):
        problems.append(Error(
            "SECRET_KEY is the development fallback key.",
            hint="Set DJANGO_SECRET_KEY in the environment (e.g. python -c 'import secrets; "
                 "print(secrets.token_urlsafe(50))').",
            id="tracker.security.E001",
        ))
    if "tracker.security.throttle.LoginThrottleBackend" not in settings.AUTHENTICATION_BACKENDS:
        problems.append(Warning(
            "Login attempts are not throttled.",
            hint="Keep tracker.security.throttle.LoginThrottleBackend first in AUTHENTICATION_BACKENDS.",
            id="tracker.security.W001",
        ))
    backend = settings.CACHES["default"]["BACKEND"]
    if backend.endswith(("LocMemCache", "DummyCache")):
        problems.append(Warning(
            "The default cache is per process, so login and API throttling counters are not shared "
            "between web workers.",
            hint="Set CACHE_URL to a shared cache, e.g. redis://127.0.0.1:6379/1.",
            id="tracker.security.W002",
        ))
    return problems
