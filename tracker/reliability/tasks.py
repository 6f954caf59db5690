"""Celery side of `dispatch`: redeliver parked tasks every minute and when a worker starts."""
from __future__ import annotations

import logging

from celery import shared_task
from celery.signals import worker_ready

log = logging.getLogger(__name__)


@shared_task(name="reliability.redeliver")
def redeliver_task() -> int:
    """Send tasks parked while the broker was unreachable."""
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
