"""Registry of proposable commands: a proposal names commands, this maps names to functions.

Each app's commands are registered by name (in `commands_catalog.py`, not in the apps
themselves) with an adapter `fn(args: dict, context: Context, expected_version: int)` and the
stream they touch, so a proposal can be checked for staleness before it is applied.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from tracker.eventstore.api import Context

CommandFn = Callable[[dict, Context, int], Any]


@dataclasses.dataclass(frozen=True)
class CommandSpec:
    """A proposable command and the stream it writes (its 'target')."""

    name: str
    fn: CommandFn
    # stream type of the target, e.g. "meeting"
    stream_type: str
    # name of the arg holding the target stream id, or a function of the args returning it
    target: str | Callable[[dict], Any] | None = None
    # True when the command starts a new stream (the target must not exist yet)
    creates: bool = False
    description: str = ""
    # multi-stream commands (merges): target arg -> arg holding the version expected for it,
    # e.g. {"loser_id": "loser_expected_version", "winner_id": "winner_expected_version"}
    version_args: dict[str, str] = dataclasses.field(default_factory=dict)

    def target_of_raw(self, args: dict) -> Any:
        """The target id as the args give it (not validated), if they name one."""
        if self.target is None:
            return None
        return self.target(args) if callable(self.target) else args.get(self.target)


COMMANDS: dict[str, CommandSpec] = {}


def register_command(
    name: str,
    fn: CommandFn,
    *,
    stream_type: str,
    target: str | Callable[[dict], Any] | None = None,
    creates: bool = False,
    description: str = "",
    version_args: dict[str, str] | None = None,
) -> CommandSpec:
    """Make a command proposable under `name` (re-registering a name replaces it)."""
    spec = CommandSpec(name, fn, stream_type, target, creates, description, dict(version_args or {}))
    COMMANDS[name] = spec
    return spec


def unregister_command(name: str) -> None:
    COMMANDS.pop(name, None)


def command_spec(name: str) -> CommandSpec:
    try:
        return COMMANDS[name]
    except KeyError:
        raise LookupError(f"no proposable command named {name!r}") from None


def registered_commands() -> list[str]:
    return sorted(COMMANDS)


def command_targets(command: dict) -> list[tuple[str, int]]:
    """Every (stream id, expected version) a proposed command touches, primary target first."""
    out: list[tuple[str, int]] = []
    if command.get("target_stream_id"):
        out.append((str(command["target_stream_id"]), command["expected_version"]))
    spec = COMMANDS.get(command.get("command", ""))
    args = command.get("args") or {}
    for target_arg, version_arg in (spec.version_args if spec else {}).items():
        target, version = args.get(target_arg), args.get(version_arg)
        if target and isinstance(version, int) and str(target) not in {t for t, _ in out}:
            out.append((str(target), version))
    return out
