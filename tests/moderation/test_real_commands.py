"""Proposals that run the real people and meetings commands through the catalog."""
import uuid

import pytest

from tests.moderation.conftest import ctx
from tracker.eventstore import rebuild
from tracker.eventstore.api import history, load, load_stream
from tracker.moderation.commands import proposal_accept, proposal_edit, proposal_submit
from tracker.moderation.models import Proposal

pytestmark = pytest.mark.django_db

TEXT = "SEOUL, Nov. 3 (Yonhap) -- Foreign Minister Cho Hyun met U.S. Secretary of State Marco Rubio on Monday."


def _article(robot):
    from meetings.commands import article_register

    return article_register(
        context=ctx(robot, via="suggestion"),
        url="https://news.example/2025/11/03/cho-rubio",
        title="Cho meets Rubio",
        publisher="Yonhap",
        text=TEXT,
    )


def test_accepting_a_robot_new_meeting_proposal_records_the_meeting_with_its_citation(robot, curator):
    from meetings.models import Citation, Meeting, Participation

    # given an ingested article and the robot's "new meeting" proposal from it
    article = _article(robot)
    meeting_id = str(uuid.uuid4())
    sentence = {"text": TEXT[26:], "start": 26, "end": len(TEXT)}
    sub = proposal_submit(
        user=robot,
        context=ctx(robot, via="suggestion"),
        kind="new_meeting",
        commands=[
            {"command": "meeting_record", "args": {
                "meeting_id": meeting_id, "title": "Cho–Rubio talks", "date": "2025-11-03",
                "participants": [{"name": "Cho Hyun", "side": "KR"}, {"name": "Marco Rubio", "side": "US"}],
            }},
            {"command": "meeting_cite_article", "args": {
                "meeting_id": meeting_id, "article_id": str(article.pk), "evidence": [sentence],
            }},
        ],
        evidence={"article_id": str(article.pk), "sentences": [sentence]},
        confidence=0.9,
        dedupe_key=f"article:{article.pk}:meeting:0",
        summary="Cho Hyun met Marco Rubio (2025-11-03)",
    )
    assert not Meeting.objects.filter(pk=meeting_id).exists()
    # when a curator corrects the date and accepts
    proposal_edit(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1,
                  args={0: {"date": "2025-11-02"}})
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=2)
    # then the meeting exists with the edited date and the citation, caused by the proposal
    assert outcome.accepted
    meeting = Meeting.objects.get(pk=meeting_id)
    assert (meeting.title, meeting.date, meeting.version) == ("Cho–Rubio talks", "2025-11-02", 2)
    assert Participation.objects.filter(meeting_id=meeting_id).count() == 2
    citation = Citation.objects.get(meeting_id=meeting_id)
    assert citation.article_id == article.pk and citation.evidence == [sentence]
    events = load_stream(uuid.UUID(meeting_id))
    assert [e.type for e in events] == ["MeetingRecorded", "ArticleCited"]
    assert {e.metadata["causation_id"] for e in events} == {str(sub.proposal_id)}
    assert sorted(Proposal.objects.get(pk=sub.proposal_id).applied_positions) == [e.position for e in events]
    # and the proposal shows in the meeting's history; the robot's fields are not locked
    assert any(h.related and h.event.type == "ChangeProposed" for h in history(uuid.UUID(meeting_id)))
    from tracker.moderation.selectors import locked_fields

    assert locked_fields(uuid.UUID(meeting_id)) == set()
    assert rebuild.check()[0] == []


def test_robot_revision_of_a_meeting_a_curator_dated_by_hand_is_a_conflict(robot, curator, curator2):
    from meetings.commands import meeting_record

    # given a meeting a curator recorded by hand
    meeting = meeting_record(
        participants=[{"name": "Cho Hyun"}, {"name": "Wang Yi"}], date="2025-10-30", title="Cho–Wang talks",
        context=ctx(curator),
    )
    # when the robot proposes another date and a curator accepts it
    sub = proposal_submit(
        user=robot, context=ctx(robot, via="suggestion"), kind="edit_meeting",
        commands=[{"command": "meeting_revise", "args": {"meeting_id": str(meeting.pk), "changes": {"date": "2025-10-31"}}}],
    )
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator2, context=ctx(curator2), expected_version=1)
    # then it is a conflict and the date is unchanged
    assert outcome.status == "conflict" and outcome.problems[0]["fields"] == ["date"]
    assert load(meeting.pk)[0]["date"] == "2025-10-30"


