"""Commands on meetings and source articles: validate, load, decide, append.

Every command is keyword-only, takes the `context` (who, via what, why) and the
`expected_version` its author saw (0 for a new stream), writes in one transaction (a
command whose one write is its append, `appends_once`, makes that append the transaction),
and returns the read-model row its events produced. Bad input raises `CommandError` with
field errors and appends nothing; a stale version raises `ConcurrencyConflict`.
"""
from __future__ import annotations

import datetime as dt
import re
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Case, Q, When

from people.names import normalize_name
from tracker.common import partialdate
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    StreamNotFound,
    StreamWrite,
    append,
    append_many,
    appends_once,
    collecting_rows,
    content_hash,
    content_put,
    cyclic_gc_paused,
    load,
    written_row,
)

from .events import (
    ARTICLE,
    ARTICLE_FIELDS,
    MEETING,
    MEETING_FIELDS,
    ArticleCited,
    ArticleMarkedDuplicate,
    ArticleRegistered,
    ArticleRevised,
    ArticleUncited,
    MeetingAbsorbed,
    MeetingMergedInto,
    MeetingRecorded,
    MeetingRestored,
    MeetingRetracted,
    MeetingRevised,
    MeetingStatusChanged,
    MeetingUnmerged,
    ParticipantAdded,
    ParticipantRemoved,
    ParticipantRevised,
)
from .models import Citation, Meeting, Participation, SourceArticle

ARTICLE_NS = uuid.UUID("4b0f3c59-8f0e-4f4e-9d8b-2a7c1e5d9a61")
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
MIN_PARTICIPANTS = 2

# Which status a meeting may move to from each status (corrections go through revise).
STATUS_TRANSITIONS: dict[str, set[str]] = {
    Meeting.Status.PLANNED: {Meeting.Status.HELD, Meeting.Status.CANCELLED, Meeting.Status.POSTPONED},
    Meeting.Status.POSTPONED: {Meeting.Status.PLANNED, Meeting.Status.HELD, Meeting.Status.CANCELLED},
    Meeting.Status.CANCELLED: {Meeting.Status.PLANNED},
    Meeting.Status.HELD: set(),
}

# Allowed values (Django builds `.values` anew on each access).
_MODES, _STATUSES, _KINDS = (frozenset(c.values) for c in (Meeting.Mode, Meeting.Status, Meeting.Kind))

_MAX_LENGTHS = {
    "title": 300,
    "location_name": 200,
    "status_source": 500,
    "occasion": 200,
    "name": 200,
}


# --- helpers ------------------------------------------------------------------------------


class _Errors:
    """Collects field errors; raises one CommandError with all of them."""

    def __init__(self) -> None:
        self.errors: dict[str, list[str]] = {}

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self, message: str = "invalid input") -> None:
        if self.errors:
            raise CommandError(message, self.errors)


def _person_name(person_id: str) -> str | None:
    """The current canonical name of a person (following merges), or None if unknown."""
    from people.selectors import person_get

    person = person_get(person_id)
    return person.name if person is not None else None


def _as_uuid(value: Any) -> uuid.UUID | None:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except (TypeError, ValueError):
        return None


def _check_version(stream_id: uuid.UUID, version: int, expected_version: int) -> None:
    if version != expected_version:
        raise ConcurrencyConflict(stream_id=stream_id, expected=expected_version, current=version)


def _load_meeting(
    meeting_id: Any, expected_version: int | None = None, field: str = "meeting_id"
) -> tuple[uuid.UUID, dict, int]:
    stream_id = _as_uuid(meeting_id)
    if stream_id is None:
        raise CommandError("not a meeting id", {field: [f"{meeting_id!r} is not a valid id."]})
    try:
        state, version = load(stream_id, stream_type=MEETING)
    except StreamNotFound:
        raise CommandError("no such meeting", {field: [f"No meeting with id {stream_id}."]}) from None
    if expected_version is not None:
        _check_version(stream_id, version, expected_version)
    return stream_id, state, version


def _refuse_if_merged(state: dict, field: str = "meeting_id") -> None:
    if state.get("merged_into"):
        raise CommandError(
            "the meeting was merged into another one",
            {field: [f"Merged into {state['merged_into']}; change that meeting instead."]},
        )


