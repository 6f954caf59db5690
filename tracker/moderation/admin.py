"""The curators' review queue: proposal changelist, review page, bulk decisions, admin home.

Every decision calls a moderation command (`proposal_edit`, `proposal_accept`,
`proposal_reject`, `proposal_mark_same`, `pair_mark_distinct`); nothing here writes a read model.
"""
from __future__ import annotations

import datetime as dt
import difflib
import json
import uuid
from typing import Any

from django.apps import apps
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.timesince import timesince

from tracker.admin_base import (
    StreamHistoryMixin,
    action_reason_page,
    admin_context,
    confirmed,
    conflict_messages,
    history_url,
    next_version,
    reason_from,
    show_value,
)
from tracker.common import partialdate
from tracker.eventstore.api import (
    ConcurrencyConflict,
    EventStoreError,
    content_get,
)
from tracker.eventstore.models import Event

from .commands import (
    pair_mark_distinct,
    proposal_accept,
    proposal_edit,
    proposal_mark_same,
    proposal_reject,
)
from .models import DistinctPair, Proposal, ProposalEvidence
from .roles import can_apply, can_review, can_see_note
from .selectors import (
    distinct_partners,
    proposal_note_for,
    proposal_pending_counts,
    proposal_staleness,
)

MEETING_KINDS = {Proposal.Kind.NEW_MEETING, Proposal.Kind.CITE_ARTICLE, Proposal.Kind.EDIT_MEETING}
PERSON_KINDS = {Proposal.Kind.NEW_PERSON, Proposal.Kind.NEW_ALIAS, Proposal.Kind.NEW_TENURE}
DUPLICATE_WINDOW = dt.timedelta(days=3)
FUZZY_NAME_RATIO = 0.85


# --- evidence highlighting ------------------------------------------------------------------


def highlight_segments(text: str, sentences: list[dict]) -> list[tuple[str, bool]]:
    """Split `text` into (piece, is_evidence) by the sentences' character offsets.

    The template renders each piece escaped (evidence inside <mark>), so article HTML is
    never rendered. Offsets that don't match the text fall back to finding the sentence.
    """
    spans: list[tuple[int, int]] = []
    for s in sentences or []:
        start, end = s.get("start"), s.get("end")
        if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
            found = text.find(s.get("text") or "\0") if s.get("text") else -1
            if found < 0:
                continue
            start, end = found, found + len(s["text"])
        spans.append((start, end))
    spans.sort()
    pieces: list[tuple[str, bool]] = []
    cursor = 0
    for start, end in spans:
        start = max(start, cursor)
        if end <= start:
            continue
        if start > cursor:
            pieces.append((text[cursor:start], False))
        pieces.append((text[start:end], True))
        cursor = end
    if cursor < len(text):
        pieces.append((text[cursor:], False))
    return pieces


# --- candidate duplicates -------------------------------------------------------------------


def _args_of(proposal: Proposal, command: str) -> dict:
    for c in proposal.commands:
        if c.get("command") == command:
            return c.get("args") or {}
    return {}


def proposal_subject_id(proposal: Proposal) -> uuid.UUID:
    """The id a "not the same" verdict is remembered against: the record it would create, else itself."""
    for c in proposal.commands:
        if c.get("target_stream_id") and c.get("command") in ("meeting_record", "person_register"):
            return uuid.UUID(c["target_stream_id"])
    return proposal.pk


