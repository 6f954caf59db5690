import datetime as dt
import threading
import uuid
from typing import Any

import pytest
from django.db import connections

from meetings import commands
from meetings.models import Citation, Meeting, Participation, SourceArticle
from meetings.selectors import meeting_history
from people import commands as people_commands
from tests.meetings.conftest import person_version
from tracker.eventstore import rebuild
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    content_get,
    content_hash,
    load_stream,
    stream_revert,
)
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db

BODY = "SEOUL, July 31 (Yonhap) -- Foreign Minister Cho Hyun met Secretary of State Marco Rubio."


def _article(ctx, url="https://en.yna.co.kr/view/AEN20250731000100315", text=BODY, **extra):
    return commands.article_register(
        url=url, title="Cho, Rubio hold talks", publisher="Yonhap", text=text, context=ctx, **extra
    )


# --- record ---------------------------------------------------------------------------------


def test_recording_a_meeting_projects_the_meeting_and_its_participants(record, cho, rubio):
    # when
    meeting = record(
        date="2025-07",
        location_name="Washington",
        location_country="us",
        kind="talks",
        topics=["alliance", "tariffs"],
        participants=[{"person_id": cho, "side": "KR"}, {"person_id": rubio, "is_host": True}, {"name": "Kim Min-jun"}],
    )
    # then
    assert meeting.version == 1
    assert (meeting.date, meeting.date_precision) == ("2025-07", "month")
    assert (meeting.date_first, meeting.date_last) == (dt.date(2025, 7, 1), dt.date(2025, 7, 31))
    assert meeting.location_country == "US"
    assert meeting.topics == ["alliance", "tariffs"]
    parts = {p.name: p for p in meeting.participants.all()}
    assert set(parts) == {"Cho Hyun", "Marco Rubio", "Kim Min-jun"}
    assert parts["Cho Hyun"].person_id == cho and parts["Cho Hyun"].side == "KR"
    assert parts["Marco Rubio"].is_host
    assert parts["Kim Min-jun"].person_id is None and parts["Kim Min-jun"].recorded_person_id is None
    stored = load_stream(meeting.id)
    assert [e.type for e in stored] == ["MeetingRecorded"]
    assert len(stored[0].data["participants"]) == 3
    assert set(stored[0].related_ids) == {cho, rubio}


def test_a_meeting_needs_two_participants_and_nothing_is_stored_otherwise(record, cho):
    # given
    before = Event.objects.count()
    # when
    with pytest.raises(CommandError) as err:
        record(participants=[{"person_id": cho}])
    # then
    assert "participants" in err.value.errors
    assert Event.objects.count() == before
    assert not Meeting.objects.exists()


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("date", "2025-13"),
        ("date", "2025-02-30"),
        ("date", "31/07/2025"),
        ("end_date", "2025-07-01"),  # before the start date 2025-07-31
        ("mode", "telepathy"),
        ("status", "rumoured"),
        ("kind", "banquet"),
        ("location_country", "KOR"),
        ("topics", "alliance"),
    ],
)
def test_invalid_fields_are_refused_with_a_field_error_and_nothing_is_stored(record, field, value):
    # given
    before = Event.objects.count()
    # when
    with pytest.raises(CommandError) as err:
        record(**{field: value})
    # then
    assert field in err.value.errors
    assert Event.objects.count() == before


def test_a_multi_day_meeting_keeps_its_end_date_and_needs_a_start(record, ctx):
    # given
    summit = record(date="2025-10-31", end_date="2025-11-01", kind="summit")
    assert summit.end_date == "2025-11-01"
    # when: the start date is cleared but the end date kept
    with pytest.raises(CommandError) as err:
        commands.meeting_revise(meeting_id=summit.id, changes={"date": ""}, context=ctx, expected_version=1)
    # then
    assert "date" in err.value.errors
    assert len(load_stream(summit.id)) == 1


