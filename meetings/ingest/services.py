"""Ingestion services: text, files, URLs and feeds become stored articles, then suggestions.

Every article is stored (article_register: body in the content store, metadata as events)
before anything is extracted from it; suggestion runs as a separate task queued on commit.
Anything that fails is recorded as an IngestionFailure a curator can see and retry, with the
raw input kept in the content store.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from meetings.commands import (
    article_find_existing,
    article_mark_duplicate,
    article_register,
    canonical_url,
)
from meetings.models import SourceArticle
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    content_hash,
    content_put,
)
from tracker.reliability.dispatch import enqueue_on_commit

from . import neardup
from .decode import DecodeError, clean_text, decode_utf8, decode_web
from .feeds import FeedError, parse_feed
from .fetch import FetchError, FetchLimits, fetch
from .html import ExtractionEmpty, extract_page, looks_like_html
from .models import (
    ArticleFingerprint,
    Feed,
    FeedEntrySeen,
    FeedPollState,
    FingerprintBand,
    IngestionFailure,
)


class IngestError(Exception):
    """Ingestion failed; the failure is recorded. `retryable` marks network-type errors."""

    def __init__(self, message: str, *, kind: str, retryable: bool = False, failure_id: int | None = None):
        self.kind = kind
        self.retryable = retryable
        self.failure_id = failure_id
        super().__init__(message)


@dataclasses.dataclass
class IngestResult:
    article: SourceArticle
    created: bool
    duplicate_of: uuid.UUID | None = None


def fetch_limits() -> FetchLimits:
    return FetchLimits(
        max_bytes=settings.INGEST_MAX_BYTES,
        total_timeout=settings.INGEST_TIMEOUT_SECONDS,
        allow_networks=tuple(settings.INGEST_ALLOWED_NETWORKS),
    )


# --- failures -----------------------------------------------------------------------------


def failure_record(
    *, stage: str, kind: str, message: str, url: str = "", feed_id=None, article_id=None, raw_hash: str = ""
) -> IngestionFailure:
    """Record (or count again) an unresolved failure of the same input at the same stage."""
    now = timezone.now()
    with transaction.atomic():
        failure = (
            IngestionFailure.objects.select_for_update()
            .filter(stage=stage, url=url, feed_id=feed_id, article_id=article_id, resolved_at__isnull=True)
            .first()
        )
        if failure:
            failure.attempts += 1
            failure.kind, failure.message, failure.last_failed_at = kind, message, now
            failure.raw_hash = raw_hash or failure.raw_hash
            failure.save(update_fields=["attempts", "kind", "message", "last_failed_at", "raw_hash"])
            return failure
        return IngestionFailure.objects.create(
            stage=stage, kind=kind, message=message, url=url, feed_id=feed_id, article_id=article_id,
            raw_hash=raw_hash, first_failed_at=now, last_failed_at=now,
        )


def failures_resolve(*, url: str = "", article_id=None, feed_id=None, stages: tuple[str, ...] = ()) -> int:
    """Mark matching open failures resolved (after a successful retry)."""
    qs = IngestionFailure.objects.filter(resolved_at__isnull=True)
    if url:
        qs = qs.filter(url=url)
    if article_id:
        qs = qs.filter(article_id=article_id)
    if feed_id:
        qs = qs.filter(feed_id=feed_id)
    if stages:
        qs = qs.filter(stage__in=stages)
    return qs.update(resolved_at=timezone.now())


# --- articles -----------------------------------------------------------------------------


def _published_fields(published: str | dt.datetime | dt.date | None) -> dict:
    """published_at (aware ISO) and the publisher's LOCAL date (NLP-NOTES §3.3: not the UTC day)."""
    if published is None or published == "":
        return {}
    if isinstance(published, str):
        try:
            published = dt.datetime.fromisoformat(published) if "T" in published else dt.date.fromisoformat(published)
        except ValueError:
            raise CommandError("invalid publication date", {"published": [f"{published!r} is not an ISO date."]}) from None
    if isinstance(published, dt.datetime):
        if published.tzinfo is None:
            published = published.replace(tzinfo=dt.UTC)
        return {"published_at": published.isoformat(), "published_date": published.date().isoformat()}
    return {"published_date": published.isoformat()}


