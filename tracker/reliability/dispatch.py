"""Enqueueing that survives a broker outage.

A write that queues a task after its commit must not answer 500 because the broker is
down: the write is committed by then. `enqueue_on_commit` sends after the commit as
`delay_on_commit` does, but a broker error parks the task in `UndeliveredTask` instead of
raising; `redeliver()` (beat every minute, at worker start, `manage.py redeliver_tasks`)
sends the parked tasks once the broker answers again. Tasks are idempotent (acks_late
tasks must be), so a task that is sent twice does no harm.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.utils import timezone

log = logging.getLogger(__name__)

# Fail fast when the broker is down: a request must not hang on it.
CONNECT_TIMEOUT = 2.0
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Send a task now; park it for redelivery if the broker is unreachable. True if sent."""
    from tracker.celery import app

    try:
        # An explicit, checked connection: the pooled one retries for many seconds when the
        # broker refuses, which a request cannot wait for.
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=CONNECT_TIMEOUT)
            task.apply_async(args=args, kwargs=kwargs, connection=conn, retry=True, retry_policy=RETRY_POLICY)
        return True
    except Exception as exc:  # kombu/redis connection errors differ by transport
        from .models import UndeliveredTask

        log.warning("broker unreachable; %s parked for redelivery: %s", task.name, exc)
        UndeliveredTask.objects.create(name=task.name, args=list(args), kwargs=kwargs, error=repr(exc)[:2000])
        return False


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Like `task.delay_on_commit(...)`, but a broker outage parks the task instead of raising."""
    transaction.on_commit(lambda: enqueue(task, *args, **kwargs))


def redeliver(limit: int = 1000) -> int:
    """Send parked tasks again (oldest first); returns how many the broker took."""
    from tracker.celery import app

    from .models import UndeliveredTask

    sent = 0
    for parked in UndeliveredTask.objects.filter(delivered_at__isnull=True)[:limit]:
        try:
            with app.connection_for_write() as conn:
                conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=CONNECT_TIMEOUT)
                app.send_task(parked.name, args=parked.args, kwargs=parked.kwargs, connection=conn,
                              retry=True, retry_policy=RETRY_POLICY)
        except Exception as exc:  # still down: keep it parked, try again next time
            UndeliveredTask.objects.filter(pk=parked.pk).update(attempts=parked.attempts + 1, error=repr(exc)[:2000])
            break
        UndeliveredTask.objects.filter(pk=parked.pk).update(delivered_at=timezone.now())
        sent += 1
    return sent


def broker_reachable(timeout: float = 1.0) -> bool:
    """Whether the Celery broker accepts a connection right now (bounded by `timeout`)."""
    from tracker.celery import app

    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)
        return True
    except Exception:  # any transport error means "unreachable" to the admin
        return False


def undelivered_count() -> int:
    from .models import UndeliveredTask

    return UndeliveredTask.objects.filter(delivered_at__isnull=True).count()


