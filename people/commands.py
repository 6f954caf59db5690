"""Commands on officials, organizations and posts: the only code that appends their events.

Each command validates its input (`CommandError` with per-field messages), loads the
stream, checks the version its caller saw (`ConcurrencyConflict` when stale), decides and
appends in one transaction; the inline projection updates the read models.

Creating commands return the new stream id; the others return the stored events, which is
an empty list when the command changes nothing (e.g. adding an alias the person already
has under exactly that spelling: a duplicate alias is a no-op, not an error, so robots and
the demo loader can repeat themselves safely).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from typing import Any

from django.db import transaction

from tracker.common import partialdate
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    StoredEvent,
    StreamNotFound,
    StreamWrite,
    append,
    append_many,
    hold_append_lock,
    load,
)

from . import aggregates  # noqa: F401  (registers the stream types)
from .events import (
    ORGANIZATION,
    PERSON,
    POST,
    AliasAdded,
    AliasRemoved,
    ExternalIdRecorded,
    OrganizationRegistered,
    OrganizationRenamed,
    PersonAbsorbed,
    PersonCountrySet,
    PersonMergedInto,
    PersonRegistered,
    PersonRenamed,
    PersonUnmerged,
    PostCreated,
    PostRetitled,
    TenureCorrected,
    TenureEnded,
    TenureRemoved,
    TenureStarted,
)
from .models import Alias, Organization, Post
from .names import normalize_name

UNSET: Any = object()
NAME_MAX = 200
TITLE_MAX = 300
COUNTRY_RE = re.compile(r"^[A-Z]{2}$")
SCHEME_RE = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
EXTERNAL_ID_PATTERNS = {"wikidata": re.compile(r"^Q[1-9]\d*$")}
ALIAS_KINDS = tuple(Alias.Kind.values)


# --- validation helpers -------------------------------------------------------------------


def _fail(field: str, message: str) -> CommandError:
    return CommandError(message, {field: [message]})


def _as_uuid(value: uuid.UUID | str, field: str) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise _fail(field, f"{value!r} is not a valid id") from None


def _clean_name(value: str, field: str = "name", max_length: int = NAME_MAX) -> str:
    name = " ".join((value or "").split())
    if not name:
        raise _fail(field, "This field is required.")
    if not normalize_name(name):
        raise _fail(field, "A name needs at least one letter.")
    if len(name) > max_length:
        raise _fail(field, f"At most {max_length} characters.")
    return name


def _clean_country(value: str, field: str = "country") -> str:
    country = (value or "").strip().upper()
    if country and not COUNTRY_RE.match(country):
        raise _fail(field, f"{value!r} is not an ISO 3166-1 alpha-2 code, e.g. 'KR'.")
    return country


def _clean_date(value: str | None, field: str) -> str:
    if not value:
        return ""
    try:
        return partialdate.validate(value.strip() if isinstance(value, str) else value)
    except partialdate.InvalidPartialDate as exc:
        raise _fail(field, str(exc)) from None


def _check_order(start: str, end: str) -> None:
    if start and end and partialdate.last_day(end) < partialdate.first_day(start):
        raise _fail("end", f"The end ({end}) is before the start ({start}).")


def _clean_sources(sources: Sequence[str]) -> list[str]:
    if isinstance(sources, str):
        sources = [sources]
    if not all(isinstance(s, str) for s in sources):
        raise _fail("sources", "Each source is a URL or a note (text).")
    return [s.strip() for s in sources if s.strip()]


def _load(stream_type: str, stream_id: uuid.UUID, field: str) -> tuple[dict, int]:
    try:
        return load(stream_id, stream_type=stream_type)
    except StreamNotFound:
        raise _fail(field, f"No {stream_type} with id {stream_id}.") from None


def _load_checked(
    stream_type: str, stream_id: uuid.UUID, expected_version: int, field: str
) -> dict:
    """Load a stream and refuse a stale version up front, so no-ops are checked too."""
    state, version = _load(stream_type, stream_id, field)
    if version != expected_version:
        raise ConcurrencyConflict(stream_id=stream_id, expected=expected_version, current=version)
    return state


def _load_live_person(person_id: uuid.UUID | str, expected_version: int) -> tuple[uuid.UUID, dict]:
    pid = _as_uuid(person_id, "person_id")
    state = _load_checked(PERSON, pid, expected_version, "person_id")
    if state["merged_into"]:
        raise _fail(
            "person_id",
            f"This person was merged into {state['merged_into']}; edit that record instead.",
        )
    return pid, state


def _person_append(
    pid: uuid.UUID, version: int, events: list, context: Context
) -> list[StoredEvent]:
    if not events:
        return []
    return append(
        stream_type=PERSON, stream_id=pid, expected_version=version, events=events, context=context
    )


def _clean_text(value: str | None, field: str, max_length: int) -> str:
    text = " ".join((value or "").split())
    if len(text) > max_length:
        raise _fail(field, f"At most {max_length} characters.")
    return text


def _alias_event(name: str, *, kind: str, language: str, script: str, source: str) -> AliasAdded:
    if kind not in ALIAS_KINDS:
        raise _fail("kind", f"Unknown alias kind {kind!r}; one of {', '.join(ALIAS_KINDS)}.")
    return AliasAdded(
        alias_id=str(uuid.uuid4()),
        name=name,
        kind=kind,
        language=_clean_text(language, "language", 16),  # a BCP 47 tag such as "ko"
        script=_clean_text(script, "script", 8),  # an ISO 15924 code such as "Hang"
        source=_clean_text(source, "source", 500),
    )


def _known_spellings(state: dict) -> set[str]:
    return {state["name"], *(a["name"] for a in state["aliases"].values())}


# --- persons ------------------------------------------------------------------------------


@transaction.atomic
def person_register(
    *,
    name: str,
    country: str = "",
    sort_name: str = "",
    external_ids: dict[str, str] | None = None,
    aliases: Sequence[str] = (),
    context: Context,
    person_id: uuid.UUID | None = None,
    idempotency_key: str | None = None,
) -> uuid.UUID:
    """Record a new person (optionally with aliases); return their id."""
    name = _clean_name(name)
    ids = {}
    for scheme, value in (external_ids or {}).items():
        scheme, value = _clean_external_id(scheme, value)
        if value:
            ids[scheme] = value
    events: list = [
        PersonRegistered(
            name=name,
            sort_name=_clean_text(sort_name, "sort_name", NAME_MAX),
            country=_clean_country(country),
            external_ids=ids,
        )
    ]
    seen = {name}
    for alias in aliases:
        alias = _clean_name(alias, "aliases")
        if alias not in seen:
            seen.add(alias)
            events.append(_alias_event(alias, kind="variant", language="", script="", source=""))
    pid = person_id or uuid.uuid4()
    stored = append(
        stream_type=PERSON,
        stream_id=pid,
        expected_version=0,
        events=events,
        context=context,
        idempotency_key=idempotency_key,
    )
    return stored[0].stream_id


@transaction.atomic
def person_rename(
    *,
    person_id: uuid.UUID | str,
    name: str,
    sort_name: str | None = None,
    keep_old_as_alias: bool = False,
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Change the canonical name (and sort name); optionally keep the old name as an alias."""
    pid, state = _load_live_person(person_id, expected_version)
    name = _clean_name(name)
    sort = (
        state["sort_name"] if sort_name is None else _clean_text(sort_name, "sort_name", NAME_MAX)
    )
    if name == state["name"] and sort == state["sort_name"]:
        return []
    events: list = [PersonRenamed(name=name, sort_name=sort)]
    other_spellings = {name, *(a["name"] for a in state["aliases"].values())}
    if keep_old_as_alias and state["name"] not in other_spellings:
        events.append(_alias_event(state["name"], kind="former", language="", script="", source=""))
    return _person_append(pid, expected_version, events, context)


