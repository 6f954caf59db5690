"""A PostgreSQL rebuild writes only what differs (tracker/eventstore/merge.py), and a check
compares in SQL: both must end where a replay into empty tables ends, and say what the
generic path (snapshots compared in Python) says."""
import uuid

import pytest
from django.db import connection

from meetings import commands
from meetings.ingest.commands import feed_register
from meetings.ingest.models import Feed
from meetings.models import Citation, Meeting, Participation
from people import commands as people_commands
from people.models import Alias, Person
from tracker.eventstore import rebuild
from tracker.eventstore.models import Checkpoint, StreamState
from tracker.eventstore.readmodel import projecting
from tracker.eventstore.replay import merged_models

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the merging replay is PostgreSQL only"),
]


@pytest.fixture
def log(ctx, record, cho, rubio):
    """Three meetings, one cited, one revised; an alias and a renamed person: the read models
    are rebuilt once so they are exactly a replay (the inline checkpoint included)."""
    a = record()
    b = record(title="Second", date="2025-08-02", participants=[{"person_id": rubio}, {"name": "Jo Hyun"}])
    c = record(title="Third", date="2024-03-10")
    article = commands.article_register(url="https://example.org/a", text="Cho met Rubio.", context=ctx)
    commands.meeting_cite_article(
        meeting_id=a.id, article_id=article.id, context=ctx, expected_version=1,
        evidence=[{"text": "Cho met Rubio.", "start": 0, "end": 14}],
    )
    commands.meeting_revise(meeting_id=c.id, changes={"date": "2024-02"}, context=ctx, expected_version=1)
    people_commands.person_alias_add(person_id=cho, name="Jo Hyun", expected_version=2, context=ctx)
    rebuild.rebuild()
    return {"meetings": (a.id, b.id, c.id), "article": article.id, "cho": cho, "rubio": rubio}


def _tamper(log) -> dict[str, str]:
    """Every kind of difference, in several tables: a changed field, a missing row, an extra
    row (whose foreign keys hold). Returns the keys of each kind."""
    a, b, c = log["meetings"]
    extra_citation, extra_state = uuid.uuid4(), uuid.uuid4()
    missing_part = Participation.objects.filter(meeting=b).order_by("id").first().id
    with projecting():
        Meeting.objects.filter(pk=a).update(title="Tampered")
        Person.objects.filter(pk=log["rubio"]).update(version=42, external_ids={"wd": "Q1"})
        Participation.objects.filter(pk=missing_part).delete()
        StreamState.objects.filter(pk=c).delete()
        Alias.objects.all().delete()
        Citation.objects.create(id=extra_citation, meeting_id=c, article_id=log["article"], evidence=[])
        StreamState.objects.create(
            stream_id=extra_state, stream_type="meeting", version=1, state={}, last_position=1,
            updated_at="2025-01-01T00:00:00Z",
        )
        Checkpoint.objects.create(name="stale", last_position=7)
    return {
        "differs": str(a), "person": str(log["rubio"]), "missing": str(missing_part), "state": str(c),
        "extra": str(extra_citation), "extra_state": str(extra_state),
    }


def test_a_rebuild_over_tampered_stale_extra_and_missing_rows_ends_as_a_replay_into_empty_tables(log, monkeypatch):
    # given: the rows of a replay into empty tables, then read models that differ from it
    replayed = rebuild.snapshot()
    _tamper(log)
    assert rebuild.snapshot() != replayed
    written = _written()
    # when
    stats = rebuild.rebuild()
    # then: the same rows as the replay, and as the generic path's replay into emptied tables
    after = _written()
    assert rebuild.snapshot() == replayed
    assert rebuild.check()[0] == []
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    rebuild.rebuild()
    assert rebuild.snapshot() == replayed
    # and the merge rewrote only what differed (the missing rows were COPYed or merged)
    assert stats.merged_rows["meetings_meeting (deleted)"] == 1
    assert stats.merged_rows["meetings_meeting (inserted)"] == 1
    assert stats.merged_rows["meetings_citation (deleted)"] == 1
    assert "meetings_citation (inserted)" not in stats.merged_rows
    ins, upd, dels = (a - b for a, b in zip(after["meetings_meeting"], written["meetings_meeting"], strict=True))
    assert (ins, upd, dels) == (1, 0, 1)
    assert after["people_organization"] == written["people_organization"]


def test_the_check_reports_every_kind_of_difference_as_the_generic_path_does(log, monkeypatch):
    # given
    keys = _tamper(log)
    # when
    problems, stats, digest = rebuild.check()
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    generic, generic_stats, _ = rebuild.check()
    # then: each kind, worded and ordered as the generic comparison of snapshots
    assert problems == generic
    assert f"meetings_meeting {keys['differs']}: differs in title" in problems
    assert f"people_person {keys['person']}: differs in external_ids, version" in problems
    assert f"meetings_participation {keys['missing']}: replay row missing from live tables" in problems
    assert f"eventstore_streamstate {keys['state']}: replay row missing from live tables" in problems
    assert f"meetings_citation {keys['extra']}: live row missing from replay" in problems
    assert f"eventstore_streamstate {keys['extra_state']}: live row missing from replay" in problems
    assert any(p.startswith("people_alias ") and p.endswith("replay row missing from live tables") for p in problems)
    assert "eventstore_checkpoint stale: live row missing from replay" in problems
    assert stats.events == generic_stats.events > 0 and len(digest) == 64
    # and the check changed nothing
    assert Meeting.objects.get(pk=keys["differs"]).title == "Tampered"
    assert not StreamState.objects.filter(pk=keys["state"]).exists()


