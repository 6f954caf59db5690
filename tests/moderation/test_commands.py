import uuid

import pytest

from tests.moderation.conftest import change, ctx, new_widget
from tracker.eventstore import rebuild
from tracker.eventstore.api import CommandError, history, load, load_stream
from tracker.moderation.commands import (
    proposal_accept,
    proposal_attach_evidence,
    proposal_edit,
    proposal_reject,
    proposal_submit,
    proposal_supersede,
)
from tracker.moderation.models import Proposal, ProposalEvidence
from tracker.moderation.selectors import locked_fields, proposal_list, proposal_pending_counts

pytestmark = pytest.mark.django_db

ARTICLE = uuid.UUID("00000000-0000-4000-8000-00000000a001")
EVIDENCE = {"article_id": str(ARTICLE), "sentences": [{"text": "They met on Monday.", "start": 10, "end": 29}]}


def _robot_submit(robot, commands, key="", **kw):
    return proposal_submit(
        user=robot, context=ctx(robot, via="suggestion"), kind=kw.pop("kind", "edit_meeting"),
        commands=commands, evidence=kw.pop("evidence", EVIDENCE), confidence=kw.pop("confidence", 0.8),
        dedupe_key=key, summary=kw.pop("summary", "robot edit"),
    )


def test_submitted_proposal_is_queued_and_touches_nothing(robot, curator):
    # given
    widget = new_widget(curator, name="old")
    # when
    sub = _robot_submit(robot, [change(widget, name="new")], key="article-1:edit")
    # then the record is unchanged and the queue shows the proposal with its evidence
    assert load(widget) == ({"name": "old"}, 1)
    row = Proposal.objects.get(pk=sub.proposal_id)
    assert (row.status, row.author_name, row.author_kind, row.article_id) == ("pending", "robot", "robot", ARTICLE)
    assert row.commands == [{"command": "modtest_widget_change", "args": {"widget_id": str(widget), "fields": {"name": "new"}},
                             "target_stream_id": str(widget), "expected_version": 1}]
    assert list(ProposalEvidence.objects.values_list("sentences", flat=True)) == [EVIDENCE["sentences"]]
    assert list(proposal_list(status="pending", article_id=ARTICLE)) == [row]
    assert proposal_pending_counts() == {"edit_meeting": 1}
    # and it appears in the target's history as a related event
    assert [h.event.type for h in history(widget) if h.related] == ["ChangeProposed"]


def test_accept_applies_all_commands_with_causation_and_proposal_id(robot, curator):
    # given a proposal of two commands on two widgets (one of them new)
    a = new_widget(curator, colour="red")
    b = uuid.uuid4()
    sub = _robot_submit(robot, [change(a, size="L"), change(b, name="fresh")])
    # when
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then both applied, each event carrying the proposal as causation
    assert outcome.accepted
    assert load(a)[0] == {"colour": "red", "size": "L"} and load(b)[0] == {"name": "fresh"}
    applied = [load_stream(a)[-1], load_stream(b)[-1]]
    for e in applied:
        assert e.metadata["causation_id"] == str(sub.proposal_id)
        assert e.metadata["proposal_id"] == str(sub.proposal_id)
        assert e.metadata["via"] == "suggestion"
    row = Proposal.objects.get(pk=sub.proposal_id)
    assert row.status == "accepted" and row.decided_at is not None
    assert sorted(row.applied_positions) == sorted(e.position for e in applied)


def test_accept_is_all_or_nothing_when_the_second_command_fails(contributor, curator):
    # given a proposal whose second command fails
    a = new_widget(curator, name="a")
    b = uuid.uuid4()
    sub = proposal_submit(
        user=contributor, context=ctx(contributor), kind="other",
        commands=[change(a, name="changed"), {"command": "modtest_fail", "args": {"widget_id": str(b)}}],
    )
    # when
    with pytest.raises(CommandError):
        proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then nothing was stored: the first command's event was rolled back too
    assert load(a) == ({"name": "a"}, 1)
    assert len(load_stream(a)) == 1 and load_stream(b) == []
    assert Proposal.objects.get(pk=sub.proposal_id).status == "pending"
    assert len(load_stream(sub.proposal_id)) == 1


