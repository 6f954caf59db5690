"""Processes the drivers start: a scratch database, gunicorn, Celery workers, a spare Redis."""
from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
        return True
    return False


def database_url() -> str:
    """URL of the database this process uses now (a scratch or test database)."""
    db = connection.settings_dict
    if connection.vendor != "postgresql":
        raise RuntimeError("the reliability drivers need PostgreSQL")
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def child_env(**extra: str) -> dict[str, str]:
    """Environment for a subprocess sharing this process's database, broker and queue."""
    env = os.environ.copy()
    env["DATABASE_URL"] = database_url()
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_TASK_DEFAULT_QUEUE"] = settings.CELERY_TASK_DEFAULT_QUEUE
    env.setdefault("DJANGO_SETTINGS_MODULE", os.environ.get("DJANGO_SETTINGS_MODULE", "tracker.settings"))
    env["PYTHONPATH"] = str(ROOT)
    # The soak's clients are far faster than a person: lift the per-user API throttle.
    env["API_THROTTLE_USER"] = "10000000/min"
    env["API_THROTTLE_ANON"] = "10000000/min"
    env.update(extra)
    return env


def log_path(name: str) -> Path:
    folder = ROOT / "var" / "reliability"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{name}.log"


@contextlib.contextmanager
def scratch_database(prefix: str = "tracker_reliability") -> Iterator[str]:
    """Create an empty, migrated PostgreSQL database beside the configured one; drop it on exit."""
    if connection.vendor != "postgresql":
        raise RuntimeError("the reliability drivers need PostgreSQL (DATABASE_URL=postgres://…)")
    original = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    saved = test.get("NAME")
    test["NAME"] = f"{prefix}_{os.getpid()}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connection.close()
        connection.creation.destroy_test_db(original, verbosity=0)
        test["NAME"] = saved


def _wait_until(predicate, timeout: float, what: str, proc: subprocess.Popen | None = None) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        time.sleep(0.1)
    raise RuntimeError(f"timed out waiting for {what}")


def stop(proc: subprocess.Popen, *, timeout: float = 20) -> None:
    """Stop a process this module started (TERM, then KILL)."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@contextlib.contextmanager
def gunicorn(*, workers: int = 2, env: dict[str, str] | None = None) -> Iterator[str]:
    """Serve the app with gunicorn on a free loopback port; yield its base URL."""
    port = free_port()
    log = open(log_path("gunicorn"), "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tracker.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--timeout", "60", "--graceful-timeout", "5", "--preload"],
        env=env or child_env(), cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        _wait_until(lambda: port_open(port), 60, "gunicorn to listen", proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop(proc)
        log.close()


def start_worker(*, env: dict[str, str] | None = None, concurrency: int = 1) -> subprocess.Popen:
    """Start a real `celery worker` (prefork) on this database and queue; return the process."""
    env = env or child_env()
    log = open(log_path("worker"), "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tracker", "worker", "--pool=prefork",
         f"--concurrency={concurrency}", "--loglevel=INFO", "-Q", env["CELERY_TASK_DEFAULT_QUEUE"],
         "--without-heartbeat", "--without-gossip", "--without-mingle"],
        env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
    )
    log.close()  # the child keeps its own descriptor
    return proc


def children(pid: int) -> list[int]:
    """Pids of a process's direct children (the prefork pool processes of a worker)."""
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


@contextlib.contextmanager
def spare_redis() -> Iterator[tuple[int, subprocess.Popen]]:
    """A second redis-server on a free loopback port, so stopping it disturbs nobody."""
    exe = shutil.which("redis-server")
    if exe is None:
        raise RuntimeError("redis-server is not installed")
    port = free_port()
    folder = tempfile.mkdtemp(prefix="reliability-redis-")
    proc = subprocess.Popen(
        [exe, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no",
         "--dir", folder],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        _wait_until(lambda: port_open(port), 20, "redis-server to listen", proc)
        yield port, proc
    finally:
        stop(proc, timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


def stop_pid(pid: int) -> None:
    """SIGKILL a process this module started (a leftover pool process)."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
