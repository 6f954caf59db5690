"""Admin for news ingestion: feeds (through commands), failures a curator can retry, and a
page to submit a URL, pasted text or an uploaded file."""
from __future__ import annotations

import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from tracker.admin_base import CommandAdmin, admin_context
from tracker.eventstore.api import CommandError, Context
from tracker.reliability.dispatch import enqueue

from . import commands
from .models import Feed, FeedPollState, IngestionFailure


class SubmitForm(forms.Form):
    url = forms.URLField(required=False, assume_scheme="https", help_text="An article's address: it is fetched and stored.")
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 10}), help_text="Or paste the text.")
    file = forms.FileField(required=False, help_text="Or upload a UTF-8 text file.")
    published = forms.CharField(required=False, help_text="Publication date of pasted text or a file (YYYY-MM-DD).")
    title = forms.CharField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if sum(bool(data.get(k)) for k in ("url", "text", "file")) != 1:
            raise forms.ValidationError("Give exactly one of a URL, pasted text or a file.")
        return data


@admin.register(Feed)
class FeedAdmin(CommandAdmin):
    list_display = ("title", "url", "interval_minutes", "active", "last_status", "next_poll")
    list_filter = ("active",)
    search_fields = ("title", "url", "publisher")
    fields = ("url", "title", "publisher", "interval_minutes", "active")
    actions = ["poll_now"]

    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        return commands.feed_register(
            url=data["url"], title=data.get("title") or "", publisher=data.get("publisher") or "",
            interval_minutes=data.get("interval_minutes") or 30, context=context,
        ).pk

    def run_change(self, request, obj, data, changed, expected_version, context):  # type: ignore[no-untyped-def]
        return commands.feed_revise(
            feed_id=obj.pk, changes={k: data[k] for k in changed}, context=context,
            expected_version=expected_version,
        )

    def _state(self, obj: Feed) -> FeedPollState | None:
        return FeedPollState.objects.filter(feed_id=obj.pk).first()

    @admin.display(description="last poll")
    def last_status(self, obj: Feed) -> str:
        state = self._state(obj)
        return state.last_status if state else "never polled"

    @admin.display(description="next poll")
    def next_poll(self, obj: Feed) -> Any:
        state = self._state(obj)
        return state.next_poll_at if state else "due"

    @admin.action(description="Poll the selected feeds now", permissions=["change"])
    def poll_now(self, request: HttpRequest, queryset: Any) -> None:
        from meetings.tasks import poll_feed_task

        for feed in queryset:
            enqueue(poll_feed_task, str(feed.pk))
        self.message_user(request, f"Queued {queryset.count()} feed poll(s).", messages.SUCCESS)


@admin.register(IngestionFailure)
class IngestionFailureAdmin(admin.ModelAdmin):
    list_display = ("last_failed_at", "stage", "kind", "url", "attempts", "resolved_at")
    list_filter = ("stage", "kind", ("resolved_at", admin.EmptyFieldListFilter))
    search_fields = ("url", "message")
    readonly_fields = [f.name for f in IngestionFailure._meta.fields]
    actions = ["retry"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_urls(self):  # type: ignore[no-untyped-def]
        extra = [path("submit/", self.admin_site.admin_view(self.submit_view), name="ingest_submit")]
        return extra + super().get_urls()

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """Retrying fetches and polls is managing ingestion: who may change feeds may retry."""
        return request.user.has_perm("ingest.change_feed")

    @admin.action(description="Retry the selected failures", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: Any) -> None:
        from meetings.tasks import ingest_url_task, poll_feed_task, suggest_from_article_task

        count = 0
        for failure in queryset.filter(resolved_at__isnull=True):
            if failure.stage == "feed" and failure.feed_id:
                enqueue(poll_feed_task, str(failure.feed_id))
            elif failure.stage == "suggest" and failure.article_id:
                enqueue(suggest_from_article_task, str(failure.article_id))
            elif failure.url:
                enqueue(ingest_url_task, failure.url)
            else:
                continue
            count += 1
        self.message_user(request, f"Queued {count} retr{'y' if count == 1 else 'ies'}.", messages.SUCCESS)

    def submit_view(self, request: HttpRequest):  # type: ignore[no-untyped-def]
        """Submit one article by URL, pasted text or file."""
        from .services import IngestError, article_ingest_bytes, article_ingest_text

        form = SubmitForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            context = admin_context(request, reason="submitted in the admin")
            try:
                if data["url"]:
                    from meetings.tasks import ingest_url_task

                    sent = enqueue(ingest_url_task, data["url"])
                    note = "" if sent else " (the task broker is unreachable: it is sent when it is back)"
                    self.message_user(request, f"Queued {data['url']} for fetching{note}.", messages.SUCCESS)
                    return HttpResponseRedirect(request.path)
                meta = {"title": data["title"], "published": data["published"] or None}
                if data["text"]:
                    result = article_ingest_text(text=data["text"], context=context, **meta)
                else:
                    upload = data["file"]
                    result = article_ingest_bytes(upload.read(), name=upload.name, context=context, **meta)
            except (IngestError, CommandError) as exc:
                form.add_error(None, str(exc))
            else:
                verb = "Stored" if result.created else "Already stored:"
                self.message_user(request, f"{verb} article {result.article}.", messages.SUCCESS)
                return HttpResponseRedirect(
                    reverse("admin:meetings_sourcearticle_change", args=[result.article.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Submit an article",
            "form": form,
            "opts": self.model._meta,
            "now": timezone.now(),
        }
        return TemplateResponse(request, "admin/ingest/submit.html", context)