def test_the_check_shows_at_most_twenty_differences_in_table_then_key_order(log, ctx, monkeypatch):
    # given: more differences than shown, in two tables
    for i in range(25):
        commands.meeting_record(context=ctx, title=f"M{i}", date="2025-01-01", participants=[{"name": f"P{i}"}, {"name": "Q"}])
    with projecting():
        Meeting.objects.update(version=99)
        StreamState.objects.update(version=99)
    # when
    problems = rebuild.check()[0]
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    generic = rebuild.check()[0]
    # then
    assert problems == generic
    assert len(problems) == 20
    assert all(p.startswith("eventstore_streamstate ") for p in problems)  # the first table, by name
    assert problems == sorted(problems)


def _written() -> dict[str, tuple[int, int, int]]:
    tables = [m._meta.db_table for m in merged_models()]
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, n_tup_ins, n_tup_upd, n_tup_del FROM pg_stat_xact_user_tables"
            " WHERE schemaname = 'public' AND relname = ANY(%s)",
            [tables],
        )
        return {name: tuple(counts) for name, *counts in cur.fetchall()}


def test_a_rebuild_with_nothing_to_change_writes_no_row(log):
    # given: read models equal to a replay (the fixture rebuilt them)
    before = _written()
    # when
    stats = rebuild.rebuild()
    # then: this transaction inserted, updated and deleted nothing more in those tables
    assert _written() == before
    assert stats.merged_rows == {}
    assert stats.events > 0 and rebuild.check()[0] == []


def test_a_rebuild_into_empty_tables_copies_without_merging(log):
    # given: read models emptied
    replayed = rebuild.snapshot()
    rebuild._empty_read_models()
    # when
    stats = rebuild.rebuild()
    # then
    assert rebuild.snapshot() == replayed
    assert stats.merged_rows == {}
    assert not [phase for phase in stats.phases if "(temporary)" in phase]


def test_the_merge_setting_lasts_only_for_the_write(log):
    # given: the session's work_mem
    with connection.cursor() as cur:
        cur.execute("SHOW work_mem")
        (before,) = cur.fetchone()
        # when: a rebuild that merges (the tables hold rows), in this transaction
        rebuild.rebuild()
        cur.execute("SHOW work_mem")
        (after,) = cur.fetchone()
    # then
    assert after == before


def test_tables_without_a_replayer_are_replayed_as_live_and_checked_with_the_others(log, ctx, monkeypatch):
    # given: a feed (its projector has no replayer: emptied and synced as live), tampered
    # together with a meeting
    feed = feed_register(url="https://example.org/feed.xml", title="Feed", context=ctx)
    replayed = rebuild.snapshot()
    with projecting():
        Feed.objects.filter(pk=feed.pk).update(title="Tampered")
        Meeting.objects.filter(pk=log["meetings"][0]).update(title="Tampered")
    # when
    problems = rebuild.check()[0]
    monkeypatch.setattr(rebuild, "FAST_REPLAY", False)
    generic = rebuild.check()[0]
    monkeypatch.setattr(rebuild, "FAST_REPLAY", True)
    rebuild.rebuild()
    # then: both differences, in table order, as the generic path words them; then repaired
    assert problems == generic == [
        f"ingest_feed {feed.pk}: differs in title",
        f"meetings_meeting {log['meetings'][0]}: differs in title",
    ]
    assert rebuild.snapshot() == replayed


def test_only_the_rows_whose_text_differs_are_compared_and_rewritten(log):
    # given: one meeting tampered, every other row equal to a replay
    with projecting():
        Meeting.objects.filter(pk=log["meetings"][0]).update(title="Tampered")
    # when
    stats = rebuild.rebuild()
    # then: that row alone went through the temporary table and was written again
    assert stats.merged_rows == {"meetings_meeting (deleted)": 1, "meetings_meeting (inserted)": 1}
    compared = {phase for phase in stats.phases if phase.endswith("(temporary)")}
    assert compared == {"meetings_meeting (temporary)", "eventstore_streamstate (temporary)"}  # states: by key
    assert Meeting.objects.get(pk=log["meetings"][0]).title != "Tampered"
    assert rebuild.check()[0] == []


def test_a_row_the_server_prints_otherwise_is_compared_typed_and_left_as_it_is(log, record):
    # given: a meeting whose topic PostgreSQL prints as UTF-8 while the replay's JSON escapes
    # it (the lines differ, the values do not), rebuilt once
    record(title="Café talks", topics=["café"])
    rebuild.rebuild()
    before = _written()
    # when
    stats = rebuild.rebuild()
    # then: compared in the temporary table, and nothing written
    assert "meetings_meeting (temporary)" in stats.phases
    assert stats.merged_rows == {} and _written() == before
    assert rebuild.check()[0] == []