def meeting_candidates(proposal: Proposal, *, exclude: set[uuid.UUID]) -> list[dict]:
    """Meetings with a shared participant (person or name) within ±3 days of the proposed date."""
    from meetings.models import Meeting, Participation

    args = _args_of(proposal, "meeting_record") or _args_of(proposal, "meeting_revise")
    date = args.get("date") or (args.get("changes") or {}).get("date") or ""
    try:
        first, last = partialdate.first_day(date), partialdate.last_day(date)
    except Exception:  # no or bad date: nothing to compare against
        return []
    people = {str(p["person_id"]) for p in args.get("participants", []) if p.get("person_id")}
    names = {p["name"].strip().casefold() for p in args.get("participants", []) if p.get("name")}
    near = Meeting.objects.filter(
        merged_into__isnull=True,
        date_first__lte=last + DUPLICATE_WINDOW,
        date_last__gte=first - DUPLICATE_WINDOW,
    ).exclude(pk__in=exclude)
    shared = Q(person_id__in=people) if people else Q(pk__in=[])
    for name in names:
        shared |= Q(name__iexact=name)
    hits = (
        Participation.objects.filter(shared, meeting__in=near)
        .values("meeting_id")
        .annotate(n=Count("id"))
        .order_by("-n")[:10]
    )
    by_id = Meeting.objects.in_bulk([h["meeting_id"] for h in hits])
    out = []
    for h in hits:
        m = by_id[h["meeting_id"]]
        out.append({
            "id": m.pk, "kind": "meeting", "label": str(m), "detail": f"{m.date} · {m.location_name or '—'} · {m.status}",
            "why": f"{h['n']} shared participant{'s' if h['n'] > 1 else ''}, within ±3 days",
            "url": reverse("admin:meetings_meeting_change", args=[m.pk]),
            "participants": ", ".join(m.participants.values_list("name", flat=True)),
        })
    return out


def person_candidates(proposal: Proposal, *, exclude: set[uuid.UUID]) -> list[dict]:
    """Persons with the same name or alias (normalised), or a close spelling."""
    from people.models import Alias, Person
    from people.names import normalize_name

    args = _args_of(proposal, "person_register") or _args_of(proposal, "person_alias_add")
    name = args.get("name") or ""
    if not name:
        return []
    key = normalize_name(name)
    exact = set(Person.objects.filter(name_key=key).values_list("pk", flat=True))
    exact |= set(Alias.objects.filter(name_key=key).values_list("person_id", flat=True))
    out: dict[uuid.UUID, dict] = {}
    live = Person.objects.filter(merged_into__isnull=True).exclude(pk__in=exclude)
    for p in live.filter(pk__in=exact):
        out[p.pk] = {"person": p, "why": "same name or alias"}
    for p in live.exclude(pk__in=exact).only("id", "name", "name_key", "country")[:5000]:
        ratio = difflib.SequenceMatcher(None, key, p.name_key).ratio()
        if ratio >= FUZZY_NAME_RATIO:
            out[p.pk] = {"person": p, "why": f"similar name ({ratio:.0%})"}
    return [
        {
            "id": pid, "kind": "person", "label": v["person"].name, "detail": v["person"].country or "—",
            "why": v["why"], "url": reverse("admin:people_person_change", args=[pid]), "participants": "",
        }
        for pid, v in list(out.items())[:10]
    ]


def candidates_for(proposal: Proposal) -> list[dict]:
    subject = proposal_subject_id(proposal)
    exclude = distinct_partners(subject) | {subject}
    if proposal.kind in MEETING_KINDS:
        return meeting_candidates(proposal, exclude=exclude)
    if proposal.kind in PERSON_KINDS:
        return person_candidates(proposal, exclude=exclude)
    return []


# --- editable proposed fields -----------------------------------------------------------------


def _field_kind(key: str, value: Any) -> str:
    if key.split(".")[-1].endswith("_id") or key == "id":
        return "readonly"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, list | dict):
        return "json"
    return "text"


def _is_flat_dict(value: Any) -> bool:
    """A dict of scalars (e.g. meeting_revise's `changes`): edited field by field."""
    return isinstance(value, dict) and bool(value) and all(
        isinstance(v, str | int | float | type(None)) and not isinstance(v, bool) for v in value.values()
    )


