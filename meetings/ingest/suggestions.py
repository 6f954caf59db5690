"""From a stored article to proposals in the moderation queue.

The pure pipeline (meetings/suggest) finds persons and meeting mentions; this module adds
what only the database knows: which persons are on record (the gazetteer and the tenure
lookup for title-only mentions), which meetings are already on record or already proposed
(a mention of one becomes a "cite this article" proposal, or more evidence on the pending
proposal, not a new meeting), and which pairs a curator said are not the same.

Every proposal has a dedupe key derived from the article and what it proposes, so running
this twice for one article (a retried task, a re-ingested page) raises nothing new, and a
rejected proposal is never raised again.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable

from django.db import transaction
from django.db.models import Count, OuterRef, Q, Subquery

from meetings.models import Meeting, Participation, SourceArticle
from meetings.suggest.names import Gazetteer, tenure_title_resolver
from meetings.suggest.pipeline import ArticleExtraction, extract, meeting_record
from meetings.suggest.scoring import MAX_GAP_DAYS, date_window, same_meeting
from people.models import Alias, Person, Post, Tenure
from people.names import normalize_name
from tracker.common import partialdate
from tracker.eventstore.api import Context, aggregate_for, content_get
from tracker.eventstore.models import Event
from tracker.moderation.commands import proposal_attach_evidence, proposal_id_for, proposal_submit
from tracker.moderation.models import Proposal
from tracker.moderation.roles import robot_user, with_permissions
from tracker.moderation.selectors import pair_is_distinct

log = logging.getLogger(__name__)

SUGGESTION_NS = uuid.UUID("8b1d2c3e-4f50-4a6b-9c7d-0e1f2a3b4c5d")
LINK_THRESHOLD = 0.5
MAX_MEETINGS_PER_ARTICLE = 25
MEETING_KINDS = {"talks", "summit", "courtesy_call", "strategic_dialogue", "phone_call"}
PEOPLE_STREAMS = ("person", "post", "organization")


# --- what the database knows about people, cached per worker process --------------------


@dataclasses.dataclass
class KnownPeople:
    version: tuple  # the log's newest (position, event id) when it was built
    gazetteer: Gazetteer
    resolver: object
    ids_by_key: dict[str, uuid.UUID | None]  # normalised canonical name -> person id (None if ambiguous)


_cache: KnownPeople | None = None


def _log_mark() -> tuple:
    """The newest event of the log as (position, event id); (None, None) for an empty log."""
    return Event.objects.order_by("-position").values_list("position", "event_id").first() or (None, None)


def _people_changed_since(mark: tuple) -> bool:
    """Did a person, post or organization change after `mark` (or is `mark` no longer in the log)?

    One indexed query per article: the people event types after the mark (the log's
    (type, position) index), and the mark itself, by event id as well, so a database that was
    rolled back or flushed and reuses positions never serves another database's people.
    """
    position, event_id = mark
    people = Q(type__in=_people_event_types(), stream_type__in=PEOPLE_STREAMS)
    if position is None:
        return Event.objects.filter(people).exists()
    found = Event.objects.filter(Q(position=position, event_id=event_id) | (people & Q(position__gt=position)))
    return list(found.order_by("position").values_list("position", flat=True)[:2]) != [position]


@functools.cache
def _people_event_types() -> tuple[str, ...]:
    types = {t for stream_type in PEOPLE_STREAMS for t in aggregate_for(stream_type).evolvers}
    return tuple(sorted(types | {"StateReverted"}))  # a generic revert can change names and aliases


def known_people() -> KnownPeople:
    """Persons on record in the people.json layout, as a gazetteer.

    Built once per worker process and kept between articles; rebuilt when a person, post or
    organization event was appended after it was built.
    """
    global _cache
    if _cache is not None and not _people_changed_since(_cache.version):
        return _cache
    version = _log_mark()  # read first: whatever is appended during the build invalidates it
    persons = Person.objects.filter(merged_into__isnull=True).prefetch_related("aliases")
    tenures: dict[uuid.UUID, list[dict]] = defaultdict(list)
    for t in Tenure.objects.select_related("post__organization"):
        tenures[t.person_id].append(
            {"title": t.post.title, "organization": t.post.organization.name,
             "start": t.start or None, "end": t.end or None}
        )
    records, ids_by_key = [], {}
    for p in persons:
        records.append(
            {"name": p.name, "aliases": [a.name for a in p.aliases.all()], "country": p.country,
             "positions": tenures.get(p.id, [])}
        )
        key = normalize_name(p.name)
        ids_by_key[key] = None if key in ids_by_key else p.id  # two persons, one name: ambiguous
    _cache = KnownPeople(version, Gazetteer(records), tenure_title_resolver(records), ids_by_key)
    return _cache


# --- matching against the record and the queue --------------------------------------------


def _participant_keys(participants: list[dict]) -> list[str]:
    """Normalised names: a person recorded by id and the same person recorded by name match."""
    return sorted({normalize_name(p["name"]) for p in participants})


def _participants(mention: dict, known: KnownPeople) -> list[dict]:
    """The mention's participants: {name}, with the person id when the name is on record."""
    participants = []
    for name in mention["participants"]:
        person_id = known.ids_by_key.get(normalize_name(name))
        participants.append({"person_id": str(person_id), "name": name} if person_id else {"name": name})
    return participants


