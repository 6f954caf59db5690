"""Declaring event types: stable names, schema versions and upcasters."""
from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

EVENT_TYPES: dict[str, type[DomainEvent]] = {}
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}

T = TypeVar("T", bound="DomainEvent")


class DomainEvent:
    """Base of every event dataclass; payload fields must be JSON values (str, int, list, dict...)."""

    event_type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def to_data(self) -> dict[str, Any]:
        """The payload: a copy of the fields, so it never shares a list or dict with the event.

        What `dataclasses.asdict` returns, for JSON values, without its generic recursion
        (which cost more than the rest of building a bulk import's events).
        """
        return {f.name: _copied(getattr(self, f.name)) for f in dataclasses.fields(self)}  # type: ignore[arg-type]

    @classmethod
    def from_data(cls: type[T], data: dict[str, Any]) -> T:
        names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
        return cls(**{k: v for k, v in data.items() if k in names})


_ATOMS = frozenset({str, int, float, bool, type(None)})  # immutable: shared, not copied


def _copied(value: Any) -> Any:
    kind = type(value)
    if kind in _ATOMS:
        return value
    # The common containers by exact type, atoms inline: a call per value cost the most.
    if kind is dict:
        return {k: v if type(v) in _ATOMS else _copied(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _ATOMS else _copied(v) for v in value]
    if isinstance(value, str | int | float | bool):
        return value
    if isinstance(value, dict):
        return {k: _copied(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_copied(v) for v in value)
    return dataclasses.asdict(value) if dataclasses.is_dataclass(value) else copy.deepcopy(value)


def event(type_name: str, *, schema_version: int = 1) -> Callable[[type], type]:
    """Register a frozen, keyword-only dataclass under a stable type name that never changes."""

    def wrap(cls: type) -> type:
        if type_name in EVENT_TYPES:
            raise ValueError(f"event type {type_name!r} is declared twice")
        klass = dataclasses.dataclass(frozen=True, kw_only=True)(cls)
        klass.event_type = type_name
        klass.schema_version = schema_version
        EVENT_TYPES[type_name] = klass
        return klass

    return wrap


def upcaster(type_name: str, from_version: int) -> Callable[[Callable[[dict], dict]], Callable]:
    """Register a pure function turning a `from_version` payload into `from_version + 1`."""

    def wrap(fn: Callable[[dict], dict]) -> Callable[[dict], dict]:
        UPCASTERS[(type_name, from_version)] = fn
        return fn

    return wrap


def upcast(type_name: str, schema_version: int, data: dict) -> tuple[int, dict]:
    """Chain upcasters until the payload has the current shape of its type."""
    current = EVENT_TYPES[type_name].schema_version if type_name in EVENT_TYPES else schema_version
    version = schema_version
    while version < current:
        step = UPCASTERS.get((type_name, version))
        if step is None:
            raise LookupError(f"no upcaster for {type_name} v{version} -> v{version + 1}")
        data = step(dict(data))
        version += 1
    return version, data