def _validate_fields(values: dict[str, Any], errors: _Errors, current: dict | None = None) -> dict[str, Any]:
    """Validate and normalise scalar meeting fields; return the cleaned values."""
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in MEETING_FIELDS:
            errors.add(name, "Not a field of a meeting.")
            continue
        if name == "topics":
            if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
                errors.add(name, "Must be a list of strings.")
                continue
            clean[name] = [t.strip() for t in value if t.strip()]
            continue
        if value is None:
            value = ""
        if not isinstance(value, str):
            errors.add(name, "Must be a string.")
            continue
        value = value.strip()
        if name in ("date", "end_date") and value:
            try:
                partialdate.validate(value)
            except partialdate.InvalidPartialDate as exc:
                errors.add(name, str(exc))
                continue
        elif name == "mode" and value not in _MODES:
            errors.add(name, f"{value!r} is not one of {', '.join(Meeting.Mode.values)}.")
            continue
        elif name == "status" and value not in _STATUSES:
            errors.add(name, f"{value!r} is not one of {', '.join(Meeting.Status.values)}.")
            continue
        elif name == "kind" and value and value not in _KINDS:
            errors.add(name, f"{value!r} is not one of {', '.join(Meeting.Kind.values)}.")
            continue
        elif name == "location_country":
            value = value.upper()
            if value and not COUNTRY_RE.match(value):
                errors.add(name, "Must be a two-letter ISO 3166-1 country code.")
                continue
        if name in _MAX_LENGTHS and len(value) > _MAX_LENGTHS[name]:
            errors.add(name, f"At most {_MAX_LENGTHS[name]} characters.")
            continue
        clean[name] = value
    merged = {**(current or {}), **clean}
    start, end = merged.get("date") or "", merged.get("end_date") or ""
    if end and not start and ("end_date" in clean or "date" in clean):
        errors.add("end_date" if "end_date" in clean else "date", "An end date needs a start date.")
    elif start and end and "date" not in errors.errors and "end_date" not in errors.errors:
        if partialdate.last_day(end) < partialdate.first_day(start):
            errors.add("end_date", "The end date is before the start date.")
    return clean


def _validate_participant(
    raw: Any, errors: _Errors, field: str, person_name: Callable[[str], str | None] = _person_name
) -> dict[str, Any] | None:
    """Turn {person_id?, name?, side?, is_host?} into a participant entry with a new id.

    `person_name` gives a person's current name (None if unknown); a batch passes a lookup
    it filled with one query.
    """
    if not isinstance(raw, dict):
        errors.add(field, "Each participant is an object with a person_id and/or a name.")
        return None
    person_id = raw.get("person_id") or None
    name = (raw.get("name") or "").strip()
    side = (raw.get("side") or "").strip().upper()
    ok = True
    if person_id is not None:
        parsed = _as_uuid(person_id)
        if parsed is None:
            errors.add(field, f"{person_id!r} is not a valid person id.")
            ok = False
        else:
            person_id = str(parsed)
            known = person_name(person_id)
            if known is None:
                errors.add(field, f"No person with id {person_id}.")
                ok = False
            elif not name:
                name = known
    elif not name:
        errors.add(field, "A participant needs a person_id or a name.")
        ok = False
    if len(name) > _MAX_LENGTHS["name"]:
        errors.add(field, f"A name has at most {_MAX_LENGTHS['name']} characters.")
        ok = False
    if side and not COUNTRY_RE.match(side):
        errors.add(field, "side must be a two-letter ISO 3166-1 country code.")
        ok = False
    if not ok:
        return None
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "person_id": person_id,
        "side": side,
        "is_host": bool(raw.get("is_host", False)),
    }


def _participant_key(entry: dict, resolve: Callable[[str], Any] | None = None) -> tuple[str, str]:
    """Who a participant entry is: the surviving person record, else the name's key."""
    if entry.get("person_id"):
        if resolve is None:
            from people.selectors import person_resolve as resolve
        return ("person", str(resolve(entry["person_id"]) or entry["person_id"]))
    return ("name", _name_key(entry["name"]))


def _same_participant(a: dict, b: dict) -> bool:
    return _participant_key(a) == _participant_key(b)


def _validate_participants(
    participants: Any,
    errors: _Errors,
    *,
    person_name: Callable[[str], str | None] = _person_name,
    resolve: Callable[[str], Any] | None = None,
) -> list[dict]:
    """The entries of a new meeting's participants: each valid, none listed twice, at least two."""
    entries: list[dict] = []
    keys: list[tuple[str, str]] = []
    for i, raw in enumerate(participants or []):
        entry = _validate_participant(raw, errors, f"participants[{i}]", person_name)
        if entry is None:
            continue
        key = _participant_key(entry, resolve)
        if key in keys:
            errors.add(f"participants[{i}]", "Listed twice.")
            continue
        entries.append(entry)
        keys.append(key)
    if len(entries) < MIN_PARTICIPANTS and not any(k.startswith("participants") for k in errors.errors):
        errors.add("participants", f"A meeting needs at least {MIN_PARTICIPANTS} participants.")
    return entries


