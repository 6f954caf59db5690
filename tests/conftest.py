"""Shared fixtures: database markers, the test flush bypass, a real Celery worker process."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.core.management.commands import flush

ROOT = Path(__file__).resolve().parent.parent

# Between transactional tests pytest-django flushes every table; the event log's triggers
# refuse that, so the flush (and only the flush) runs with the purge bypass.
_flush_handle = flush.Command.handle


def _flush_with_purge(self, *args, **kwargs):  # type: ignore[no-untyped-def]
    from tracker.eventstore.guards import allow_purge

    with allow_purge():
        return _flush_handle(self, *args, **kwargs)


flush.Command.handle = _flush_with_purge


def _vendor() -> str:
    from django.db import connection

    return connection.vendor


def _broker() -> str:
    from django.conf import settings

    return settings.CELERY_BROKER_URL


def pytest_collection_modifyitems(config, items):  # type: ignore[no-untyped-def]
    vendor = _vendor()
    broker = _broker()
    for item in items:
        if "postgres" in item.keywords and vendor != "postgresql":
            item.add_marker(pytest.mark.skip(reason="needs PostgreSQL; running on SQLite"))
        if "redis" in item.keywords and not broker.startswith("redis"):
            item.add_marker(pytest.mark.skip(reason="needs a Redis broker"))


def pytest_sessionfinish(session, exitstatus):  # type: ignore[no-untyped-def]
    """Under CI=true a skipped test is a failure: CI must run everything for real."""
    if os.environ.get("CI") != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if skipped and session.exitstatus == 0:
        reporter.write_line(f"CI=true: {skipped} test(s) were skipped, which counts as a failure", red=True)
        session.exitstatus = 1


@pytest.fixture
def worker_env() -> dict[str, str]:
    """Environment for a subprocess that must share this test database and broker queue."""
    from django.conf import settings
    from django.db import connection

    db = connection.settings_dict
    env = os.environ.copy()
    if connection.vendor == "postgresql":
        env["DATABASE_URL"] = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
    else:
        env["DATABASE_URL"] = f"sqlite:///{db['NAME']}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_TASK_DEFAULT_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    env["PYTHONPATH"] = str(ROOT)
    return env


@pytest.fixture
def celery_worker_process(transactional_db, worker_env):  # type: ignore[no-untyped-def]
    """Start a real `celery worker` process on the test database; yield it; stop it."""
    from tracker.celery import ping

    log = open(ROOT / "var" / "test-worker.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=prefork",
         "--concurrency=1", "--loglevel=INFO", "-Q", worker_env["CELERY_TASK_DEFAULT_QUEUE"],
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=worker_env,
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if ping.apply_async(args=["ready"]).get(timeout=5) == "ready":
                    break
            except Exception:  # the worker may still be booting
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("celery worker did not start; see var/test-worker.log") from None
        yield proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# --- headless Chromium (Debian's package, never a downloaded browser) driven by Playwright ---
# One session-wide browser for every browser test: two live sync_playwright() instances in one
# thread would clash over the event loop.
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = ROOT / "test-results" / "screenshots"


@pytest.fixture(scope="session")
def browser():
    """One Chromium for the session; the test is skipped (a failure under CI=true) without it."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's 'chromium' package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself (fixtures, assertions) are still synchronous and safe here.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as pw:
            chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def screenshot(page):
    """Save a full-page screenshot under test-results/screenshots/ and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(name: str) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
