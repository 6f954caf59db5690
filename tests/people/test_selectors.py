import uuid

import pytest

from people import commands
from people.selectors import (
    person_find_by_name,
    person_get,
    person_history,
    person_holding,
    person_resolve,
    posts_of,
    tenure_on,
)
from tests.people.conftest import version_of
from tracker.common.partialdate import InvalidPartialDate

pytestmark = pytest.mark.django_db


def _person(ctx, name, *, aliases=(), tenures=()):
    """Register a person and start tenures given as (post_id, start, end)."""
    pid = commands.person_register(name=name, aliases=aliases, context=ctx)
    for post_id, start, end in tenures:
        commands.person_tenure_start(
            person_id=pid,
            post_id=post_id,
            start=start,
            end=end,
            expected_version=version_of(pid),
            context=ctx,
        )
    return pid


def _merge(ctx, loser, winner):
    commands.person_merge(
        loser_id=loser,
        winner_id=winner,
        loser_expected_version=version_of(loser),
        winner_expected_version=version_of(winner),
        context=ctx,
    )


def test_person_holding_answers_who_held_a_post_at_partial_dates(ctx, fm_post):
    # given: the foreign ministry changed hands in July 2025
    old = _person(ctx, "Cho Tae-yul", tenures=[(fm_post, "2024-01", "2025-07")])
    new = _person(ctx, "Cho Hyun", tenures=[(fm_post, "2025-07", "")])
    # then
    assert [p.id for p in person_holding(post_id=fm_post, on="2024-06-01")] == [old]
    assert [p.id for p in person_holding(post_id=fm_post, on="2025-07")] == [new, old]
    assert [p.id for p in person_holding(post_id=fm_post, on="2025-07-31")] == [new, old]
    assert [p.id for p in person_holding(post_id=fm_post, on="2025-08")] == [new]
    assert person_holding(post_id=fm_post, on="2023") == []


def test_posts_of_and_tenure_on_prefer_the_latest_starting_tenure(ctx, ctx_posts):
    # given: a minister who was also acting president for three months
    acting, finance = ctx_posts
    pid = _person(
        ctx,
        "Choi Sang-mok",
        tenures=[(finance, "2023-12", ""), (acting, "2024-12-27", "2025-03-24")],
    )
    # then
    assert [t.post_id for t in posts_of(person_id=pid, on="2025-01-10")] == [acting, finance]
    assert tenure_on(person_id=pid, on="2025-01-10").post_id == acting
    assert tenure_on(person_id=pid, on="2025-05").post_id == finance
    assert tenure_on(person_id=pid, on="2023-11") is None
    assert posts_of(person_id=uuid.uuid4(), on="2025") == []


def test_tenure_on_prefers_the_more_precise_start_among_equal_starts(ctx, fm_post, sos_post):
    pid = _person(
        ctx, "Someone Else", tenures=[(sos_post, "2025", ""), (fm_post, "2025-01-01", "")]
    )
    assert tenure_on(person_id=pid, on="2025-03").post_id == fm_post


def test_selectors_refuse_malformed_dates(ctx, fm_post):
    pid = _person(ctx, "Cho Hyun", tenures=[(fm_post, "2025-07", "")])
    with pytest.raises(InvalidPartialDate):
        tenure_on(person_id=pid, on="July 2025")


def test_person_resolve_follows_merge_chains(ctx):
    # given
    a, b, c = (_person(ctx, n) for n in ("Aa Aa", "Bb Bb", "Cc Cc"))
    # when
    _merge(ctx, a, b)
    _merge(ctx, b, c)
    # then
    assert person_resolve(a) == c
    assert person_resolve(str(b)) == c
    assert person_resolve(c) == c
    assert person_resolve(uuid.uuid4()) is None
    assert person_resolve("not-an-id") is None
    assert person_get(a).id == c