def _name_key(name: str) -> str:
    """Casefolded, accent-free letters only: "Park Yoon-Joo" and "park yoonjoo" match."""
    return normalize_name(name)


def _meeting_row(meeting_id: uuid.UUID, rows: dict | None = None) -> Meeting:
    """The meeting's row: as the command's projection wrote it (`rows`), else from the table."""
    return written_row(rows or {}, Meeting, meeting_id)


def _append(**kwargs: Any) -> dict:
    """`append`, returning the read-model rows its projection wrote (see `collecting_rows`)."""
    with collecting_rows() as rows:
        append(**kwargs)
    return rows


# --- meetings -----------------------------------------------------------------------------


@transaction.atomic
def meeting_record(
    *,
    participants: Iterable[dict],
    context: Context,
    expected_version: int = 0,
    meeting_id: uuid.UUID | str | None = None,
    **fields: Any,
) -> Meeting:
    """Record a meeting between at least two participants (person ids and/or raw names)."""
    errors = _Errors()
    clean = _validate_fields(fields, errors)
    entries = _validate_participants(participants, errors)
    if expected_version != 0:
        errors.add("expected_version", "A new meeting starts at version 0.")
    stream_id = _as_uuid(meeting_id) if meeting_id else uuid.uuid4()
    if stream_id is None:
        errors.add("meeting_id", f"{meeting_id!r} is not a valid id.")
    errors.raise_if_any("the meeting was not recorded")
    assert stream_id is not None
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=0,
        events=[MeetingRecorded(**clean, participants=entries)],
        context=context,
        related_ids=_person_uuids(entries),
    )
    return _meeting_row(stream_id, rows)


def _person_uuids(entries: Iterable[dict]) -> list[uuid.UUID]:
    return [uuid.UUID(e["person_id"]) for e in entries if e.get("person_id")]


@appends_once  # its one write is its append, which a revision often sends as one statement
def meeting_revise(
    *, meeting_id: uuid.UUID, changes: dict[str, Any], context: Context, expected_version: int
) -> Meeting:
    """Change any scalar fields of a meeting; unchanged values append nothing."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    errors = _Errors()
    clean = _validate_fields(dict(changes), errors, current={k: state.get(k) for k in MEETING_FIELDS})
    errors.raise_if_any("the meeting was not changed")
    delta = {k: v for k, v in clean.items() if state.get(k) != v}
    if delta:
        rows = _append(
            stream_type=MEETING,
            stream_id=stream_id,
            expected_version=expected_version,
            events=[MeetingRevised(changes=delta)],
            context=context,
        )
        return _meeting_row(stream_id, rows)
    return _meeting_row(stream_id)


@transaction.atomic
def meeting_participant_add(
    *,
    meeting_id: uuid.UUID,
    context: Context,
    expected_version: int,
    person_id: str | uuid.UUID | None = None,
    name: str = "",
    side: str = "",
    is_host: bool = False,
) -> Participation:
    """Add a participant (a person id and/or a raw name) to a meeting."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    errors = _Errors()
    raw = {"person_id": str(person_id) if person_id else None, "name": name, "side": side, "is_host": is_host}
    entry = _validate_participant(raw, errors, "participant")
    if entry and any(_same_participant(entry, p) for p in state["participants"]):
        errors.add("participant", "Already takes part in this meeting.")
    errors.raise_if_any("the participant was not added")
    assert entry is not None
    append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[ParticipantAdded(**entry)],
        context=context,
        related_ids=_person_uuids([entry]),
    )
    return Participation.objects.get(pk=entry["id"])


def _find(entries: list[dict], entry_id: Any, field: str, what: str) -> dict:
    for entry in entries:
        if entry["id"] == str(entry_id):
            return entry
    raise CommandError(f"no such {what}", {field: [f"No {what} {entry_id} in this meeting."]})


