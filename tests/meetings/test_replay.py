"""Replays equal live: the generic path when it evicts its in-memory rows (the read-back
path), and the fast PostgreSQL path (tracker/eventstore/replay.py) on mixed logs and
awkward values."""
import gc
import threading
import uuid
import weakref
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import meetings.projections as meeting_projections
from meetings import commands
from meetings.aggregates import MeetingAggregate
from meetings.models import Citation, Meeting, Participation
from meetings.replay import TENURE, MeetingsReplay
from people import commands as people_commands
from people.models import Alias, Person, Tenure
from people.replay import PeopleReplay
from tests.meetings.conftest import meeting_version, person_version
from tests.meetings.test_projections import _example, step, world  # noqa: F401  (world is a fixture)
from tracker.eventstore import rebuild
from tracker.eventstore import replay as fast
from tracker.eventstore.bulkcopy import CopyWriter, text
from tracker.eventstore.models import StreamState
from tracker.eventstore.readmodel import projecting
from tracker.eventstore.replay import IdCache

pytestmark = pytest.mark.django_db

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the fast replay and COPY are PostgreSQL only"
)


@pytest.fixture
def tiny_replay_caches(monkeypatch):
    # The generic path, flushing every 3 events and forgetting every buffered meeting after
    # each flush, so most syncs read their prior rows back from the tables instead of memory.
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    monkeypatch.setattr(rebuild, "STATE_FLUSH", 3)
    monkeypatch.setattr(meeting_projections, "REPLAY_CACHE", 0)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_random_sequences_rebuild_equal_to_live_when_the_replay_evicts_its_rows(world, tiny_replay_caches, steps):  # noqa: F811
    # given / when: random meeting and people commands, then a rebuild check (inside _example)
    with transaction.atomic():
        _example(steps, *world)
        transaction.set_rollback(True)


def test_a_rebuild_with_evictions_gives_the_same_rows(world, tiny_replay_caches):  # noqa: F811
    # given: meetings recorded, revised and cited, with people changes in between
    persons, articles, post = world
    steps = [
        ("record", 0, 1, "2025-07"), ("record", 1, 2, "2025-07-31"), ("cite", 0, 0, ""),
        ("tenure_start", 0, 0, "2025-07-01"), ("revise", 1, 3, "2025-07-31"), ("add", 0, 2, ""),
        ("merge", 0, 1, ""), ("unmerge", 0, 0, ""), ("person_merge", 0, 1, ""), ("revise", 0, 4, "2026-01-15"),
    ]
    _example(steps, persons, articles, post)
    before = rebuild.checksum(rebuild.snapshot())
    # when
    rebuild.rebuild()
    # then
    assert rebuild.checksum(rebuild.snapshot()) == before
    assert rebuild.check()[0] == []


# --- the fast replay ---------------------------------------------------------------------

AWKWARD = 'Tab\there, new\nline, CR\r, back\\slash, \\N, \\t, "quotes" \'single\' 한국 Ünïcödé 🇰🇷'


def _rebuilt_by_both_paths(monkeypatch) -> tuple[dict, dict]:
    """Snapshots after a fast rebuild and after a generic one (the generic path is the old,
    well-tested one: both must give the live rows)."""
    rebuild.rebuild()
    fast = rebuild.snapshot()
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    rebuild.rebuild()
    generic = rebuild.snapshot()
    monkeypatch.setattr(rebuild, "FAST_REPLAY", True)
    return fast, generic


@needs_postgresql
def test_copy_text_escapes_what_copy_would_misread():
    # given / when / then: backslash, tab, newline and CR are escaped; the rest passes through
    assert text("a\tb\nc\rd\\e") == "a\\tb\\nc\\rd\\\\e"
    assert text("\\N") == "\\\\N"  # the text "\N", not NULL
    assert text("plain 한국 🇰🇷 'q' \"q\"") == "plain 한국 🇰🇷 'q' \"q\""


def test_ids_are_read_in_their_canonical_spelling():
    # given
    ids = IdCache()
    pid = uuid.uuid4()
    # when / then: upper case, no dashes, braces and UUID objects all give the canonical text
    assert ids[str(pid).upper()] == ids[pid.hex] == ids["{" + str(pid) + "}"] == ids[pid] == str(pid)


@needs_postgresql
def test_copy_writes_awkward_values_and_nulls_as_given():
    # given: rows whose text and JSON fields hold every character COPY treats specially
    person_id, alias_id = uuid.uuid4(), uuid.uuid4()
    rows = {"external_ids": {"wd\tq": AWKWARD, "k": ["\\", None, 1.5, True]}}
    # when
    with transaction.atomic(), projecting():
        writer = CopyWriter()
        writer.rows(Person, [(
            person_id, AWKWARD, "", "key", "KR", rows["external_ids"], None, 1,
            "2025-01-01 00:00:00+00", "2025-01-02 03:04:05.123456+00",
        )])
        writer.rows(Alias, [(alias_id, person_id, "\\N", "", "variant", "", "", AWKWARD)])
        writer.close()
        person = Person.objects.get(pk=person_id)
        alias = Alias.objects.get(pk=alias_id)
        transaction.set_rollback(True)
    # then
    assert person.name == AWKWARD and person.sort_name == "" and person.merged_into_id is None
    assert person.external_ids == rows["external_ids"]
    assert person.updated_at.microsecond == 123456
    assert alias.name == "\\N" and alias.source == AWKWARD


