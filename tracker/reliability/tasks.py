"""Celery side of `dispatch`: redeliver parked and lost tasks every minute and when a worker
starts; mark a task's ledger row done when a worker finishes it."""
from __future__ import annotations

import logging

from celery import shared_task, states
from celery.signals import task_postrun, task_retry, worker_ready

log = logging.getLogger(__name__)


@shared_task(name="reliability.redeliver")
def redeliver_task() -> int:
    """Send tasks parked while the broker was unreachable, and tasks sent long ago never done."""
    from .dispatch import redeliver

    return redeliver()


@worker_ready.connect
def _redeliver_at_start(**kwargs: object) -> None:
    from .dispatch import redeliver

    try:
        sent = redeliver()
    except Exception:  # the database may be unreachable at boot; beat tries again
        log.exception("redelivering parked tasks at worker start failed")
        return
    if sent:
        log.info("redelivered %s parked task(s)", sent)


@task_postrun.connect
def _mark_done(task_id: str | None = None, task: object = None, state: str | None = None, **kwargs: object) -> None:
    # A retrying task (state RETRY) is not finished: its ledger row stays until the last try.
    if state not in (states.SUCCESS, states.FAILURE) or task_id is None or task.request.is_eager:
        return
    from .dispatch import mark_done

    try:
        mark_done(task_id)
    except Exception:  # the database may be unreachable: the task is sent again later (idempotent)
        log.exception("marking task %s done failed", task_id)


@task_retry.connect
def _mark_resent(request: object = None, **kwargs: object) -> None:
    # A retry is the task sent again (same id, later): the resend age counts from now.
    if request is None or getattr(request, "is_eager", False):
        return
    from .dispatch import mark_sent

    try:
        mark_sent(request.id)
    except Exception:  # as above: at worst it is sent once more
        log.exception("recording the retry of task %s failed", request.id)