def test_person_merge_proposal_goes_stale_when_the_winner_moved(contributor, curator, curator2):
    from people.commands import person_alias_add, person_register

    # given two records of one person and a contributor's merge proposal
    loser = person_register(name="Cho Hyeon", context=ctx(curator))
    winner = person_register(name="Cho Hyun", context=ctx(curator))
    sub = proposal_submit(
        user=contributor, context=ctx(contributor), kind="merge_persons",
        commands=[{"command": "person_merge", "args": {"loser_id": str(loser), "winner_id": str(winner)}}],
    )
    assert Proposal.objects.get(pk=sub.proposal_id).commands[0]["args"]["winner_expected_version"] == 1
    # when the winner gains an alias before the merge is accepted
    person_alias_add(person_id=winner, name="Jo Hyun", expected_version=1, context=ctx(curator2))
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then it is stale about the winner, not applied
    assert outcome.status == "stale"
    assert [t["stream_id"] for t in outcome.problems] == [str(winner)]
    assert load(loser)[0].get("merged_into") in (None, "")
    # and after a rebase it merges
    proposal_edit(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=2, rebase=True)
    assert proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=3).accepted
    assert load(loser)[0]["merged_into"] == str(winner)


def test_this_is_the_same_turns_a_new_meeting_into_a_citation_and_a_new_person_into_an_alias(robot, curator):
    from meetings.commands import meeting_record
    from meetings.models import Citation, Meeting
    from people.commands import person_register
    from people.models import Alias
    from tracker.moderation.commands import proposal_mark_same

    # given a meeting on record and the robot's proposals of a "new" meeting and a "new" person
    article = _article(robot)
    existing = meeting_record(participants=[{"name": "Cho Hyun"}, {"name": "Marco Rubio"}], date="2025-11-03",
                              context=ctx(curator))
    new_id = str(uuid.uuid4())
    sentence = {"text": "met", "start": 40, "end": 43}
    meeting_prop = proposal_submit(
        user=robot, context=ctx(robot, via="suggestion"), kind="new_meeting",
        commands=[
            {"command": "meeting_record", "args": {"meeting_id": new_id, "participants": [{"name": "Cho Hyun"}, {"name": "Marco Rubio"}]}},
            {"command": "meeting_cite_article", "args": {"meeting_id": new_id, "article_id": str(article.pk), "evidence": [sentence]}},
        ],
        evidence={"article_id": str(article.pk), "sentences": [sentence]},
    )
    person = person_register(name="Cho Hyun", context=ctx(curator))
    person_prop = proposal_submit(user=robot, context=ctx(robot, via="suggestion"), kind="new_person",
                                  commands=[{"command": "person_register", "args": {"name": "Jo Hyun"}}])
    # when the curator says "this is the same" for each, then accepts
    for prop, same_as in ((meeting_prop, existing.pk), (person_prop, person)):
        proposal_mark_same(proposal_id=prop.proposal_id, existing_id=same_as, user=curator, context=ctx(curator), expected_version=1)
        assert proposal_accept(proposal_id=prop.proposal_id, user=curator, context=ctx(curator), expected_version=2).accepted
    # then no new meeting or person exists; the article is cited and the name is an alias
    assert not Meeting.objects.filter(pk=new_id).exists()
    assert Citation.objects.get(article_id=article.pk).meeting_id == existing.pk
    assert Alias.objects.filter(person_id=person, name="Jo Hyun").exists()
    kinds = dict(Proposal.objects.values_list("id", "kind"))
    assert (kinds[meeting_prop.proposal_id], kinds[person_prop.proposal_id]) == ("cite_article", "new_alias")
    assert rebuild.check()[0] == []
