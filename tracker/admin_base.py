"""Shared admin machinery: read models edited through commands, history, as-of and revert.

Read models are written only by projectors, so the admin never calls `.save()` or
`.delete()` on them. A `CommandAdmin` form runs a command once the form is otherwise
valid (`run_create` / `run_change`, defined per model), with the stream version the
curator opened the page at travelling in a hidden field. A stale version shows who
changed the object since and both values of each field, keeping the curator's input;
a `CommandError`'s field messages land on the matching form fields. Deleting is off;
retract and merge are admin actions calling commands (OCD's `core/admin/base.py`,
HackSoft's `emails/admin.py`).
"""
from __future__ import annotations

import json
import uuid
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    EventStoreError,
    StreamNotFound,
    history,
    load,
    load_stream,
    stream_revert,
)

REASON_HELP = "Why you are making this change; it is kept with the event in the history."


def admin_context(request: HttpRequest, *, reason: str = "") -> Context:
    """The command context for a curator acting through the admin."""
    return Context.for_user(request.user, via="admin", reason=reason)


def show_value(value: Any) -> str:
    """A compact, human-readable rendering of a state value (JSON for lists and dicts)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def _entry_label(item: Any) -> str:
    if isinstance(item, dict):
        label = item.get("name") or item.get("title") or item.get("article_id")
        if label is None and ("start" in item or "end" in item):  # a tenure
            label = f"tenure {item.get('start') or '?'}–{item.get('end') or ''}"
            label += " (acting)" if item.get("acting") else ""
        label = label or item.get("id", "?")
        extra = item.get("side") or ""
        return f"{label} ({extra})" if extra else str(label)
    return show_value(item)


def _entries(value: Any) -> dict | None:
    """Child entries keyed by id, from a list of {id: ...} dicts or a {id: {...}} dict; else None."""
    if value is None:
        return {}
    if isinstance(value, list) and all(isinstance(x, dict) and "id" in x for x in value):
        return {x["id"]: x for x in value}
    if isinstance(value, dict) and value and all(isinstance(x, dict) for x in value.values()):
        return dict(value)
    if value == {} or value == []:
        return {}
    return None


def describe_change(before: Any, after: Any) -> tuple[str, str]:
    """(before, after) as shown in a history diff; child entries show only what was removed/added."""
    old, new = _entries(before), _entries(after)
    if old is None or new is None or not (old or new):
        return show_value(before), show_value(after)
    removed = [_entry_label(x) for k, x in old.items() if k not in new]
    added = [_entry_label(x) for k, x in new.items() if k not in old]
    changed = [_entry_label(x) for k, x in new.items() if k in old and old[k] != x]
    after_text = "; ".join(
        part for part in (
            "added: " + ", ".join(added) if added else "",
            "changed: " + ", ".join(changed) if changed else "",
        ) if part
    )
    return ("removed: " + ", ".join(removed) if removed else "—"), (after_text or "—")


HISTORY_ROUTES = {
    "meeting": "meetings_meeting", "article": "meetings_sourcearticle", "person": "people_person",
    "organization": "people_organization", "post": "people_post", "proposal": "moderation_proposal",
}


def history_url(stream_type: str, stream_id: Any) -> str:
    """The admin history page of a stream, or the event log filtered to it."""
    route = HISTORY_ROUTES.get(stream_type)
    if route is None:
        return f"{reverse('admin:eventstore_event_changelist')}?q={stream_id}"
    return reverse(f"admin:{route}_history", args=[stream_id])


def conflict_messages(
    *, stream_id: uuid.UUID, expected: int, form_values: dict[str, Any]
) -> tuple[list[str], int]:
    """Explain a concurrency conflict: who changed what since `expected`, and the current version.

    `form_values` are the curator's submitted values by state key; each field that changed
    since the page was opened, or that the curator edited, is listed with both values.
    """
    now, current = load(stream_id)
    before, _ = load(stream_id, as_of_version=expected) if expected else ({}, 0)
    later = [e for e in load_stream(stream_id) if e.version > expected]
    who = sorted({e.metadata.get("actor_name", "?") for e in later}) or ["someone"]
    lines = [
        f"This record was changed by {', '.join(who)} since you opened it "
        f"(version {expected} → {current}). Nothing was saved; your input is kept below. "
        "Compare, adjust and save again to apply your version."
    ]
    keys = list(dict.fromkeys([*(k for k in now if before.get(k) != now.get(k)), *form_values]))
    for key in keys:
        if key not in now and key not in form_values:
            continue
        mine = form_values.get(key, before.get(key))
        theirs = now.get(key)
        if show_value(mine) == show_value(theirs) and before.get(key) == theirs:
            continue
        lines.append(f"{key}: yours = {show_value(mine)} · current (theirs) = {show_value(theirs)}")
    return lines, current


class CommandForm(forms.ModelForm):
    """A model form whose valid data goes to a command instead of `instance.save()`."""

    expected_version = forms.IntegerField(
        widget=forms.HiddenInput, required=False, help_text="Stream version when the page was opened."
    )
    reason = forms.CharField(
        required=False, widget=forms.Textarea(attrs={"rows": 2, "cols": 60}), help_text=REASON_HELP
    )

    # set by CommandAdmin.get_form
    model_admin: CommandAdmin
    request: HttpRequest
    original: Any = None
    result: Any = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.original is not None and not self.is_bound:
            self.initial["expected_version"] = self.original.version
        if self.original is not None:
            self.fields["reason"].required = True

    def state_values(self) -> dict[str, Any]:
        """The submitted values of the edited fields, keyed like the aggregate state."""
        return {name: self.cleaned_data.get(name) for name in self.changed_data if name in self.cleaned_data}

    def _post_clean(self) -> None:
        super()._post_clean()
        if self._errors:
            return
        self._run_command()

    def _run_command(self) -> None:
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("expected_version", "reason")}
        context = admin_context(self.request, reason=self.cleaned_data.get("reason") or "")
        try:
            with transaction.atomic():
                if self.original is None:
                    self.result = self.model_admin.run_create(self.request, data, context)
                else:
                    expected = self.cleaned_data.get("expected_version")
                    if expected is None:
                        expected = self.original.version
                    changed = [n for n in self.changed_data if n in data]
                    self.result = self.model_admin.run_change(
                        self.request, self.original, data, changed, expected, context
                    )
        except ConcurrencyConflict as exc:
            lines, current = conflict_messages(
                stream_id=exc.stream_id, expected=exc.expected, form_values=self.state_values()
            )
            for line in lines:
                self.add_error(None, line)
            # The re-rendered form carries the current version: saving again is a deliberate overwrite.
            self.data = self.data.copy()
            self.data[self.add_prefix("expected_version")] = str(current)
        except CommandError as exc:
            placed = False
            for field, msgs in exc.errors.items():
                target = field if field in self.fields else None
                for msg in msgs:
                    self.add_error(target, msg if target else f"{field}: {msg}")
                    placed = True
            if not placed:
                self.add_error(None, str(exc))


class StreamHistoryMixin:
    """A history page per object whose pk is a stream id: events, diffs, as-of and revert."""

    revertible = True

    def history_hidden_fields(self, request: HttpRequest, obj: Any) -> set[str]:
        """State keys this user may not see in the history (e.g. a proposal's private note)."""
        return set()

    # -- history, as of, revert -------------------------------------------------------------
    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        obj = self.get_object(request, object_id)
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, obj):
            raise PermissionDenied
        stream_id = uuid.UUID(str(obj.pk))
        if request.method == "POST":
            return self._revert(request, obj, stream_id)
        try:
            entries = history(stream_id)
        except StreamNotFound:
            entries = []
        as_of = None
        as_of_param = request.GET.get("as_of")
        if as_of_param and as_of_param.isdigit():
            try:
                state, version = load(stream_id, as_of_position=int(as_of_param))
                as_of = {
                    "position": int(as_of_param),
                    "version": version,
                    "rows": [(k, show_value(v)) for k, v in sorted(state.items())],
                }
            except StreamNotFound:
                messages.warning(request, "The object did not exist yet at that point.")
        hidden = self.history_hidden_fields(request, obj)
        if as_of is not None:
            as_of["rows"] = [(k, v) for k, v in as_of["rows"] if k not in hidden]
        current_version = max((e.event.version for e in entries if not e.related), default=0)
        rows = [
            {
                "position": e.event.position,
                "version": e.event.version,
                "type": e.event.type,
                "recorded_at": e.event.recorded_at,
                "actor": e.event.metadata.get("actor_name", ""),
                "actor_kind": e.event.metadata.get("actor_kind", ""),
                "via": e.event.metadata.get("via", ""),
                "reason": e.event.metadata.get("reason", ""),
                "related": e.related,
                "stream_type": e.event.stream_type,
                "related_url": history_url(e.event.stream_type, e.event.stream_id) if e.related else "",
                "related_title": (e.event.data.get("title") or e.event.data.get("name") or "") if e.related else "",
                "changes": [
                    (k, *describe_change(a, b)) for k, (a, b) in e.changes.items() if k not in hidden
                ],
                "can_revert": not e.related and e.event.version < current_version,
            }
            for e in entries
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": f"History: {obj}",
            "subtitle": None,
            "object": obj,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "entries": rows,
            "as_of": as_of,
            "current_version": current_version,
            "can_revert": self.revertible and self.has_change_permission(request, obj),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tracker/history.html", context)

    def _revert(self, request: HttpRequest, obj: Any, stream_id: uuid.UUID) -> HttpResponse:
        if not (self.revertible and self.has_change_permission(request, obj)):
            raise PermissionDenied
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history",
            args=[obj.pk],
        )
        reason = request.POST.get("reason", "").strip()
        try:
            to_version = int(request.POST["to_version"])
            expected = int(request.POST["expected_version"])
        except (KeyError, ValueError):
            messages.error(request, "A revert needs a version to go back to.")
            return HttpResponseRedirect(url)
        try:
            appended = stream_revert(
                stream_id=stream_id,
                to_version=to_version,
                expected_version=expected,
                context=admin_context(request, reason=reason),
            )
        except ConcurrencyConflict as exc:
            messages.error(
                request,
                f"Not reverted: the record changed since you opened the history "
                f"(version {exc.expected} → {exc.current}). Review the new events and try again.",
            )
        except EventStoreError as exc:
            errors = getattr(exc, "errors", {}) or {}
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()) or str(exc)
            messages.error(request, f"Not reverted: {detail}")
        else:
            if appended:
                messages.success(
                    request, f"Reverted to version {to_version}: appended a compensating event."
                )
            else:
                messages.info(request, f"Nothing to revert: the fields already match version {to_version}.")
        return HttpResponseRedirect(url)

    @admin.display(description="history")
    def history_link(self, obj: Any) -> str:
        url = reverse(
            f"{self.admin_site.name}:{self.opts.app_label}_{self.opts.model_name}_history",
            args=[obj.pk],
        )
        return format_html('<a href="{}">history</a>', url)