def _arg_fields(args: dict) -> list[tuple[str, Any]]:
    """(dotted key, value) for every editable arg, one level of scalar dicts spread out."""
    out: list[tuple[str, Any]] = []
    for key, value in args.items():
        if _is_flat_dict(value):
            out += [(f"{key}.{sub}", v) for sub, v in value.items()]
        else:
            out.append((key, value))
    return out


def editable_commands(proposal: Proposal, post: Any = None) -> list[dict]:
    """The proposal's commands as form rows; values come from the POST when re-rendering."""
    rows = []
    for i, c in enumerate(proposal.commands):
        fields = []
        for key, value in _arg_fields(c.get("args") or {}):
            kind = _field_kind(key, value)
            name = f"arg-{i}-{key}"
            if kind == "json":
                shown = json.dumps(value, ensure_ascii=False, indent=1)
            elif kind == "readonly":
                shown = show_value(value)
            else:
                shown = "" if value is None else value
            if post is not None and kind in ("text", "json"):
                shown = post.get(name, shown)
            elif post is not None and kind == "bool":
                shown = name in post
            fields.append({"key": key, "name": name, "kind": kind, "value": shown})
        rows.append({"index": i, "command": c.get("command"), "fields": fields})
    return rows


def _parse_value(kind: str, key: str, old: Any, name: str, post: Any) -> Any:
    """The submitted value of one arg field (ValueError with a message when it doesn't parse)."""
    if kind == "bool":
        return name in post
    if kind == "json":
        try:
            return json.loads(post[name])
        except ValueError as exc:
            raise ValueError(f"{key}: not valid JSON ({exc.msg})") from None
    raw = post[name].strip()
    if old is None and raw == "":
        return None
    if isinstance(old, int | float) and raw:
        try:
            return type(old)(raw)
        except ValueError:
            raise ValueError(f"{key}: must be a number") from None
    return raw


def parse_edits(proposal: Proposal, post: Any) -> tuple[dict[int, dict], dict[str, str]]:
    """The args the reviewer changed, by command index, and per-field parse errors."""
    edits: dict[int, dict] = {}
    errors: dict[str, str] = {}
    for i, c in enumerate(proposal.commands):
        args = c.get("args") or {}
        for key, old in _arg_fields(args):
            kind = _field_kind(key, old)
            name = f"arg-{i}-{key}"
            if kind == "readonly" or (kind != "bool" and name not in post):
                continue
            try:
                new = _parse_value(kind, key, old, name, post)
            except ValueError as exc:
                errors[name] = str(exc)
                continue
            if new == old:
                continue
            if "." in key:  # a field of a spread-out dict: send the whole dict back
                top, sub = key.split(".", 1)
                edits.setdefault(i, {}).setdefault(top, dict(args[top]))[sub] = new
            else:
                edits.setdefault(i, {})[key] = new
    return edits, errors


# --- list filters ---------------------------------------------------------------------------


class ConfidenceFilter(admin.SimpleListFilter):
    title = "confidence"
    parameter_name = "confidence"
    BANDS = {"high": (0.9, 1.01), "medium": (0.7, 0.9), "low": (0.5, 0.7), "very_low": (0.0, 0.5)}

    def lookups(self, request: HttpRequest, model_admin: Any):
        return [("high", "≥ 0.9"), ("medium", "0.7 – 0.9"), ("low", "0.5 – 0.7"), ("very_low", "< 0.5")]

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        band = self.BANDS.get(self.value() or "")
        if band is None:
            return queryset
        return queryset.filter(confidence__gte=band[0], confidence__lt=band[1])