def test_proposal_becomes_stale_with_the_diff_when_its_target_moved(robot, curator, curator2):
    # given a proposal made against version 1, then a curator edits the widget
    widget = new_widget(curator, name="old", colour="red")
    sub = _robot_submit(robot, [change(widget, size="XL")])
    from tests.moderation.sample import widget_change

    widget_change(widget_id=str(widget), fields={"colour": "blue"}, context=ctx(curator2, reason="fix"), expected_version=1)
    # when
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then nothing applied; the proposal is stale and says what moved
    assert outcome.status == "stale" and not outcome.applied
    assert load(widget)[0] == {"name": "old", "colour": "blue"}
    row = Proposal.objects.get(pk=sub.proposal_id)
    assert row.status == "stale"
    [target] = row.problems["stale"]
    assert (target["stream_id"], target["expected_version"], target["current_version"]) == (str(widget), 1, 2)
    assert target["changes"] == {"colour": ["red", "blue"]}
    assert [(e["actor_name"], e["reason"]) for e in target["events"]] == [("cody", "fix")]
    # when the curator reviews the difference and rebases it, it can be accepted
    proposal_edit(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=2, rebase=True)
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=3)
    assert outcome.accepted and load(widget)[0]["size"] == "XL"


def test_curator_edits_args_before_accepting(robot, curator):
    # given
    widget = new_widget(curator, colour="red")
    sub = _robot_submit(robot, [change(widget, size="S")])
    # when
    proposal_edit(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1,
                  args={0: {"fields": {"size": "M"}}}, note="article says medium")
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=2)
    # then
    assert outcome.accepted and load(widget)[0]["size"] == "M"


def test_reject_needs_a_reason_and_the_same_article_is_not_raised_again(robot, curator):
    # given a robot proposal from an article
    widget = new_widget(curator, name="old")
    sub = _robot_submit(robot, [change(widget, name="new")], key="article-7:meeting")
    # when rejecting without a reason
    with pytest.raises(CommandError) as err:
        proposal_reject(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1, reason="  ")
    assert "reason" in err.value.errors
    # when rejecting with one
    proposal_reject(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1,
                    reason="not a meeting, a phone call")
    # and the article is ingested again
    again = _robot_submit(robot, [change(widget, name="new")], key="article-7:meeting")
    # then no new proposal was raised and the reason is kept
    assert (again.proposal_id, again.created, again.status) == (sub.proposal_id, False, "rejected")
    assert Proposal.objects.count() == 1
    row = Proposal.objects.get()
    assert (row.status, row.reason, row.reviewer_name) == ("rejected", "not a meeting, a phone call", "cora")
    assert len(load_stream(sub.proposal_id)) == 2
    # and a decided proposal cannot be accepted any more
    with pytest.raises(CommandError):
        proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=2)


def test_robot_proposal_touching_a_hand_set_field_is_a_conflict_not_applied(robot, curator, curator2):
    # given a widget whose name a curator set by hand, and a robot-set colour
    widget = new_widget(curator, name="Seoul talks")
    first = _robot_submit(robot, [change(widget, colour="green")])
    assert proposal_accept(proposal_id=first.proposal_id, user=curator2, context=ctx(curator2), expected_version=1).accepted
    assert locked_fields(widget) == {"name"}
    # when the robot proposes to change both
    sub = _robot_submit(robot, [change(widget, name="Busan talks", colour="blue")])
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator2, context=ctx(curator2), expected_version=1)
    # then nothing is applied and the conflict names the locked field
    assert outcome.status == "conflict"
    assert load(widget)[0] == {"name": "Seoul talks", "colour": "green"}
    row = Proposal.objects.get(pk=sub.proposal_id)
    assert row.status == "conflict"
    assert row.problems["locked"] == [
        {"stream_id": str(widget), "fields": ["name"], "changes": {"name": ["Seoul talks", "Busan talks"]}}
    ]
    # a robot proposal touching only unlocked fields still applies
    ok = _robot_submit(robot, [change(widget, colour="blue")])
    assert proposal_accept(proposal_id=ok.proposal_id, user=curator2, context=ctx(curator2), expected_version=1).accepted


def test_contributor_proposal_is_not_blocked_by_locks(contributor, curator, curator2):
    widget = new_widget(curator, name="Seoul talks")
    sub = proposal_submit(user=contributor, context=ctx(contributor), kind="edit_meeting", commands=[change(widget, name="Busan talks")])
    outcome = proposal_accept(proposal_id=sub.proposal_id, user=curator2, context=ctx(curator2), expected_version=1)
    assert outcome.accepted and load(widget)[0]["name"] == "Busan talks"


