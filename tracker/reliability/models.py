"""Tasks that could not be handed to the broker (operational state, not part of the record)."""
from __future__ import annotations

from django.db import models


class UndeliveredTask(models.Model):
    """A task whose enqueue failed because the broker was unreachable; sent again later."""

    name = models.CharField(max_length=200, help_text="Registered Celery task name.")
    args = models.JSONField(default=list, help_text="Positional arguments (JSON values only).")
    kwargs = models.JSONField(default=dict, help_text="Keyword arguments (JSON values only).")
    error = models.TextField(help_text="Why the broker refused it.")
    created_at = models.DateTimeField(auto_now_add=True, help_text="When the enqueue failed.")
    attempts = models.PositiveIntegerField(default=1, help_text="Failed sends so far.")
    delivered_at = models.DateTimeField(null=True, blank=True, db_index=True,
                                        help_text="When the broker finally took it.")

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.name}{tuple(self.args)}"