@transaction.atomic
def meeting_participant_remove(
    *, meeting_id: uuid.UUID, participation_id: str | uuid.UUID, context: Context, expected_version: int
) -> Meeting:
    """Remove a participant; a meeting keeps at least two."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    entry = _find(state["participants"], participation_id, "participation_id", "participant")
    if len(state["participants"]) <= MIN_PARTICIPANTS:
        raise CommandError(
            "the participant was not removed",
            {"participation_id": [f"A meeting needs at least {MIN_PARTICIPANTS} participants."]},
        )
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[ParticipantRemoved(id=entry["id"])],
        context=context,
        related_ids=_person_uuids([entry]),
    )
    return _meeting_row(stream_id, rows)


@transaction.atomic
def meeting_participant_revise(
    *,
    meeting_id: uuid.UUID,
    participation_id: str | uuid.UUID,
    changes: dict[str, Any],
    context: Context,
    expected_version: int,
) -> Participation:
    """Correct a participant's side, host flag, name or person (e.g. resolve a raw name)."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    entry = _find(state["participants"], participation_id, "participation_id", "participant")
    errors = _Errors()
    unknown = set(changes) - {"name", "person_id", "side", "is_host"}
    for name in sorted(unknown):
        errors.add(name, "Not a field of a participant.")
    raw = {k: entry[k] for k in ("name", "person_id", "side", "is_host")} | dict(changes)
    if "person_id" in changes and "name" not in changes and changes["person_id"]:
        raw["name"] = entry["name"] or ""
    validated = _validate_participant(raw, errors, "participant")
    if validated and any(
        p["id"] != entry["id"] and _same_participant(validated, p) for p in state["participants"]
    ):
        errors.add("participant", "Already takes part in this meeting.")
    errors.raise_if_any("the participant was not changed")
    assert validated is not None
    delta = {k: validated[k] for k in ("name", "person_id", "side", "is_host") if validated[k] != entry[k]}
    if delta:
        append(
            stream_type=MEETING,
            stream_id=stream_id,
            expected_version=expected_version,
            events=[ParticipantRevised(id=entry["id"], changes=delta)],
            context=context,
            related_ids=_person_uuids([entry, validated]),
        )
    return Participation.objects.get(pk=entry["id"])


@transaction.atomic
def meeting_status_change(
    *, meeting_id: uuid.UUID, status: str, source: str, context: Context, expected_version: int
) -> Meeting:
    """Move a meeting to a new status (planned -> held / cancelled / postponed ...) citing a source."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    errors = _Errors()
    if status not in Meeting.Status.values:
        errors.add("status", f"{status!r} is not one of {', '.join(Meeting.Status.values)}.")
    elif status not in STATUS_TRANSITIONS[state["status"]]:
        errors.add("status", f"A {state['status']} meeting cannot become {status}.")
    source = (source or "").strip()
    if not source:
        errors.add("source", "Say where the change of status comes from.")
    elif len(source) > _MAX_LENGTHS["status_source"]:
        errors.add("source", f"At most {_MAX_LENGTHS['status_source']} characters.")
    errors.raise_if_any("the status was not changed")
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[MeetingStatusChanged(status=status, source=source)],
        context=context,
    )
    return _meeting_row(stream_id, rows)


def _validate_evidence(evidence: Any, errors: _Errors) -> list[dict]:
    if evidence is None:
        return []
    if not isinstance(evidence, list | tuple):
        errors.add("evidence", "Must be a list of {text, start, end}.")
        return []
    out = []
    for i, item in enumerate(evidence):
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            errors.add("evidence", f"Item {i} needs a text.")
            continue
        start, end = item.get("start"), item.get("end")
        if not (isinstance(start, int) and isinstance(end, int)) or isinstance(start, bool) or not 0 <= start <= end:
            errors.add("evidence", f"Item {i} needs integer offsets with 0 <= start <= end.")
            continue
        out.append({"text": item["text"], "start": start, "end": end})
    return out


@transaction.atomic
def meeting_cite_article(
    *,
    meeting_id: uuid.UUID,
    article_id: str | uuid.UUID,
    context: Context,
    expected_version: int,
    evidence: list[dict] | None = None,
) -> Citation:
    """Cite an article as supporting a meeting, with evidence sentences and their offsets."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    errors = _Errors()
    article_uuid = _as_uuid(article_id)
    if article_uuid is None or not SourceArticle.objects.filter(pk=article_uuid).exists():
        errors.add("article_id", f"No article with id {article_id}.")
    elif any(c["article_id"] == str(article_uuid) for c in state["citations"]):
        errors.add("article_id", "This article is already cited for this meeting.")
    clean = _validate_evidence(evidence, errors)
    errors.raise_if_any("the article was not cited")
    citation_id = str(uuid.uuid4())
    append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[ArticleCited(id=citation_id, article_id=str(article_uuid), evidence=clean)],
        context=context,
        related_ids=[article_uuid],
    )
    return Citation.objects.get(pk=citation_id)


