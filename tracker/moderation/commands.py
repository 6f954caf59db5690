"""Commands of the moderation queue: submit, edit, accept, reject, attach, supersede, pairs.

Permission failures raise `PermissionDenied` (HTTP 403 in DRF, an error in the admin); bad
input or a decided proposal raises `CommandError`. Every command takes the acting `user`
(for the role checks) and the `context` its events are recorded with.
"""
from __future__ import annotations

import copy
import dataclasses
import json
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction

from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    StoredEvent,
    StreamNotFound,
    append,
    current_version,
    load,
    load_stream,
)

from .aggregates import evidence_articles  # and registers the stream types
from .events import (
    ChangeProposed,
    PairDistinctionWithdrawn,
    PairMarkedDistinct,
    ProposalAccepted,
    ProposalAttached,
    ProposalConflicted,
    ProposalEdited,
    ProposalMarkedStale,
    ProposalRejected,
    ProposalSuperseded,
)
from .models import Proposal
from .registry import command_spec, command_targets
from .roles import can_apply, can_propose, can_review, is_own
from .selectors import locked_fields, pair_id, stale_targets

PROPOSAL_NS = uuid.UUID("9b1c3f0a-77d2-4c36-a2f5-5f0e1d8c2b44")
OPEN = ("pending", "stale", "conflict")


@dataclasses.dataclass(frozen=True)
class Submitted:
    """Result of proposal_submit: the proposal and whether this call created it."""

    proposal_id: uuid.UUID
    created: bool
    version: int
    status: str


@dataclasses.dataclass(frozen=True)
class AcceptOutcome:
    """Result of proposal_accept: applied, or marked stale / in conflict (nothing applied)."""

    status: str  # "accepted", "stale" or "conflict"
    proposal_version: int
    applied: list[StoredEvent] = dataclasses.field(default_factory=list)
    problems: list[dict] = dataclasses.field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return self.status == "accepted"


def proposal_id_for(dedupe_key: str) -> uuid.UUID:
    """The proposal stream id a dedupe key always maps to (so a key is raised only once)."""
    return uuid.uuid5(PROPOSAL_NS, dedupe_key)


def _check_actor(user: Any, context: Context) -> None:
    if context.actor_id is not None and user is not None and context.actor_id != user.pk:
        raise CommandError("the context is not the acting user's", {"context": ["actor mismatch"]})


def _stream_uuid(value: Any, index: int) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise CommandError("invalid id", {"commands": [f"#{index}: {value!r} is not a valid id"]}) from None


def _normalise_commands(commands: list[dict]) -> list[dict]:
    """Validate proposed commands against the registry; fill each target from its args."""
    if not commands:
        raise CommandError("a proposal needs at least one command", {"commands": ["This list is empty."]})
    out = []
    for i, item in enumerate(commands):
        errors = []
        name = item.get("command", "")
        try:
            spec = command_spec(name)
        except LookupError:
            raise CommandError(
                f"unknown command {name!r}", {"commands": [f"#{i}: unknown command {name!r}"]}
            ) from None
        args = item.get("args", {})
        if not isinstance(args, dict):
            raise CommandError("invalid proposed commands", {"commands": [f"#{i}: args must be an object"]})
        # Events hold JSON only: UUIDs, dates and decimals from Python callers become strings.
        args = json.loads(json.dumps(args, cls=DjangoJSONEncoder))
        if spec.creates and isinstance(spec.target, str) and not args.get(spec.target):
            # The new record's id is chosen now, so later commands and reviewers can name it.
            args[spec.target] = str(uuid.uuid4())
        for target_arg, version_arg in spec.version_args.items():
            if args.get(target_arg) and args.get(version_arg) is None:
                args[version_arg] = current_version(_stream_uuid(args[target_arg], i))
        raw_target = item.get("target_stream_id") or spec.target_of_raw(args)
        target = _stream_uuid(raw_target, i) if raw_target else None
        expected = item.get("expected_version")
        if expected is None and isinstance(spec.target, str) and spec.target in spec.version_args:
            expected = args.get(spec.version_args[spec.target])
        if expected is None:
            expected = 0 if spec.creates or target is None else current_version(target)
        if not isinstance(expected, int) or expected < 0:
            errors.append(f"#{i}: expected_version must be a non-negative integer")
        if errors:
            raise CommandError("invalid proposed commands", {"commands": errors})
        out.append(
            {
                "command": name,
                "args": copy.deepcopy(args),
                "target_stream_id": str(target) if target else None,
                "expected_version": expected,
            }
        )
    return out