def _original_of(sig: list[int]) -> uuid.UUID | None:
    """The earliest stored article a text with this signature is a near-copy of, if any.

    A copy is linked to its story's first article (the root), so the roots among the
    candidates are compared first: a wire story syndicated forty times would otherwise read and
    compare forty signatures per copy. The copies' signatures are read only when no root passes
    (a text can be near a copy and not near its root).
    """
    digests = neardup.bands(sig)
    rows = _candidates(digests)
    roots = [(article_id, signature) for article_id, original, signature in rows if original is None]
    best = _most_similar(sig, roots)
    if best is None and len(roots) < len(rows):
        copies = _candidates(digests, copies=True)
        best = _most_similar(sig, [(original, signature) for _, original, signature in copies])  # link to the root
    return best


def _candidates(digests: list[str], *, copies: bool = False) -> list[tuple[uuid.UUID, uuid.UUID | None, list | None]]:
    """(article, its original, signature) of each article sharing an LSH band with `digests`;
    the signature of roots only, or of copies only with `copies`.

    Written in SQL: the ORM took ~3 ms to compile this query per article, twice the time the
    server took to run it. One index probe per (band, digest) pair.
    """
    fingerprint, band, article = (m._meta.db_table for m in (ArticleFingerprint, FingerprintBand, SourceArticle))
    pairs = " OR ".join(["(b.band = %s AND b.digest = %s)"] * len(digests))
    sharing = f"f.article_id IN (SELECT b.article_id FROM {band} b WHERE {pairs})"
    signature = "f.signature" if copies else "CASE WHEN a.duplicate_of_id IS NULL THEN f.signature END"
    sql = (
        f"SELECT f.article_id, a.duplicate_of_id, {signature} FROM {fingerprint} f"
        f" LEFT JOIN {article} a ON a.id = f.article_id WHERE {sharing}"
        + (" AND a.duplicate_of_id IS NOT NULL" if copies else "")
    )
    with connection.cursor() as cur:
        cur.execute(sql, [v for pair in enumerate(digests) for v in pair])
        return [
            # SQLite hands back uuids as hex text and JSON as text
            (_uuid(article_id), _uuid(original), json.loads(sig) if isinstance(sig, str) else sig)
            for article_id, original, sig in cur.fetchall()
        ]


def _uuid(value) -> uuid.UUID | None:
    return value if value is None or isinstance(value, uuid.UUID) else uuid.UUID(value)


def _most_similar(sig: list[int], candidates: list[tuple[uuid.UUID, list[int]]]) -> uuid.UUID | None:
    """The id paired with the signature most similar to `sig`, if any reaches the threshold."""
    best, best_score = None, neardup.THRESHOLD
    for linked_to, signature in candidates:
        score = neardup.similarity(sig, signature)
        if score >= best_score:
            best, best_score = linked_to, score
    return best


def _fingerprint_save(article_id: uuid.UUID, sig: list[int]) -> None:
    # One upsert each (update_or_create would add a SELECT and two savepoints).
    ArticleFingerprint.objects.bulk_create(
        [ArticleFingerprint(article_id=article_id, signature=sig)],
        update_conflicts=True, unique_fields=["article_id"], update_fields=["signature"],
    )
    FingerprintBand.objects.bulk_create(
        [FingerprintBand(band=i, digest=d, article_id=article_id) for i, d in enumerate(neardup.bands(sig))],
        ignore_conflicts=True,
    )


