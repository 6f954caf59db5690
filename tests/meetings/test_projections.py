import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from meetings import commands
from meetings.models import Citation, Meeting, Participation
from people import commands as people_commands
from people.models import Person, Tenure
from tests.meetings.conftest import person_version
from tracker.eventstore import rebuild
from tracker.eventstore.api import CommandError, Context, load, stream_revert
from tracker.eventstore.models import StreamState

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="test")


def _part(meeting, person_id) -> Participation:
    return Participation.objects.get(meeting=meeting, recorded_person_id=person_id)


# --- tenure derivation ----------------------------------------------------------------------


def test_a_participant_gets_the_post_held_on_the_meeting_date(record, cho, rubio):
    # when: a day meeting, a month meeting overlapping the start of Cho's tenure, an undated one
    on_day = record(date="2025-07-31")
    in_month = record(date="2025-07")
    before = record(date="2025-05-02")
    undated = record(date="")
    # then
    assert _part(on_day, cho).tenure.post.title == "Minister of Foreign Affairs"
    assert _part(on_day, rubio).tenure.post.title == "Secretary of State"
    assert _part(in_month, cho).tenure is not None  # a tenure from 2025-07-19 may cover "2025-07"
    assert _part(before, cho).tenure is None
    assert _part(before, rubio).tenure is not None
    assert _part(undated, cho).tenure is None and _part(undated, cho).person_id == cho


def test_the_tenure_is_re_derived_when_the_tenure_is_corrected(record, ctx, cho):
    # given
    meeting = record(date="2025-07-31")
    tenure = _part(meeting, cho).tenure
    # when: the tenure really began in August
    people_commands.person_tenure_correct(
        person_id=cho, tenure_id=tenure.id, start="2025-08-05", expected_version=person_version(cho), context=ctx
    )
    # then
    assert _part(meeting, cho).tenure is None
    # when: it is corrected back, and then removed
    people_commands.person_tenure_correct(
        person_id=cho, tenure_id=tenure.id, start="2025-07-19", expected_version=person_version(cho), context=ctx
    )
    assert _part(meeting, cho).tenure_id == tenure.id
    people_commands.person_tenure_remove(
        person_id=cho, tenure_id=tenure.id, expected_version=person_version(cho), context=ctx
    )
    assert _part(meeting, cho).tenure is None
    assert rebuild.check()[0] == []


def test_a_new_tenure_is_picked_up_by_earlier_meetings(record, ctx, cho, fm_post):
    # given: a meeting before Cho's recorded tenure
    meeting = record(date="2024-03-10")
    assert _part(meeting, cho).tenure is None
    # when: an earlier tenure is recorded
    people_commands.person_tenure_start(
        person_id=cho, post_id=fm_post, start="2024-01", end="2024-12", expected_version=person_version(cho), context=ctx
    )
    # then
    derived = _part(meeting, cho).tenure
    assert derived is not None and derived.start == "2024-01"


def test_revising_the_meeting_date_re_derives_tenures(record, ctx, cho):
    meeting = record(date="2025-05-02")
    assert _part(meeting, cho).tenure is None
    commands.meeting_revise(meeting_id=meeting.id, changes={"date": "2025-09-01"}, context=ctx, expected_version=1)
    assert _part(meeting, cho).tenure is not None


def test_participations_follow_a_person_merge_and_unmerge(record, ctx, cho, rubio, fm_post):
    # given: a duplicate record of Cho, without a tenure, used in a meeting
    dup = people_commands.person_register(name="Jo Hyun", country="KR", context=ctx)
    meeting = record(participants=[{"person_id": dup}, {"person_id": rubio}], date="2025-07-31")
    assert _part(meeting, dup).person_id == dup and _part(meeting, dup).tenure is None
    # when
    people_commands.person_merge(
        loser_id=dup,
        winner_id=cho,
        loser_expected_version=person_version(dup),
        winner_expected_version=person_version(cho),
        context=ctx,
    )
    # then: the participation now points at Cho and the post Cho held
    part = _part(meeting, dup)
    assert part.person_id == cho
    assert part.tenure.post_id == fm_post
    assert part.name == "Jo Hyun"  # the name as recorded stays
    # when
    people_commands.person_unmerge(
        loser_id=dup,
        loser_expected_version=person_version(dup),
        winner_expected_version=person_version(cho),
        context=ctx,
    )
    # then
    part = _part(meeting, dup)
    assert part.person_id == dup and part.tenure is None
    assert rebuild.check()[0] == []