class ArticleFilter(admin.SimpleListFilter):
    title = "article"
    parameter_name = "article"

    def lookups(self, request: HttpRequest, model_admin: Any):
        from meetings.models import SourceArticle

        top = (
            Proposal.objects.exclude(article_id=None).values("article_id")
            .annotate(n=Count("id")).order_by("-n")[:25]
        )
        titles = SourceArticle.objects.in_bulk([t["article_id"] for t in top])
        return [
            (str(t["article_id"]), f"{titles.get(t['article_id']) or t['article_id']} ({t['n']})") for t in top
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        if not self.value():
            return queryset
        try:
            article = uuid.UUID(self.value())
        except ValueError:
            return queryset.none()
        return queryset.filter(Q(article_id=article) | Q(evidences__article_id=article)).distinct()


class AgeFilter(admin.SimpleListFilter):
    title = "age"
    parameter_name = "age"
    AGES = {"1d": dt.timedelta(days=1), "7d": dt.timedelta(days=7), "30d": dt.timedelta(days=30)}

    def lookups(self, request: HttpRequest, model_admin: Any):
        return [("1d", "last 24 hours"), ("7d", "last 7 days"), ("30d", "last 30 days"), ("older", "older than 30 days")]

    def queryset(self, request: HttpRequest, queryset: QuerySet):
        now = timezone.now()
        if self.value() in self.AGES:
            return queryset.filter(created_at__gte=now - self.AGES[self.value()])
        if self.value() == "older":
            return queryset.filter(created_at__lt=now - self.AGES["30d"])
        return queryset


# --- the queue ------------------------------------------------------------------------------


class ProposalEvidenceInline(admin.TabularInline):
    model = ProposalEvidence
    fields = ("index", "article_id", "sentences")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Proposal)
