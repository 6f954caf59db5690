"""Enqueueing that survives a broker outage and a lost message: at-least-once delivery.

A write that queues a task after its commit must not answer 500 because the broker is
down: the write is committed by then. `enqueue_on_commit` sends after the commit as
`delay_on_commit` does, but a broker error parks the task instead of raising.

Every enqueued task is a row of the ledger `UndeliveredTask` (one INSERT; for
`enqueue_on_commit`, in the caller's transaction), with the Celery task id it is sent under;
a worker marks the row done when the task finishes (one UPDATE in `tasks.py`; a retrying
task is not finished). `redeliver()` (beat every minute, at worker
start, `manage.py redeliver_tasks`) sends parked rows once the broker answers again, and
sends again rows sent more than `DISPATCH_RESEND_AFTER_SECONDS` ago and still not done: a
message can be lost with a killed worker (kombu's Redis transport pops it from the queue
before the worker records it as unacknowledged), and nothing else would ever retry it.
Only idempotent tasks may be enqueued here (acks_late tasks must be anyway): a task sent
twice does no harm. Tasks run in-process (`CELERY_TASK_ALWAYS_EAGER`) are not recorded.
"""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import threading
import uuid
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

log = logging.getLogger(__name__)

# Fail fast when the broker is down: a request must not hang on it.
CONNECT_TIMEOUT = 2.0
RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def _connect(conn: Any, timeout: float) -> None:
    """Connect `conn` once within `timeout` or fail (a no-op if connected): the pooled
    connection retries for many seconds when the broker refuses, which a request cannot wait for."""
    conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=timeout)


class _Kept(threading.local):
    """The broker connection this process (and thread) sends on, with the process it was made
    in and the broker address it was made for."""

    key: tuple = ()
    conn: Any = None


_kept = _Kept()


def _sending_connection(timeout: float = CONNECT_TIMEOUT) -> Any:
    """This process's connection for sending, connected on first use within `timeout`.

    Connecting anew for every task cost ~2.5 ms an article. A forked child (a worker replacing
    a killed one) never sends on its parent's: one socket read by two processes loses replies.
    """
    from tracker.celery import app

    key = (os.getpid(), app.conf.broker_write_url)
    if _kept.conn is None or _kept.key != key:
        _drop_sending_connection()
        _kept.conn, _kept.key = app.connection_for_write(), key
    _connect(_kept.conn, timeout)
    return _kept.conn


def _drop_sending_connection() -> None:
    """Forget the kept connection (after an error, or made for another broker or process)."""
    conn, mine = _kept.conn, _kept.key[:1] == (os.getpid(),)
    _kept.conn = None
    if conn is not None and mine:
        with contextlib.suppress(Exception):  # it failed already; closing is best effort
            conn.release()