def _normalise_evidence(evidence: dict | None) -> dict:
    if not evidence:
        return {}
    sentences = []
    for s in evidence.get("sentences", []):
        if not isinstance(s, dict) or not isinstance(s.get("text"), str):
            raise CommandError("invalid evidence", {"evidence": ["each sentence needs a text"]})
        sentences.append({"text": s["text"], "start": s.get("start"), "end": s.get("end")})
    article = evidence.get("article_id")
    return {"article_id": str(article) if article else None, "sentences": sentences}


def proposal_submit(
    *,
    user: Any,
    context: Context,
    kind: str,
    commands: list[dict],
    evidence: dict | None = None,
    confidence: float = 1.0,
    dedupe_key: str = "",
    summary: str = "",
    note: str = "",
) -> Submitted:
    """Raise a proposal; with a dedupe key, a key already raised (even if rejected) appends nothing.

    `commands`: [{command, args, target_stream_id?, expected_version?}]; a missing target is
    read from the args the command's registration names, a missing expected version is the
    target's current version (0 for a command that creates its stream).
    """
    _check_actor(user, context)
    if not can_propose(user):
        raise PermissionDenied(f"{user} may not propose changes")
    if kind not in Proposal.Kind.values:
        raise CommandError(f"unknown kind {kind!r}", {"kind": [f"must be one of {Proposal.Kind.values}"]})
    if len(dedupe_key) > 300:
        raise CommandError("dedupe key too long", {"dedupe_key": ["At most 300 characters."]})
    if not 0.0 <= float(confidence) <= 1.0:
        raise CommandError("confidence out of range", {"confidence": ["must be between 0 and 1"]})
    proposal_id = proposal_id_for(dedupe_key) if dedupe_key else uuid.uuid4()
    if dedupe_key:
        existing = _existing(proposal_id)
        if existing is not None:
            return existing
    payload = ChangeProposed(
        author_id=user.pk,
        author_name=user.get_username(),
        author_kind=context.actor_kind,
        kind=kind,
        commands=_normalise_commands(commands),
        evidence=_normalise_evidence(evidence),
        confidence=float(confidence),
        dedupe_key=dedupe_key,
        summary=summary,
        note=note,
    )
    related = [uuid.UUID(t) for c in payload.commands for t, _ in command_targets(c)]
    if payload.evidence.get("article_id"):
        related.append(uuid.UUID(payload.evidence["article_id"]))
    try:
        stored = append(
            stream_type="proposal",
            stream_id=proposal_id,
            expected_version=0,
            events=[payload],
            context=dataclasses.replace(context, proposal_id=str(proposal_id)),
            related_ids=related,
        )
    except ConcurrencyConflict:
        # Another worker raised the same key between the check and the append.
        existing = _existing(proposal_id)
        if existing is None:
            raise
        return existing
    return Submitted(proposal_id, True, stored[-1].version, "pending")


def _existing(proposal_id: uuid.UUID) -> Submitted | None:
    try:
        state, version = load(proposal_id, stream_type="proposal")
    except StreamNotFound:
        return None
    return Submitted(proposal_id, False, version, state["status"])


def _load_proposal(proposal_id: uuid.UUID, expected_version: int) -> dict:
    try:
        state, version = load(proposal_id, stream_type="proposal")
    except StreamNotFound:
        raise CommandError("no such proposal", {"proposal_id": ["not found"]}) from None
    if version != expected_version:
        raise ConcurrencyConflict(stream_id=proposal_id, expected=expected_version, current=version)
    return state