def test_participants_need_a_known_person_or_a_name(record, cho):
    with pytest.raises(CommandError) as err:
        record(participants=[{"person_id": cho}, {"person_id": uuid.uuid4()}, {"side": "US"}])
    assert set(err.value.errors) == {"participants[1]", "participants[2]"}


def test_the_same_person_twice_is_refused(record, cho, rubio):
    with pytest.raises(CommandError) as err:
        record(participants=[{"person_id": cho}, {"person_id": rubio}, {"person_id": cho, "name": "Cho"}])
    assert "participants[2]" in err.value.errors


def test_a_merged_person_and_its_survivor_are_the_same_participant(record, ctx, cho, rubio):
    # given: a duplicate record of Cho, merged into Cho
    dup = people_commands.person_register(name="Jo Hyun", country="KR", context=ctx)
    people_commands.person_merge(
        loser_id=dup,
        winner_id=cho,
        loser_expected_version=person_version(dup),
        winner_expected_version=person_version(cho),
        context=ctx,
    )
    # when / then
    with pytest.raises(CommandError) as err:
        record(participants=[{"person_id": cho}, {"person_id": rubio}, {"person_id": dup}])
    assert "participants[2]" in err.value.errors


def test_commands_on_an_unknown_meeting_are_refused_with_a_field_error(ctx):
    with pytest.raises(CommandError) as err:
        commands.meeting_revise(meeting_id=uuid.uuid4(), changes={"title": "x"}, context=ctx, expected_version=1)
    assert "meeting_id" in err.value.errors


# --- revise and status ----------------------------------------------------------------------


def test_revising_appends_only_the_changed_fields(record, ctx):
    # given
    meeting = record(date="2025-07", title="Talks")
    # when
    revised = commands.meeting_revise(
        meeting_id=meeting.id,
        changes={"date": "2025-07-31", "title": "Talks", "occasion": "ASEAN 2025"},
        context=ctx,
        expected_version=1,
    )
    # then
    assert revised.version == 2
    assert (revised.date, revised.date_precision, revised.occasion) == ("2025-07-31", "day", "ASEAN 2025")
    assert revised.date_first == revised.date_last == dt.date(2025, 7, 31)
    assert load_stream(meeting.id)[-1].data == {"changes": {"date": "2025-07-31", "occasion": "ASEAN 2025"}}


def test_revising_with_no_real_change_appends_nothing(record, ctx):
    meeting = record()
    unchanged = commands.meeting_revise(
        meeting_id=meeting.id, changes={"title": meeting.title}, context=ctx, expected_version=1
    )
    assert unchanged.version == 1
    assert len(load_stream(meeting.id)) == 1


def test_a_stale_version_is_a_conflict_and_nothing_is_appended(record, ctx):
    # given: two curators read version 1; the first saves
    meeting = record()
    commands.meeting_revise(meeting_id=meeting.id, changes={"title": "First"}, context=ctx, expected_version=1)
    # when: the second saves against version 1
    with pytest.raises(ConcurrencyConflict) as err:
        commands.meeting_revise(meeting_id=meeting.id, changes={"title": "Second"}, context=ctx, expected_version=1)
    # then
    assert (err.value.expected, err.value.current) == (1, 2)
    assert Meeting.objects.get(pk=meeting.id).title == "First"
    assert len(load_stream(meeting.id)) == 2


def test_invalid_revision_is_refused_with_field_errors(record, ctx):
    meeting = record()
    with pytest.raises(CommandError) as err:
        commands.meeting_revise(
            meeting_id=meeting.id, changes={"date": "2025-7", "colour": "red"}, context=ctx, expected_version=1
        )
    assert set(err.value.errors) == {"date", "colour"}
    assert len(load_stream(meeting.id)) == 1


def test_status_moves_from_planned_to_held_with_its_source(record, ctx):
    # given
    meeting = record(status="planned")
    # when
    held = commands.meeting_status_change(
        meeting_id=meeting.id, status="held", source="https://example.org/readout", context=ctx, expected_version=1
    )
    # then
    assert (held.status, held.status_source) == ("held", "https://example.org/readout")
    assert load_stream(meeting.id)[-1].type == "MeetingStatusChanged"