@transaction.atomic
def meeting_uncite_article(
    *, meeting_id: uuid.UUID, article_id: str | uuid.UUID, context: Context, expected_version: int
) -> Meeting:
    """Withdraw the citation of an article from a meeting."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    matches = [c for c in state["citations"] if c["article_id"] == str(article_id)]
    if not matches:
        raise CommandError("not cited", {"article_id": [f"Article {article_id} is not cited here."]})
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[ArticleUncited(id=matches[0]["id"], article_id=matches[0]["article_id"])],
        context=context,
        related_ids=[uuid.UUID(matches[0]["article_id"])],
    )
    return _meeting_row(stream_id, rows)


@transaction.atomic
def meeting_merge(
    *,
    loser_id: uuid.UUID,
    winner_id: uuid.UUID,
    loser_expected_version: int,
    winner_expected_version: int,
    context: Context,
) -> Meeting:
    """Merge a duplicate meeting into another: both streams change in one transaction.

    The loser keeps its id as a redirect; the winner takes over the loser's participants and
    citations except those it already has (same person or name, same article).
    """
    loser_id, loser, _ = _load_meeting(loser_id, loser_expected_version, "loser_id")
    winner_id, winner, _ = _load_meeting(winner_id, winner_expected_version, "winner_id")
    if loser_id == winner_id:
        raise CommandError("cannot merge a meeting into itself", {"winner_id": ["Pick another meeting."]})
    _refuse_if_merged(loser, "loser_id")
    _refuse_if_merged(winner, "winner_id")
    if winner.get("retracted"):
        raise CommandError("the target is retracted", {"winner_id": ["Restore it first."]})
    participants = []
    for p in loser["participants"]:
        if not any(_same_participant(p, q) for q in winner["participants"] + participants):
            participants.append({k: v for k, v in p.items() if k != "absorbed_from"})
    cited = {c["article_id"] for c in winner["citations"]}
    citations = [
        {k: v for k, v in c.items() if k != "absorbed_from"} for c in loser["citations"] if c["article_id"] not in cited
    ]
    related = [loser_id, winner_id]
    append_many(
        [
            StreamWrite(MEETING, loser_id, loser_expected_version, [MeetingMergedInto(into=str(winner_id))], related),
            StreamWrite(
                MEETING,
                winner_id,
                winner_expected_version,
                [MeetingAbsorbed(from_id=str(loser_id), participants=participants, citations=citations)],
                related,
            ),
        ],
        context=context,
    )
    return _meeting_row(winner_id)


@transaction.atomic
def meeting_unmerge(
    *,
    loser_id: uuid.UUID,
    loser_expected_version: int,
    winner_expected_version: int,
    context: Context,
) -> Meeting:
    """Undo a merge: the loser gets its own record back, the winner gives back what it took."""
    loser_id, loser, _ = _load_meeting(loser_id, loser_expected_version, "loser_id")
    if not loser.get("merged_into"):
        raise CommandError("not merged", {"loser_id": ["This meeting is not merged into another."]})
    winner_id, winner, _ = _load_meeting(loser["merged_into"], winner_expected_version, "winner_id")
    if winner.get("merged_into"):
        raise CommandError(
            "the target was merged on",
            {"loser_id": [f"{winner_id} was itself merged into {winner['merged_into']}; undo that first."]},
        )
    related = [loser_id, winner_id]
    append_many(
        [
            StreamWrite(
                MEETING,
                loser_id,
                loser_expected_version,
                [MeetingUnmerged(from_id=str(winner_id), role="loser")],
                related,
            ),
            StreamWrite(
                MEETING,
                winner_id,
                winner_expected_version,
                [MeetingUnmerged(from_id=str(loser_id), role="winner")],
                related,
            ),
        ],
        context=context,
    )
    return _meeting_row(loser_id)


@transaction.atomic
def meeting_retract(*, meeting_id: uuid.UUID, context: Context, expected_version: int, note: str = "") -> Meeting:
    """Withdraw a meeting from the record; it stays in the log and can be restored."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    _refuse_if_merged(state)
    if state.get("retracted"):
        raise CommandError("already retracted", {"meeting_id": ["The meeting is already retracted."]})
    if not (context.reason or note):
        raise CommandError("a retraction needs a reason", {"reason": ["This field is required."]})
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[MeetingRetracted(note=note)],
        context=context,
    )
    return _meeting_row(stream_id, rows)


@transaction.atomic
def meeting_restore(*, meeting_id: uuid.UUID, context: Context, expected_version: int, note: str = "") -> Meeting:
    """Put a retracted meeting back on the record."""
    stream_id, state, _ = _load_meeting(meeting_id, expected_version)
    if not state.get("retracted"):
        raise CommandError("not retracted", {"meeting_id": ["The meeting is not retracted."]})
    rows = _append(
        stream_type=MEETING,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[MeetingRestored(note=note)],
        context=context,
    )
    return _meeting_row(stream_id, rows)


# --- articles -----------------------------------------------------------------------------


def canonical_url(url: str) -> str:
    """Strip whitespace and the fragment: the part of a URL that never names another page."""
    return url.strip().split("#", 1)[0]