def _require_open(state: dict, action: str) -> None:
    if state["status"] not in OPEN:
        raise CommandError(
            f"a {state['status']} proposal cannot be {action}", {"status": [f"is {state['status']}"]}
        )


def _append_proposal(proposal_id: uuid.UUID, version: int, event: Any, context: Context) -> list[StoredEvent]:
    return append(
        stream_type="proposal",
        stream_id=proposal_id,
        expected_version=version,
        events=[event],
        context=dataclasses.replace(context, proposal_id=str(proposal_id)),
    )


def proposal_edit(
    *,
    proposal_id: uuid.UUID,
    user: Any,
    context: Context,
    expected_version: int,
    args: dict[int, dict] | None = None,
    commands: list[dict] | None = None,
    kind: str = "",
    rebase: bool = False,
    note: str = "",
) -> list[StoredEvent]:
    """Change proposed args (`{command index: {arg: value}}`), replace the commands, or rebase.

    Rebasing means the reviewer has seen what changed in the targets since the proposal was
    made (a stale proposal) and re-bases its expected versions on them; it becomes pending.
    An edit that points a command at another record takes that record's current version.
    """
    _check_actor(user, context)
    if not can_review(user):
        raise PermissionDenied(f"{user} may not edit proposals")
    state = _load_proposal(proposal_id, expected_version)
    _require_open(state, "edited")
    if kind and kind not in Proposal.Kind.values:
        raise CommandError(f"unknown kind {kind!r}", {"kind": [f"must be one of {Proposal.Kind.values}"]})
    if commands is not None:
        new = _normalise_commands(commands)
    else:
        new = copy.deepcopy(state["commands"])
        for index, changes in (args or {}).items():
            i = int(index)
            if not 0 <= i < len(new):
                raise CommandError("no such command", {"args": [f"no command #{i}"]})
            new[i]["args"].update(json.loads(json.dumps(changes, cls=DjangoJSONEncoder)))
            raw = command_spec(new[i]["command"]).target_of_raw(new[i]["args"])
            if raw and str(raw) != new[i]["target_stream_id"]:
                target = _stream_uuid(raw, i)
                new[i]["target_stream_id"] = str(target)
                new[i]["expected_version"] = current_version(target)
    if rebase:
        for c in new:
            spec = command_spec(c["command"])
            if c["target_stream_id"] and not spec.creates:
                c["expected_version"] = current_version(uuid.UUID(c["target_stream_id"]))
            for target_arg, version_arg in spec.version_args.items():
                if c["args"].get(target_arg):
                    c["args"][version_arg] = current_version(uuid.UUID(str(c["args"][target_arg])))
    if new == state["commands"] and kind in ("", state["kind"]) and state["status"] == "pending":
        return []
    event = ProposalEdited(commands=new, note=note, kind=kind if kind != state["kind"] else "")
    return _append_proposal(proposal_id, expected_version, event, context)


def proposal_mark_same(
    *, proposal_id: uuid.UUID, existing_id: uuid.UUID, user: Any, context: Context, expected_version: int
) -> list[StoredEvent]:
    """'This is the same': turn a new-meeting proposal into citing an existing meeting, or a
    new-person proposal into an alias of an existing person. Accept it afterwards as usual.
    """
    state = _load_proposal(proposal_id, expected_version)
    existing = str(existing_id)
    if state["kind"] == Proposal.Kind.NEW_MEETING:
        new_ids = {c["args"].get("meeting_id") for c in state["commands"] if c["command"] == "meeting_record"}
        commands = [
            {"command": c["command"], "args": {**c["args"], "meeting_id": existing}}
            for c in state["commands"]
            if c["command"] != "meeting_record" and c["args"].get("meeting_id") in new_ids
        ]
        if not commands:
            evidence = (state.get("evidence") or [{}])[0]
            if not evidence.get("article_id"):
                raise CommandError("nothing to cite", {"existing_id": ["the proposal has no article to cite"]})
            commands = [{"command": "meeting_cite_article", "args": {
                "meeting_id": existing, "article_id": evidence["article_id"],
                "evidence": [s for s in evidence.get("sentences", []) if isinstance(s.get("start"), int)],
            }}]
        kind = Proposal.Kind.CITE_ARTICLE
    elif state["kind"] == Proposal.Kind.NEW_PERSON:
        names = [c["args"].get("name") for c in state["commands"] if c["command"] == "person_register"]
        commands = [
            {"command": "person_alias_add", "args": {"person_id": existing, "name": name, "kind": "variant"}}
            for name in names
            if name
        ]
        kind = Proposal.Kind.NEW_ALIAS
    else:
        raise CommandError("only new meetings and new persons can be marked the same", {"kind": [state["kind"]]})
    if not commands:
        raise CommandError("nothing to apply to the existing record", {"existing_id": ["no commands left"]})
    return proposal_edit(
        proposal_id=proposal_id, user=user, context=context, expected_version=expected_version,
        commands=commands, kind=kind, note=f"same as {existing}",
    )