def article_ingest_text(
    *,
    text: str,
    context: Context,
    url: str = "",
    title: str = "",
    published: str | dt.datetime | dt.date | None = None,
    publisher: str = "",
    author: str = "",
    language: str = "",
    suggest: bool = True,
) -> IngestResult:
    """Store an article from its text (idempotent by URL and by text) and queue suggestions."""
    text = clean_text(text).strip()
    if not text:
        raise CommandError("the article has no text", {"text": ["This field is required."]})
    fields = {"title": title[:500], "publisher": publisher[:200], "author": author[:300], "language": language[:16]}
    if url:
        fields["url"] = url
    fields.update(_published_fields(published))
    fields = {k: v for k, v in fields.items() if v}
    for attempt in range(3):
        try:
            with transaction.atomic():
                # The one lookup of the article by URL and text (the registration does not repeat it).
                created = article_find_existing(
                    canonical_url=canonical_url(url) if url else "", content_hash=content_hash(text)
                ) is None
                # A new article is fingerprinted first, so a syndicated copy is registered
                # already marked as one (a single append).
                sig = neardup.signature(text) if created else None
                duplicate_of = _original_of(sig) if created else None
                article = article_register(
                    context=context, text=text, duplicate_of=duplicate_of, unseen=created, **fields
                )
                if created:
                    if duplicate_of and article.duplicate_of_id is None and article.id != duplicate_of:
                        # registered before under another spelling of its URL: mark it now
                        article = article_mark_duplicate(
                            article_id=article.id, of_id=duplicate_of, context=context, expected_version=article.version
                        )
                    _fingerprint_save(article.id, sig)
                    if suggest:
                        from meetings.tasks import suggest_from_article_task

                        # not delay_on_commit: a broker outage must not fail the committed write
                        enqueue_on_commit(suggest_from_article_task, str(article.id))
                return IngestResult(article=article, created=created, duplicate_of=duplicate_of)
        except ConcurrencyConflict:
            # Another worker registered the same article at the same moment: read theirs.
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def article_ingest_bytes(data: bytes, *, name: str, context: Context, **meta) -> IngestResult:
    """Store an uploaded file's text. Non-UTF-8 input is kept (undecodable bytes replaced), the
    failure is recorded for a curator, and IngestError says exactly what was wrong."""
    try:
        text = decode_utf8(data, what=name)
    except DecodeError as exc:
        kept = clean_text(data.decode("utf-8", errors="replace"))
        result = article_ingest_text(text=kept, context=context, suggest=False, **meta)
        failure = failure_record(
            stage=IngestionFailure.Stage.DECODE, kind="not_utf8", message=str(exc),
            url=meta.get("url", ""), article_id=result.article.id,
        )
        raise IngestError(
            f"{exc}. The article was kept as {result.article.id} with the undecodable bytes replaced; "
            "suggestions were not run.",
            kind="not_utf8",
            failure_id=failure.pk,
        ) from None
    return article_ingest_text(text=text, context=context, **meta)


def article_ingest_file(path: Path, *, context: Context, **meta) -> IngestResult:
    size = path.stat().st_size
    if size > settings.INGEST_MAX_BYTES:
        failure = failure_record(stage="fetch", kind="too_large", message=f"{path.name} is {size:,} bytes", url="")
        raise IngestError(
            f"{path.name} is {size:,} bytes; the cap is {settings.INGEST_MAX_BYTES:,} (INGEST_MAX_BYTES)",
            kind="too_large",
            failure_id=failure.pk,
        )
    return article_ingest_bytes(path.read_bytes(), name=path.name, context=context, **meta)


