"""Commands whose one write is their append: the append as its own transaction.

A command reads (loads its stream, looks things up), decides in Python and appends. Under
PostgreSQL's READ COMMITTED every statement of a transaction takes a fresh snapshot anyway, and
the append checks the expected versions under the log's lock, so wrapping the reads in the
append's transaction protects nothing: what makes a command safe is that its writes are one
transaction. A command decorated with `appends_once` promises that its only write is one
append (`append` or `append_many`, of one or more streams, with its projection). Called
outside any transaction it therefore runs its reads in autocommit, and its append is a
transaction of its own:

- one statement where the store sends it as one (a single-stream append whose projection
  goes inline in the append's statement, PostgreSQL): no BEGIN and no COMMIT round trip,
  and the server commits, and so releases the log's lock, as the statement ends, without
  waiting for the client;
- otherwise an `atomic` block around the append and its projection.

Called inside a transaction (an admin view, an outer `atomic`, a test's transaction), the
command is `transaction.atomic`, exactly as before. Outside one, whatever the command does
after its append cannot undo it (the append is committed), so it only reads or returns then;
a second append is refused (`EventStoreError`) before it writes. A `transaction.on_commit`
callback runs at once outside a transaction (Django's rule), so such a command registers its
callbacks after its append, never before.
"""
from __future__ import annotations

import contextvars
import functools
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connections, transaction

from .errors import EventStoreError

F = TypeVar("F", bound=Callable[..., Any])


class AppendsOnce:
    """One run of an `appends_once` command outside a transaction (see the module docstring).

    It also identifies the run: the stream states its loads read (committed rows, as they
    were read outside a transaction) may serve its append, as a transaction's do (store.py,
    `_remember_state`)."""

    __slots__ = ("appended",)

    def __init__(self) -> None:
        self.appended = False

    def appending(self) -> None:
        """Called by the store before an append: refuse a second write."""
        if self.appended:
            raise EventStoreError(
                "an appends_once command appended twice outside a transaction (the first append "
                "is committed): decorate it with transaction.atomic instead"
            )

    def appended_now(self) -> None:
        """Called by the store once an append has been written."""
        self.appended = True


_running: contextvars.ContextVar[AppendsOnce | None] = contextvars.ContextVar("appends_once", default=None)


def current_appends_once(db: Any) -> AppendsOnce | None:
    """The `appends_once` command running on `db` outside a transaction, if any."""
    return None if db.in_atomic_block else _running.get()


def appends_once(func: F) -> F:
    """Decorate a command whose only write is one append (see the module docstring)."""

    @functools.wraps(func)
    def run(*args: Any, **kwargs: Any) -> Any:
        db = connections[DEFAULT_DB_ALIAS]
        if db.in_atomic_block or not db.get_autocommit():
            with transaction.atomic():
                return func(*args, **kwargs)
        if _running.get() is not None:
            return func(*args, **kwargs)  # a command called by one: its append is the caller's
        token = _running.set(AppendsOnce())
        try:
            return func(*args, **kwargs)
        finally:
            _running.reset(token)

    return run  # type: ignore[return-value]