class _Undo(Exception):
    """Raised inside the apply transaction to roll it back and report why."""

    def __init__(self, status: str, problems: list[dict]) -> None:
        self.status = status
        self.problems = problems
        super().__init__(status)


def _locked_conflicts(before: dict[str, tuple[dict, set[str]]], touched: list[str]) -> list[dict]:
    """Fields a robot proposal changed that a person had set by hand."""
    conflicts = []
    for target in touched:
        old_state, locked = before[target]
        if not locked:
            continue
        new_state, _ = load(uuid.UUID(target))
        hit = sorted(f for f in locked if old_state.get(f) != new_state.get(f))
        if hit:
            conflicts.append(
                {
                    "stream_id": target,
                    "fields": hit,
                    "changes": {f: [old_state.get(f), new_state.get(f)] for f in hit},
                }
            )
    return conflicts


def proposal_accept(
    *,
    proposal_id: uuid.UUID,
    user: Any,
    context: Context,
    expected_version: int,
    override_locked: bool = False,
) -> AcceptOutcome:
    """Apply every command of a proposal in one transaction, or none of them.

    If a target moved since the proposal was made, nothing is applied and the proposal is
    marked stale with the difference. If the author is a robot and a command would change a
    field a person set by hand, nothing is applied and the proposal is marked in conflict
    (unless the reviewer passes `override_locked`). Any command error rolls everything back
    and propagates; the proposal then stays as it was.
    """
    _check_actor(user, context)
    if not can_apply(user):
        raise PermissionDenied(f"{user} may not apply proposals")
    state = _load_proposal(proposal_id, expected_version)
    _require_open(state, "accepted")
    if is_own(user, state) and not settings.MODERATION_ALLOW_SELF_ACCEPT:
        raise PermissionDenied("a proposal cannot be accepted by its own author")
    apply_context = context.caused_by(
        causation_id=str(proposal_id),
        proposal_id=str(proposal_id),
        via="suggestion",
        source={**(context.source or {}), "proposal_author_kind": state["author_kind"],
                "proposal_author": state["author_name"]},
    )
    try:
        with transaction.atomic():
            applied, positions = _apply(state, apply_context, check_locks=state["author_kind"] == "robot" and not override_locked)
            accepted = _append_proposal(
                proposal_id,
                expected_version,
                ProposalAccepted(
                    reviewer_id=user.pk,
                    reviewer_name=user.get_username(),
                    applied_positions=positions,
                ),
                context,
            )
    except _Undo as undo:
        event = (
            ProposalMarkedStale(targets=undo.problems)
            if undo.status == "stale"
            else ProposalConflicted(conflicts=undo.problems)
        )
        stored = _append_proposal(proposal_id, expected_version, event, context)
        return AcceptOutcome(undo.status, stored[-1].version, [], undo.problems)
    return AcceptOutcome("accepted", accepted[-1].version, applied, [])


