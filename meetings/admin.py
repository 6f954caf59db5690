"""Meetings and source articles in the admin; every change goes through meetings/commands.py."""
from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html, format_html_join

from tracker.admin_base import (
    CommandAdmin,
    CommandForm,
    ReadOnlyInline,
    action_reason_page,
    admin_context,
    confirmed,
    merge_action,
    reason_from,
    run_each,
    unmerge_action,
)
from tracker.eventstore.api import Context, content_get

from . import commands
from .models import Citation, Meeting, Participation, SourceArticle

MEETING_EDITABLE = (
    "title", "summary", "date", "end_date", "location_name", "location_country",
    "mode", "kind", "topics", "occasion",
)


def _parse_participants(text: str) -> list[dict]:
    """One participant a line: `name`, `name | KR` (side) or `name | KR | host`."""
    entries = []
    for line in (text or "").splitlines():
        parts = [p.strip() for p in line.split("|")]
        if not parts or not parts[0]:
            continue
        entry: dict[str, Any] = {"name": parts[0]}
        if len(parts) > 1 and parts[1]:
            entry["side"] = parts[1]
        if len(parts) > 2 and parts[2].lower() in ("host", "yes", "true"):
            entry["is_host"] = True
        entries.append(entry)
    return entries


class TopicsField(forms.CharField):
    """Topic tags typed as 'alliance, tariffs' and kept as a list."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value or ""

    def to_python(self, value: Any) -> list[str]:
        if isinstance(value, list | tuple):
            return [str(v).strip() for v in value if str(v).strip()]
        return [t.strip() for t in (value or "").split(",") if t.strip()]

    def has_changed(self, initial: Any, data: Any) -> bool:
        return self.to_python(initial) != self.to_python(data)


class MeetingForm(CommandForm):
    topics = TopicsField(required=False, help_text="Comma-separated tags, e.g. 'alliance, tariffs'.")
    participants_text = forms.CharField(
        label="Participants",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="New meeting: one per line, 'Name | KR | host' (side and host optional).",
    )
    add_participant = forms.CharField(
        required=False, help_text="Add a participant by name ('Name | KR' to give the side)."
    )


class ParticipationInline(ReadOnlyInline):
    model = Participation
    fields = ("name", "person", "tenure", "side", "is_host")
    readonly_fields = fields


class CitationInline(ReadOnlyInline):
    model = Citation
    fields = ("article", "evidence_text")
    readonly_fields = fields

    @admin.display(description="evidence")
    def evidence_text(self, obj: Citation) -> str:
        return format_html_join("", "<blockquote>{}</blockquote>", ((e.get("text", ""),) for e in obj.evidence))


@admin.register(Meeting)
class MeetingAdmin(CommandAdmin):
    form = MeetingForm
    list_display = ("__str__", "date", "status", "kind", "location_name", "retracted", "merged_into", "version")
    list_filter = ("status", "mode", "kind", "retracted", ("merged_into", admin.EmptyFieldListFilter))
    search_fields = ("title", "occasion", "participants__name", "location_name")
    readonly_fields = (
        "status", "status_source", "date_precision", "merged_into", "retracted",
        "version", "created_at", "updated_at",
    )
    inlines = [ParticipationInline, CitationInline]
    actions = ["change_status", "retract", "restore", "merge", "unmerge"]

    def get_fields(self, request: HttpRequest, obj: Meeting | None = None):
        if obj is None:
            return [*MEETING_EDITABLE, "participants_text"]
        return [*MEETING_EDITABLE, "add_participant", *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: Meeting | None = None):
        return self.readonly_fields if obj is not None else ()

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).select_related("merged_into")

    # -- commands -------------------------------------------------------------------------
    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        fields = {k: data[k] for k in MEETING_EDITABLE if k in data and data[k] is not None}
        meeting = commands.meeting_record(
            participants=_parse_participants(data.get("participants_text", "")),
            context=context,
            **fields,
        )
        return meeting.pk

    def run_change(self, request, obj, data, changed, expected_version, context):
        changes = {k: data[k] for k in changed if k in MEETING_EDITABLE}
        meeting = obj
        version = expected_version
        if changes:
            meeting = commands.meeting_revise(
                meeting_id=obj.pk, changes=changes, context=context, expected_version=version
            )
            version = meeting.version
        for entry in _parse_participants(data.get("add_participant", "")):
            commands.meeting_participant_add(
                meeting_id=obj.pk, context=context, expected_version=version, **entry
            )
            version += 1
        return meeting

    # -- actions --------------------------------------------------------------------------
    @admin.action(description="Change status (planned → held / cancelled / postponed) with a source", permissions=["change"])
    def change_status(self, request: HttpRequest, queryset: QuerySet):
        if not confirmed(request):
            return action_reason_page(
                self, request, queryset, action="change_status", title="Change status",
                extra_fields=[
                    {"name": "status", "label": "New status", "choices": Meeting.Status.choices},
                    {"name": "source", "label": "Source (URL or note)", "help": "Where the change is reported."},
                ],
            )
        context = admin_context(request, reason=reason_from(request))
        status, source = request.POST.get("status", ""), request.POST.get("source", "")
        run_each(self, request, queryset, lambda m: commands.meeting_status_change(
            meeting_id=m.pk, status=status, source=source, context=context, expected_version=m.version,
        ), verb=f"set to {status}")
        return None

    @admin.action(description="Retract (withdraw from the record, kept in history)", permissions=["change"])
    def retract(self, request: HttpRequest, queryset: QuerySet):
        if not confirmed(request) or not reason_from(request):
            return action_reason_page(self, request, queryset, action="retract", title="Retract meetings")
        context = admin_context(request, reason=reason_from(request))
        run_each(self, request, queryset, lambda m: commands.meeting_retract(
            meeting_id=m.pk, context=context, expected_version=m.version, note=reason_from(request),
        ), verb="retracted")
        return None

    @admin.action(description="Restore retracted meetings", permissions=["change"])
    def restore(self, request: HttpRequest, queryset: QuerySet):
        if not confirmed(request) or not reason_from(request):
            return action_reason_page(self, request, queryset, action="restore", title="Restore meetings")
        context = admin_context(request, reason=reason_from(request))
        run_each(self, request, queryset, lambda m: commands.meeting_restore(
            meeting_id=m.pk, context=context, expected_version=m.version, note=reason_from(request),
        ), verb="restored")
        return None

    @admin.action(description="Merge the selected meetings into one", permissions=["change"])
    def merge(self, request: HttpRequest, queryset: QuerySet):
        return merge_action(
            self, request, queryset, noun="meetings", keep_label="Keep this one (the others are merged into it)",
            choice_label=lambda m: f"{m} — {m.date}", merge=_merge_meeting,
        )

    @admin.action(description="Un-merge (give a merged meeting its own record back)", permissions=["change"])
    def unmerge(self, request: HttpRequest, queryset: QuerySet):
        return unmerge_action(self, request, queryset, noun="meetings", unmerge=commands.meeting_unmerge)


def _merge_meeting(loser: Meeting, winner: Meeting, context: Context) -> None:
    commands.meeting_merge(
        loser_id=loser.pk, winner_id=winner.pk, context=context,
        loser_expected_version=loser.version, winner_expected_version=winner.version,
    )


class ArticleCitationInline(ReadOnlyInline):
    model = Citation
    fk_name = "article"
    fields = ("meeting",)
    readonly_fields = fields


ARTICLE_EDITABLE = (
    "url", "canonical_url", "title", "publisher", "wire_service", "author",
    "published_at", "published_date", "language",
)


class ArticleForm(CommandForm):
    text = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 8, "cols": 80}),
        help_text="New article only: the body text (stored once in the content store).",
    )


def _command_value(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return "" if value is None else value


@admin.register(SourceArticle)
class SourceArticleAdmin(CommandAdmin):
    form = ArticleForm
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    list_display = ("__str__", "publisher", "published_date", "language", "wire_service", "duplicate_of")
    list_filter = ("publisher", "language", "wire_service")
    search_fields = ("title", "url", "canonical_url", "content_hash")
    readonly_fields = ("content_hash", "duplicate_of", "version", "created_at", "body")
    inlines = [ArticleCitationInline]

    def get_fields(self, request: HttpRequest, obj: SourceArticle | None = None):
        if obj is None:
            return [*ARTICLE_EDITABLE, "text"]
        return [*ARTICLE_EDITABLE, *self.readonly_fields]

    def get_readonly_fields(self, request: HttpRequest, obj: SourceArticle | None = None):
        return self.readonly_fields if obj is not None else ()

    @admin.display(description="body text")
    def body(self, obj: SourceArticle) -> str:
        text = content_get(obj.content_hash) if obj.content_hash else None
        if text is None:
            return "(no text stored, or taken down)"
        # escaped by format_html: article HTML is shown as text, never rendered
        return format_html('<pre class="article-body" style="white-space: pre-wrap">{}</pre>', text)

    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        fields = {k: _command_value(data.get(k)) for k in ARTICLE_EDITABLE if data.get(k) not in (None, "")}
        article = commands.article_register(context=context, text=data.get("text") or "", **fields)
        return article.pk

    def run_change(self, request, obj, data, changed, expected_version, context):
        changes = {k: _command_value(data[k]) for k in changed if k in ARTICLE_EDITABLE}
        if not changes:
            return obj
        return commands.article_revise(
            article_id=obj.pk, changes=changes, context=context, expected_version=expected_version
        )
