"""The event log in the admin: read-only, like Django's `LogEntry` and pghistory's `BaseEventAdmin`."""
from __future__ import annotations

import contextvars
import json
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Content, Event

# The user viewing an event page, so private payload fields can be redacted for them.
_viewer: contextvars.ContextVar[Any] = contextvars.ContextVar("event_admin_viewer", default=None)
# event type -> (payload key, permission needed to see it unless you are the event's author)
PRIVATE_FIELDS = {"ChangeProposed": ("note", "moderation.review_proposal")}


def redacted(event: Event, user: Any) -> dict:
    """The payload as `user` may see it: private notes only for their author and reviewers."""
    private = PRIVATE_FIELDS.get(event.type)
    if private is None or not event.data.get(private[0]):
        return event.data
    key, perm = private
    is_author = user is not None and event.metadata.get("actor_id") == getattr(user, "pk", None)
    if user is not None and (is_author or user.has_perm(perm)):
        return event.data
    return {**event.data, key: "(private)"}


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """Every fact ever recorded; nothing here can be added, changed or deleted."""

    list_display = ("position", "recorded_at", "type", "stream_type", "stream_id", "version", "actor", "via")
    list_filter = ("type", "stream_type")
    search_fields = ("stream_id", "event_id")
    ordering = ("-position",)
    date_hierarchy = "recorded_at"
    show_full_result_count = False  # the log grows without bound; skip the second COUNT(*)
    fields = (
        "position", "stream_type", "stream_id", "version", "type", "schema_version",
        "event_id", "recorded_at", "occurred_at", "metadata_pretty", "data_pretty",
    )
    readonly_fields = fields

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        # stream/event ids are UUIDs: match them exactly instead of a LIKE the database can't index
        term = search_term.strip()
        if not term:
            return queryset, False
        try:
            value = uuid.UUID(term)
        except ValueError:
            return queryset.none(), False
        return queryset.filter(stream_id=value) | queryset.filter(event_id=value), False

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None):
        token = _viewer.set(request.user)
        try:
            response = super().change_view(request, object_id, form_url, extra_context)
            if hasattr(response, "render"):
                response.render()  # render while the viewer is known
            return response
        finally:
            _viewer.reset(token)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="actor")
    def actor(self, obj: Event) -> str:
        return obj.metadata.get("actor_name", "")

    @admin.display(description="via")
    def via(self, obj: Event) -> str:
        return obj.metadata.get("via", "")

    @admin.display(description="metadata")
    def metadata_pretty(self, obj: Event) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.metadata, indent=2, ensure_ascii=False))

    @admin.display(description="data")
    def data_pretty(self, obj: Event) -> str:
        data = redacted(obj, _viewer.get())
        return format_html("<pre>{}</pre>", json.dumps(data, indent=2, ensure_ascii=False))


@admin.register(Content)
class ContentAdmin(admin.ModelAdmin):
    """Stored article bodies; read-only here (a takedown goes through `content_takedown`)."""

    list_display = ("sha256", "size", "stored_at", "removed_at")
    list_filter = (("removed_at", admin.EmptyFieldListFilter),)
    search_fields = ("sha256",)
    fields = ("sha256", "size", "stored_at", "removed_at", "removal_reason", "text_escaped")
    readonly_fields = fields

    @admin.display(description="text")
    def text_escaped(self, obj: Content) -> str:
        # article HTML is never rendered raw: format_html escapes it
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', obj.text)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
