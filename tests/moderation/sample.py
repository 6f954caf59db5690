"""A tiny 'widget' aggregate and proposable commands used only by the moderation tests."""
from __future__ import annotations

import uuid

from tracker.eventstore.api import (
    Aggregate,
    CommandError,
    Context,
    DomainEvent,
    append,
    event,
    register_aggregate,
)
from tracker.moderation.registry import register_command


@event("ModTestWidgetChanged")
class WidgetChanged(DomainEvent):
    fields: dict


def _changed(state: dict, data: dict, _stored: object) -> dict:
    state.update(data["fields"])
    return state


@register_aggregate
class Widget(Aggregate):
    stream_type = "modtest_widget"
    evolvers = {"ModTestWidgetChanged": _changed}
    revertible_fields = ("name", "colour", "size")


def widget_change(*, widget_id: str, fields: dict, context: Context, expected_version: int) -> list:
    """Set some fields of a widget (creating it at version 0)."""
    if not fields:
        raise CommandError("nothing to change", {"fields": ["empty"]})
    return append(
        stream_type="modtest_widget",
        stream_id=uuid.UUID(widget_id),
        expected_version=expected_version,
        events=[WidgetChanged(fields=fields)],
        context=context,
    )


def _change(args: dict, context: Context, expected_version: int) -> list:
    return widget_change(**args, context=context, expected_version=expected_version)


def _fail(args: dict, context: Context, expected_version: int) -> list:
    raise CommandError("this command always fails", {"args": ["refused"]})


register_command("modtest_widget_change", _change, stream_type="modtest_widget", target="widget_id")
register_command("modtest_fail", _fail, stream_type="modtest_widget", target="widget_id")