def test_attach_evidence_and_supersede(robot, curator):
    # given a pending proposal
    widget = new_widget(curator, name="x")
    sub = _robot_submit(robot, [change(widget, size="S")])
    other = uuid.uuid4()
    # when a second article supports it (twice: the repeat is a no-op)
    evidence = {"article_id": str(other), "sentences": [{"text": "Talks were held.", "start": 0, "end": 16}]}
    proposal_attach_evidence(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                             expected_version=1, evidence=evidence)
    assert proposal_attach_evidence(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                                    expected_version=2, evidence=evidence) == []
    # then
    assert list(ProposalEvidence.objects.filter(proposal_id=sub.proposal_id).values_list("article_id", flat=True)) == [ARTICLE, other]
    assert list(proposal_list(article_id=other)) == [Proposal.objects.get(pk=sub.proposal_id)]
    # when a better proposal replaces it
    better = _robot_submit(robot, [change(widget, size="M")])
    proposal_supersede(proposal_id=sub.proposal_id, by_proposal_id=better.proposal_id, user=curator,
                       context=ctx(curator), expected_version=2, reason="newer article")
    row = Proposal.objects.get(pk=sub.proposal_id)
    assert (row.status, row.superseded_by) == ("superseded", better.proposal_id)


def test_unknown_command_or_kind_is_refused(contributor):
    with pytest.raises(CommandError):
        proposal_submit(user=contributor, context=ctx(contributor), kind="other",
                        commands=[{"command": "no_such_thing", "args": {}}])
    with pytest.raises(CommandError):
        proposal_submit(user=contributor, context=ctx(contributor), kind="bogus", commands=[change(uuid.uuid4(), a="b")])
    assert not Proposal.objects.exists()


def test_evidence_attached_one_by_one_is_projected_as_a_rebuild_gives_it(robot):
    # given a proposal that collects evidence from several articles, one append each
    sub = _robot_submit(robot, [change(uuid.uuid4(), size="S")], key="many")
    articles = [uuid.uuid4() for _ in range(4)]
    for version, article in enumerate(articles, start=1):
        proposal_attach_evidence(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                                 expected_version=version, evidence={"article_id": str(article), "sentences": []})
    # then every item has its row, in order, and a rebuild writes the same rows
    rows = ProposalEvidence.objects.filter(proposal_id=sub.proposal_id).order_by("index")
    assert [(e.index, e.article_id) for e in rows] == list(enumerate([ARTICLE, *articles]))
    assert Proposal.objects.get(pk=sub.proposal_id).version == 5
    # and a proposal raised without evidence takes its article from the first attachment
    bare = _robot_submit(robot, [change(uuid.uuid4(), size="M")], key="bare", evidence=None)
    proposal_attach_evidence(proposal_id=bare.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                             expected_version=1, evidence={"article_id": str(articles[0]), "sentences": []})
    assert Proposal.objects.get(pk=bare.proposal_id).article_id == articles[0]
    assert rebuild.check()[0] == []


