import uuid

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from people import commands
from people.models import Alias, Person, Tenure
from tests.people.conftest import version_of
from tracker.eventstore import rebuild
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    Context,
    ReadModelWriteRefused,
    load,
    stream_revert,
)
from tracker.eventstore.models import StreamState

pytestmark = pytest.mark.django_db

CTX = Context.system(reason="property test")


def test_read_models_refuse_writes_outside_the_projector(ctx):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    person = Person.objects.get(pk=pid)
    person.name = "Someone Else"
    with pytest.raises(ReadModelWriteRefused):
        person.save()
    with pytest.raises(ReadModelWriteRefused):
        Alias.objects.filter(person_id=pid).delete()


def test_person_row_times_come_from_the_events(ctx):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    commands.person_rename(person_id=pid, name="Cho Hyun Jr", expected_version=1, context=ctx)
    person = Person.objects.get(pk=pid)
    from tracker.eventstore.api import load_stream

    first, last = load_stream(pid)
    assert (person.created_at, person.updated_at) == (first.recorded_at, last.recorded_at)


@pytest.mark.parametrize("loser_sorts_first", [True, False])
def test_merge_moves_tenure_rows_whatever_order_the_streams_are_written(
    ctx, fm_post, loser_sorts_first
):
    # given: append_many writes streams in id order, so try the loser on both sides
    low, high = sorted((uuid.uuid4(), uuid.uuid4()), key=str)
    loser_id, winner_id = (low, high) if loser_sorts_first else (high, low)
    loser = commands.person_register(name="Jo Hyun", person_id=loser_id, context=ctx)
    winner = commands.person_register(name="Cho Hyun", person_id=winner_id, context=ctx)
    tid = commands.person_tenure_start(
        person_id=loser, post_id=fm_post, start="2025-07", expected_version=1, context=ctx
    )[0].data["tenure_id"]
    # when
    commands.person_merge(
        loser_id=loser,
        winner_id=winner,
        loser_expected_version=2,
        winner_expected_version=1,
        context=ctx,
    )
    # then
    assert Tenure.objects.get(pk=tid).person_id == winner
    # when
    commands.person_unmerge(
        loser_id=loser, loser_expected_version=3, winner_expected_version=2, context=ctx
    )
    # then
    assert Tenure.objects.get(pk=tid).person_id == loser
    assert rebuild.check()[0] == []


def test_rebuild_equals_live_after_a_mixed_sequence_of_commands(ctx, fm_post, sos_post):
    # given
    cho = commands.person_register(
        name="Cho Hyun", country="KR", aliases=["Cho Hyoung"], context=ctx
    )
    jo = commands.person_register(name="Jo Hyun", aliases=["Jo Hyeon"], context=ctx)
    rubio = commands.person_register(name="Marco Rubio", country="US", context=ctx)
    t1 = commands.person_tenure_start(
        person_id=jo, post_id=fm_post, start="2025-07", expected_version=2, context=ctx
    )
    commands.person_tenure_start(
        person_id=rubio, post_id=sos_post, start="2025-01-21", expected_version=1, context=ctx
    )
    commands.person_external_id_record(
        person_id=rubio, scheme="wikidata", value="Q324546", expected_version=2, context=ctx
    )
    commands.person_rename(
        person_id=cho,
        name="Cho Hyun (diplomat)",
        keep_old_as_alias=True,
        expected_version=2,
        context=ctx,
    )
    commands.person_merge(
        loser_id=jo, winner_id=cho, loser_expected_version=3, winner_expected_version=4, context=ctx
    )
    commands.person_tenure_correct(
        person_id=cho,
        tenure_id=t1[0].data["tenure_id"],
        start="2025-07-21",
        expected_version=5,
        context=ctx,
    )
    commands.person_unmerge(
        loser_id=jo, loser_expected_version=4, winner_expected_version=6, context=ctx
    )
    stream_revert(stream_id=cho, to_version=2, expected_version=7, context=ctx)
    commands.organization_rename(
        organization_id=Person.objects.get(pk=jo).tenures.get().post.organization_id,
        name="MOFA",
        expected_version=1,
        context=ctx,
    )
    # when
    problems, stats, _checksum = rebuild.check()
    # then
    assert problems == []
    assert stats.events >= 15
    assert Person.objects.get(pk=cho).name == "Cho Hyun"
    assert Tenure.objects.get(pk=t1[0].data["tenure_id"]).start == "2025-07-21"


def test_rebuild_replaces_tables_with_identical_rows(ctx, fm_post):
    pid = commands.person_register(name="Cho Hyun", aliases=["Cho Hyoung"], context=ctx)
    commands.person_tenure_start(
        person_id=pid, post_id=fm_post, start="2025-07", expected_version=2, context=ctx
    )
    before = rebuild.checksum(rebuild.snapshot())
    rebuild.rebuild()
    assert rebuild.checksum(rebuild.snapshot()) == before


# --- property: any sequence of people commands leaves rebuild == live ---------------------

NAMES = [
    "Cho Hyun",
    "Cho Hyoung",
    "Jo Hyun",
    "Lee Jae-myung",
    "Lee Jae Myung",
    "Park Yoon-Joo",
    "Zoë",
]
DATES = ["", "2024", "2025-01", "2025-07", "2025-07-31", "2026-02-30", "2023-12-01"]
OPS = [
    "register",
    "rename",
    "country",
    "alias_add",
    "alias_remove",
    "tenure_start",
    "tenure_end",
    "tenure_correct",
    "tenure_remove",
    "external_id",
    "merge",
    "unmerge",
    "revert",
]
# Merges, un-merges and tenure ends touch the most state, so they are drawn more often.
OPS += ["merge", "unmerge", "unmerge", "tenure_end"]
step = st.tuples(
    st.sampled_from(OPS),
    st.integers(0, 7),
    st.integers(0, 7),
    st.sampled_from(NAMES),
    st.sampled_from(DATES),
    st.sampled_from(DATES),
    st.booleans(),
)