def _apply(state: dict, context: Context, *, check_locks: bool) -> tuple[list[StoredEvent], list[int]]:
    """Run the proposal's commands in order (inside the caller's transaction)."""
    commands = state["commands"]
    stale = stale_targets(commands)
    if stale:
        raise _Undo("stale", stale)
    before: dict[str, tuple[dict, set[str]]] = {}
    touched: list[str] = []
    initial: dict[str, int] = {}
    versions: dict[str, int] = {}
    applied: list[StoredEvent] = []
    for c in commands:
        spec = command_spec(c["command"])
        targets = command_targets(c)
        for target, expected_then in targets:
            if target in versions:
                continue
            versions[target] = initial[target] = expected_then
            touched.append(target)
            if check_locks and expected_then > 0:
                old, _ = load(uuid.UUID(target))
                before[target] = (old, locked_fields(uuid.UUID(target)))
        args = copy.deepcopy(c["args"])
        # Earlier commands of this proposal may have moved a target: run against its new version.
        for target_arg, version_arg in spec.version_args.items():
            if args.get(target_arg):
                args[version_arg] = versions[str(args[target_arg])]
        target = c["target_stream_id"]
        expected = versions[target] if target else c["expected_version"]
        try:
            result = spec.fn(args, context, expected)
        except ConcurrencyConflict:
            # A writer slipped in between the staleness check and this command.
            raise _Undo("stale", stale_targets(commands)) from None
        if isinstance(result, list):
            applied += [e for e in result if isinstance(e, StoredEvent)]
        for t, _ in targets:
            versions[t] = current_version(uuid.UUID(t))
    # Positions of everything appended: what the commands returned, plus every event the
    # targets gained (some commands return a read model or an id rather than their events).
    positions = {e.position for e in applied}
    for target in touched:
        positions |= {e.position for e in load_stream(uuid.UUID(target)) if e.version > initial[target]}
    applied = sorted(applied, key=lambda e: e.position)
    if check_locks:
        conflicts = _locked_conflicts(before, [t for t in touched if t in before])
        if conflicts:
            raise _Undo("conflict", conflicts)
    return applied, sorted(positions)


def proposal_reject(
    *, proposal_id: uuid.UUID, user: Any, context: Context, expected_version: int, reason: str
) -> list[StoredEvent]:
    """Reject a proposal, keeping the (required) reason; its dedupe key is never raised again."""
    _check_actor(user, context)
    if not can_review(user):
        raise PermissionDenied(f"{user} may not reject proposals")
    if not (reason or "").strip():
        raise CommandError("a rejection needs a reason", {"reason": ["This field is required."]})
    state = _load_proposal(proposal_id, expected_version)
    _require_open(state, "rejected")
    event = ProposalRejected(reviewer_id=user.pk, reviewer_name=user.get_username(), reason=reason.strip())
    return _append_proposal(proposal_id, expected_version, event, dataclasses.replace(context, reason=reason.strip()))


def proposal_supersede(
    *,
    proposal_id: uuid.UUID,
    by_proposal_id: uuid.UUID,
    user: Any,
    context: Context,
    expected_version: int,
    reason: str = "",
) -> list[StoredEvent]:
    """Mark an open proposal as replaced by another one."""
    _check_actor(user, context)
    if not (can_review(user) or can_propose(user)):
        raise PermissionDenied(f"{user} may not supersede proposals")
    state = _load_proposal(proposal_id, expected_version)
    _require_open(state, "superseded")
    if not can_review(user) and not is_own(user, state):
        raise PermissionDenied("only a reviewer or the author may supersede a proposal")
    if by_proposal_id == proposal_id:
        raise CommandError("a proposal cannot supersede itself", {"by_proposal_id": ["same proposal"]})
    event = ProposalSuperseded(by_proposal_id=str(by_proposal_id), reason=reason)
    return _append_proposal(proposal_id, expected_version, event, context)