def _live_participations():
    return Participation.objects.filter(meeting__merged_into__isnull=True, meeting__retracted=False)


@dataclasses.dataclass(frozen=True)
class NamedOnRecord:
    """What record matching needs about names, read once per article: the aliases of its
    known persons, and the meetings whose participants were recorded by name only, by name."""

    aliases: dict[str, set[str]]  # person id -> alias names
    meetings: dict[str, set[uuid.UUID]]  # name as recorded -> meeting ids


def _named_on_record(participant_lists: list[list[dict]]) -> NamedOnRecord:
    ids = {p["person_id"] for ps in participant_lists for p in ps if p.get("person_id")}
    aliases: dict[str, set[str]] = defaultdict(set)
    for person_id, name in Alias.objects.filter(person_id__in=ids).values_list("person_id", "name") if ids else ():
        aliases[str(person_id)].add(name)
    spellings = {p["name"] for ps in participant_lists for p in ps} | {n for ns in aliases.values() for n in ns}
    meetings: dict[str, set[uuid.UUID]] = defaultdict(set)
    if spellings:
        # name_key (indexed) is normalize_name(name): it narrows the rows, `name` decides
        rows = _live_participations().filter(
            person__isnull=True, name_key__in={normalize_name(s) for s in spellings}, name__in=spellings
        )
        for name, meeting_id in rows.values_list("name", "meeting_id"):
            meetings[name].add(meeting_id)
    return NamedOnRecord(aliases, meetings)


def _record_matches(
    mention: dict, participants: list[dict], named: NamedOnRecord, proposed_id: uuid.UUID
) -> tuple[Meeting, float] | None:
    """The meeting on record that this mention most likely reports, if any."""
    keys = _participant_keys(participants)
    ids = [p["person_id"] for p in participants if p.get("person_id")]
    live = _live_participations()
    window = date_window(mention)
    if window:
        # same_meeting scores 0 for a dated meeting whose days are more than MAX_GAP_DAYS from
        # the mention's: only meetings near it (or undated) are candidates, not all of a
        # person's meetings on record
        reach = dt.timedelta(days=MAX_GAP_DAYS)
        live = live.filter(
            Q(meeting__date_first__isnull=True)
            | Q(meeting__date_last__gte=window[0] - reach, meeting__date_first__lte=window[1] + reach)
        )
    if len(ids) >= 2:
        # at least two of the same persons on record: the cheap, indexed case
        candidate_ids = set(
            live.filter(person_id__in=ids).values("meeting_id")
            .annotate(n=Count("person_id", distinct=True)).filter(n__gte=2)
            .values_list("meeting_id", flat=True)
        )
    elif ids:
        candidate_ids = set(live.filter(person_id__in=ids).values_list("meeting_id", flat=True))
    else:
        candidate_ids = set()
    # Participants recorded by name only (before they were on record) match by their name.
    spellings = {p["name"] for p in participants}
    for person_id in ids:
        spellings |= named.aliases.get(person_id, set())
    for spelling in spellings:
        candidate_ids |= named.meetings.get(spelling, set())
    if not candidate_ids:
        return None
    best: tuple[Meeting, float] | None = None
    meetings = Meeting.objects.filter(pk__in=candidate_ids).prefetch_related("participants__person", "citations__article")
    for meeting in meetings:
        if not _plausible_follow_up(meeting, mention):
            continue
        theirs = {
            "participants": _participant_keys(
                [{"name": p.person.name if p.person else p.name} for p in meeting.participants.all()]
            ),
            "date": meeting.date or None, "status": meeting.status, "mode": meeting.mode,
            "reported": min(
                (c.article.published_date for c in meeting.citations.all() if c.article.published_date), default=None
            ),
        }
        score = same_meeting({**mention, "participants": keys}, theirs)
        if score >= LINK_THRESHOLD and (best is None or score > best[1]) and not pair_is_distinct(meeting.id, proposed_id):
            best = (meeting, score)
    return best