def test_status_changes_need_an_allowed_transition_and_a_source(record, ctx):
    meeting = record(status="held")
    with pytest.raises(CommandError) as err:
        commands.meeting_status_change(meeting_id=meeting.id, status="planned", source="", context=ctx, expected_version=1)
    assert set(err.value.errors) == {"status", "source"}
    assert len(load_stream(meeting.id)) == 1


# --- participants ---------------------------------------------------------------------------


def test_adding_and_removing_participants(record, ctx):
    # given
    meeting = record()
    # when
    added = commands.meeting_participant_add(
        meeting_id=meeting.id, name="Wi Sung-lac", side="KR", context=ctx, expected_version=1
    )
    commands.meeting_participant_remove(
        meeting_id=meeting.id, participation_id=added.id, context=ctx, expected_version=2
    )
    # then
    assert added.name == "Wi Sung-lac" and added.person_id is None
    assert not Participation.objects.filter(pk=added.id).exists()
    assert meeting.participants.count() == 2
    assert [e.type for e in load_stream(meeting.id)] == ["MeetingRecorded", "ParticipantAdded", "ParticipantRemoved"]


def test_a_meeting_keeps_at_least_two_participants(record, ctx):
    meeting = record()
    part = meeting.participants.first()
    with pytest.raises(CommandError):
        commands.meeting_participant_remove(
            meeting_id=meeting.id, participation_id=part.id, context=ctx, expected_version=1
        )
    assert meeting.participants.count() == 2


def test_revising_a_participant_resolves_a_raw_name_to_a_person(record, ctx, cho, rubio):
    # given: the record only had a name for Cho, one that is not his name or an alias
    meeting = record(participants=[{"name": "Minister Cho", "side": "KR"}, {"person_id": rubio}])
    raw = meeting.participants.get(name="Minister Cho")
    assert raw.person_id is None
    # when
    part = commands.meeting_participant_revise(
        meeting_id=meeting.id, participation_id=raw.id, changes={"person_id": str(cho)}, context=ctx, expected_version=1
    )
    # then
    assert part.person_id == cho and part.recorded_person_id == cho and part.tenure is not None
    assert load_stream(meeting.id)[-1].data == {"id": str(raw.id), "changes": {"person_id": str(cho)}}


# --- citations ------------------------------------------------------------------------------


def test_citing_and_unciting_an_article(record, ctx):
    # given
    meeting = record()
    article = _article(ctx)
    evidence = [{"text": "Foreign Minister Cho Hyun met Secretary of State Marco Rubio.", "start": 28, "end": 89}]
    # when
    citation = commands.meeting_cite_article(
        meeting_id=meeting.id, article_id=article.id, evidence=evidence, context=ctx, expected_version=1
    )
    # then
    assert citation.article_id == article.id and citation.evidence == evidence
    assert article.id in load_stream(meeting.id)[-1].related_ids
    # when: the same article again
    with pytest.raises(CommandError):
        commands.meeting_cite_article(meeting_id=meeting.id, article_id=article.id, context=ctx, expected_version=2)
    commands.meeting_uncite_article(meeting_id=meeting.id, article_id=article.id, context=ctx, expected_version=2)
    # then
    assert not Citation.objects.exists()


def test_evidence_needs_text_and_ordered_offsets(record, ctx):
    meeting = record()
    article = _article(ctx)
    with pytest.raises(CommandError) as err:
        commands.meeting_cite_article(
            meeting_id=meeting.id,
            article_id=article.id,
            evidence=[{"text": "x", "start": 9, "end": 3}],
            context=ctx,
            expected_version=1,
        )
    assert "evidence" in err.value.errors


# --- merge, retract -------------------------------------------------------------------------


