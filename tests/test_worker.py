"""A task sent through the configured broker is run by a separate worker process."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.django_db(transaction=True)

WORKER_LOG = Path(__file__).resolve().parent.parent / "var" / "test-worker.log"


def test_task_round_trips_through_a_real_worker_process(celery_worker_process):
    from tracker.celery import ping

    # given a running worker process (started by the fixture, on this broker and database)
    assert celery_worker_process.poll() is None
    token = f"round-trip-{os.getpid()}-{time.monotonic_ns()}"

    # when a task is sent through the broker
    result = ping.apply_async(args=[token])

    # then the worker process runs it and the result comes back through the result backend
    assert result.get(timeout=30) == token
    assert result.successful()
    # and it was that worker process (not this one) that ran it: its log names the task id
    deadline = time.monotonic() + 10
    while result.id not in WORKER_LOG.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.2)
    assert result.id in WORKER_LOG.read_text(errors="replace")
    assert celery_worker_process.poll() is None, "the worker must still be running"