def test_a_participant_absorbed_by_a_merge_gets_the_post_held_on_the_surviving_date(record, ctx, cho, rubio):
    # given: the copy was misdated before Cho took office; the surviving record lacks Cho
    winner = record(date="2025-07-31", participants=[{"person_id": rubio}, {"name": "Allison Hooker"}])
    loser = record(date="2025-05-02")
    assert _part(loser, cho).tenure is None
    # when
    commands.meeting_merge(
        loser_id=loser.id, winner_id=winner.id, loser_expected_version=1, winner_expected_version=1, context=ctx
    )
    # then
    moved = _part(winner, cho)
    assert moved.tenure is not None and moved.tenure.person_id == cho
    assert rebuild.check()[0] == []


# --- rebuild --------------------------------------------------------------------------------


def test_rebuild_equals_live_after_a_mixed_sequence(record, ctx, cho, rubio):
    # given
    a = record(date="2025-07", status="planned")
    b = record(date="2025-07-31")
    article = commands.article_register(url="https://example.org/a", text="Cho met Rubio.", context=ctx)
    commands.meeting_cite_article(
        meeting_id=b.id, article_id=article.id, evidence=[{"text": "Cho met Rubio.", "start": 0, "end": 14}],
        context=ctx, expected_version=1,
    )
    commands.meeting_status_change(meeting_id=a.id, status="held", source="readout", context=ctx, expected_version=1)
    commands.meeting_participant_add(meeting_id=a.id, name="Kim Jina", context=ctx, expected_version=2)
    commands.meeting_merge(loser_id=b.id, winner_id=a.id, loser_expected_version=2, winner_expected_version=3, context=ctx)
    commands.meeting_retract(meeting_id=a.id, context=ctx, expected_version=4)
    # when
    problems, stats, _ = rebuild.check()
    before = rebuild.checksum(rebuild.snapshot())
    rebuild.rebuild()
    # then
    assert problems == []
    assert stats.events >= 10
    assert rebuild.checksum(rebuild.snapshot()) == before
    assert Citation.objects.get().meeting_id == a.id


# --- property: random command sequences keep rebuild == live ---------------------------------

OPS = (  # record and merge twice: merges need two live meetings
    "record", "record", "merge", "revise", "add", "remove", "status", "cite", "uncite", "merge", "unmerge",
    "retract", "restore", "revert", "tenure_start", "tenure_correct", "person_merge", "person_unmerge",
)
DATES = ("", "2024", "2025-07", "2025-07-31", "2025-02-30", "2026-01-15")
step = st.tuples(st.sampled_from(OPS), st.integers(0, 7), st.integers(0, 7), st.sampled_from(DATES))


def _run(op, i, j, date, meetings, persons, articles, post) -> None:
    if op == "record" or not meetings:
        p1, p2 = persons[i % len(persons)], persons[(i + 1 + j % (len(persons) - 1)) % len(persons)]
        m = commands.meeting_record(
            participants=[{"person_id": p1}, {"person_id": p2}, {"name": f"Aide {j}"}],
            date=date, status="planned" if j % 2 else "held", context=CTX,
        )
        meetings.append(m.id)
        return
    mid = meetings[i % len(meetings)]
    state, version = load(mid)
    kw = {"meeting_id": mid, "context": CTX, "expected_version": version}
    if op == "revise":
        commands.meeting_revise(changes={"date": date, "title": f"Talks {j}"}, **kw)
    elif op == "add":
        commands.meeting_participant_add(person_id=persons[j % len(persons)], **kw)
    elif op == "remove" and state["participants"]:
        commands.meeting_participant_remove(participation_id=state["participants"][j % len(state["participants"])]["id"], **kw)
    elif op == "status":
        commands.meeting_status_change(status=("held", "cancelled", "postponed", "planned")[j % 4], source="wire", **kw)
    elif op == "cite":
        commands.meeting_cite_article(article_id=articles[j % len(articles)], evidence=[{"text": "x", "start": 0, "end": 1}], **kw)
    elif op == "uncite" and state["citations"]:
        commands.meeting_uncite_article(article_id=state["citations"][0]["article_id"], **kw)
    elif op == "merge":
        others = [m for m in meetings if m != mid]
        if not others:
            return
        other = others[j % len(others)]
        commands.meeting_merge(
            loser_id=mid, winner_id=other, loser_expected_version=version,
            winner_expected_version=load(other)[1], context=CTX,
        )
    elif op == "unmerge" and state["merged_into"]:
        commands.meeting_unmerge(
            loser_id=mid, loser_expected_version=version,
            winner_expected_version=load(uuid.UUID(state["merged_into"]))[1], context=CTX,
        )
    elif op == "retract":
        commands.meeting_retract(**kw)
    elif op == "restore":
        commands.meeting_restore(**kw)
    elif op == "revert" and version > 1:
        stream_revert(stream_id=mid, to_version=1 + j % version, expected_version=version, context=CTX)
    elif op in ("tenure_start", "tenure_correct", "person_merge", "person_unmerge"):
        _run_people(op, i, j, date, persons, post)