class CommandAdmin(StreamHistoryMixin, admin.ModelAdmin):
    """Admin for a read model: forms call commands, no delete, a history page per object.

    Subclasses implement `run_create(request, data, context)` returning the new stream id
    and `run_change(request, obj, data, changed, expected_version, context)`; leaving
    `run_create` unimplemented turns "add" off.
    """

    form = CommandForm
    stream_history = True  # the object's pk is a stream id with a history page

    # -- commands -------------------------------------------------------------------------
    def run_create(self, request: HttpRequest, data: dict, context: Context) -> uuid.UUID:
        raise NotImplementedError

    def run_change(
        self, request: HttpRequest, obj: Any, data: dict, changed: list[str],
        expected_version: int, context: Context,
    ) -> Any:
        raise NotImplementedError

    # -- permissions ----------------------------------------------------------------------
    def has_add_permission(self, request: HttpRequest) -> bool:
        creates = type(self).run_create is not CommandAdmin.run_create
        return creates and super().has_add_permission(request)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # events are never deleted; retract/merge are actions calling commands

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # -- forms ----------------------------------------------------------------------------
    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        base = super().get_form(request, obj, change=change, **kwargs)
        return type(base.__name__, (base,), {"model_admin": self, "request": request, "original": obj})

    def get_fieldsets(self, request: HttpRequest, obj: Any = None):
        fieldsets = list(super().get_fieldsets(request, obj))
        extra = ("reason", "expected_version")
        cleaned = []
        for name, opts in fieldsets:
            fields = [f for f in opts.get("fields", ()) if f not in extra]
            cleaned.append((name, {**opts, "fields": fields}))
        can_edit = self.has_change_permission(request, obj) if obj is not None else self.has_add_permission(request)
        if can_edit:  # a view-only user gets no reason box
            cleaned.append(("Change", {"fields": list(extra), "description": REASON_HELP}))
        return cleaned

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.instance  # the command already ran in the form; nothing to construct

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        # The command ran when the form validated; point the admin at the projected row.
        if not change and form.result is not None:
            obj.pk = form.result if not isinstance(form.result, list) else obj.pk

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        return None  # inlines are read-only projections

    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False):
        return super().construct_change_message(request, form, [], add)  # inlines never change here

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        raise PermissionDenied("read models are never deleted; retract or merge instead")

    def response_add(self, request: HttpRequest, obj: Any, post_url_continue: str | None = None):
        obj = self.model._default_manager.get(pk=obj.pk)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: Any):
        obj = self.model._default_manager.get(pk=obj.pk)
        return super().response_change(request, obj)

