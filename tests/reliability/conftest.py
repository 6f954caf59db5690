"""Fixtures of the reliability tests: the app served by gunicorn on the test database."""
import pytest

from tracker.reliability import harness


@pytest.fixture
def served(transactional_db, worker_env):  # type: ignore[no-untyped-def]
    """Base URL of gunicorn (2 workers) serving the test database."""
    env = harness.child_env(DJANGO_SETTINGS_MODULE="tests.settings")
    with harness.gunicorn(workers=2, env=env) as base:
        yield base