def _pick(items, index):
    items = sorted(items)
    return items[index % len(items)] if items else None


def _run(op, i, j, name, d1, d2, flag, people, posts):  # noqa: C901 - a dispatcher
    if op == "register":
        people.append(
            commands.person_register(name=name, aliases=[NAMES[i % len(NAMES)]], context=CTX)
        )
        return
    pid = people[i % len(people)]
    state, version = load(pid)
    tenure = _pick(state["tenures"], j)
    if op == "rename":
        commands.person_rename(
            person_id=pid, name=name, keep_old_as_alias=flag, expected_version=version, context=CTX
        )
    elif op == "country":
        commands.person_country_set(
            person_id=pid, country="KR" if flag else "", expected_version=version, context=CTX
        )
    elif op == "alias_add":
        commands.person_alias_add(person_id=pid, name=name, expected_version=version, context=CTX)
    elif op == "alias_remove" and state["aliases"]:
        commands.person_alias_remove(
            person_id=pid,
            alias_id=_pick(state["aliases"], j),
            expected_version=version,
            context=CTX,
        )
    elif op == "tenure_start":
        commands.person_tenure_start(
            person_id=pid,
            post_id=posts[j % 2],
            start=d1,
            end=d2,
            acting=flag,
            expected_version=version,
            context=CTX,
        )
    elif op == "tenure_end" and tenure:
        commands.person_tenure_end(
            person_id=pid, tenure_id=tenure, end=d2, expected_version=version, context=CTX
        )
    elif op == "tenure_correct" and tenure:
        commands.person_tenure_correct(
            person_id=pid,
            tenure_id=tenure,
            start=d1,
            post_id=posts[i % 2],
            expected_version=version,
            context=CTX,
        )
    elif op == "tenure_remove" and tenure:
        commands.person_tenure_remove(
            person_id=pid, tenure_id=tenure, expected_version=version, context=CTX
        )
    elif op == "external_id":
        commands.person_external_id_record(
            person_id=pid,
            scheme="wikidata",
            value=f"Q{j + 1}" if flag else "",
            expected_version=version,
            context=CTX,
        )
    elif op == "merge":
        other = people[j % len(people)]
        commands.person_merge(
            loser_id=pid,
            winner_id=other,
            loser_expected_version=version,
            winner_expected_version=load(other)[1],
            context=CTX,
        )
    elif op == "unmerge":
        merged = [p for p in people if load(p)[0]["merged_into"]]
        if merged:
            loser = merged[j % len(merged)]
            loser_state, loser_version = load(loser)
            commands.person_unmerge(
                loser_id=loser,
                loser_expected_version=loser_version,
                winner_expected_version=load(uuid.UUID(loser_state["merged_into"]))[1],
                context=CTX,
            )
    elif op == "revert" and version > 1:
        stream_revert(
            stream_id=pid, to_version=1 + j % version, expected_version=version, context=CTX
        )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(step, min_size=1, max_size=10))
def test_random_people_command_sequences_keep_rebuild_equal_to_live(steps):
    # The two posts persist across examples (found again after the first); everything else
    # an example appends is rolled back, so examples stay independent and fast.
    posts = [
        commands.post_ensure(
            title="Minister of Foreign Affairs", organization_name="MOFA", country="KR", context=CTX
        ),
        commands.post_ensure(
            title="Secretary of State",
            organization_name="Department of State",
            country="US",
            context=CTX,
        ),
    ]
    with transaction.atomic():
        _check_sequence(steps, posts)
        transaction.set_rollback(True)


def _check_sequence(steps, posts):
    # given three persons who already hold posts, so merges and tenure edits have material
    people: list[uuid.UUID] = []
    for n, (name, start) in enumerate(
        [("Cho Hyun", "2025-07"), ("Jo Hyun", "2024"), ("Park Yoon-joo", "")]
    ):
        people.append(commands.person_register(name=name, context=CTX))
        commands.person_tenure_start(
            person_id=people[-1], post_id=posts[n % 2], start=start, expected_version=1, context=CTX
        )
    for s in steps:
        try:
            _run(*s, people, posts)
        except CommandError:
            pass  # refused input (bad date, merge into a merged person...) appends nothing
    # every person's rows mirror its folded state
    for pid in people:
        state = StreamState.objects.get(pk=pid).state
        assert set(Tenure.objects.filter(person_id=pid).values_list("id", flat=True)) == {
            uuid.UUID(t) for t in state["tenures"]
        }
        assert Person.objects.get(pk=pid).version == version_of(pid) == load(pid)[1]
    problems, _stats, _checksum = rebuild.check()
    assert problems == []


def test_stale_versions_never_reach_the_log(ctx):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    with pytest.raises(ConcurrencyConflict):
        commands.person_alias_add(person_id=pid, name="Cho Hyoung", expected_version=0, context=ctx)
    # a no-op with a stale version is a conflict too, so the caller learns it was stale
    commands.person_country_set(person_id=pid, country="KR", expected_version=1, context=ctx)
    with pytest.raises(ConcurrencyConflict):
        commands.person_country_set(person_id=pid, country="KR", expected_version=1, context=ctx)