class ReadOnlyInline(admin.TabularInline):
    """An inline showing projected child rows; changed only through the parent's commands."""

    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def reason_from(request: HttpRequest) -> str:
    """The reason typed on an intermediate action page."""
    return (request.POST.get("reason") or "").strip()


def confirmed(request: HttpRequest) -> bool:
    """True when an action's intermediate page was submitted (with its reason)."""
    return request.POST.get("confirm") == "yes"


def run_each(
    model_admin: admin.ModelAdmin, request: HttpRequest, objects: Any, fn: Any, *, verb: str
) -> None:
    """Run `fn(obj)` (a command call) for each object, reporting successes and refusals."""
    done = 0
    for obj in objects:
        try:
            with transaction.atomic():
                fn(obj)
            done += 1
        except ConcurrencyConflict as exc:
            model_admin.message_user(
                request, f"{obj}: changed by someone else meanwhile (version {exc.expected} → "
                f"{exc.current}); not {verb}.", messages.ERROR,
            )
        except EventStoreError as exc:
            errors = getattr(exc, "errors", {}) or {}
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()) or str(exc)
            model_admin.message_user(request, f"{obj}: not {verb}: {detail}", messages.ERROR)
    if done:
        model_admin.message_user(request, f"{done} {verb}.", messages.SUCCESS)