def _validate_article(values: dict[str, Any], errors: _Errors) -> dict[str, Any]:
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name not in ARTICLE_FIELDS or name == "content_hash":
            errors.add(name, "Not a field of an article.")
            continue
        if isinstance(value, dt.datetime) and name == "published_at":
            if value.tzinfo is None:
                errors.add(name, "Needs a time zone.")
                continue
            value = value.isoformat()
        if isinstance(value, dt.date) and name == "published_date":
            value = value.isoformat()
        value = "" if value is None else value
        if not isinstance(value, str):
            errors.add(name, "Must be a string.")
            continue
        value = value.strip()
        if name in ("url", "canonical_url") and value:
            value = canonical_url(value) if name == "canonical_url" else value
            if not re.match(r"^https?://", value, re.I):
                errors.add(name, "Must be an http(s) URL.")
                continue
        if name == "published_at" and value:
            try:
                parsed = dt.datetime.fromisoformat(value)
            except ValueError:
                errors.add(name, "Not an ISO 8601 date-time.")
                continue
            if parsed.tzinfo is None:
                errors.add(name, "Needs a time zone.")
                continue
        if name == "published_date" and value:
            try:
                partialdate.validate(value)
            except partialdate.InvalidPartialDate as exc:
                errors.add(name, str(exc))
                continue
            if len(value) != 10:
                errors.add(name, "Must be a full YYYY-MM-DD date.")
                continue
        limits = {"title": 500, "publisher": 200, "wire_service": 100, "author": 300, "language": 16}
        if name in limits and len(value) > limits[name]:
            errors.add(name, f"At most {limits[name]} characters.")
            continue
        clean[name] = value
    return clean


def article_find_existing(*, canonical_url: str = "", content_hash: str = "") -> SourceArticle | None:
    """The article already stored under this canonical URL (first) or body hash, if any."""
    if canonical_url and content_hash:
        # one query: the URL's article if there is one, else the body's
        same_url = Q(canonical_url=canonical_url)
        return (
            SourceArticle.objects.filter(same_url | Q(content_hash=content_hash))
            .order_by(Case(When(same_url, then=0), default=1), "created_at", "id")
            .first()
        )
    if canonical_url:
        return SourceArticle.objects.filter(canonical_url=canonical_url).order_by("created_at", "id").first()
    if content_hash:
        return SourceArticle.objects.filter(content_hash=content_hash).order_by("created_at", "id").first()
    return None


@transaction.atomic
def article_register(
    *, context: Context, expected_version: int = 0, text: str = "", duplicate_of: uuid.UUID | None = None,
    unseen: bool = False, **fields: Any,
) -> SourceArticle:
    """Store an article's metadata (and its body in the content store), once.

    Registering the same canonical URL, or the same body text, again returns the existing
    article and appends nothing. `duplicate_of`: a syndicated copy recognised on arrival is
    registered already marked as a copy of that article (one append instead of two commands).
    `unseen`: the caller's `article_find_existing` of this URL's `canonical_url` and this
    text's hash, in the same transaction, found nothing; it is not looked up again (a
    registration racing it still meets it on the article's stream).
    """
    errors = _Errors()
    clean = _validate_article(fields, errors)
    if not isinstance(text, str):
        errors.add("text", "Must be a string.")
    if not clean.get("canonical_url") and clean.get("url"):
        clean["canonical_url"] = canonical_url(clean["url"])
    if not clean.get("canonical_url") and not text:
        errors.add("url", "An article needs a URL or its text.")
    if expected_version != 0:
        errors.add("expected_version", "A new article starts at version 0.")
    errors.raise_if_any("the article was not registered")
    digest = content_hash(text) if text else ""
    existing = None if unseen else article_find_existing(canonical_url=clean.get("canonical_url", ""), content_hash=digest)
    if existing:
        return existing
    if text:
        content_put(text)
    # The id derives from what makes the article unique, so two racing registrations of one
    # article collide on the same stream (a conflict) instead of making two articles.
    key = f"url:{clean['canonical_url']}" if clean.get("canonical_url") else f"sha256:{digest}"
    stream_id = uuid.uuid5(ARTICLE_NS, key)
    events: list[Any] = [ArticleRegistered(**clean, content_hash=digest)]
    links: list[list[uuid.UUID]] = [[]]
    of = _original_of(stream_id, duplicate_of) if duplicate_of else ""
    if of:
        # linked to the original as article_mark_duplicate's event would be; the registration is not
        events.append(ArticleMarkedDuplicate(of=of))
        links.append([uuid.UUID(of)])
    try:
        append_many(
            [StreamWrite(ARTICLE, stream_id, 0, events, event_related_ids=links)], context=context
        )
    except ConcurrencyConflict:
        # Someone registered the same article a moment ago: theirs is the article.
        winner = SourceArticle.objects.filter(pk=stream_id).first()
        if winner is None:
            raise
        return winner
    return SourceArticle.objects.get(pk=stream_id)