def enqueue(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Send a task now; park it for redelivery if the broker is unreachable. True if sent."""
    return _send(task, args, kwargs, record_dispatch(task, args, kwargs))


def _send(task: Any, args: tuple, kwargs: dict, task_id: str | None) -> bool:
    """Send a recorded task under its ledger id; park it if the broker is unreachable."""
    try:
        task.apply_async(args=args, kwargs=kwargs, connection=_sending_connection(), retry=True,
                         retry_policy=RETRY_POLICY, task_id=task_id)
        return True
    except Exception as exc:  # kombu/redis connection errors differ by transport
        _drop_sending_connection()
        log.warning("broker unreachable; %s parked for redelivery: %s", task.name, exc)
        _park(task, args, kwargs, task_id, exc)
        return False


def record_dispatch(task: Any, args: tuple, kwargs: dict) -> str | None:
    """Write the ledger row of a task about to be sent; returns the task id to send it under.

    None when tasks run in-process: nothing can be lost between a broker and a worker then.
    """
    from tracker.celery import app

    from .models import UndeliveredTask

    if app.conf.task_always_eager:
        return None
    task_id = str(uuid.uuid4())
    UndeliveredTask.objects.create(name=task.name, args=list(args), kwargs=kwargs, task_id=task_id,
                                   delivered_at=timezone.now())
    return task_id


def _park(task: Any, args: tuple, kwargs: dict, task_id: str | None, exc: Exception) -> None:
    """Mark a task the broker refused as parked: `redeliver` sends it as soon as it can."""
    from .models import UndeliveredTask

    error = repr(exc)[:2000]
    if task_id is None:  # run in-process, so not recorded: park it anyway, as before the ledger
        UndeliveredTask.objects.create(name=task.name, args=list(args), kwargs=kwargs, error=error,
                                       task_id=str(uuid.uuid4()))
    else:
        UndeliveredTask.objects.filter(task_id=task_id).update(delivered_at=None, error=error)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Like `task.delay_on_commit(...)`, but a broker outage parks the task instead of raising.

    The ledger row is written now, in the caller's transaction: it commits with the write
    that needs the task (or rolls back with it), so a process that dies between the commit and
    the send leaves a row that `redeliver` sends later.
    """
    task_id = record_dispatch(task, args, kwargs)
    transaction.on_commit(lambda: _send(task, args, kwargs, task_id))


def redeliver(limit: int = 1000, *, resend_after: float | None = None) -> int:
    """Send parked tasks, and tasks sent `resend_after` seconds ago (default: the setting
    `DISPATCH_RESEND_AFTER_SECONDS`) and not done yet, oldest first; prune done rows older
    than that. Returns how many the broker took."""
    from tracker.celery import app

    from .models import UndeliveredTask

    age = settings.DISPATCH_RESEND_AFTER_SECONDS if resend_after is None else resend_after
    cutoff = timezone.now() - dt.timedelta(seconds=age)
    due = UndeliveredTask.objects.filter(Q(delivered_at__isnull=True) | Q(delivered_at__lt=cutoff),
                                         done_at__isnull=True)
    sent = 0
    for row in due[:limit]:
        # claim it first: a concurrent redeliver (beat, a starting worker) skips it then
        task_id = row.task_id or str(uuid.uuid4())
        claimed = UndeliveredTask.objects.filter(pk=row.pk, delivered_at=row.delivered_at, done_at__isnull=True)
        if not claimed.update(delivered_at=timezone.now(), attempts=F("attempts") + 1, task_id=task_id):
            continue
        try:
            app.send_task(row.name, args=row.args, kwargs=row.kwargs, task_id=task_id,
                          connection=_sending_connection(), retry=True, retry_policy=RETRY_POLICY)
        except Exception as exc:  # still down: keep it parked, try again next time
            _drop_sending_connection()
            UndeliveredTask.objects.filter(pk=row.pk).update(delivered_at=None, error=repr(exc)[:2000])
            break
        if row.delivered_at is not None:
            log.warning("%s %s sent %s and not done: sent again", row.name, task_id, row.delivered_at)
        sent += 1
    UndeliveredTask.objects.filter(done_at__lt=cutoff).delete()
    return sent


def mark_done(task_id: str) -> None:
    """Record that a worker finished a task (success or final failure): it is not sent again."""
    from .models import UndeliveredTask

    UndeliveredTask.objects.filter(task_id=task_id, done_at__isnull=True).update(done_at=timezone.now())


def mark_sent(task_id: str) -> None:
    """Record that a task was sent again under its id (a retry): the resend age restarts."""
    from .models import UndeliveredTask

    UndeliveredTask.objects.filter(task_id=task_id, done_at__isnull=True).update(delivered_at=timezone.now())


def broker_reachable(timeout: float = 1.0) -> bool:
    """Whether the Celery broker accepts a connection right now (bounded by `timeout`)."""
    from tracker.celery import app

    try:
        with app.connection_for_write() as conn:  # a fresh one: a kept one may be stale
            _connect(conn, timeout)
        return True
    except Exception:  # any transport error means "unreachable" to the admin
        return False


def undelivered_count() -> int:
    from .models import UndeliveredTask

    return UndeliveredTask.objects.filter(delivered_at__isnull=True, done_at__isnull=True).count()


