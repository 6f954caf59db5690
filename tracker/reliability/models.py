"""The ledger of dispatched tasks (operational state, not part of the record)."""
from __future__ import annotations

from django.db import models


class UndeliveredTask(models.Model):
    """A task handed to `dispatch.enqueue` that is not known to be done yet.

    One row per enqueued task. It is parked (`delivered_at` empty) while the broker is
    unreachable, sent, and marked done (`done_at`) when a worker finishes it (success or final
    failure; a retrying task is not done). `dispatch.redeliver` sends parked rows again, and
    rows sent long ago but never done (a message lost with a killed worker): at-least-once.
    """

    name = models.CharField(max_length=200, help_text="Registered Celery task name.")
    args = models.JSONField(default=list, help_text="Positional arguments (JSON values only).")
    kwargs = models.JSONField(default=dict, help_text="Keyword arguments (JSON values only).")
    task_id = models.CharField(max_length=36, unique=True, null=True, blank=True,
                               help_text="Celery task id; every send of this row uses it.")
    error = models.TextField(blank=True, default="", help_text="Why the broker refused it last.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When it was enqueued.")
    attempts = models.PositiveIntegerField(default=1, help_text="Sends tried so far.")
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                        help_text="When the broker last took it (empty while parked).")
    done_at = models.DateTimeField(null=True, blank=True,
                                   help_text="When a worker finished it (success or final failure).")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"
