"""The soak: concurrent curators editing overlapping records over real HTTP, and a change-feed
reader polling at the same time. Every write must end acknowledged (and then be in the log)
or refused with 412/409; nothing acknowledged may be missing and nothing refused may appear.

Writes (each carries a unique `reason`, so its events can be found in the log):
- PATCH /api/v1/meetings/<id>/ with If-Match from a GET (a small hot set, so they collide),
- POST /api/v1/meetings/ naming two of the soak's people,
- POST /api/v1/proposals/ adding an alias to a person, with the version read from the
  person's ETag (the API has no direct person edit: people change through proposals).
"""
from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from collections import Counter
from typing import Any

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from tracker.eventstore import rebuild
from tracker.eventstore.api import Context
from tracker.eventstore.models import Event

SOAK_USER_PREFIX = "soak-curator-"


@dataclasses.dataclass
class Write:
    kind: str  # "patch", "record" or "propose"
    tag: str
    target: str | None
    expected: int | None
    status: int = 0
    version: int | None = None  # ETag answered
    created_id: str | None = None
    error: str = ""


@dataclasses.dataclass
class SoakResult:
    attempted: int
    acknowledged: int
    refused: int
    errors: int
    lost: int
    phantom: int  # refused or failed, yet present in the log
    event_groups: int
    check_problems: list[str]
    feed_events: int
    feed_delivered: int
    feed_duplicates: int
    feed_missing: int
    feed_out_of_order: int
    seconds: float
    error_samples: list[str]

    def lines(self) -> list[str]:
        return [
            f"soak: writes attempted={self.attempted} acknowledged={self.acknowledged} "
            f"refused={self.refused} errors={self.errors} lost={self.lost} phantom={self.phantom} "
            f"event_groups={self.event_groups} rebuild_check={'ok' if not self.check_problems else 'FAILED'} "
            f"seconds={self.seconds:.1f}",
            f"feed: events={self.feed_events} delivered={self.feed_delivered} "
            f"duplicates={self.feed_duplicates} missing={self.feed_missing} "
            f"out_of_order={self.feed_out_of_order}",
        ]

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0 and self.phantom == 0 and self.errors == 0 and not self.check_problems
            and self.acknowledged == self.event_groups and self.feed_duplicates == 0
            and self.feed_missing == 0 and self.feed_out_of_order == 0
            and self.acknowledged + self.refused == self.attempted
        )


def seed(*, clients: int, people: int, meetings: int) -> tuple[list[str], list[str], list[str]]:
    """Curator users with tokens, people and meetings (via commands, as the CLI would)."""
    from meetings.commands import meeting_record
    from people.commands import person_register

    system = Context.system(reason="soak seed", via="cli")
    curator = Group.objects.get(name="curator")
    tokens = []
    for i in range(clients):
        user, _ = get_user_model().objects.get_or_create(username=f"{SOAK_USER_PREFIX}{i}")
        user.groups.add(curator)
        tokens.append(Token.objects.get_or_create(user=user)[0].key)
    person_ids = [
        str(person_register(name=f"Soak Official {i:03d}", country="KR" if i % 2 else "US", context=system))
        for i in range(people)
    ]
    meeting_ids = []
    for i in range(meetings):
        a, b = person_ids[i % people], person_ids[(i + 1) % people]
        m = meeting_record(
            participants=[{"person_id": a}, {"person_id": b}], context=system,
            date=f"2025-{1 + i % 12:02d}-{1 + i % 27:02d}", title=f"Soak meeting {i}",
        )
        meeting_ids.append(str(m.id))
    return tokens, person_ids, meeting_ids


def _etag(response: requests.Response) -> int | None:
    raw = response.headers.get("ETag", "").strip('W/"')
    return int(raw) if raw.isdigit() else None