def action_reason_page(
    model_admin: admin.ModelAdmin,
    request: HttpRequest,
    queryset: Any,
    *,
    action: str,
    title: str,
    extra_fields: list[dict] = (),  # [{name, label, help?, choices?}]
) -> HttpResponse:
    """An intermediate page asking for one reason (and extra inputs) before a bulk action."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "app_label": model_admin.opts.app_label,
        "queryset": queryset,
        "action": action,
        "extra_fields": extra_fields,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
        "values": request.POST,
    }
    return TemplateResponse(request, "admin/tracker/action_reason.html", context)


def merge_into(
    model_admin: admin.ModelAdmin, request: HttpRequest, selected: list, into: str, merge: Any
) -> None:
    """Merge every selected record except the one with pk `into` into it, via `merge(loser, winner, context)`."""
    survivor = next((o for o in selected if str(o.pk) == into), None)
    if survivor is None:
        model_admin.message_user(request, "Pick which record to keep.", messages.ERROR)
        return None
    context = admin_context(request, reason=reason_from(request))
    model = type(survivor)

    def _merge(loser: Any) -> None:
        winner = model._default_manager.get(pk=survivor.pk)  # its version moves on after each merge
        merge(loser, winner, context)

    others = [o for o in selected if o.pk != survivor.pk]
    run_each(model_admin, request, others, _merge, verb=f"merged into {survivor}")
    return None


def merge_action(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any, *, noun: str, keep_label: str,
    choice_label: Any, merge: Any,
) -> HttpResponse | None:
    """The merge action of a record admin: pick the survivor and a reason, then `merge_into`."""
    selected = list(queryset)
    if len(selected) < 2:
        model_admin.message_user(request, f"Select at least two {noun} to merge.", messages.WARNING)
        return None
    if not confirmed(request) or not reason_from(request):
        return action_reason_page(
            model_admin, request, queryset, action="merge", title=f"Merge {noun}",
            extra_fields=[{
                "name": "into", "label": keep_label,
                "choices": [(str(o.pk), choice_label(o)) for o in selected],
            }],
        )
    return merge_into(model_admin, request, selected, request.POST.get("into", ""), merge)


def unmerge_action(
    model_admin: admin.ModelAdmin, request: HttpRequest, queryset: Any, *, noun: str, unmerge: Any
) -> HttpResponse | None:
    """The un-merge action: after a reason, `unmerge(loser_id=..., loser_expected_version=...,
    winner_expected_version=..., context=...)` for each selected record."""
    if not confirmed(request) or not reason_from(request):
        return action_reason_page(model_admin, request, queryset, action="unmerge", title=f"Un-merge {noun}")
    context = admin_context(request, reason=reason_from(request))
    run_each(model_admin, request, queryset.select_related("merged_into"), lambda o: unmerge(
        loser_id=o.pk, loser_expected_version=o.version,
        winner_expected_version=o.merged_into.version if o.merged_into else 0, context=context,
    ), verb="un-merged")
    return None


def next_version(version: int, stored: Any) -> int:
    """The stream version after a command that returned its stored events (or none)."""
    if isinstance(stored, list) and stored:
        return stored[-1].version
    return version