def article_ingest_url(
    url: str, *, context: Context, published: str | dt.datetime | None = None, feed_id=None,
    suggest: bool = True,
) -> IngestResult:
    """Fetch a page, extract its text and metadata, and store it as an article."""
    requested = url  # failures are recorded under the URL asked for, whatever it redirects to
    existing = article_find_existing(canonical_url=canonical_url(url))
    if existing:
        return IngestResult(article=existing, created=False)
    try:
        result = fetch(url, limits=fetch_limits())
    except FetchError as exc:
        failure = failure_record(stage="fetch", kind=exc.kind, message=str(exc), url=url, feed_id=feed_id)
        raise IngestError(str(exc), kind=exc.kind, retryable=exc.retryable, failure_id=failure.pk) from exc
    try:
        body, _encoding = decode_web(result.body, declared=result.charset)
    except DecodeError as exc:
        raw = content_put(result.body.decode("latin-1"))  # lossless: every byte maps to one char
        failure = failure_record(stage="decode", kind="undecodable", message=str(exc), url=url, raw_hash=raw)
        raise IngestError(str(exc), kind="undecodable", failure_id=failure.pk) from exc
    meta: dict = {}
    if result.content_type == "text/plain" or not looks_like_html(body):
        text = body
    else:
        try:
            page = extract_page(body, url=result.url)
        except ExtractionEmpty as exc:
            raw = content_put(body)
            failure = failure_record(stage="extract", kind="empty", message=str(exc), url=url, raw_hash=raw)
            raise IngestError(str(exc), kind="empty", failure_id=failure.pk) from exc
        text = page.text
        meta = {"title": page.title, "publisher": page.publisher, "author": page.author, "language": page.language}
        published = published or page.published
        if page.canonical_url.startswith(("http://", "https://")):
            url = page.canonical_url
    outcome = article_ingest_text(
        text=text, context=context, url=url, published=published, suggest=suggest, **meta
    )
    failures_resolve(url=requested)
    return outcome


# --- feeds --------------------------------------------------------------------------------


@dataclasses.dataclass
class PollResult:
    feed_id: uuid.UUID
    not_modified: bool = False
    new_entries: list[str] = dataclasses.field(default_factory=list)


def feeds_due(now: dt.datetime | None = None) -> list[uuid.UUID]:
    """Active feeds whose next poll time has come (or that were never polled)."""
    now = now or timezone.now()
    active = list(Feed.objects.filter(active=True).values_list("id", flat=True))
    not_due = set(
        FeedPollState.objects.filter(feed_id__in=active, next_poll_at__gt=now).values_list("feed_id", flat=True)
    )
    return [f for f in active if f not in not_due]


def feed_poll(feed_id: uuid.UUID) -> PollResult:
    """Poll one feed with a conditional GET; queue each entry not seen before for ingestion."""
    feed = Feed.objects.get(pk=feed_id)
    state, _ = FeedPollState.objects.get_or_create(feed_id=feed.id)
    now = timezone.now()
    state.last_polled_at = now
    state.next_poll_at = now + dt.timedelta(minutes=feed.interval_minutes)
    outcome = PollResult(feed_id=feed.id)
    try:
        result = fetch(feed.url, limits=fetch_limits(), etag=state.etag or None, last_modified=state.last_modified or None)
        if result.not_modified:
            state.last_status = "not modified"
            outcome.not_modified = True
            return outcome
        entries = parse_feed(result.body, url=result.url)
    except (FetchError, FeedError) as exc:
        kind = getattr(exc, "kind", "bad_feed")
        state.last_status = f"failed: {exc}"[:200]
        failure_record(stage="feed", kind=kind, message=str(exc), url=feed.url, feed_id=feed.id)
        raise IngestError(str(exc), kind=kind, retryable=getattr(exc, "retryable", False)) from exc
    finally:
        state.save()
    from meetings.tasks import ingest_url_task

    with transaction.atomic():
        for entry in entries:
            _, created = FeedEntrySeen.objects.get_or_create(
                feed_id=feed.id, guid=entry.guid[:1000], defaults={"url": entry.url, "seen_at": now}
            )
            if created:
                published = entry.published.isoformat() if entry.published else None
                enqueue_on_commit(ingest_url_task, entry.url, published=published, feed_id=str(feed.id))
                outcome.new_entries.append(entry.url)
        state.etag, state.last_modified = result.etag or "", result.last_modified or ""
        state.entries_seen += len(outcome.new_entries)
        state.last_status = f"ok: {len(entries)} entries, {len(outcome.new_entries)} new"
        state.save()
    failures_resolve(feed_id=feed.id, stages=("feed",))
    return outcome