def test_rebuild_equals_live_after_a_moderation_flow(robot, contributor, curator, curator2):
    # given a flow touching every proposal event type
    widget = new_widget(curator, name="n")
    a = _robot_submit(robot, [change(widget, size="S")], key="k1")
    proposal_attach_evidence(proposal_id=a.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                             expected_version=1, evidence={"article_id": str(uuid.uuid4()), "sentences": []})
    proposal_edit(proposal_id=a.proposal_id, user=curator, context=ctx(curator), expected_version=2, args={0: {"fields": {"size": "M"}}})
    proposal_accept(proposal_id=a.proposal_id, user=curator2, context=ctx(curator2), expected_version=3)
    b = _robot_submit(robot, [change(widget, name="robot name")], key="k2")
    proposal_accept(proposal_id=b.proposal_id, user=curator2, context=ctx(curator2), expected_version=1)  # conflict
    c = proposal_submit(user=contributor, context=ctx(contributor), kind="other", commands=[change(widget, colour="c")])
    proposal_reject(proposal_id=c.proposal_id, user=curator, context=ctx(curator), expected_version=1, reason="no")
    d = _robot_submit(robot, [change(widget, colour="d")], key="k3")
    e = _robot_submit(robot, [change(widget, colour="e")], key="k4")
    proposal_supersede(proposal_id=d.proposal_id, by_proposal_id=e.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    from tests.moderation.sample import widget_change

    widget_change(widget_id=str(widget), fields={"size": "L"}, context=ctx(curator), expected_version=2)
    proposal_accept(proposal_id=e.proposal_id, user=curator, context=ctx(curator), expected_version=1)  # stale
    assert set(Proposal.objects.values_list("status", flat=True)) == {"accepted", "conflict", "rejected", "superseded", "stale"}
    # when / then
    problems, stats, _ = rebuild.check()
    assert problems == [] and stats.events > 10


def test_python_values_in_args_are_stored_as_json_and_bad_ids_refused(contributor, curator):
    # given a caller passing a UUID object (as the news pipeline would)
    widget = new_widget(curator, name="n")
    sub = proposal_submit(user=contributor, context=ctx(contributor), kind="other",
                          commands=[{"command": "modtest_widget_change", "args": {"widget_id": widget, "fields": {"size": "S"}}}])
    # then the proposal holds the id as a string and knows its target
    assert Proposal.objects.get(pk=sub.proposal_id).commands[0]["target_stream_id"] == str(widget)
    # and a malformed id is a field error, not a crash
    with pytest.raises(CommandError) as err:
        proposal_submit(user=contributor, context=ctx(contributor), kind="other",
                        commands=[{"command": "modtest_widget_change", "args": {"widget_id": "nope", "fields": {}}}])
    assert "commands" in err.value.errors


def test_bulk_actions_decide_each_proposal_on_its_own(robot, curator):
    from tracker.moderation.commands import proposal_bulk_accept, proposal_bulk_reject

    # given three robot proposals, one of which will be stale
    w1, w2 = new_widget(curator, name="1"), new_widget(curator, name="2")
    ok = _robot_submit(robot, [change(w1, size="S")])
    stale = _robot_submit(robot, [change(w2, size="S")])
    other = _robot_submit(robot, [change(w2, colour="red")])
    from tests.moderation.sample import widget_change

    widget_change(widget_id=str(w2), fields={"size": "M"}, context=ctx(curator), expected_version=1)
    # when
    accepted = proposal_bulk_accept(proposal_ids=[ok.proposal_id, stale.proposal_id], user=curator, context=ctx(curator))
    with pytest.raises(CommandError):
        proposal_bulk_reject(proposal_ids=[other.proposal_id], user=curator, context=ctx(curator), reason="")
    rejected = proposal_bulk_reject(proposal_ids=[other.proposal_id, ok.proposal_id], user=curator, context=ctx(curator), reason="dup")
    # then
    assert accepted == {ok.proposal_id: "accepted", stale.proposal_id: "stale"}
    assert rejected == {other.proposal_id: "rejected", ok.proposal_id: "skipped (accepted)"}
    assert load(w1)[0]["size"] == "S" and load(w2)[0]["size"] == "M"


def test_attachments_keep_the_state_small_and_fold_to_the_rows_an_old_state_gives(robot):
    from tracker.moderation.aggregates import ProposalAggregate

    # given a proposal that collected evidence from several articles, with sentences
    sub = _robot_submit(robot, [change(uuid.uuid4(), size="S")], key="compact")
    articles = [uuid.uuid4() for _ in range(3)]
    for version, article in enumerate(articles, start=1):
        sentence = {"text": f"Talks no. {version}.", "start": 0, "end": 12}
        proposal_attach_evidence(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                                 expected_version=version, evidence={"article_id": str(article), "sentences": [sentence]})
    # then the state keeps the first item whole and the articles of all, not every sentence
    state, version = load(sub.proposal_id, stream_type="proposal")
    assert version == 4 and len(state["evidence"]) == 1
    assert state["evidence_articles"] == [str(a) for a in [ARTICLE, *articles]]
    # and each attachment's sentences are in its evidence row, in order
    rows = ProposalEvidence.objects.filter(proposal_id=sub.proposal_id).order_by("index")
    assert [(e.index, e.article_id, e.sentences[0]["text"] if e.sentences else None) for e in rows][1:] == [
        (i, a, f"Talks no. {i}.") for i, a in enumerate(articles, start=1)
    ]
    # and a state folded before the change (every item whole) folds the next attachment to the same state
    old = {**state, "evidence": [*state["evidence"], *({"article_id": str(a), "sentences": []} for a in articles)]}
    del old["evidence_articles"]
    attached = ProposalAggregate.evolvers["ProposalAttached"]
    more = {"evidence": {"article_id": str(uuid.uuid4()), "sentences": []}}
    assert attached(old, more, None) == attached(dict(state), more, None)
    # and attaching an article already attached is a no-op, as before
    assert proposal_attach_evidence(proposal_id=sub.proposal_id, user=robot, context=ctx(robot, via="suggestion"),
                                    expected_version=4, evidence={"article_id": str(articles[1]), "sentences": []}) == []
    assert rebuild.check()[0] == []


def test_an_accepted_proposal_registers_an_article(contributor, curator):
    # given a contributor's proposal to register an article (its id comes from its URL)
    from meetings.models import SourceArticle

    sub = proposal_submit(
        user=contributor, context=ctx(contributor), kind="other",
        commands=[{"command": "article_register", "args": {
            "url": "https://example.org/news/talks", "publisher": "Yonhap", "text": "Cho met Rubio."}}],
    )
    assert not SourceArticle.objects.exists()  # nothing before review
    # when a curator accepts it
    proposal_accept(proposal_id=sub.proposal_id, user=curator, context=ctx(curator), expected_version=1)
    # then the article is on record
    assert SourceArticle.objects.get().publisher == "Yonhap"