def _load_article(article_id: Any, expected_version: int | None, field: str = "article_id") -> tuple[uuid.UUID, dict]:
    stream_id = _as_uuid(article_id)
    if stream_id is None:
        raise CommandError("not an article id", {field: [f"{article_id!r} is not a valid id."]})
    try:
        state, version = load(stream_id, stream_type=ARTICLE)
    except StreamNotFound:
        raise CommandError("no such article", {field: [f"No article with id {stream_id}."]}) from None
    if expected_version is not None:
        _check_version(stream_id, version, expected_version)
    return stream_id, state


@transaction.atomic
def article_revise(
    *, article_id: uuid.UUID, changes: dict[str, Any], context: Context, expected_version: int
) -> SourceArticle:
    """Correct an article's metadata (the body hash never changes)."""
    stream_id, state = _load_article(article_id, expected_version)
    errors = _Errors()
    clean = _validate_article(dict(changes), errors)
    errors.raise_if_any("the article was not changed")
    delta = {k: v for k, v in clean.items() if state.get(k) != v}
    if delta:
        append(
            stream_type=ARTICLE,
            stream_id=stream_id,
            expected_version=expected_version,
            events=[ArticleRevised(changes=delta)],
            context=context,
        )
    return SourceArticle.objects.get(pk=stream_id)


def _original_of(stream_id: uuid.UUID, of_id: Any) -> str:
    """The root original of `of_id`, for marking `stream_id` a copy of it (never a cycle)."""
    original_id, original = _load_article(of_id, None, "of_id")
    if original_id == stream_id:
        raise CommandError("an article is not a copy of itself", {"of_id": ["Pick another article."]})
    # Point at the root original, so chains of copies never form cycles.
    seen: set[uuid.UUID] = set()
    while original.get("duplicate_of") and original_id != stream_id and original_id not in seen:
        seen.add(original_id)
        original_id, original = _load_article(original["duplicate_of"], None, "of_id")
    if original_id == stream_id:
        raise CommandError("that would make a cycle", {"of_id": ["That article is a copy of this one."]})
    return str(original_id)


@transaction.atomic
def article_mark_duplicate(
    *, article_id: uuid.UUID, of_id: uuid.UUID | None, context: Context, expected_version: int
) -> SourceArticle:
    """Mark an article as a syndicated copy of another (None clears the mark)."""
    stream_id, state = _load_article(article_id, expected_version)
    of = _original_of(stream_id, of_id) if of_id else ""
    if (state.get("duplicate_of") or "") == of:
        return SourceArticle.objects.get(pk=stream_id)
    append(
        stream_type=ARTICLE,
        stream_id=stream_id,
        expected_version=expected_version,
        events=[ArticleMarkedDuplicate(of=of)],
        context=context,
        related_ids=[uuid.UUID(of)] if of else [],
    )
    return SourceArticle.objects.get(pk=stream_id)


# --- many meetings at once (imports) ------------------------------------------------------

# Keys of a `meeting_record_many` item that are not scalar meeting fields.
_ITEM_KEYS = ("meeting_id", "participants", "citations")


class _PersonLookup:
    """Names and surviving records of every person id a batch mentions, read in two queries."""

    def __init__(self, items: Sequence[Any]) -> None:
        from people.selectors import person_names_many

        ids = set()
        for item in items:
            for p in (item.get("participants") or []) if isinstance(item, dict) else []:
                parsed = _as_uuid(p.get("person_id")) if isinstance(p, dict) and p.get("person_id") else None
                if parsed is not None:
                    ids.add(parsed)
        self.found = person_names_many(ids)  # id -> (surviving id, its name)

    def name(self, person_id: str) -> str | None:
        found = self.found.get(uuid.UUID(person_id))
        return found[1] if found else None

    def resolve(self, person_id: str) -> uuid.UUID | None:
        found = self.found.get(uuid.UUID(str(person_id)))
        return found[0] if found else None