def test_selectors_follow_merges_to_the_surviving_person(ctx, fm_post):
    # given
    winner = _person(ctx, "Cho Hyun")
    loser = _person(ctx, "Jo Hyun", tenures=[(fm_post, "2025-07", "")])
    # when
    _merge(ctx, loser, winner)
    # then
    assert [p.id for p in person_holding(post_id=fm_post, on="2025-09")] == [winner]
    assert tenure_on(person_id=loser, on="2025-09").person_id == winner
    assert [p.id for p in person_find_by_name("Jo Hyun")] == [winner]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Cho Hyoung", "Cho Hyun"),
        ("cho hyun", "Cho Hyun"),
        ("Lee Jae-myung", "Lee Jae Myung"),
        ("LEE JAE MYUNG", "Lee Jae Myung"),
        ("Lee Jaemyung", "Lee Jae Myung"),
        ("Park Yoon-Joo", "Park Yoon-joo"),
        ("park yoonjoo", "Park Yoon-joo"),
        ("Park Yun-ju", "Park Yoon-joo"),
        ("Donald J Trump", "Donald Trump"),
        ("Zoe Cafe", "Zoë Café"),
    ],
)
def test_person_find_by_name_ignores_hyphens_spacing_case_and_accents(ctx, query, expected):
    # given
    _person(ctx, "Cho Hyun", aliases=["Cho Hyoung"])
    _person(ctx, "Lee Jae Myung", aliases=["Lee Jae-myung"])
    _person(ctx, "Park Yoon-joo", aliases=["Park Yoon-Joo", "Park Yun-ju"])
    _person(ctx, "Donald Trump", aliases=["Donald J. Trump"])
    _person(ctx, "Zoë Café")
    # then
    assert [p.name for p in person_find_by_name(query)] == [expected]


def test_person_find_by_name_returns_every_namesake_and_nothing_for_unknowns(ctx):
    first = _person(ctx, "Kim Min-jun")
    second = _person(ctx, "Kim Minjun")
    assert {p.id for p in person_find_by_name("kim min jun")} == {first, second}
    assert person_find_by_name("Kim Jong") == []
    assert person_find_by_name(" - ") == []


def test_person_history_has_field_diffs_in_order(ctx):
    pid = _person(ctx, "Cho Hyoun")
    commands.person_rename(person_id=pid, name="Cho Hyun", expected_version=1, context=ctx)
    entries = person_history(person_id=pid)
    assert [e.event.type for e in entries] == ["PersonRegistered", "PersonRenamed"]
    assert entries[1].changes == {"name": ("Cho Hyoun", "Cho Hyun")}


@pytest.fixture
def ctx_posts(ctx):
    acting = commands.post_ensure(
        title="Acting President",
        organization_name="Office of the President",
        country="KR",
        context=ctx,
    )
    finance = commands.post_ensure(
        title="Deputy Prime Minister and Minister of Economy and Finance",
        organization_name="Ministry of Economy and Finance",
        country="KR",
        context=ctx,
    )
    return acting, finance


def test_the_batched_selectors_answer_as_the_single_ones(ctx, fm_post, sos_post):
    # given: a merge chain (a -> b -> c), a shared alias, overlapping and open tenures
    from people.names import normalize_name
    from people.selectors import (
        person_ids_by_name_keys,
        person_names_many,
        person_resolve_many,
        tenure_on_many,
    )

    a = _person(ctx, "Kim A", aliases=["Minister Kim"], tenures=[(fm_post, "2020", "2022-03")])
    b = _person(ctx, "Kim B", tenures=[(sos_post, "2021-06", "")])
    c = _person(ctx, "Kim C", aliases=["Minister Kim"], tenures=[(fm_post, "2022-03", ""), (sos_post, "2022", "2022")])
    lone = _person(ctx, "Lee Lone", aliases=["Lee"])
    _merge(ctx, a, b)
    _merge(ctx, b, c)
    ids = [a, b, c, lone, uuid.uuid4()]
    names = ["Kim A", "kim b", "Minister Kim", "Lee", "LEE LONE", "Nobody", ""]
    dates = ["2019", "2021", "2022-03", "2022-03-15", "2022-06-01", "2025"]
    # then
    assert person_resolve_many(ids) == {p: person_resolve(p) for p in ids}
    assert person_names_many(ids) == {
        p: (person_get(p).pk, person_get(p).name) for p in ids if person_get(p) is not None
    }
    by_key = person_ids_by_name_keys(normalize_name(n) for n in names)
    for name in names:
        assert by_key.get(normalize_name(name), set()) == {p.pk for p in person_find_by_name(name)}
    survivors = {person_resolve(p) for p in ids} - {None}
    pairs = [(p, on) for p in survivors for on in dates]
    assert tenure_on_many(pairs) == {(p, on): getattr(tenure_on(person_id=p, on=on), "pk", None) for p, on in pairs}
