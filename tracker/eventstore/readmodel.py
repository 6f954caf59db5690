"""Read models: ordinary Django models that only a running projector may write."""
from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.db import models

from .errors import ReadModelWriteRefused

_projecting: contextvars.ContextVar[bool] = contextvars.ContextVar("projecting", default=False)


@contextlib.contextmanager
def projecting() -> Iterator[None]:
    """Allow read-model writes for the duration of a projector run."""
    token = _projecting.set(True)
    try:
        yield
    finally:
        _projecting.reset(token)


def _refuse_outside_projector(model: type, operation: str) -> None:
    if not _projecting.get():
        raise ReadModelWriteRefused(
            f"{model.__name__}.{operation}() outside a projector: read models are written only "
            "by projecting events; call a command instead"
        )


class ReadModelQuerySet(models.QuerySet):
    """A queryset whose bulk writes are refused outside projectors."""

    def update(self, **kwargs: Any) -> int:
        _refuse_outside_projector(self.model, "update")
        return super().update(**kwargs)

    def delete(self) -> tuple[int, dict[str, int]]:
        _refuse_outside_projector(self.model, "delete")
        return super().delete()

    def _raw_delete(self, using: str) -> int:  # used by cascades and fast deletes
        _refuse_outside_projector(self.model, "delete")
        return super()._raw_delete(using)

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list:
        _refuse_outside_projector(self.model, "bulk_create")
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs: Any, *args: Any, **kwargs: Any) -> int:
        _refuse_outside_projector(self.model, "bulk_update")
        return super().bulk_update(objs, *args, **kwargs)

    def create(self, **kwargs: Any) -> Any:
        _refuse_outside_projector(self.model, "create")
        return super().create(**kwargs)


ReadModelManager = models.Manager.from_queryset(ReadModelQuerySet)


class ReadModel(models.Model):
    """Abstract base for projections: `save()`/`delete()` work only inside `projecting()`."""

    objects = ReadModelManager()

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_outside_projector(type(self), "save")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_outside_projector(type(self), "delete")
        return super().delete(*args, **kwargs)