@needs_postgresql
def test_copy_writer_reports_a_failed_copy():
    # given: a row that breaks a constraint (a NULL name)
    writer_error = None
    with transaction.atomic(), projecting():
        writer = CopyWriter()
        try:
            writer.rows(Person, [(uuid.uuid4(), None, "", "", "", {}, None, 1, "2025-01-01", "2025-01-01")])
            writer.close()
        except Exception as exc:  # noqa: BLE001 (the database error, whatever its class)
            writer_error = exc
        transaction.set_rollback(True)
    # then
    assert writer_error is not None and "name" in str(writer_error)


@needs_postgresql
def test_awkward_values_are_replayed_exactly(ctx, record, cho, monkeypatch):
    # given: text and JSON fields with quotes, tabs, newlines, backslashes and unicode
    meeting = record(
        title="Talks: " + AWKWARD[:200], summary=AWKWARD, location_name="Seoul\\Busan", topics=[AWKWARD, "\\N"],
        participants=[{"person_id": cho, "side": "KR"}, {"name": "Kim \"Jina\"\t\\ 김진아", "side": "US"}],
    )
    article = commands.article_register(url="https://example.org/a?q=\\t", text="Cho met Kim.", context=ctx)
    commands.meeting_cite_article(
        meeting_id=meeting.id, article_id=article.id, context=ctx, expected_version=1,
        evidence=[{"text": AWKWARD, "start": 0, "end": 12}],
    )
    people_commands.person_alias_add(
        person_id=cho, name="Jo \"Hyun\" 조현", source=AWKWARD, expected_version=person_version(cho), context=ctx
    )
    live = rebuild.snapshot()
    # when
    problems = rebuild.check()[0]
    fast, generic = _rebuilt_by_both_paths(monkeypatch)
    # then
    assert problems == []
    assert fast == live == generic
    row = Meeting.objects.get(pk=meeting.id)
    assert row.summary == AWKWARD and row.topics == [AWKWARD, "\\N"] and row.end_date == ""
    assert Citation.objects.get().evidence[0]["text"] == AWKWARD
    assert Participation.objects.filter(name='Kim "Jina"\t\\ 김진아', person=None, tenure=None).exists()


@needs_postgresql
def test_a_mixed_log_replays_to_the_live_rows(ctx, record, cho, rubio, fm_post, monkeypatch):
    # given: participants recorded by name before anyone has that name or alias
    a = record(date="2025-07-31", participants=[{"person_id": rubio}, {"name": "Jo Hyun"}, {"name": "Wi Sung-lac"}])
    b = record(date="2025-08-02", participants=[{"person_id": cho}, {"name": "Allison Hooker"}])
    c = record(date="2024-03-10")
    # an alias added after the participation was recorded resolves it
    people_commands.person_alias_add(person_id=cho, name="Jo Hyun", expected_version=person_version(cho), context=ctx)
    wi = people_commands.person_register(name="Wi Sung-lac", country="KR", context=ctx)
    assert Participation.objects.get(meeting=a.id, name="Jo Hyun").person_id == cho
    # tenure changes: an earlier tenure, corrected, ended, and one removed
    people_commands.person_tenure_start(
        person_id=wi, post_id=fm_post, start="2024-01", end="2024-12", expected_version=1, context=ctx
    )
    tenure_id = Tenure.objects.get(person_id=wi).id
    people_commands.person_tenure_correct(
        person_id=wi, tenure_id=tenure_id, start="2023-06", expected_version=2, context=ctx
    )
    cho_tenure = Tenure.objects.get(person_id=cho).id
    people_commands.person_tenure_end(
        person_id=cho, tenure_id=cho_tenure, end="2025-08-01", expected_version=person_version(cho), context=ctx
    )
    # person merges and an un-merge; the loser's tenure moves to the winner and back
    dup = people_commands.person_register(name="Allison Hooker", country="US", context=ctx)
    people_commands.person_tenure_start(person_id=dup, post_id=fm_post, start="2025", expected_version=1, context=ctx)
    people_commands.person_merge(
        loser_id=dup, winner_id=rubio, loser_expected_version=person_version(dup),
        winner_expected_version=person_version(rubio), context=ctx,
    )
    people_commands.person_merge(
        loser_id=wi, winner_id=cho, loser_expected_version=person_version(wi),
        winner_expected_version=person_version(cho), context=ctx,
    )
    people_commands.person_unmerge(
        loser_id=wi, loser_expected_version=person_version(wi), winner_expected_version=person_version(cho),
        context=ctx,
    )
    # meeting merges, an un-merge, a retraction and a restore, a revised date
    commands.meeting_merge(
        loser_id=c.id, winner_id=a.id, loser_expected_version=1, winner_expected_version=1, context=ctx
    )
    commands.meeting_merge(
        loser_id=b.id, winner_id=a.id, loser_expected_version=1, winner_expected_version=meeting_version(a.id),
        context=ctx,
    )
    commands.meeting_unmerge(
        loser_id=c.id, loser_expected_version=meeting_version(c.id), winner_expected_version=meeting_version(a.id),
        context=ctx,
    )
    commands.meeting_retract(meeting_id=c.id, context=ctx, expected_version=meeting_version(c.id))
    commands.meeting_restore(meeting_id=c.id, context=ctx, expected_version=meeting_version(c.id))
    commands.meeting_retract(meeting_id=a.id, context=ctx, expected_version=meeting_version(a.id))
    commands.meeting_revise(
        meeting_id=c.id, changes={"date": "2024-02"}, context=ctx, expected_version=meeting_version(c.id)
    )
    people_commands.person_tenure_remove(
        person_id=cho, tenure_id=cho_tenure, expected_version=person_version(cho), context=ctx
    )
    people_commands.person_rename(
        person_id=rubio, name="Marco A. Rubio", keep_old_as_alias=True, expected_version=person_version(rubio),
        context=ctx,
    )
    live = rebuild.snapshot()
    # when
    problems = rebuild.check()[0]
    fast, generic = _rebuilt_by_both_paths(monkeypatch)
    # then
    assert problems == []
    assert fast == live == generic
    assert StreamState.objects.filter(stream_type="person").count() == Person.objects.count()


