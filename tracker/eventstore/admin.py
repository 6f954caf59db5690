"""The event log in the admin: read-only, like Django's `LogEntry` and pghistory's `BaseEventAdmin`."""
from __future__ import annotations

import json
import uuid
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from .models import Content, Event


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
        return format_html("<pre>{}</pre>", json.dumps(obj.data, indent=2, ensure_ascii=False))


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
