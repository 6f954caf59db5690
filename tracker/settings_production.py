"""Production settings: tracker.settings with secure defaults and nothing insecure to fall back on.

Use with DJANGO_SETTINGS_MODULE=tracker.settings_production. Required in the environment:
DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS, DATABASE_URL; recommended: CACHE_URL (a shared cache
for throttling counters). Every secure default can still be turned off by its variable (e.g.
DJANGO_SECURE_SSL_REDIRECT=false behind a proxy that already redirects). See docs/security.md.
"""
import os

from django.core.exceptions import ImproperlyConfigured

for _name in ("DJANGO_SECRET_KEY", "DJANGO_ALLOWED_HOSTS"):
    if not os.environ.get(_name):
        raise ImproperlyConfigured(f"{_name} must be set in the environment for production settings")

from tracker.settings import *  # noqa: E402, F403
from tracker.settings import env  # noqa: E402

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SESSION_COOKIE_SECURE", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=31_536_000)  # one year
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