@needs_postgresql
def test_the_fast_check_finds_a_tampered_participation(record, cho):
    # given
    meeting = record()
    with projecting():
        Participation.objects.filter(meeting=meeting.id, recorded_person_id=cho).update(tenure=None)
    # when
    problems = rebuild.check()[0]
    # then
    assert len(problems) == 1 and "meetings_participation" in problems[0] and "tenure" in problems[0]


def test_a_deleted_tenure_is_unset_on_participations_as_on_delete_set_null_does():
    # given: the replayers alone (no reaction runs here), a person with a tenure and a
    # meeting on a date it covers
    session = SimpleNamespace(replayers={})
    people = session.replayers["people"] = PeopleReplay(session)
    meetings = session.replayers["meetings"] = MeetingsReplay(session)
    person, tenure, post, part = (str(uuid.uuid4()) for _ in range(4))

    def ev(version):
        return SimpleNamespace(version=version, recorded_at="2025-01-01 00:00:00+00", type="", data={})

    state = {
        "name": "Cho Hyun", "sort_name": "", "country": "KR", "external_ids": {}, "merged_into": None,
        "aliases": {}, "tenures": {tenure: {"post_id": post, "start": "2025", "end": "", "acting": False, "sources": []}},
    }
    people.sync("person", person, state, [ev(1)])
    meeting = {"date": "2025-07-31", "participants": [{"id": part, "person_id": person, "name": "Cho Hyun"}]}
    meetings.sync("meeting", str(uuid.uuid4()), meeting, [ev(1)])
    assert meetings.parts[part][TENURE] == tenure
    # when: the tenure leaves the person's state
    people.sync("person", person, {**state, "tenures": {}}, [ev(2)])
    # then
    assert meetings.parts[part][TENURE] is None


@needs_postgresql
def test_a_replay_that_fails_stops_its_reader_and_leaves_the_connection_usable(record, monkeypatch):
    # given: more events than one block of the reader, and an event type the fold cannot apply
    record()
    record(title="Second")
    monkeypatch.setattr(fast, "FETCH", 2)
    monkeypatch.setattr(MeetingAggregate, "evolvers", {})
    # when
    with pytest.raises(LookupError):
        rebuild.check()
    # then: no thread is left reading, and the connection answers
    assert not [t for t in threading.enumerate() if t.name == "replay-reader"]
    assert Meeting.objects.count() == 2


@needs_postgresql
def test_a_replay_frees_its_in_memory_rows_without_the_cyclic_collector(record, cho, monkeypatch):
    # given: a log whose replay has the meetings replayer ask the people replayer (they then
    # refer to each other), and the replayers watched once their rows are complete
    record()
    watched = []
    write = fast._Replay.write

    def watching_write(run):
        watched.extend(weakref.ref(replayer) for replayer in run.session.replayers.values())
        write(run)

    monkeypatch.setattr(fast._Replay, "write", watching_write)
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        # when: a check, with the cyclic collector off
        problems = rebuild.check()[0]
        alive = [ref for ref in watched if ref() is not None]
    finally:
        if was_enabled:
            gc.enable()
    # then: reference counting alone freed them
    assert problems == []
    assert len(watched) == 2
    assert alive == []