def proposal_attach_evidence(
    *, proposal_id: uuid.UUID, user: Any, context: Context, expected_version: int, evidence: dict
) -> list[StoredEvent]:
    """Attach another article's evidence to an open proposal (the same article twice is a no-op)."""
    _check_actor(user, context)
    if not can_propose(user):
        raise PermissionDenied(f"{user} may not attach evidence")
    state = _load_proposal(proposal_id, expected_version)
    _require_open(state, "given evidence")
    item = _normalise_evidence(evidence)
    if not item.get("article_id"):
        raise CommandError("evidence needs an article", {"evidence": ["article_id is required"]})
    if item["article_id"] in evidence_articles(state):
        return []
    return append(
        stream_type="proposal",
        stream_id=proposal_id,
        expected_version=expected_version,
        events=[ProposalAttached(evidence=item)],
        context=dataclasses.replace(context, proposal_id=str(proposal_id)),
        related_ids=[uuid.UUID(item["article_id"])],
    )


def pair_mark_distinct(
    *, a_id: uuid.UUID, b_id: uuid.UUID, user: Any, context: Context, kind: str = "", reason: str = ""
) -> list[StoredEvent]:
    """Remember that two records are not the same (idempotent), so they are never paired again."""
    _check_actor(user, context)
    if not can_review(user):
        raise PermissionDenied(f"{user} may not mark records as distinct")
    a, b = sorted([str(a_id), str(b_id)])
    if a == b:
        raise CommandError("a record is always the same as itself", {"b_id": ["same id as a_id"]})
    stream_id = pair_id(a, b)
    version = current_version(stream_id)
    if version:
        state, version = load(stream_id)
        if state["active"]:
            return []
    return append(
        stream_type="distinct_pair",
        stream_id=stream_id,
        expected_version=version,
        events=[PairMarkedDistinct(kind=kind, a_id=a, b_id=b, reason=reason)],
        context=context,
        related_ids=[uuid.UUID(a), uuid.UUID(b)],
    )


def pair_unmark_distinct(
    *, a_id: uuid.UUID, b_id: uuid.UUID, user: Any, context: Context, reason: str = ""
) -> list[StoredEvent]:
    """Take back a 'not the same' verdict (idempotent)."""
    _check_actor(user, context)
    if not can_review(user):
        raise PermissionDenied(f"{user} may not change distinct pairs")
    stream_id = pair_id(a_id, b_id)
    version = current_version(stream_id)
    if not version or not load(stream_id)[0]["active"]:
        return []
    a, b = sorted([str(a_id), str(b_id)])
    return append(
        stream_type="distinct_pair",
        stream_id=stream_id,
        expected_version=version,
        events=[PairDistinctionWithdrawn(reason=reason)],
        context=context,
        related_ids=[uuid.UUID(a), uuid.UUID(b)],
    )


def _bulk(proposal_ids: list[uuid.UUID], run: Any) -> dict[uuid.UUID, str]:
    """Run `run(proposal_id, version)` for each open proposal, each in its own transaction."""
    results: dict[uuid.UUID, str] = {}
    for pid in proposal_ids:
        row = Proposal.objects.filter(pk=pid).first()
        if row is None or row.status not in OPEN:
            results[pid] = f"skipped ({row.status if row else 'not found'})"
            continue
        try:
            results[pid] = run(pid, row.version)
        except (CommandError, ConcurrencyConflict, PermissionDenied) as exc:
            results[pid] = f"error: {exc}"
    return results


def proposal_bulk_accept(*, proposal_ids: list[uuid.UUID], user: Any, context: Context) -> dict[uuid.UUID, str]:
    """Accept several proposals independently (admin bulk action); id -> outcome or error."""

    def run(pid: uuid.UUID, version: int) -> str:
        return proposal_accept(proposal_id=pid, user=user, context=context, expected_version=version).status

    return _bulk(proposal_ids, run)


def proposal_bulk_reject(
    *, proposal_ids: list[uuid.UUID], user: Any, context: Context, reason: str
) -> dict[uuid.UUID, str]:
    """Reject several proposals with one reason (admin bulk action); id -> outcome or error."""
    if not (reason or "").strip():
        raise CommandError("a rejection needs a reason", {"reason": ["This field is required."]})

    def run(pid: uuid.UUID, version: int) -> str:
        proposal_reject(proposal_id=pid, user=user, context=context, expected_version=version, reason=reason)
        return "rejected"

    return _bulk(proposal_ids, run)