@transaction.atomic
def person_country_set(
    *, person_id: uuid.UUID | str, country: str, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Set the country the person serves (blank clears it)."""
    pid, state = _load_live_person(person_id, expected_version)
    country = _clean_country(country)
    if country == state["country"]:
        return []
    return _person_append(pid, expected_version, [PersonCountrySet(country=country)], context)


@transaction.atomic
def person_alias_add(
    *,
    person_id: uuid.UUID | str,
    name: str,
    kind: str = "variant",
    language: str = "",
    script: str = "",
    source: str = "",
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Add an alias; a spelling the person already has (as name or alias) appends nothing."""
    pid, state = _load_live_person(person_id, expected_version)
    name = _clean_name(name)
    event = _alias_event(name, kind=kind, language=language, script=script, source=source)
    if name in _known_spellings(state):
        return []
    return _person_append(pid, expected_version, [event], context)


@transaction.atomic
def person_alias_remove(
    *,
    person_id: uuid.UUID | str,
    alias_id: uuid.UUID | str,
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Remove one of the person's aliases."""
    pid, state = _load_live_person(person_id, expected_version)
    aid = str(_as_uuid(alias_id, "alias_id"))
    if aid not in state["aliases"]:
        raise _fail("alias_id", f"The person has no alias {aid}.")
    return _person_append(pid, expected_version, [AliasRemoved(alias_id=aid)], context)


def _require_post(post_id: uuid.UUID | str) -> str:
    pid = _as_uuid(post_id, "post_id")
    _load(POST, pid, "post_id")
    return str(pid)


def _require_tenure(state: dict, tenure_id: uuid.UUID | str) -> tuple[str, dict]:
    tid = str(_as_uuid(tenure_id, "tenure_id"))
    if tid not in state["tenures"]:
        raise _fail("tenure_id", f"The person has no tenure {tid}.")
    return tid, state["tenures"][tid]


@transaction.atomic
def person_tenure_start(
    *,
    person_id: uuid.UUID | str,
    post_id: uuid.UUID | str,
    start: str = "",
    end: str = "",
    acting: bool = False,
    sources: Sequence[str] = (),
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Record that the person holds a post from `start` (partial dates; `end` if known)."""
    pid, _state = _load_live_person(person_id, expected_version)
    start, end = _clean_date(start, "start"), _clean_date(end, "end")
    _check_order(start, end)
    event = TenureStarted(
        tenure_id=str(uuid.uuid4()),
        post_id=_require_post(post_id),
        start=start,
        end=end,
        acting=bool(acting),
        sources=_clean_sources(sources),
    )
    return _person_append(pid, expected_version, [event], context)


@transaction.atomic
def person_tenure_end(
    *,
    person_id: uuid.UUID | str,
    tenure_id: uuid.UUID | str,
    end: str,
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Record the end of an open tenure (an ended one is changed with person_tenure_correct)."""
    pid, state = _load_live_person(person_id, expected_version)
    tid, tenure = _require_tenure(state, tenure_id)
    end = _clean_date(end, "end")
    if not end:
        raise _fail("end", "This field is required.")
    if tenure["end"]:
        raise _fail("end", f"The tenure already ended on {tenure['end']}; correct it instead.")
    _check_order(tenure["start"], end)
    return _person_append(pid, expected_version, [TenureEnded(tenure_id=tid, end=end)], context)


@transaction.atomic
def person_tenure_correct(
    *,
    person_id: uuid.UUID | str,
    tenure_id: uuid.UUID | str,
    post_id: uuid.UUID | str = UNSET,
    start: str = UNSET,
    end: str = UNSET,
    acting: bool = UNSET,
    sources: Sequence[str] = UNSET,
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Correct any of a tenure's facts; arguments left out keep their value."""
    pid, state = _load_live_person(person_id, expected_version)
    tid, tenure = _require_tenure(state, tenure_id)
    new = dict(tenure)
    if post_id is not UNSET:
        new["post_id"] = _require_post(post_id)
    if start is not UNSET:
        new["start"] = _clean_date(start, "start")
    if end is not UNSET:
        new["end"] = _clean_date(end, "end")
    if acting is not UNSET:
        new["acting"] = bool(acting)
    if sources is not UNSET:
        new["sources"] = _clean_sources(sources)
    _check_order(new["start"], new["end"])
    if new == tenure:
        return []
    return _person_append(pid, expected_version, [TenureCorrected(tenure_id=tid, **new)], context)


@transaction.atomic
def person_tenure_remove(
    *,
    person_id: uuid.UUID | str,
    tenure_id: uuid.UUID | str,
    expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Withdraw a tenure recorded in error."""
    pid, state = _load_live_person(person_id, expected_version)
    tid, _tenure = _require_tenure(state, tenure_id)
    return _person_append(pid, expected_version, [TenureRemoved(tenure_id=tid)], context)


def _clean_external_id(scheme: str, value: str) -> tuple[str, str]:
    scheme = (scheme or "").strip().lower()
    if not SCHEME_RE.match(scheme):
        raise _fail("scheme", f"{scheme!r} is not a scheme name such as 'wikidata'.")
    value = (value or "").strip()
    pattern = EXTERNAL_ID_PATTERNS.get(scheme)
    if value and pattern and not pattern.match(value):
        raise _fail("value", f"{value!r} is not a valid {scheme} id.")
    if len(value) > 200:
        raise _fail("value", "At most 200 characters.")
    return scheme, value


@transaction.atomic
def person_external_id_record(
    *, person_id: uuid.UUID | str, scheme: str, value: str, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Record the person's id in another system (a blank value removes it)."""
    pid, state = _load_live_person(person_id, expected_version)
    scheme, value = _clean_external_id(scheme, value)
    if state["external_ids"].get(scheme, "") == value:
        return []
    return _person_append(
        pid, expected_version, [ExternalIdRecorded(scheme=scheme, value=value)], context
    )


@transaction.atomic
def person_merge(
    *,
    loser_id: uuid.UUID | str,
    winner_id: uuid.UUID | str,
    loser_expected_version: int,
    winner_expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Merge a duplicate record into another: its names become aliases, its tenures move.

    The loser keeps its id as a redirect (`merged_into`). Both streams are written in one
    transaction, each checked against the version its caller saw.
    """
    loser = _as_uuid(loser_id, "loser_id")
    winner = _as_uuid(winner_id, "winner_id")
    if loser == winner:
        raise _fail("winner_id", "A person cannot be merged into itself.")
    loser_state = _load_checked(PERSON, loser, loser_expected_version, "loser_id")
    winner_state = _load_checked(PERSON, winner, winner_expected_version, "winner_id")
    if loser_state["merged_into"]:
        raise _fail(
            "loser_id", f"This person was already merged into {loser_state['merged_into']}."
        )
    if winner_state["merged_into"]:
        raise _fail(
            "winner_id",
            f"Cannot merge into a merged person; merge into {winner_state['merged_into']} instead.",
        )
    known = _known_spellings(winner_state)
    new_aliases: list[dict] = []
    candidates = [
        {"name": loser_state["name"], "kind": "merged", "language": "", "script": "", "source": ""}
    ]
    candidates += list(loser_state["aliases"].values())
    for alias in candidates:
        if alias["name"] in known:
            continue
        known.add(alias["name"])
        new_aliases.append({"alias_id": str(uuid.uuid4()), **alias})
    tenures = [{"tenure_id": tid, **t} for tid, t in loser_state["tenures"].items()]
    related = [loser, winner]
    return append_many(
        [
            StreamWrite(
                PERSON,
                loser,
                loser_expected_version,
                [PersonMergedInto(into=str(winner), tenure_ids=[t["tenure_id"] for t in tenures])],
                related,
            ),
            StreamWrite(
                PERSON,
                winner,
                winner_expected_version,
                [PersonAbsorbed(from_person=str(loser), aliases=new_aliases, tenures=tenures)],
                related,
            ),
        ],
        context=context,
    )


@transaction.atomic
def person_unmerge(
    *,
    loser_id: uuid.UUID | str,
    loser_expected_version: int,
    winner_expected_version: int,
    context: Context,
) -> list[StoredEvent]:
    """Undo a merge: the loser is its own record again and gets its tenures back.

    The aliases the merge gave the winner are removed from it. Tenures the loser brought
    go back as they stand now (corrections made after the merge are kept; tenures removed
    since stay removed).
    """
    loser = _as_uuid(loser_id, "loser_id")
    loser_state = _load_checked(PERSON, loser, loser_expected_version, "loser_id")
    if not loser_state["merged_into"]:
        raise _fail("loser_id", "This person is not merged into anyone.")
    winner = uuid.UUID(loser_state["merged_into"])
    winner_state = _load_checked(PERSON, winner, winner_expected_version, "winner_id")
    if winner_state["merged_into"]:
        raise _fail(
            "loser_id",
            f"{winner} was itself merged into {winner_state['merged_into']}; un-merge that first.",
        )
    absorbed = winner_state["absorbed"].get(str(loser), {"alias_ids": [], "tenure_ids": []})
    alias_ids = [a for a in absorbed["alias_ids"] if a in winner_state["aliases"]]
    tenures = [
        {"tenure_id": tid, **winner_state["tenures"][tid]}
        for tid in absorbed["tenure_ids"]
        if tid in winner_state["tenures"]
    ]
    event = PersonUnmerged(
        loser=str(loser), winner=str(winner), alias_ids=alias_ids, tenures=tenures
    )
    related = [loser, winner]
    return append_many(
        [
            StreamWrite(PERSON, loser, loser_expected_version, [event], related),
            StreamWrite(PERSON, winner, winner_expected_version, [event], related),
        ],
        context=context,
    )


# --- organizations and posts --------------------------------------------------------------


def _organization_find(name: str, country: str) -> Organization | None:
    key = normalize_name(name)
    for org in Organization.objects.filter(country=country).order_by("id"):
        if normalize_name(org.name) == key:
            return org
    return None


def _post_find(title: str, organization_id: uuid.UUID) -> Post | None:
    key = normalize_name(title)
    for post in Post.objects.filter(organization_id=organization_id).order_by("id"):
        if normalize_name(post.title) == key:
            return post
    return None


@transaction.atomic
def organization_register(
    *, name: str, country: str = "", context: Context, organization_id: uuid.UUID | None = None
) -> uuid.UUID:
    """Record a new organization; refuse one already recorded under that name and country."""
    name = _clean_name(name, max_length=TITLE_MAX)
    country = _clean_country(country)
    hold_append_lock()  # no other registration of this name can commit between check and append
    existing = _organization_find(name, country)
    if existing is not None:
        raise _fail(
            "name", f"{existing.name} ({country or 'no country'}) exists already: {existing.id}."
        )
    stored = append(
        stream_type=ORGANIZATION,
        stream_id=organization_id or uuid.uuid4(),
        expected_version=0,
        events=[OrganizationRegistered(name=name, country=country)],
        context=context,
    )
    return stored[0].stream_id


@transaction.atomic
def organization_rename(
    *, organization_id: uuid.UUID | str, name: str, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Rename an organization."""
    oid = _as_uuid(organization_id, "organization_id")
    state = _load_checked(ORGANIZATION, oid, expected_version, "organization_id")
    name = _clean_name(name, max_length=TITLE_MAX)
    if name == state["name"]:
        return []
    return append(
        stream_type=ORGANIZATION,
        stream_id=oid,
        expected_version=expected_version,
        events=[OrganizationRenamed(name=name)],
        context=context,
    )


@transaction.atomic
def post_create(
    *,
    title: str,
    organization_id: uuid.UUID | str,
    context: Context,
    post_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a post (a title at an organization); refuse a second post of the same title there."""
    oid = _as_uuid(organization_id, "organization_id")
    _load(ORGANIZATION, oid, "organization_id")
    title = _clean_name(title, "title", max_length=TITLE_MAX)
    hold_append_lock()  # as organization_register: the check stands until the append
    existing = _post_find(title, oid)
    if existing is not None:
        raise _fail(
            "title", f"{existing.title} exists already at this organization: {existing.id}."
        )
    stored = append(
        stream_type=POST,
        stream_id=post_id or uuid.uuid4(),
        expected_version=0,
        events=[PostCreated(title=title, organization_id=str(oid))],
        context=context,
    )
    return stored[0].stream_id


@transaction.atomic
def post_retitle(
    *, post_id: uuid.UUID | str, title: str, expected_version: int, context: Context
) -> list[StoredEvent]:
    """Change a post's title."""
    pid = _as_uuid(post_id, "post_id")
    state = _load_checked(POST, pid, expected_version, "post_id")
    title = _clean_name(title, "title", max_length=TITLE_MAX)
    if title == state["title"]:
        return []
    return append(
        stream_type=POST,
        stream_id=pid,
        expected_version=expected_version,
        events=[PostRetitled(title=title)],
        context=context,
    )


@transaction.atomic
def post_ensure(
    *, title: str, organization_name: str, country: str = "", context: Context
) -> uuid.UUID:
    """Return the id of the post `title` at the named organization, creating either if missing.

    Names match by their normalised key, so spacing, case and accents do not split records.
    When either is missing, the log's append lock is taken and it is looked up again, so two
    concurrent first calls create it once (the second finds the first's, committed by then).
    """
    title = _clean_name(title, "title", max_length=TITLE_MAX)
    organization_name = _clean_name(organization_name, "organization_name", max_length=TITLE_MAX)
    country = _clean_country(country)
    org = _organization_find(organization_name, country)
    post = _post_find(title, org.id) if org else None
    if post is not None:
        return post.id  # the common case: both on record, no lock
    hold_append_lock()
    org = _organization_find(organization_name, country)
    oid = (
        org.id
        if org
        else organization_register(name=organization_name, country=country, context=context)
    )
    post = _post_find(title, oid)
    return post.id if post else post_create(title=title, organization_id=oid, context=context)