def test_merging_moves_participants_and_citations_and_unmerging_gives_them_back(record, ctx, cho, rubio):
    # given: the same talks recorded twice, the copy with an extra aide and an article
    winner = record()
    loser = record(participants=[{"person_id": cho}, {"person_id": rubio}, {"name": "Allison Hooker"}])
    article = _article(ctx)
    commands.meeting_cite_article(meeting_id=loser.id, article_id=article.id, context=ctx, expected_version=1)
    # when
    merged = commands.meeting_merge(
        loser_id=loser.id, winner_id=winner.id, loser_expected_version=2, winner_expected_version=1, context=ctx
    )
    # then: the winner has everyone once, plus the citation; the loser redirects
    assert sorted(p.name for p in merged.participants.all()) == ["Allison Hooker", "Cho Hyun", "Marco Rubio"]
    assert list(merged.citations.values_list("article_id", flat=True)) == [article.id]
    loser_row = Meeting.objects.get(pk=loser.id)
    assert loser_row.merged_into_id == winner.id and not loser_row.participants.exists()
    loser_events, winner_events = load_stream(loser.id), load_stream(winner.id)
    assert loser_events[-1].type == "MeetingMergedInto" and winner_events[-1].type == "MeetingAbsorbed"
    assert loser_events[-1].metadata["batch"] == winner_events[-1].metadata["batch"]
    assert any(h.related and h.event.type == "MeetingAbsorbed" for h in meeting_history(meeting_id=loser.id))
    # and a merged meeting refuses edits
    with pytest.raises(CommandError):
        commands.meeting_revise(meeting_id=loser.id, changes={"title": "x"}, context=ctx, expected_version=3)
    # when
    commands.meeting_unmerge(loser_id=loser.id, loser_expected_version=3, winner_expected_version=2, context=ctx)
    # then
    loser_row.refresh_from_db()
    assert loser_row.merged_into_id is None
    assert sorted(p.name for p in loser_row.participants.all()) == ["Allison Hooker", "Cho Hyun", "Marco Rubio"]
    assert loser_row.citations.count() == 1
    assert sorted(p.name for p in Meeting.objects.get(pk=winner.id).participants.all()) == ["Cho Hyun", "Marco Rubio"]
    assert not Meeting.objects.get(pk=winner.id).citations.exists()


def test_merge_checks_both_versions(record, ctx):
    a, b = record(), record()
    with pytest.raises(ConcurrencyConflict):
        commands.meeting_merge(
            loser_id=a.id, winner_id=b.id, loser_expected_version=1, winner_expected_version=0, context=ctx
        )
    assert len(load_stream(a.id)) == len(load_stream(b.id)) == 1


def test_retracting_and_restoring(record, ctx):
    meeting = record()
    commands.meeting_retract(meeting_id=meeting.id, context=ctx, expected_version=1, note="not a meeting")
    assert Meeting.objects.get(pk=meeting.id).retracted
    with pytest.raises(CommandError):
        commands.meeting_retract(meeting_id=meeting.id, context=ctx, expected_version=2)
    restored = commands.meeting_restore(meeting_id=meeting.id, context=ctx, expected_version=2)
    assert not restored.retracted and restored.version == 3


def test_history_shows_field_diffs_and_revert_restores_fields(record, ctx):
    # given
    meeting = record(title="Talks")
    commands.meeting_revise(meeting_id=meeting.id, changes={"title": "Strategic dialogue"}, context=ctx, expected_version=1)
    # when
    entries = meeting_history(meeting_id=meeting.id)
    stream_revert(stream_id=meeting.id, to_version=1, expected_version=2, context=ctx)
    # then
    assert entries[-1].changes == {"title": ("Talks", "Strategic dialogue")}
    assert Meeting.objects.get(pk=meeting.id).title == "Talks"


# --- articles -------------------------------------------------------------------------------


def test_registering_an_article_stores_the_body_by_hash_only(ctx):
    # when
    article = _article(ctx, published_at="2025-07-31T09:00:00+09:00", published_date="2025-07-31")
    # then
    event = load_stream(article.id)[0]
    assert event.type == "ArticleRegistered"
    assert event.data["content_hash"] == content_hash(BODY) == article.content_hash
    assert BODY not in str(event.data)
    assert content_get(article.content_hash) == BODY
    assert article.published_at == dt.datetime(2025, 7, 31, 0, 0, tzinfo=dt.UTC)