def _run_people(op, i, j, date, persons, post) -> None:
    pid = persons[i % len(persons)]
    pstate, pversion = load(pid)
    if op == "tenure_start":
        people_commands.person_tenure_start(person_id=pid, post_id=post, start=date, expected_version=pversion, context=CTX)
    elif op == "tenure_correct" and pstate["tenures"]:
        tenure_id = sorted(pstate["tenures"])[j % len(pstate["tenures"])]
        people_commands.person_tenure_correct(
            person_id=pid, tenure_id=tenure_id, start=date, expected_version=pversion, context=CTX
        )
    elif op == "person_merge":
        other = persons[j % len(persons)]
        people_commands.person_merge(
            loser_id=pid, winner_id=other, loser_expected_version=pversion,
            winner_expected_version=load(other)[1], context=CTX,
        )
    elif op == "person_unmerge" and pstate["merged_into"]:
        people_commands.person_unmerge(
            loser_id=pid, loser_expected_version=pversion,
            winner_expected_version=load(uuid.UUID(pstate["merged_into"]))[1], context=CTX,
        )


@pytest.fixture
def world() -> tuple[list[uuid.UUID], list[uuid.UUID], uuid.UUID]:
    """Three persons, two articles and a post, made once per test (not per example)."""
    post = people_commands.post_ensure(
        title="Minister of Foreign Affairs", organization_name="MOFA", country="KR", context=CTX
    )
    persons = [
        people_commands.person_register(name=name, country="KR", context=CTX)
        for name in ("Cho Hyun", "Park Yoon-joo", "Wi Sung-lac")
    ]
    articles = [
        commands.article_register(url=f"https://example.org/{n}", text=f"story {n}", context=CTX).id for n in range(2)
    ]
    return persons, articles, post


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(steps=st.lists(step, min_size=1, max_size=12))
def test_random_meeting_command_sequences_keep_rebuild_equal_to_live(world, steps):
    # Each example runs in a savepoint that is rolled back, so the log does not grow from
    # one example to the next and every rebuild check replays only this example's events
    # (plus the shared world's).
    with transaction.atomic():
        _example(steps, *world)
        transaction.set_rollback(True)


def _example(steps, persons, articles, post) -> None:
    meetings: list[uuid.UUID] = []
    for s in steps:
        try:
            _run(*s, meetings, persons, articles, post)
        except CommandError:
            pass  # refused input (bad date, disallowed status, merge into a merged meeting...) appends nothing
    # every meeting's rows mirror its folded state
    for mid in meetings:
        state = StreamState.objects.get(pk=mid).state
        row = Meeting.objects.get(pk=mid)
        assert row.version == load(mid)[1]
        expected = set() if state["merged_into"] else {uuid.UUID(p["id"]) for p in state["participants"]}
        assert set(row.participants.values_list("id", flat=True)) == expected
        for part in row.participants.exclude(recorded_person_id=None):
            # the derived person is the surviving record, the tenure one of that person's
            assert Person.objects.get(pk=part.person_id).merged_into_id is None
            if part.tenure_id:
                assert Tenure.objects.get(pk=part.tenure_id).person_id == part.person_id
    problems, _stats, _checksum = rebuild.check()
    assert problems == []
