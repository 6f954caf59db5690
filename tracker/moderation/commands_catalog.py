"""The proposable commands of people and meetings, registered by name.

The apps' command functions are imported only when a proposal is applied, so this module
does not depend on their import order (or on them existing yet). Each adapter calls the
real command with the proposal's args as keyword arguments, plus `context` and
`expected_version` when the command takes them.
"""
from __future__ import annotations

import importlib
import inspect
import uuid
from typing import Any

from tracker.eventstore.api import CommandError, Context

from .registry import register_command

MERGE_VERSIONS = {"loser_id": "loser_expected_version", "winner_id": "winner_expected_version"}

# name -> (module, stream type, arg naming the target stream, creates a new stream, version args)
CATALOG: dict[str, tuple[str, str, str | None, bool, dict[str, str]]] = {
    # an article's id derives from its URL (or text): the command names it, not the caller
    "article_register": ("meetings.commands", "article", None, True, {}),
    "meeting_record": ("meetings.commands", "meeting", "meeting_id", True, {}),
    "meeting_cite_article": ("meetings.commands", "meeting", "meeting_id", False, {}),
    "meeting_revise": ("meetings.commands", "meeting", "meeting_id", False, {}),
    "meeting_status_change": ("meetings.commands", "meeting", "meeting_id", False, {}),
    "meeting_participant_add": ("meetings.commands", "meeting", "meeting_id", False, {}),
    "meeting_merge": ("meetings.commands", "meeting", "loser_id", False, MERGE_VERSIONS),
    "person_register": ("people.commands", "person", "person_id", True, {}),
    "person_alias_add": ("people.commands", "person", "person_id", False, {}),
    "person_tenure_start": ("people.commands", "person", "person_id", False, {}),
    "person_merge": ("people.commands", "person", "loser_id", False, MERGE_VERSIONS),
}


def _coerce_ids(args: dict) -> dict:
    """JSON carries ids as strings; the commands take UUIDs for their `*_id` arguments."""
    out = dict(args)
    for key, value in args.items():
        if key.endswith("_id") and isinstance(value, str):
            try:
                out[key] = uuid.UUID(value)
            except ValueError:
                pass  # left as is: the command reports the bad id as a field error
    return out


def lazy_command(module: str, name: str):  # type: ignore[no-untyped-def]
    """An adapter (args, context, expected_version) calling `module.name` on first use."""

    def run(args: dict, context: Context, expected_version: int) -> Any:
        try:
            fn = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError):
            raise CommandError(
                f"command {name} is not available", {"command": [f"{module}.{name} is missing"]}
            ) from None
        params = inspect.signature(fn).parameters
        kwargs = _coerce_ids(args)
        if "context" in params:
            kwargs["context"] = context
        if "expected_version" in params:
            kwargs["expected_version"] = expected_version
        return fn(**kwargs)

    run.__name__ = f"lazy_{name}"
    return run


def register_catalog() -> None:
    """Register every command of the catalog (called from the app's ready())."""
    for name, (module, stream_type, target, creates, version_args) in CATALOG.items():
        register_command(
            name,
            lazy_command(module, name),
            stream_type=stream_type,
            target=target,
            creates=creates,
            version_args=version_args,
            description=f"{module}.{name}",
        )