PLANNED_HORIZON_DAYS = 45


def _plausible_follow_up(meeting: Meeting, mention: dict) -> bool:
    """An undated planned meeting is only the one a later held mention reports if it happened
    within a few weeks of when it was announced (a visit announced in August is not the
    summit held in October)."""
    if meeting.date or meeting.status != Meeting.Status.PLANNED or not mention.get("date"):
        return True
    announced = [c.article.published_date for c in meeting.citations.all() if c.article.published_date]
    if not announced:
        return True
    start = partialdate.first_day(min(announced))
    return partialdate.last_day(mention["date"]) >= start and (
        partialdate.first_day(mention["date"]) - start
    ).days <= PLANNED_HORIZON_DAYS


@dataclasses.dataclass(frozen=True)
class PendingProposal:
    """A pending new-meeting proposal: its id, version, proposed meeting, and the meeting as
    same_meeting() compares it."""

    proposal_id: uuid.UUID
    version: int
    meeting_id: uuid.UUID | None
    meeting: dict


def _pending_proposals(article_id: uuid.UUID) -> list[PendingProposal]:
    """Pending new-meeting proposals raised from other articles (one query per article)."""
    reported = SourceArticle.objects.filter(pk=OuterRef("article_id")).order_by().values("published_date")[:1]
    rows = (
        Proposal.objects.filter(kind=Proposal.Kind.NEW_MEETING, status=Proposal.Status.PENDING)
        .exclude(article_id=article_id)
        .annotate(reported=Subquery(reported))
        .values_list("id", "version", "commands", "reported")
    )
    pending = []
    for proposal_id, version, commands, reported in rows:
        args = commands[0]["args"] if commands else {}
        meeting_id = args.get("meeting_id")
        pending.append(PendingProposal(
            proposal_id, version, uuid.UUID(meeting_id) if meeting_id else None,
            {"participants": _participant_keys(args.get("participants", [])), "date": args.get("date"),
             "status": args.get("status"), "mode": args.get("mode"), "reported": reported or None},
        ))
    return pending


def _pending_match(mention: dict, keys: list[str], pending: list[PendingProposal]) -> PendingProposal | None:
    """The pending proposal (from another article) for the same meeting, if any."""
    best, best_score = None, LINK_THRESHOLD
    for proposal in pending:
        score = same_meeting({**mention, "participants": keys}, proposal.meeting)
        if score >= best_score:
            best, best_score = proposal, score
    return best


# --- proposals ----------------------------------------------------------------------------


def mention_key(keys: list[str], mention: dict) -> str:
    """What tells one meeting mention of an article from another: the same pair may have a
    planned visit and a held phone call in one story."""
    return "|".join([*sorted(keys), mention.get("status") or "", mention.get("mode") or "", mention.get("date") or ""])


def proposed_meeting_id(article_id: uuid.UUID, key: str) -> uuid.UUID:
    """Id a meeting proposed from this article for this mention gets (stable across runs)."""
    return uuid.uuid5(SUGGESTION_NS, f"meeting:{article_id}:{key}")


def _robot() -> tuple[object, Context]:
    # Its permissions are read once per article (every proposal of the article checks them).
    robot = with_permissions(robot_user())
    return robot, Context.for_user(robot, via="suggestion", reason="suggested from a news article")


def _evidence(article_id: uuid.UUID, items: list[dict]) -> dict:
    return {"article_id": str(article_id), "sentences": [
        {"text": e["text"], "start": e["start"], "end": e["end"]} for e in items
    ]}


def _meeting_args(m: dict, participants: list[dict], meeting_id: uuid.UUID) -> dict:
    kind = m.get("kind") if m.get("kind") in MEETING_KINDS else ("other" if m.get("kind") else "")
    args = {
        "meeting_id": str(meeting_id),
        "participants": participants,
        "date": m.get("date") or "",
        "location_name": m.get("location") or "",
        "mode": m.get("mode") or "in_person",
        "status": m.get("status") or "held",
        "kind": kind,
        "topics": list(m.get("topics") or []),
        "occasion": m.get("occasion") or "",
        "title": " – ".join(p["name"] for p in participants[:3]),
    }
    return {k: v for k, v in args.items() if v not in ("", [], None) or k in ("participants", "meeting_id")}


