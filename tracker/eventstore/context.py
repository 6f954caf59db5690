"""Who runs a command, through what, and why: the metadata every event carries."""
from __future__ import annotations

import copy
import dataclasses
import uuid
from typing import Any

from .errors import InvalidMetadata

ACTOR_KINDS = ("user", "robot", "system")
VIA = ("admin", "api", "suggestion", "cli", "system")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """The author and circumstances of a command; becomes each appended event's metadata."""

    actor_id: int | None = None
    actor_name: str = "system"
    actor_kind: str = "system"
    via: str = "system"
    reason: str = ""
    on_behalf_of: int | None = None
    correlation_id: str = dataclasses.field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    proposal_id: str | None = None
    source: dict[str, Any] | None = None  # provenance: URL, import batch, tool version

    @classmethod
    def for_user(cls, user: Any, *, via: str, reason: str = "", **extra: Any) -> Context:
        """Build a context for a logged-in user (robot users are marked as such)."""
        kind = "robot" if getattr(user, "username", "").startswith("robot") else "user"
        return cls(
            actor_id=user.pk,
            actor_name=user.get_username(),
            actor_kind=kind,
            via=via,
            reason=reason,
            **extra,
        )

    @classmethod
    def system(cls, *, reason: str, via: str = "cli", **extra: Any) -> Context:
        return cls(actor_name="system", actor_kind="system", via=via, reason=reason, **extra)

    def caused_by(self, *, causation_id: str, **changes: Any) -> Context:
        """Return a copy for follow-up events: same correlation, new causation."""
        return dataclasses.replace(self, causation_id=causation_id, **changes)

    def metadata(self) -> dict[str, Any]:
        """Validate and return the JSON metadata stored with each event."""
        if self.actor_kind not in ACTOR_KINDS:
            raise InvalidMetadata(f"actor kind must be one of {ACTOR_KINDS}, not {self.actor_kind!r}")
        if self.via not in VIA:
            raise InvalidMetadata(f"via must be one of {VIA}, not {self.via!r}")
        if self.actor_kind == "user" and self.actor_id is None:
            raise InvalidMetadata("a user action needs the user's id")
        if not self.actor_name:
            raise InvalidMetadata("an actor name is required")
        # Every field is a JSON scalar except `source`, the one value that needs a copy
        # (cheaper than dataclasses.asdict, which copies each field).
        values = {name: getattr(self, name) for name in _FIELD_NAMES}
        if self.source is not None:
            values["source"] = copy.deepcopy(self.source)
        return {k: v for k, v in values.items() if v not in (None, "")} | {"reason": self.reason}


_FIELD_NAMES = tuple(f.name for f in dataclasses.fields(Context))