class _Client(threading.Thread):
    def __init__(self, *, index: int, base: str, token: str, count: int, deadline: float,
                 people: list[str], meetings: list[str], run: str, seed: int) -> None:
        super().__init__(daemon=True, name=f"soak-client-{index}")
        self.index, self.base, self.count, self.deadline = index, base, count, deadline
        self.people, self.meetings, self.run_id = people, meetings, run
        self.rng = random.Random(seed * 1000 + index)
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"
        self.writes: list[Write] = []

    def run(self) -> None:
        for n in range(self.count):
            if time.monotonic() > self.deadline:
                return
            tag = f"soak {self.run_id} c{self.index} w{n}"
            roll = self.rng.random()
            try:
                if roll < 0.6:
                    self.writes.append(self._patch(tag))
                elif roll < 0.8:
                    self.writes.append(self._record(tag))
                else:
                    self.writes.append(self._propose(tag))
            except requests.RequestException as exc:
                self.writes.append(Write("error", tag, None, None, error=repr(exc)[:200]))

    def _finish(self, write: Write, response: requests.Response) -> Write:
        write.status = response.status_code
        write.version = _etag(response)
        if response.status_code not in (200, 201, 409, 412):
            write.error = f"{response.status_code}: {response.text[:200]}"
        return write

    def _patch(self, tag: str) -> Write:
        meeting = self.rng.choice(self.meetings)
        url = f"{self.base}/api/v1/meetings/{meeting}/"
        got = self.session.get(url, timeout=30)
        expected = _etag(got)
        write = Write("patch", tag, meeting, expected)
        if got.status_code != 200 or expected is None:
            write.error = f"GET {got.status_code}"
            return write
        time.sleep(self.rng.random() * 0.05)  # a person reads before writing (and others write)
        response = self.session.patch(
            url, json={"summary": f"edited by {tag}", "reason": tag},
            headers={"If-Match": f'"{expected}"'}, timeout=30,
        )
        return self._finish(write, response)

    def _record(self, tag: str) -> Write:
        a, b = self.rng.sample(self.people, 2)
        response = self.session.post(
            f"{self.base}/api/v1/meetings/",
            json={"participants": [{"person_id": a}, {"person_id": b}], "date": "2025-11",
                  "title": f"Recorded by {tag}", "reason": tag},
            timeout=30,
        )
        write = self._finish(Write("record", tag, None, 0), response)
        if response.status_code == 201:
            write.created_id = response.json()["id"]
        return write

    def _propose(self, tag: str) -> Write:
        person = self.rng.choice(self.people)
        got = self.session.get(f"{self.base}/api/v1/people/{person}/", timeout=30)
        expected = _etag(got)
        write = Write("propose", tag, person, expected)
        if got.status_code != 200 or expected is None:
            write.error = f"GET {got.status_code}"
            return write
        response = self.session.post(
            f"{self.base}/api/v1/proposals/",
            json={"kind": "new_alias", "reason": tag, "summary": tag, "commands": [
                {"command": "person_alias_add", "expected_version": expected,
                 "args": {"person_id": person, "name": f"Alias {tag}"}}]},
            timeout=30,
        )
        write = self._finish(write, response)
        if response.status_code == 201:
            write.created_id = response.json()["id"]
        return write


class _FeedReader(threading.Thread):
    """Polls the change feed from `after` until told to stop and caught up with `until`."""

    def __init__(self, *, base: str, after: int) -> None:
        super().__init__(daemon=True, name="soak-feed")
        self.base, self.cursor = base, after
        self.seen: list[tuple[int, str, int]] = []  # (position, stream id, version)
        self.stop_at: int | None = None
        self.deadline: float | None = None
        self.error = ""
        self.session = requests.Session()

    def run(self) -> None:
        while True:
            try:
                body = self.session.get(
                    f"{self.base}/api/v1/changes/", params={"after": self.cursor, "limit": 1000}, timeout=30
                ).json()
            except (requests.RequestException, ValueError) as exc:
                self.error = repr(exc)[:200]
                time.sleep(0.2)
                continue
            for e in body["results"]:
                self.seen.append((e["position"], e["stream_id"], e["version"]))
            self.cursor = body["last_position"]
            if self.stop_at is not None and (self.cursor >= self.stop_at or time.monotonic() > (self.deadline or 0)):
                return
            if not body["results"]:
                time.sleep(0.05)