class ProposalAdmin(StreamHistoryMixin, admin.ModelAdmin):
    """The review queue: most confident first; decisions call the moderation commands."""

    list_display = ("summary_or_kind", "kind", "status", "confidence", "author_name", "article_link", "age", "reviewer_name")
    list_display_links = ("summary_or_kind",)
    list_filter = ("kind", "status", ConfidenceFilter, ArticleFilter, AgeFilter)
    search_fields = ("summary", "author_name", "dedupe_key")
    ordering = ("-confidence", "created_at")
    revertible = False  # a proposal is decided, never reverted
    actions = ["accept_selected", "reject_selected"]
    list_per_page = 50

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # proposals are raised by contributors, the robot or the API

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def history_hidden_fields(self, request: HttpRequest, obj: Proposal) -> set[str]:
        return set() if can_see_note(request.user, obj) else {"note"}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        from django.db.models import OuterRef, Subquery

        from meetings.models import SourceArticle

        # the article's headline in the same query, instead of one lookup per row
        title = SourceArticle.objects.filter(pk=OuterRef("article_id")).values("title")[:1]
        return super().get_queryset(request).annotate(article_title=Subquery(title))

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        return super().changelist_view(request, {"title": "Review queue", **(extra_context or {})})

    @admin.display(description="proposal", ordering="summary")
    def summary_or_kind(self, obj: Proposal) -> str:
        return obj.summary or obj.get_kind_display()

    @admin.display(description="article")
    def article_link(self, obj: Proposal) -> str:
        from django.utils.html import format_html

        if not obj.article_id:
            return "—"
        from django.utils.text import Truncator

        url = reverse("admin:meetings_sourcearticle_change", args=[obj.article_id])
        label = getattr(obj, "article_title", "") or str(obj.article_id)[:8]
        return format_html('<a href="{}">{}</a>', url, Truncator(label).chars(40))

    @admin.display(description="age", ordering="created_at")
    def age(self, obj: Proposal) -> str:
        return timesince(obj.created_at)

    # -- bulk decisions --------------------------------------------------------------------
    @admin.action(description="Accept selected proposals (each applied all-or-nothing)")
    def accept_selected(self, request: HttpRequest, queryset: QuerySet):
        context = admin_context(request, reason=reason_from(request) or "accepted in bulk")
        outcomes: dict[str, int] = {}

        def _accept(p: Proposal) -> None:
            outcome = proposal_accept(proposal_id=p.pk, user=request.user, context=context, expected_version=p.version)
            outcomes[outcome.status] = outcomes.get(outcome.status, 0) + 1

        _run_permitted(self, request, queryset, _accept, verb="processed")
        for status in ("stale", "conflict"):
            if outcomes.get(status):
                self.message_user(
                    request, f"{outcomes[status]} not applied: marked {status} — open them to review the difference.",
                    messages.WARNING,
                )
        return None

    @admin.action(description="Reject selected proposals (one reason for all)")
    def reject_selected(self, request: HttpRequest, queryset: QuerySet):
        if not confirmed(request) or not reason_from(request):
            return action_reason_page(self, request, queryset, action="reject_selected", title="Reject proposals")
        reason = reason_from(request)
        context = admin_context(request, reason=reason)
        _run_permitted(self, request, queryset, lambda p: proposal_reject(
            proposal_id=p.pk, user=request.user, context=context, expected_version=p.version, reason=reason,
        ), verb="rejected")
        return None

    # -- the review page -------------------------------------------------------------------
    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None):
        proposal = self.get_object(request, object_id)
        if proposal is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_or_change_permission(request, proposal):
            raise PermissionDenied
        post = None
        errors: list[str] = []
        if request.method == "POST":
            response, post, errors = self._decide(request, proposal)
            if response is not None:
                return response
            proposal = self.get_object(request, object_id)
        return self._render_review(request, proposal, post=post, errors=errors)

    def _review_url(self, proposal: Proposal) -> str:
        return reverse("admin:moderation_proposal_change", args=[proposal.pk])

    def _decide(self, request: HttpRequest, proposal: Proposal) -> tuple[HttpResponse | None, Any, list[str]]:
        post = request.POST
        reason = (post.get("reason") or "").strip()
        context = admin_context(request, reason=reason)
        try:
            expected = int(post.get("expected_version") or proposal.version)
        except ValueError:
            expected = proposal.version
        try:
            if "_accept" in post or "_save" in post or "_rebase" in post or "_override" in post:
                edits, parse_errors = parse_edits(proposal, post)
                if parse_errors:
                    return None, post, list(parse_errors.values())
                # "_rebase": the reviewer saw what changed in the targets (a stale proposal)
                rebase = "_rebase" in post
                with transaction.atomic():
                    version = expected
                    if edits or rebase:
                        version = next_version(version, proposal_edit(
                            proposal_id=proposal.pk, user=request.user, context=context,
                            expected_version=version, args=edits, rebase=rebase, note=reason,
                        ))
                    if "_save" in post:
                        self.message_user(request, "Proposal edited." if edits else "Nothing changed.", messages.SUCCESS)
                        return HttpResponseRedirect(self._review_url(proposal)), None, []
                    outcome = proposal_accept(
                        proposal_id=proposal.pk, user=request.user, context=context, expected_version=version,
                        override_locked="_override" in post,
                    )
                if outcome.accepted:
                    appended = len(Proposal.objects.get(pk=proposal.pk).applied_positions) or len(outcome.applied)
                    self.message_user(request, f"Accepted: {appended} event(s) appended.", messages.SUCCESS)
                    return HttpResponseRedirect(self._after_accept_url(proposal)), None, []
                self.message_user(
                    request, f"Not applied: the proposal is now {outcome.status}; review the difference below.",
                    messages.WARNING,
                )
                return HttpResponseRedirect(self._review_url(proposal)), None, []
            if "_reject" in post:
                proposal_reject(proposal_id=proposal.pk, user=request.user, context=context,
                                expected_version=expected, reason=reason)
                self.message_user(request, "Rejected; the reason is kept.", messages.SUCCESS)
                return HttpResponseRedirect(reverse("admin:moderation_proposal_changelist")), None, []
            if "_distinct" in post:
                other = uuid.UUID(post["candidate"])
                pair_mark_distinct(a_id=proposal_subject_id(proposal), b_id=other, user=request.user,
                                   context=context, kind=post.get("candidate_kind", ""),
                                   reason=reason or "not the same (review page)")
                self.message_user(request, "Remembered as not the same; it won't be suggested again.", messages.SUCCESS)
                return HttpResponseRedirect(self._review_url(proposal)), None, []
            if "_same" in post:
                return self._same(request, proposal, uuid.UUID(post["candidate"]), expected, reason), None, []
        except ConcurrencyConflict as exc:
            lines, _ = conflict_messages(stream_id=exc.stream_id, expected=exc.expected, form_values={})
            return None, post, lines
        except EventStoreError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (getattr(exc, "errors", {}) or {}).items())
            return None, post, [f"{exc}{': ' + detail if detail else ''}"]
        except PermissionDenied as exc:
            return None, post, [f"Not allowed: {exc}"]
        except (KeyError, ValueError):
            return None, post, ["Pick a candidate record."]
        return None, post, ["Unknown decision."]

    def _after_accept_url(self, proposal: Proposal) -> str:
        created = next(
            (c for c in proposal.commands if c.get("command") == "meeting_record" and c.get("target_stream_id")), None
        )
        if created is None:
            created = next((c for c in proposal.commands if c.get("command", "").startswith("meeting_")
                            and c.get("target_stream_id")), None)
        if created is not None:
            return reverse("admin:meetings_meeting_change", args=[created["target_stream_id"]])
        return reverse("admin:moderation_proposal_changelist")

    def _same(self, request: HttpRequest, proposal: Proposal, other: uuid.UUID, expected: int, reason: str):
        """'This is the same': the proposal becomes a cite (meeting) or an alias (person) of `other`."""
        context = admin_context(request, reason=reason or f"same as {other} (review page)")
        proposal_mark_same(
            proposal_id=proposal.pk, existing_id=other, user=request.user, context=context, expected_version=expected
        )
        what = "citing its article for" if proposal.kind in MEETING_KINDS else "adding the name as an alias of"
        self.message_user(
            request, f"Marked as the same: the proposal now suggests {what} the existing record. Review and accept.",
            messages.SUCCESS,
        )
        return HttpResponseRedirect(self._review_url(proposal))

    def _render_review(self, request: HttpRequest, proposal: Proposal, *, post: Any, errors: list[str]):
        from meetings.models import SourceArticle

        evidences = []
        for ev in proposal.evidences.all():
            article = SourceArticle.objects.filter(pk=ev.article_id).first() if ev.article_id else None
            text = content_get(article.content_hash) if article and article.content_hash else None
            evidences.append({
                "article": article,
                "article_url": reverse("admin:meetings_sourcearticle_change", args=[article.pk]) if article else "",
                "segments": highlight_segments(text, ev.sentences) if text else [],
                "sentences": ev.sentences,
                "missing_text": text is None,
            })
        open_ = proposal.status in ("pending", "stale", "conflict")
        staleness = proposal_staleness(proposal.pk) if open_ else []
        context = {
            **self.admin_site.each_context(request),
            "title": f"Review: {proposal.summary or proposal.get_kind_display()}",
            "subtitle": None,
            "opts": self.opts,
            "app_label": self.opts.app_label,
            "original": proposal,
            "proposal": proposal,
            "evidences": evidences,
            "commands": editable_commands(proposal, post),
            "candidates": candidates_for(proposal) if open_ else [],
            "distinct": DistinctPair.objects.filter(
                Q(a_id=proposal_subject_id(proposal)) | Q(b_id=proposal_subject_id(proposal)), active=True
            ),
            "staleness": staleness,
            "note": proposal_note_for(request.user, proposal),
            "problems": json.dumps(proposal.problems, indent=1, ensure_ascii=False) if proposal.problems else "",
            "errors": errors,
            "reason": (post or {}).get("reason", ""),
            "expected_version": (post or {}).get("expected_version", proposal.version) if errors else proposal.version,
            "is_open": open_,
            # contributors and the robot see the page but get no decision buttons
            "can_decide": open_ and can_review(request.user, proposal),
            "can_apply": can_apply(request.user),
            "history_url": reverse("admin:moderation_proposal_history", args=[proposal.pk]),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/tracker/proposal_review.html", context)


def _run_permitted(model_admin: Any, request: HttpRequest, queryset: Any, fn: Any, *, verb: str) -> None:
    """Run a moderation command per proposal, reporting refusals (own proposal, decided, moved) each."""
    ok = 0
    for p in queryset:
        try:
            with transaction.atomic():
                fn(p)
            ok += 1
        except PermissionDenied as exc:
            model_admin.message_user(request, f"{p}: not allowed: {exc}", messages.ERROR)
        except ConcurrencyConflict:
            model_admin.message_user(request, f"{p}: changed meanwhile; open it again.", messages.ERROR)
        except EventStoreError as exc:
            detail = "; ".join(f"{k}: {' '.join(v)}" for k, v in (getattr(exc, "errors", {}) or {}).items())
            model_admin.message_user(request, f"{p}: {exc}{' — ' + detail if detail else ''}", messages.ERROR)
    if ok:
        model_admin.message_user(request, f"{ok} proposal(s) {verb}.", messages.SUCCESS)


@admin.register(DistinctPair)
class DistinctPairAdmin(admin.ModelAdmin):
    """Pairs a curator said are not the same (read-only; withdrawn through `pair_unmark_distinct`)."""

    list_display = ("a_id", "b_id", "kind", "active", "marked_by", "reason", "marked_at")
    list_filter = ("kind", "active")
    search_fields = ("a_id", "b_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


# --- the curators' admin home ---------------------------------------------------------------


def curator_home(request: HttpRequest) -> dict[str, Any]:
    """Pending proposals by kind, failed ingestions and recent changes for the admin index."""
    if not request.user.is_active or not request.user.is_staff:
        return {}
    labels = dict(Proposal.Kind.choices)
    changelist = reverse("admin:moderation_proposal_changelist")
    pending = [
        {"kind": labels.get(kind, kind), "count": n, "url": f"{changelist}?status__exact=pending&kind__exact={kind}"}
        for kind, n in sorted(proposal_pending_counts().items(), key=lambda kv: -kv[1])
    ]
    failures = None
    Failure = _model_exists("ingest", "IngestionFailure")  # the news app's failure log, if installed
    if Failure is not None:
        unresolved = Failure.objects.filter(resolved_at__isnull=True)
        failures = {
            "count": unresolved.count(),
            "latest": list(unresolved.order_by("-last_failed_at")[:5]),
            "url": _changelist_url(Failure, "?resolved_at__isnull=True"),
        }
    recent = []
    for e in Event.objects.order_by("-position")[:10]:
        recent.append({
            "position": e.position, "type": e.type, "stream_type": e.stream_type,
            "actor": e.metadata.get("actor_name", ""), "via": e.metadata.get("via", ""),
            "reason": e.metadata.get("reason", ""), "recorded_at": e.recorded_at,
            "url": history_url(e.stream_type, e.stream_id),
        })
    return {
        "curator_home": True,
        "pending_by_kind": pending,
        "pending_total": sum(p["count"] for p in pending),
        "pending_url": f"{changelist}?status__exact=pending",
        "failures": failures,
        "recent_changes": recent,
        "event_log_url": reverse("admin:eventstore_event_changelist"),
    }


def _changelist_url(model: Any, query: str = "") -> str:
    if model not in admin.site._registry:
        return ""
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + query


def _model_exists(app_label: str, model: str) -> Any:
    try:
        return apps.get_model(app_label, model)
    except LookupError:
        return None


_site_index = admin.site.index


def _index_with_curator_home(request: HttpRequest, extra_context: dict | None = None):
    return _site_index(request, {**curator_home(request), **(extra_context or {})})


# The default site's index shows the curators' block above the app list (templates/admin/index.html).
admin.site.index = _index_with_curator_home  # type: ignore[method-assign]