def test_registering_the_same_url_twice_returns_the_article_and_appends_nothing(ctx):
    first = _article(ctx)
    before = Event.objects.count()
    again = _article(ctx, url=first.url + "#comments", text=BODY + " (updated)")
    assert again.id == first.id
    assert Event.objects.count() == before


def test_registering_the_same_text_twice_returns_the_article_and_appends_nothing(ctx):
    first = _article(ctx)
    before = Event.objects.count()
    again = _article(ctx, url="https://www.koreaherald.com/view.php?ud=20250731000123")
    assert again.id == first.id
    assert Event.objects.count() == before
    assert SourceArticle.objects.count() == 1


def test_an_article_without_url_or_text_is_refused(ctx):
    with pytest.raises(CommandError) as err:
        commands.article_register(title="untitled", context=ctx)
    assert "url" in err.value.errors


def test_marking_a_copy_points_at_the_root_original_and_refuses_cycles(ctx):
    # given
    original = _article(ctx)
    copy = _article(ctx, url="https://a.example/copy", text=BODY + " copy")
    copy2 = _article(ctx, url="https://b.example/copy", text=BODY + " copy 2")
    commands.article_mark_duplicate(article_id=copy.id, of_id=original.id, context=ctx, expected_version=1)
    # when: a copy of the copy
    marked = commands.article_mark_duplicate(article_id=copy2.id, of_id=copy.id, context=ctx, expected_version=1)
    # then
    assert marked.duplicate_of_id == original.id
    with pytest.raises(CommandError):
        commands.article_mark_duplicate(article_id=original.id, of_id=copy.id, context=ctx, expected_version=1)


def test_an_existing_article_is_found_by_its_url_first_then_by_its_body(ctx):
    by_body = _article(ctx, url="https://a.example/one", text=BODY)
    by_url = _article(ctx, url="https://b.example/two", text=BODY + " other")
    assert commands.article_find_existing(canonical_url="https://b.example/two", content_hash=content_hash(BODY)) == by_url
    assert commands.article_find_existing(canonical_url="https://c.example/new", content_hash=content_hash(BODY)) == by_body
    assert commands.article_find_existing(canonical_url="https://c.example/new", content_hash=content_hash("x")) is None


def test_a_copy_recognised_on_arrival_is_registered_marked_in_one_append(ctx):
    # given an original and a copy of it
    original = _article(ctx)
    copy = _article(ctx, url="https://a.example/copy", text=BODY + " copy")
    commands.article_mark_duplicate(article_id=copy.id, of_id=original.id, context=ctx, expected_version=1)
    # when a copy of the copy is registered as one
    copy2 = _article(ctx, url="https://b.example/copy", text=BODY + " copy 2", duplicate_of=copy.id)
    # then it points at the root, with both events in one batch, and a rebuild agrees
    assert copy2.duplicate_of_id == original.id and copy2.version == 2
    events = list(Event.objects.filter(stream_id=copy2.id).order_by("version"))
    assert [e.type for e in events] == ["ArticleRegistered", "ArticleMarkedDuplicate"]
    assert events[0].metadata["batch"] == events[1].metadata["batch"]
    assert [list(e.links.values_list("related_id", flat=True)) for e in events] == [[], [original.id]]
    assert rebuild.check()[0] == []
    with pytest.raises(CommandError):
        _article(ctx, url="https://c.example/copy", text=BODY + " copy 3", duplicate_of=uuid.uuid4())


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_registrations_of_one_article_make_one_article():
    # given: two workers fetched the same story at the same moment
    barrier = threading.Barrier(2)
    ids: list[uuid.UUID] = []
    ctx = Context.system(reason="ingest")

    def register(text: str) -> None:
        try:
            barrier.wait()
            ids.append(_article(ctx, text=text).id)
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=register, args=(BODY + suffix,)) for suffix in ("", " ")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then: both got the same article, and the log holds one registration
    assert len(ids) == 2 and ids[0] == ids[1]
    assert Event.objects.filter(type="ArticleRegistered").count() == 1


