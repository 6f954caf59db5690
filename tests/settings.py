"""Test settings: tracker.settings plus what tests need (fast hashing, a file-backed SQLite test DB)."""
import os
import uuid
from pathlib import Path

from tracker.settings import *  # noqa: F403
from tracker.settings import DATABASES, REST_FRAMEWORK, VAR_DIR

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, not :memory:, so a real worker process can share the test database.
    DATABASES["default"]["TEST"] = {
        "NAME": str(VAR_DIR / f"test-{Path(DATABASES['default']['NAME']).stem}.sqlite3")
    }

# One queue per test session so stale messages on a shared broker never reach these tests.
CELERY_TASK_DEFAULT_QUEUE = os.environ.setdefault("TRACKER_TEST_QUEUE", f"test-{uuid.uuid4().hex[:12]}")

REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_RATES": {"anon": "100000/min", "user": "100000/min"},
}
