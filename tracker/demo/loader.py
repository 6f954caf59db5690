"""Load the demo data (demo_data.json) through the commands, so every record has a history.

Idempotent: each record has a stable id derived from its natural key (uuid5), and a record
that already exists (under that id, or under the same name entered by hand) is left alone,
so a second run appends no event. Everything runs in one transaction: a failure half-way
leaves nothing behind.
"""
from __future__ import annotations

import dataclasses
import json
import sys
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

from django.apps import apps
from django.db import transaction
from tqdm import tqdm

from tracker.eventstore.api import Context, current_version

DATA_FILE = Path(__file__).resolve().parent / "demo_data.json"
# Namespace of the demo records' ids: the same demo data gets the same ids on every install.
DEMO_NS = uuid.UUID("0f8d3a4e-6c1b-5e7a-9d2f-4b8c6e1a3d57")


def demo_data(path: Path = DATA_FILE) -> dict[str, Any]:
    """Read the demo data file."""
    return json.loads(path.read_text(encoding="utf-8"))


def demo_id(kind: str, *key: str) -> uuid.UUID:
    """Stable id of a demo record, e.g. demo_id("person", "Cho Hyun")."""
    return uuid.uuid5(DEMO_NS, "/".join((kind, *key)))


@dataclasses.dataclass
class DemoReport:
    """What a run did: records created and found, and events appended."""

    created: Counter = dataclasses.field(default_factory=Counter)
    existing: Counter = dataclasses.field(default_factory=Counter)
    events_appended: int = 0

    def summary(self) -> str:
        kinds = (
            ("person", "people"),
            ("alias", "aliases"),
            ("organization", "organizations"),
            ("post", "posts"),
            ("tenure", "tenures"),
            ("meeting", "meetings"),
        )
        parts = [f"{self.created[k] + self.existing[k]} {plural} ({self.created[k]} new)" for k, plural in kinds]
        return f"demo data: {', '.join(parts)}; {self.events_appended} events appended"


def _event_count() -> int:
    return apps.get_model("eventstore", "Event").objects.count()