# --- the rows commands return ------------------------------------------------------------------


def _columns(meeting: Meeting) -> dict:
    return {f.attname: getattr(meeting, f.attname) for f in Meeting._meta.concrete_fields}


def test_commands_return_the_meeting_row_as_stored(ctx, record):
    # given / when: commands whose projection writes the whole row or one UPDATE
    recorded = record(topics=["alliance"], status="planned")
    revised = commands.meeting_revise(
        meeting_id=recorded.id, changes={"title": "New title", "topics": ["trade"]}, context=ctx, expected_version=1
    )
    redated = commands.meeting_revise(
        meeting_id=recorded.id, changes={"date": "2025-08"}, context=ctx, expected_version=2
    )
    held = commands.meeting_status_change(
        meeting_id=recorded.id, status="held", source="a readout", context=ctx, expected_version=3
    )
    unchanged = commands.meeting_revise(
        meeting_id=recorded.id, changes={"title": "New title"}, context=ctx, expected_version=4
    )
    # then each equals the row read back, with the same Python types
    returned = [recorded, revised, redated, held, unchanged]
    assert [m.version for m in returned] == [1, 2, 3, 4, 4]
    assert _columns(returned[-1]) == _columns(Meeting.objects.get(pk=recorded.id))
    assert revised.created_at == recorded.created_at and revised.topics == ["trade"]
    assert not revised._state.adding and revised._state.db == "default"
    for meeting in returned:
        assert {k: type(v) for k, v in _columns(meeting).items()} == {
            k: type(v) for k, v in _columns(Meeting.objects.get(pk=recorded.id)).items()
        }


def test_read_models_after_single_event_commands_equal_a_rebuild(ctx, record, cho):
    from tracker.eventstore import rebuild

    # given / when: commands through the one-UPDATE path and through the full sync
    meeting = record(participants=[{"person_id": cho}, {"name": "Kim Min-jun"}, {"name": "Park Yoon-joo"}])
    version = 1
    for changes in ({"title": "A"}, {"summary": "B", "topics": ["x"]}, {"date": "2025-09-02"}, {"kind": "summit"}):
        commands.meeting_revise(meeting_id=meeting.id, changes=changes, context=ctx, expected_version=version)
        version += 1
    park = next(p for p in Participation.objects.filter(meeting=meeting) if p.name == "Park Yoon-joo")
    commands.meeting_participant_remove(
        meeting_id=meeting.id, participation_id=park.id, context=ctx, expected_version=version
    )
    commands.meeting_retract(meeting_id=meeting.id, context=ctx, expected_version=version + 1, note="dup")
    commands.meeting_restore(meeting_id=meeting.id, context=ctx, expected_version=version + 2, note="not a dup")
    # then
    assert rebuild.check()[0] == []
    assert Meeting.objects.get(pk=meeting.id).version == version + 3


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_racing_revisions_of_one_meeting_end_in_one_success_and_one_conflict(ctx, record):
    # given
    meeting = record()
    barrier = threading.Barrier(2)
    outcomes: list[Any] = []

    def revise(title: str) -> None:
        try:
            barrier.wait()
            commands.meeting_revise(meeting_id=meeting.id, changes={"title": title}, context=ctx, expected_version=1)
            outcomes.append("ok")
        except ConcurrencyConflict as exc:
            outcomes.append(("conflict", exc.current))
        finally:
            connections.close_all()

    # when
    threads = [threading.Thread(target=revise, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # then
    assert sorted(outcomes, key=str) == [("conflict", 2), "ok"]
    row = Meeting.objects.get(pk=meeting.id)
    assert (row.version, row.title in ("a", "b")) == (2, True)
    assert list(Event.objects.filter(stream_id=meeting.id).values_list("version", flat=True)) == [1, 2]
