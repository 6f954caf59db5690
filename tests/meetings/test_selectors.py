import pytest

from meetings import commands
from meetings.selectors import (
    article_find,
    meeting_history,
    meeting_list,
    meeting_resolve,
    meeting_state,
)
from people import commands as people_commands
from tests.meetings.conftest import person_version
from tracker.eventstore.api import content_hash

pytestmark = pytest.mark.django_db


def _ids(qs) -> set:
    return set(qs.values_list("id", flat=True))


def test_date_ranges_use_partial_date_semantics(record):
    # given
    day = record(date="2025-10-14")
    month = record(date="2025-10")
    year = record(date="2025")
    undated = record(date="")
    # when / then: a month-precise meeting is inside its month...
    assert _ids(meeting_list(filters={"date_from": "2025-10-01", "date_to": "2025-10-31"})) == {day.id, month.id}
    assert _ids(meeting_list(filters={"date_from": "2025-10", "date_to": "2025-10"})) == {day.id, month.id}
    # ...but not inside half of it, where it may or may not have taken place
    assert _ids(meeting_list(filters={"date_from": "2025-10-01", "date_to": "2025-10-15"})) == {day.id}
    assert _ids(meeting_list(filters={"date_from": "2025"})) == {day.id, month.id, year.id}
    assert undated.id in _ids(meeting_list(filters={}))
    assert undated.id not in _ids(meeting_list(filters={"date_to": "2030"}))


def test_participant_filter_matches_recorded_and_merged_persons(record, ctx, cho, rubio):
    # given: one meeting with Cho, one with a duplicate record of Cho, one without him
    dup = people_commands.person_register(name="Jo Hyun", country="KR", context=ctx)
    with_cho = record()
    with_dup = record(participants=[{"person_id": dup}, {"person_id": rubio}])
    without = record(participants=[{"person_id": rubio}, {"name": "Kim Min-jun"}])
    assert _ids(meeting_list(filters={"participant": cho})) == {with_cho.id}
    # when
    people_commands.person_merge(
        loser_id=dup,
        winner_id=cho,
        loser_expected_version=person_version(dup),
        winner_expected_version=person_version(cho),
        context=ctx,
    )
    # then: both ids find both meetings
    assert _ids(meeting_list(filters={"participant": cho})) == {with_cho.id, with_dup.id}
    assert _ids(meeting_list(filters={"participant": dup})) == {with_dup.id}
    assert without.id in _ids(meeting_list(filters={"participant": rubio}))


def test_country_status_and_text_filters(record, ctx):
    seoul = record(location_name="Seoul", location_country="KR", status="planned", occasion="APEC 2025")
    dc = record(location_name="Washington", location_country="US")
    assert _ids(meeting_list(filters={"country": "kr"})) == {seoul.id}
    assert _ids(meeting_list(filters={"status": "held"})) == {dc.id}
    assert _ids(meeting_list(filters={"q": "apec"})) == {seoul.id}
    assert _ids(meeting_list(filters={"side": "US"})) == {seoul.id, dc.id}


def test_merged_and_retracted_meetings_are_left_out_unless_asked_for(record, ctx):
    # given
    a, b, c = record(), record(), record()
    commands.meeting_merge(loser_id=b.id, winner_id=a.id, loser_expected_version=1, winner_expected_version=1, context=ctx)
    commands.meeting_retract(meeting_id=c.id, context=ctx, expected_version=1)
    # then
    assert _ids(meeting_list(filters={})) == {a.id}
    assert _ids(meeting_list(filters={"include_merged": True, "include_retracted": True})) == {a.id, b.id, c.id}
    assert meeting_resolve(meeting_id=b.id).id == a.id


def test_history_and_state_as_of_a_position(record, ctx):
    # given
    meeting = record(title="Talks")
    first_position = meeting_history(meeting_id=meeting.id)[0].event.position
    commands.meeting_revise(meeting_id=meeting.id, changes={"title": "Summit"}, context=ctx, expected_version=1)
    # when
    then_state, then_version = meeting_state(meeting_id=meeting.id, as_of_position=first_position)
    # then
    assert (then_state["title"], then_version) == ("Talks", 1)
    assert meeting_state(meeting_id=meeting.id)[0]["title"] == "Summit"
    assert [h.event.type for h in meeting_history(meeting_id=meeting.id)] == ["MeetingRecorded", "MeetingRevised"]


def test_article_find_by_url_or_hash(ctx):
    article = commands.article_register(
        url="https://example.org/story?id=1", canonical_url="https://example.org/story", text="body", context=ctx
    )
    assert article_find(url="https://example.org/story").id == article.id
    assert article_find(url="https://example.org/story?id=1").id == article.id
    assert article_find(content_hash=content_hash("body")).id == article.id
    assert article_find(url="https://example.org/other") is None