def run_soak(*, base: str, clients: int = 8, writes_per_client: int = 300, people: int = 12,
             meetings: int = 8, seconds: float = 300, seed_value: int = 6) -> SoakResult:
    """Seed, run the clients and the feed reader against `base`, then check the log."""
    tokens, person_ids, meeting_ids = seed(clients=clients, people=people, meetings=meetings)
    run = uuid.uuid4().hex[:8]
    start_position = Event.objects.order_by("-position").values_list("position", flat=True).first() or 0
    reader = _FeedReader(base=base, after=start_position)
    reader.start()
    started = time.monotonic()
    deadline = started + seconds
    workers = [
        _Client(index=i, base=base, token=tokens[i], count=writes_per_client, deadline=deadline,
                people=person_ids, meetings=meeting_ids, run=run, seed=seed_value)
        for i in range(clients)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=max(1.0, deadline - time.monotonic() + 60))
    elapsed = time.monotonic() - started
    end_position = Event.objects.order_by("-position").values_list("position", flat=True).first() or 0
    reader.stop_at, reader.deadline = end_position, time.monotonic() + 60
    reader.join(timeout=90)
    writes = [w for c in workers for w in c.writes]
    return _verify(writes, reader, start_position, end_position, elapsed, clients)


def _verify(writes: list[Write], reader: _FeedReader, start: int, end: int, elapsed: float,
            clients: int) -> SoakResult:
    usernames = [f"{SOAK_USER_PREFIX}{i}" for i in range(clients)]
    soak_events = list(
        Event.objects.filter(position__gt=start, position__lte=end, metadata__via="api",
                             metadata__actor_name__in=usernames)
        .order_by("position").values("position", "stream_id", "version", "metadata")
    )
    groups: dict[str, list[dict[str, Any]]] = {}
    by_reason: dict[str, set[str]] = {}
    for e in soak_events:
        groups.setdefault(e["metadata"]["batch"], []).append(e)
        by_reason.setdefault(e["metadata"].get("reason", ""), set()).add(e["metadata"]["batch"])
    acknowledged = [w for w in writes if w.status in (200, 201)]
    refused = [w for w in writes if w.status in (409, 412)]
    failed = [w for w in writes if w.status not in (200, 201, 409, 412)]
    lost = 0
    for w in acknowledged:
        batches = by_reason.get(w.tag, set())
        if len(batches) != 1:
            lost += 1
            continue
        events = groups[next(iter(batches))]
        if w.kind == "patch":
            mine = [e for e in events if str(e["stream_id"]) == w.target]
            # the command appended right after the version the client read
            if not mine or mine[0]["version"] != (w.expected or 0) + 1:
                lost += 1
        elif w.kind == "record" and not any(str(e["stream_id"]) == w.created_id for e in events):
            lost += 1
        elif w.kind == "propose" and not any(str(e["stream_id"]) == w.created_id for e in events):
            lost += 1
    phantom = sum(1 for w in refused + failed if w.tag in by_reason)
    problems, _stats, _sum = rebuild.check()
    # the feed against the log itself
    log = list(Event.objects.filter(position__gt=start, position__lte=end).order_by("position")
               .values_list("position", "stream_id", "version"))
    expected = [(p, str(s), v) for p, s, v in log]
    delivered = [t for t in reader.seen if t[0] <= end]
    counts = Counter(delivered)
    duplicates = sum(c - 1 for c in counts.values() if c > 1)
    missing = len(set(expected) - set(delivered))
    positions = [t[0] for t in delivered]
    out_of_order = sum(1 for a, b in zip(positions, positions[1:], strict=False) if b <= a)
    return SoakResult(
        attempted=len(writes), acknowledged=len(acknowledged), refused=len(refused),
        errors=len(failed), lost=lost, phantom=phantom, event_groups=len(groups),
        check_problems=problems, feed_events=len(expected), feed_delivered=len(delivered),
        feed_duplicates=duplicates, feed_missing=missing, feed_out_of_order=out_of_order,
        seconds=elapsed, error_samples=[w.error for w in failed[:5]],
    )
