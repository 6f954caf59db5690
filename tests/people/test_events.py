"""Sample payloads of every people event type fold to a known state (catches unwired types)."""

import dataclasses
import datetime as dt
import uuid

from people import events as people_events
from people.aggregates import OrganizationAggregate, PersonAggregate, PostAggregate
from tracker.eventstore.api import DomainEvent, StoredEvent
from tracker.eventstore.events import upcast

WINNER = uuid.UUID("00000000-0000-0000-0000-00000000000a")
LOSER = uuid.UUID("00000000-0000-0000-0000-00000000000b")
ORG = uuid.UUID("00000000-0000-0000-0000-0000000000c0")
POST = uuid.UUID("00000000-0000-0000-0000-0000000000d0")
T1, T2 = "00000000-0000-0000-0000-0000000000e1", "00000000-0000-0000-0000-0000000000e2"
A1, A2, A3 = (f"00000000-0000-0000-0000-0000000000f{i}" for i in (1, 2, 3))


def _stored(stream_id, version, type_name, data, schema_version=1):
    schema_version, data = upcast(type_name, schema_version, data)
    return StoredEvent(
        position=version,
        stream_type="person",
        stream_id=stream_id,
        version=version,
        type=type_name,
        schema_version=schema_version,
        data=data,
        metadata={},
        event_id=uuid.uuid4(),
        recorded_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC),
    )


def _stream(stream_id, samples):
    return [_stored(stream_id, i, t, d) for i, (t, d) in enumerate(samples, start=1)]


WINNER_SAMPLES = [
    ("PersonRegistered", {"name": "Cho Hyoun", "sort_name": "", "country": "", "external_ids": {}}),
    ("PersonRenamed", {"name": "Cho Hyun", "sort_name": "Cho, Hyun"}),
    ("PersonCountrySet", {"country": "KR"}),
    (
        "AliasAdded",
        {
            "alias_id": A1,
            "name": "Cho Hyoung",
            "kind": "misspelling",
            "language": "",
            "script": "",
            "source": "wire",
        },
    ),
    (
        "AliasAdded",
        {
            "alias_id": A2,
            "name": "Jo Hyun",
            "kind": "variant",
            "language": "",
            "script": "",
            "source": "",
        },
    ),
    ("AliasRemoved", {"alias_id": A2}),
    (
        "TenureStarted",
        {
            "tenure_id": T1,
            "post_id": str(POST),
            "start": "2025-07",
            "end": "",
            "acting": False,
            "sources": [],
        },
    ),
    ("TenureEnded", {"tenure_id": T1, "end": "2025-12"}),
    (
        "TenureCorrected",
        {
            "tenure_id": T1,
            "post_id": str(POST),
            "start": "2025-07-21",
            "end": "",
            "acting": True,
            "sources": ["s"],
        },
    ),
    (
        "TenureStarted",
        {
            "tenure_id": T2,
            "post_id": str(POST),
            "start": "2020",
            "end": "",
            "acting": False,
            "sources": [],
        },
    ),
    ("TenureRemoved", {"tenure_id": T2}),
    ("ExternalIdRecorded", {"scheme": "wikidata", "value": "Q1"}),
    (
        "PersonAbsorbed",
        {
            "from": str(LOSER),
            "aliases": [
                {
                    "alias_id": A3,
                    "name": "Jo Hyeon",
                    "kind": "merged",
                    "language": "",
                    "script": "",
                    "source": "",
                }
            ],
            "tenures": [],
        },
    ),
    (
        "PersonUnmerged",
        {"loser": str(LOSER), "winner": str(WINNER), "alias_ids": [A3], "tenures": []},
    ),
]
LOSER_SAMPLES = [
    ("PersonRegistered", {"name": "Jo Hyeon"}),
    ("PersonMergedInto", {"into": str(WINNER), "tenure_ids": []}),
    (
        "PersonUnmerged",
        {"loser": str(LOSER), "winner": str(WINNER), "alias_ids": [A3], "tenures": []},
    ),
    ("PersonMergedInto", {"into": str(WINNER)}),
]
ORG_SAMPLES = [
    ("OrganizationRegistered", {"name": "Ministry of Foreign Affairs", "country": "KR"}),
    ("OrganizationRenamed", {"name": "MOFA"}),
]
POST_SAMPLES = [
    ("PostCreated", {"title": "Minister", "organization_id": str(ORG)}),
    ("PostRetitled", {"title": "Minister of Foreign Affairs"}),
]


def test_samples_cover_every_people_event_type():
    declared = {
        obj.event_type
        for obj in vars(people_events).values()
        if isinstance(obj, type) and issubclass(obj, DomainEvent) and dataclasses.is_dataclass(obj)
    }
    sampled = {t for t, _ in WINNER_SAMPLES + LOSER_SAMPLES + ORG_SAMPLES + POST_SAMPLES}
    assert declared == sampled


def test_sample_events_fold_to_known_states():
    assert PersonAggregate.fold(_stream(WINNER, WINNER_SAMPLES)) == {
        "id": str(WINNER),
        "name": "Cho Hyun",
        "sort_name": "Cho, Hyun",
        "country": "KR",
        "external_ids": {"wikidata": "Q1"},
        "aliases": {
            A1: {
                "name": "Cho Hyoung",
                "kind": "misspelling",
                "language": "",
                "script": "",
                "source": "wire",
            }
        },
        "tenures": {
            T1: {
                "post_id": str(POST),
                "start": "2025-07-21",
                "end": "",
                "acting": True,
                "sources": ["s"],
            }
        },
        "merged_into": None,
        "absorbed": {},
    }
    loser = PersonAggregate.fold(_stream(LOSER, LOSER_SAMPLES))
    assert (loser["name"], loser["merged_into"], loser["tenures"]) == ("Jo Hyeon", str(WINNER), {})
    assert OrganizationAggregate.fold(_stream(ORG, ORG_SAMPLES)) == {
        "id": str(ORG),
        "name": "MOFA",
        "country": "KR",
    }
    assert PostAggregate.fold(_stream(POST, POST_SAMPLES)) == {
        "id": str(POST),
        "title": "Minister of Foreign Affairs",
        "organization_id": str(ORG),
    }


def test_person_absorbed_serialises_its_source_as_from():
    ev = people_events.PersonAbsorbed(from_person=str(LOSER), aliases=[], tenures=[])
    assert ev.to_data() == {"from": str(LOSER), "aliases": [], "tenures": []}
    assert people_events.PersonAbsorbed.from_data(ev.to_data()) == ev