class _Loader:
    def __init__(self, context: Context, report: DemoReport) -> None:
        self.context = context
        self.report = report
        self.organizations: dict[str, uuid.UUID] = {}
        self.posts: dict[tuple[uuid.UUID, str], uuid.UUID] = {}

    # --- people -------------------------------------------------------------------------

    def organization(self, org: dict[str, Any]) -> uuid.UUID:
        from people.commands import organization_register
        from people.models import Organization
        from people.names import normalize_name

        oid = demo_id("organization", org["country"], org["name"])
        if current_version(oid) == 0:
            key = normalize_name(org["name"])
            same = [o for o in Organization.objects.filter(country=org["country"]) if normalize_name(o.name) == key]
            if same:
                oid = same[0].id
            else:
                organization_register(
                    name=org["name"], country=org["country"], organization_id=oid, context=self.context
                )
                self.report.created["organization"] += 1
                return oid
        self.report.existing["organization"] += 1
        return oid

    def post(self, title: str, organization_id: uuid.UUID) -> uuid.UUID:
        if (organization_id, title) in self.posts:
            return self.posts[organization_id, title]
        pid = self._post(title, organization_id)
        self.posts[organization_id, title] = pid
        return pid

    def _post(self, title: str, organization_id: uuid.UUID) -> uuid.UUID:
        from people.commands import post_create
        from people.models import Post
        from people.names import normalize_name

        pid = demo_id("post", str(organization_id), title)
        if current_version(pid) == 0:
            key = normalize_name(title)
            same = [p for p in Post.objects.filter(organization_id=organization_id) if normalize_name(p.title) == key]
            if same:
                pid = same[0].id
            else:
                post_create(title=title, organization_id=organization_id, post_id=pid, context=self.context)
                self.report.created["post"] += 1
                return pid
        self.report.existing["post"] += 1
        return pid

    def person(self, person: dict[str, Any]) -> uuid.UUID:
        from people.commands import person_register
        from people.selectors import person_find_by_name

        pid = demo_id("person", person["name"])
        if current_version(pid) == 0:
            found = person_find_by_name(person["name"])
            if found:
                pid = found[0].id
                self.report.existing["person"] += 1
            else:
                person_register(
                    name=person["name"],
                    sort_name=person.get("sort_name", ""),
                    country=person.get("country", ""),
                    person_id=pid,
                    context=self.context,
                )
                self.report.created["person"] += 1
        else:
            self.report.existing["person"] += 1
        for alias in person.get("aliases", []):
            self.alias(pid, alias)
        for tenure in person.get("tenures", []):
            self.tenure(pid, tenure)
        return pid

    def alias(self, person_id: uuid.UUID, alias: dict[str, Any]) -> None:
        from people.commands import person_alias_add
        from people.models import Alias
        from people.names import normalize_name

        if Alias.objects.filter(person_id=person_id, name_key=normalize_name(alias["name"])).exists():
            self.report.existing["alias"] += 1
            return
        person_alias_add(
            person_id=person_id,
            name=alias["name"],
            kind=alias.get("kind", "variant"),
            source="demo data",
            expected_version=current_version(person_id),
            context=self.context,
        )
        self.report.created["alias"] += 1

    def tenure(self, person_id: uuid.UUID, tenure: dict[str, Any]) -> None:
        from people.commands import person_tenure_start
        from people.models import Tenure

        post_id = self.post(tenure["title"], self.organizations[tenure["organization"]])
        if Tenure.objects.filter(person_id=person_id, post_id=post_id, start=tenure.get("start", "")).exists():
            self.report.existing["tenure"] += 1
            return
        person_tenure_start(
            person_id=person_id,
            post_id=post_id,
            start=tenure.get("start", ""),
            end=tenure.get("end", ""),
            acting=tenure.get("acting", False),
            expected_version=current_version(person_id),
            context=self.context,
        )
        self.report.created["tenure"] += 1

    # --- meetings -----------------------------------------------------------------------

    def meeting(self, meeting: dict[str, Any], people: dict[str, uuid.UUID]) -> None:
        from meetings.commands import meeting_record
        from meetings.models import Meeting

        mid = demo_id("meeting", meeting["key"])
        if current_version(mid) or Meeting.objects.filter(
            title=meeting["title"], date=meeting.get("date", "")
        ).exists():
            self.report.existing["meeting"] += 1
            return
        participants = [
            {
                "person_id": str(people[p["name"]]),
                "name": p["name"],
                "side": p.get("side", ""),
                "is_host": p.get("is_host", False),
            }
            for p in meeting["participants"]
        ]
        fields = {
            "title": meeting["title"],
            "date": meeting.get("date", ""),
            "location_name": meeting.get("location_name", ""),
            "location_country": meeting.get("location_country", ""),
            "mode": meeting.get("mode", "in_person"),
            "status": meeting.get("status", "held"),
            "status_source": meeting.get("reported", ""),
            "kind": meeting.get("kind", ""),
            "topics": meeting.get("topics", []),
            "occasion": meeting.get("occasion", ""),
        }
        meeting_record(participants=participants, meeting_id=mid, context=self.context, **fields)
        self.report.created["meeting"] += 1


def demo_load(*, context: Context, data: dict[str, Any] | None = None, show_progress: bool = False) -> DemoReport:
    """Record the demo organizations, posts, people, tenures and meetings; skip what exists."""
    data = demo_data() if data is None else data
    report = DemoReport()
    loader = _Loader(context, report)
    steps = len(data["organizations"]) + len(data["people"]) + len(data["meetings"])
    bar = tqdm(total=steps, desc="demo", unit="record", disable=not (show_progress and sys.stderr.isatty()), leave=False)
    before = _event_count()
    with transaction.atomic():
        for org in data["organizations"]:
            loader.organizations[org["key"]] = loader.organization(org)
            bar.update()
        people: dict[str, uuid.UUID] = {}
        for person in data["people"]:
            people[person["name"]] = loader.person(person)
            bar.update()
        for meeting in data["meetings"]:
            loader.meeting(meeting, people)
            bar.update()
    bar.close()
    report.events_appended = _event_count() - before
    return report