def _validate_citations(raw: Any, errors: _Errors, articles: set[uuid.UUID]) -> list[tuple[uuid.UUID, list[dict]]]:
    """(article id, evidence) of a new meeting's citations: known articles, each cited once."""
    if raw is None:
        return []
    if not isinstance(raw, list | tuple):
        errors.add("citations", "Must be a list of {article_id, evidence}.")
        return []
    out: list[tuple[uuid.UUID, list[dict]]] = []
    for i, item in enumerate(raw):
        field = f"citations[{i}]"
        if not isinstance(item, dict):
            errors.add(field, "Each citation is an object with an article_id and evidence.")
            continue
        article_id = _as_uuid(item.get("article_id"))
        if article_id is None or article_id not in articles:
            errors.add(field, f"No article with id {item.get('article_id')}.")
            continue
        if any(a == article_id for a, _ in out):
            errors.add(field, "This article is already cited for this meeting.")
            continue
        cited = _Errors()
        evidence = _validate_evidence(item.get("evidence"), cited)
        for message in cited.errors.get("evidence", []):
            errors.add(f"{field}.evidence", message)
        if not cited.errors:
            out.append((article_id, evidence))
    return out


def _known_articles(items: Sequence[Any]) -> set[uuid.UUID]:
    ids = set()
    for item in items:
        citations = item.get("citations") if isinstance(item, dict) else None
        for c in citations if isinstance(citations, list | tuple) else []:
            parsed = _as_uuid(c.get("article_id")) if isinstance(c, dict) else None
            if parsed is not None:
                ids.add(parsed)
    return set(SourceArticle.objects.filter(pk__in=ids).values_list("pk", flat=True)) if ids else set()


def _meeting_writes(items: Sequence[Any]) -> tuple[list[StreamWrite], dict[str, list[str]]]:
    """Validate every item and build its stream's events; (writes, errors by "meetings[i].field")."""
    people = _PersonLookup(items)
    articles = _known_articles(items)
    given = [_as_uuid(item.get("meeting_id")) for item in items if isinstance(item, dict) and item.get("meeting_id")]
    taken = set(Meeting.objects.filter(pk__in=[g for g in given if g]).values_list("pk", flat=True)) if given else set()
    seen: set[uuid.UUID] = set()
    writes: list[StreamWrite] = []
    all_errors: dict[str, list[str]] = {}
    for n, item in enumerate(items):
        errors = _Errors()
        if not isinstance(item, dict):
            all_errors[f"meetings[{n}]"] = ["Each meeting is an object of meeting fields."]
            continue
        fields = {k: v for k, v in item.items() if k not in _ITEM_KEYS}
        clean = _validate_fields(fields, errors)
        entries = _validate_participants(
            item.get("participants"), errors, person_name=people.name, resolve=people.resolve
        )
        citations = _validate_citations(item.get("citations"), errors, articles)
        stream_id = _as_uuid(item["meeting_id"]) if item.get("meeting_id") else uuid.uuid4()
        if stream_id is None:
            errors.add("meeting_id", f"{item['meeting_id']!r} is not a valid id.")
        elif stream_id in taken or stream_id in seen:
            errors.add("meeting_id", f"A meeting with id {stream_id} is already recorded.")
        for field, messages in errors.errors.items():
            all_errors[f"meetings[{n}].{field}"] = messages
        if errors.errors or stream_id is None:
            continue
        seen.add(stream_id)
        # The events meeting_record and meeting_cite_article append, with the same links.
        events: list[Any] = [MeetingRecorded(**clean, participants=entries)]
        links: list[list[uuid.UUID]] = [_person_uuids(entries)]
        for article_id, evidence in citations:
            events.append(ArticleCited(id=str(uuid.uuid4()), article_id=str(article_id), evidence=evidence))
            links.append([article_id])
        writes.append(StreamWrite(MEETING, stream_id, 0, events, event_related_ids=links))
    return writes, all_errors


def meeting_validate_many(*, meetings: Sequence[dict]) -> dict[str, list[str]]:
    """The errors `meeting_record_many` would raise for these items ({} if none); stores nothing."""
    return _meeting_writes(meetings)[1]


@transaction.atomic
def meeting_record_many(*, meetings: Sequence[dict], context: Context) -> list[uuid.UUID]:
    """Record many meetings with their participants and citations, all or none; return their ids.

    Each item holds what `meeting_record` takes (fields, participants, an optional
    meeting_id) plus `citations`: [{"article_id", "evidence"}] of registered articles. Every
    item is checked before anything is stored: one bad item raises CommandError with errors
    under "meetings[<index>].<field>" and nothing is recorded. Each meeting gets the events
    `meeting_record` and `meeting_cite_article` would append (a MeetingRecorded, then one
    ArticleCited per citation), all appended in one go and projected in bulk.
    """
    with cyclic_gc_paused():
        writes, errors = _meeting_writes(meetings)
        if errors:
            raise CommandError("no meeting was recorded", errors)
        append_many(writes, context=context)
    return [w.stream_id for w in writes]