Write = Callable[[], object]  # a moderation command with its arguments, run in article_suggest's transaction


def _propose_meeting(
    article: SourceArticle, m: dict, participants: list[dict], named: NamedOnRecord,
    pending: Callable[[], list[PendingProposal]], robot, ctx,
) -> tuple[str, uuid.UUID | None, Write]:
    """The right proposal for one meeting mention: (what happens, the meeting it is about, the write)."""
    keys = _participant_keys(participants)
    key = mention_key(keys, m)
    proposed_id = proposed_meeting_id(article.id, key)
    evidence = _evidence(article.id, m.get("evidence", []))
    confidence = float(m.get("confidence", 0.5))
    on_record = _record_matches(m, participants, named, proposed_id)
    if on_record:
        meeting, score = on_record
        commands = [{"command": "meeting_cite_article", "args": {
            "meeting_id": str(meeting.id), "article_id": str(article.id), "evidence": evidence["sentences"]}}]
        if m.get("date") and len(m["date"]) > len(meeting.date or ""):
            # the article dates the meeting more precisely than the record does
            commands.append({"command": "meeting_revise", "args": {
                "meeting_id": str(meeting.id), "changes": {"date": m["date"]}}})
        if meeting.status == Meeting.Status.PLANNED and m.get("status") == "held":
            commands.append({"command": "meeting_status_change", "args": {
                "meeting_id": str(meeting.id), "status": "held", "source": article.url or f"article {article.id}"}})
        write = functools.partial(
            proposal_submit,
            user=robot, context=ctx, kind=Proposal.Kind.CITE_ARTICLE, commands=commands, evidence=evidence,
            confidence=round(min(confidence, score), 3), dedupe_key=f"cite:{article.id}:{meeting.id}",
            summary=f"{article.title or 'Article'} reports {meeting}",
        )
        return "cite", meeting.id, write
    match = _pending_match(m, keys, pending())
    if match:
        write = functools.partial(
            proposal_attach_evidence,
            proposal_id=match.proposal_id, user=robot, context=ctx, expected_version=match.version,
            evidence=evidence,
        )
        return "attach", match.meeting_id, write
    commands = [
        {"command": "meeting_record", "args": _meeting_args(m, participants, proposed_id)},
        {"command": "meeting_cite_article", "args": {
            "meeting_id": str(proposed_id), "article_id": str(article.id), "evidence": evidence["sentences"]}},
    ]
    write = functools.partial(
        proposal_submit,
        user=robot, context=ctx, kind=Proposal.Kind.NEW_MEETING, commands=commands, evidence=evidence,
        confidence=round(confidence, 3), dedupe_key=f"meeting:{article.id}:{key}",
        summary=f"{' and '.join(p['name'] for p in participants)}: {m.get('status', 'held')} "
                f"{m.get('date') or 'undated'}",
    )
    return "new", proposed_id, write


def _post_for_title(title: str) -> Post | None:
    """The one post on record whose title is the extracted title (without "acting"), if any."""
    bare = title.strip()
    if bare.lower().startswith("acting "):
        bare = bare[7:]
    posts = list(Post.objects.filter(title__iexact=bare)[:2])
    return posts[0] if len(posts) == 1 else None


def _raised(dedupe_keys: list[str]) -> set[str]:
    """The dedupe keys that already have a proposal (in any state, rejected included)."""
    ids = {proposal_id_for(key): key for key in dedupe_keys}
    return {ids[pk] for pk in Proposal.objects.filter(pk__in=ids).values_list("pk", flat=True)} if ids else set()


def _propose_people(article: SourceArticle, extraction: ArticleExtraction, robot, ctx) -> list[Write]:
    """New-person proposals (a titled name not on record) and alias suggestions."""
    writes: list[Write] = []
    candidates = [p for p in extraction.persons if not p.known and p.title]
    # Most names recur from article to article: look up which were raised before in one query
    # (what proposal_submit would find one by one) and skip building their proposals.
    raised = _raised([f"person:{normalize_name(p.name)}" for p in candidates])
    for person in candidates:
        key = normalize_name(person.name)
        if f"person:{key}" in raised:
            continue
        evidence = _evidence(article.id, person.mentions[:2])
        person_id = str(uuid.uuid5(SUGGESTION_NS, f"person:{key}"))
        commands = [{"command": "person_register", "args": {
            "person_id": person_id, "name": person.name, "country": person.country or ""}}]
        post = _post_for_title(person.title)
        if post is not None:
            commands.append({"command": "person_tenure_start", "args": {
                "person_id": person_id, "post_id": str(post.id), "acting": person.title.lower().startswith("acting"),
                "sources": [article.url] if article.url else []}})
        summary = f"New official: {person.name}, {person.title}" + (f" ({person.organization})" if person.organization else "")
        writes.append(functools.partial(
            proposal_submit,
            user=robot, context=ctx, kind=Proposal.Kind.NEW_PERSON, commands=commands,
            evidence=evidence, confidence=0.6, dedupe_key=f"person:{key}", summary=summary,
        ))
    for suggestion in extraction.alias_suggestions:
        target = Person.objects.filter(name=suggestion.get("person"), merged_into__isnull=True).first()
        if target is None:
            continue
        alias = suggestion["name"]
        writes.append(functools.partial(
            proposal_submit,
            user=robot, context=ctx, kind=Proposal.Kind.NEW_ALIAS,
            commands=[{"command": "person_alias_add", "args": {
                "person_id": str(target.id), "name": alias, "kind": "variant", "source": article.url}}],
            evidence={"article_id": str(article.id), "sentences": []},
            confidence=float(suggestion.get("score", 0.5)) * 0.8,
            dedupe_key=f"alias:{target.id}:{normalize_name(alias)}",
            summary=f"Is {alias!r} the same person as {target.name}?",
        ))
    return writes


def article_extract(article: SourceArticle, known: KnownPeople) -> ArticleExtraction | None:
    """Run the pipeline over a stored article (None if its text was taken down)."""
    text = content_get(article.content_hash) if article.content_hash else None
    if not text:
        return None
    return extract(text, published=article.published_date or None, known_people=known.gazetteer,
                   title_resolver=known.resolver)


@dataclasses.dataclass
class MentionOutcome:
    """What one meeting mention became: a new-meeting proposal, a citation of a record, or
    more evidence on a pending proposal; `meeting_id` is the record it ends on when accepted."""

    mention: dict
    action: str  # "new", "cite" or "attach"
    meeting_id: uuid.UUID | None


def article_suggest(*, article_id: uuid.UUID) -> list[MentionOutcome]:
    """Raise proposals for everything the article reports (idempotent per article)."""
    article = SourceArticle.objects.get(pk=article_id)
    known = known_people()
    extraction = article_extract(article, known)
    if extraction is None:
        log.info("article %s has no text (taken down?); nothing to suggest", article_id)
        return []
    robot, ctx = _robot()
    ctx = dataclasses.replace(ctx, source={"article_id": str(article.id), "url": article.url})
    writes = _propose_people(article, extraction, robot, ctx)
    outcomes = []
    mentions = extraction.meetings
    if len(mentions) > MAX_MEETINGS_PER_ARTICLE:
        # A news story reports a handful of meetings; hundreds means a list, a dump or an
        # attack. Keep the most certain ones and tell curators the rest were dropped.
        from .services import failure_record

        failure_record(
            stage="suggest", kind="too_many_meetings", article_id=article.id, url=article.url,
            message=f"{len(mentions)} meeting mentions; only the {MAX_MEETINGS_PER_ARTICLE} most certain were proposed",
        )
        mentions = sorted(mentions, key=lambda m: -m.confidence)[:MAX_MEETINGS_PER_ARTICLE]
    attached = set()
    # Read once per article (the writes below come after every decision): names on record,
    # and the pending proposals when a mention is not on record.
    records = [meeting_record(mention) for mention in mentions]
    participants = [_participants(record, known) for record in records]
    named = _named_on_record(participants) if records else NamedOnRecord({}, {})
    pending = functools.cache(functools.partial(_pending_proposals, article.id))
    for record, their_participants in zip(records, participants, strict=True):
        action, target, write = _propose_meeting(article, record, their_participants, named, pending, robot, ctx)
        outcomes.append(MentionOutcome(record, action, target))
        if action == "attach":
            # An article is evidence on a proposal once (a second mention of the same proposed
            # meeting would be a no-op attachment, and its expected version stale after the first).
            if target in attached:
                continue
            attached.add(target)
        writes.append(write)
    # Everything was read and decided above; the writes go in one transaction: one commit
    # per article, and each command's append reuses the state its load read.
    with transaction.atomic():
        for write in writes:
            write()
    return outcomes
