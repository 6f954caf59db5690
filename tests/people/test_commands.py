import uuid

import pytest

from people import commands
from people.events import PERSON
from people.models import Alias, Organization, Person, Post, Tenure
from tests.people.conftest import version_of
from tracker.eventstore.api import (
    CommandError,
    ConcurrencyConflict,
    load,
    load_stream,
    stream_revert,
)
from tracker.eventstore.models import Event

pytestmark = pytest.mark.django_db


def test_register_records_person_with_aliases_and_name_keys(ctx):
    # when
    pid = commands.person_register(
        name="  Park   Yoon-joo ", country="kr", aliases=["Park Yun-ju"], context=ctx
    )
    # then
    person = Person.objects.get(pk=pid)
    assert (person.name, person.name_key, person.country, person.version) == (
        "Park Yoon-joo",
        "parkyoonjoo",
        "KR",
        2,
    )
    assert [(a.name, a.name_key) for a in person.aliases.all()] == [("Park Yun-ju", "parkyunju")]
    assert [e.type for e in load_stream(pid)] == ["PersonRegistered", "AliasAdded"]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"name": "  "}, "name"),
        ({"name": "- 42 -"}, "name"),
        ({"name": "Cho Hyun", "country": "KOR"}, "country"),
        ({"name": "Cho Hyun", "sort_name": "x" * 201}, "sort_name"),
        ({"name": "Cho Hyun", "external_ids": {"wikidata": "42"}}, "value"),
    ],
)
def test_register_refuses_bad_input_with_field_errors(ctx, kwargs, field):
    with pytest.raises(CommandError) as err:
        commands.person_register(context=ctx, **kwargs)
    assert field in err.value.errors
    assert not Event.objects.filter(stream_type=PERSON).exists()


def test_rename_can_keep_the_old_name_as_a_former_alias(ctx):
    # given
    pid = commands.person_register(name="Cho Hyoun", context=ctx)
    # when
    commands.person_rename(
        person_id=pid, name="Cho Hyun", keep_old_as_alias=True, expected_version=1, context=ctx
    )
    # then
    person = Person.objects.get(pk=pid)
    assert person.name == "Cho Hyun" and person.version == 3
    assert [(a.name, a.kind) for a in person.aliases.all()] == [("Cho Hyoun", "former")]


def test_rename_with_stale_version_conflicts_and_changes_nothing(ctx):
    # given
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    commands.person_country_set(person_id=pid, country="KR", expected_version=1, context=ctx)
    # when / then
    with pytest.raises(ConcurrencyConflict) as err:
        commands.person_rename(person_id=pid, name="Cho Hyoung", expected_version=1, context=ctx)
    assert err.value.current == 2
    assert Person.objects.get(pk=pid).name == "Cho Hyun"
    assert Event.objects.filter(stream_id=pid).count() == 2


def test_alias_add_and_remove_and_duplicate_alias_is_a_no_op(ctx):
    # given
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    # when
    added = commands.person_alias_add(
        person_id=pid,
        name="Cho Hyoung",
        kind="misspelling",
        source="wire",
        expected_version=1,
        context=ctx,
    )
    again = commands.person_alias_add(
        person_id=pid, name="Cho Hyoung", expected_version=2, context=ctx
    )
    canonical = commands.person_alias_add(
        person_id=pid, name="Cho Hyun", expected_version=2, context=ctx
    )
    # then
    assert len(added) == 1 and again == [] and canonical == []
    alias = Alias.objects.get(person_id=pid)
    assert (alias.name, alias.kind, alias.source, str(alias.id)) == (
        "Cho Hyoung",
        "misspelling",
        "wire",
        added[0].data["alias_id"],
    )
    # when
    commands.person_alias_remove(person_id=pid, alias_id=alias.id, expected_version=2, context=ctx)
    # then
    assert not Alias.objects.filter(person_id=pid).exists()
    with pytest.raises(CommandError):
        commands.person_alias_remove(
            person_id=pid, alias_id=alias.id, expected_version=3, context=ctx
        )


def test_alias_add_refuses_unknown_kind(ctx):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    with pytest.raises(CommandError) as err:
        commands.person_alias_add(
            person_id=pid, name="Jo Hyun", kind="nickname", expected_version=1, context=ctx
        )
    assert "kind" in err.value.errors
    with pytest.raises(CommandError) as err:
        commands.person_alias_add(
            person_id=pid, name="Jo Hyun", language="korean-" * 3, expected_version=1, context=ctx
        )
    assert "language" in err.value.errors
    assert version_of(pid) == 1


def test_post_ensure_finds_or_creates_organization_and_post(ctx):
    # when
    first = commands.post_ensure(
        title="Minister of Foreign Affairs",
        organization_name="Ministry of Foreign Affairs",
        country="KR",
        context=ctx,
    )
    again = commands.post_ensure(
        title="minister of foreign affairs",
        organization_name="Ministry of Foreign  Affairs",
        country="kr",
        context=ctx,
    )
    other_country = commands.post_ensure(
        title="Minister of Foreign Affairs",
        organization_name="Ministry of Foreign Affairs",
        country="JP",
        context=ctx,
    )
    # then
    assert first == again != other_country
    assert Organization.objects.count() == 2 and Post.objects.count() == 2
    assert Post.objects.get(pk=first).organization.country == "KR"


def test_organization_and_post_refuse_duplicates_and_can_be_renamed(ctx):
    org = commands.organization_register(name="Department of State", country="US", context=ctx)
    with pytest.raises(CommandError):
        commands.organization_register(name="department of state", country="US", context=ctx)
    post = commands.post_create(title="Secretary of State", organization_id=org, context=ctx)
    with pytest.raises(CommandError):
        commands.post_create(title="Secretary of  State", organization_id=org, context=ctx)
    commands.organization_rename(
        organization_id=org, name="U.S. Department of State", expected_version=1, context=ctx
    )
    commands.post_retitle(post_id=post, title="Secretary", expected_version=1, context=ctx)
    assert Organization.objects.get(pk=org).name == "U.S. Department of State"
    assert (Post.objects.get(pk=post).title, Post.objects.get(pk=post).version) == ("Secretary", 2)


def test_tenure_start_end_correct_remove(ctx, fm_post, sos_post):
    # given
    pid = commands.person_register(name="Cho Tae-yul", country="KR", context=ctx)
    # when
    started = commands.person_tenure_start(
        person_id=pid,
        post_id=fm_post,
        start="2024-01",
        sources=["https://example.org/a"],
        expected_version=1,
        context=ctx,
    )
    tid = started[0].data["tenure_id"]
    commands.person_tenure_end(
        person_id=pid, tenure_id=tid, end="2025-07", expected_version=2, context=ctx
    )
    # then
    tenure = Tenure.objects.get(pk=tid)
    assert (tenure.start, tenure.end, tenure.acting, tenure.sources) == (
        "2024-01",
        "2025-07",
        False,
        ["https://example.org/a"],
    )
    # when
    commands.person_tenure_correct(
        person_id=pid,
        tenure_id=tid,
        start="2024-01-10",
        acting=True,
        expected_version=3,
        context=ctx,
    )
    # then
    tenure.refresh_from_db()
    assert (tenure.start, tenure.end, tenure.acting) == ("2024-01-10", "2025-07", True)
    assert (
        commands.person_tenure_correct(
            person_id=pid, tenure_id=tid, start="2024-01-10", expected_version=4, context=ctx
        )
        == []
    )
    # when
    commands.person_tenure_remove(person_id=pid, tenure_id=tid, expected_version=4, context=ctx)
    # then
    assert not Tenure.objects.filter(person_id=pid).exists()
    assert load(pid)[0]["tenures"] == {}


@pytest.mark.parametrize(
    ("start", "end", "field"),
    [
        ("2025-13", "", "start"),
        ("2025-02-30", "", "start"),
        ("25-01", "", "start"),
        ("2025-07", "2025-06-30", "end"),
        ("2025", "2024-12", "end"),
        ("", "July 2025", "end"),
    ],
)
def test_tenure_start_refuses_invalid_partial_dates_and_end_before_start(
    ctx, fm_post, start, end, field
):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    with pytest.raises(CommandError) as err:
        commands.person_tenure_start(
            person_id=pid, post_id=fm_post, start=start, end=end, expected_version=1, context=ctx
        )
    assert field in err.value.errors
    assert version_of(pid) == 1


def test_tenure_end_within_the_start_month_is_accepted(ctx, fm_post):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    tid = commands.person_tenure_start(
        person_id=pid, post_id=fm_post, start="2025-07-10", expected_version=1, context=ctx
    )[0].data["tenure_id"]
    commands.person_tenure_end(
        person_id=pid, tenure_id=tid, end="2025-07", expected_version=2, context=ctx
    )
    assert Tenure.objects.get(pk=tid).end == "2025-07"
    with pytest.raises(CommandError):  # already ended: a change is a correction
        commands.person_tenure_end(
            person_id=pid, tenure_id=tid, end="2025-08", expected_version=3, context=ctx
        )


def test_tenure_start_refuses_unknown_post(ctx):
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    with pytest.raises(CommandError) as err:
        commands.person_tenure_start(
            person_id=pid, post_id=uuid.uuid4(), start="2025", expected_version=1, context=ctx
        )
    assert "post_id" in err.value.errors


def test_external_id_record_validates_and_blank_removes(ctx):
    pid = commands.person_register(name="Marco Rubio", context=ctx)
    with pytest.raises(CommandError):
        commands.person_external_id_record(
            person_id=pid, scheme="wikidata", value="X1", expected_version=1, context=ctx
        )
    commands.person_external_id_record(
        person_id=pid, scheme="Wikidata", value="Q324546", expected_version=1, context=ctx
    )
    assert Person.objects.get(pk=pid).external_ids == {"wikidata": "Q324546"}
    commands.person_external_id_record(
        person_id=pid, scheme="wikidata", value="", expected_version=2, context=ctx
    )
    assert Person.objects.get(pk=pid).external_ids == {}


def test_merge_moves_names_and_tenures_and_redirects_the_loser(ctx, fm_post):
    # given
    winner = commands.person_register(name="Cho Hyun", country="KR", context=ctx)
    loser = commands.person_register(name="Jo Hyun", aliases=["Cho Hyoung"], context=ctx)
    tid = commands.person_tenure_start(
        person_id=loser, post_id=fm_post, start="2025-07", expected_version=2, context=ctx
    )[0].data["tenure_id"]
    # when
    stored = commands.person_merge(
        loser_id=loser,
        winner_id=winner,
        loser_expected_version=3,
        winner_expected_version=1,
        context=ctx,
    )
    # then
    assert {(e.stream_id, e.type) for e in stored} == {
        (loser, "PersonMergedInto"),
        (winner, "PersonAbsorbed"),
    }
    assert all(set(e.related_ids) == ({loser, winner} - {e.stream_id}) for e in stored)
    absorbed = next(e for e in stored if e.stream_id == winner)
    assert absorbed.data["from"] == str(loser)
    assert Person.objects.get(pk=loser).merged_into_id == winner
    assert sorted(Alias.objects.filter(person_id=winner).values_list("name", "kind")) == [
        ("Cho Hyoung", "variant"),
        ("Jo Hyun", "merged"),
    ]
    assert Tenure.objects.get(pk=tid).person_id == winner
    # and the loser's history shows the winner's side of the merge
    from people.selectors import person_history

    assert [h.event.type for h in person_history(person_id=loser) if h.related] == [
        "PersonAbsorbed"
    ]


def test_merge_refuses_self_merged_persons_and_stale_versions(ctx):
    a = commands.person_register(name="A One", context=ctx)
    b = commands.person_register(name="B Two", context=ctx)
    c = commands.person_register(name="C Three", context=ctx)
    with pytest.raises(CommandError):
        commands.person_merge(
            loser_id=a,
            winner_id=a,
            loser_expected_version=1,
            winner_expected_version=1,
            context=ctx,
        )
    with pytest.raises(ConcurrencyConflict):
        commands.person_merge(
            loser_id=a,
            winner_id=b,
            loser_expected_version=1,
            winner_expected_version=0,
            context=ctx,
        )
    commands.person_merge(
        loser_id=a, winner_id=b, loser_expected_version=1, winner_expected_version=1, context=ctx
    )
    with pytest.raises(CommandError):  # into a merged person
        commands.person_merge(
            loser_id=c,
            winner_id=a,
            loser_expected_version=1,
            winner_expected_version=2,
            context=ctx,
        )
    with pytest.raises(CommandError):  # a merged person again
        commands.person_merge(
            loser_id=a,
            winner_id=c,
            loser_expected_version=2,
            winner_expected_version=1,
            context=ctx,
        )
    with pytest.raises(CommandError):  # edits go to the surviving record
        commands.person_rename(person_id=a, name="A Uno", expected_version=2, context=ctx)


def test_unmerge_restores_both_persons(ctx, fm_post, sos_post):
    # given
    winner = commands.person_register(name="Cho Hyun", aliases=["Cho Hyoung"], context=ctx)
    own = commands.person_tenure_start(
        person_id=winner,
        post_id=sos_post,
        start="2020",
        end="2021",
        expected_version=2,
        context=ctx,
    )
    loser = commands.person_register(
        name="Jo Hyun", aliases=["Cho Hyoung", "Jo Hyeon"], context=ctx
    )
    moved = commands.person_tenure_start(
        person_id=loser, post_id=fm_post, start="2025-07", expected_version=3, context=ctx
    )
    winner_before, loser_before = load(winner)[0], load(loser)[0]
    commands.person_merge(
        loser_id=loser,
        winner_id=winner,
        loser_expected_version=4,
        winner_expected_version=3,
        context=ctx,
    )
    # when
    stored = commands.person_unmerge(
        loser_id=loser, loser_expected_version=5, winner_expected_version=4, context=ctx
    )
    # then
    assert {e.stream_id for e in stored} == {loser, winner}
    assert load(winner)[0] == winner_before
    assert load(loser)[0] == loser_before
    assert Person.objects.get(pk=loser).merged_into_id is None
    assert Tenure.objects.get(pk=moved[0].data["tenure_id"]).person_id == loser
    assert Tenure.objects.get(pk=own[0].data["tenure_id"]).person_id == winner
    assert sorted(Alias.objects.filter(person_id=winner).values_list("name", flat=True)) == [
        "Cho Hyoung"
    ]
    with pytest.raises(CommandError):
        commands.person_unmerge(
            loser_id=loser, loser_expected_version=6, winner_expected_version=5, context=ctx
        )


def test_revert_restores_name_and_aliases(ctx):
    # given
    pid = commands.person_register(name="Cho Hyun", context=ctx)
    commands.person_alias_add(person_id=pid, name="Cho Hyoung", expected_version=1, context=ctx)
    commands.person_rename(person_id=pid, name="Cho Hyun Dong", expected_version=2, context=ctx)
    # when
    stream_revert(stream_id=pid, to_version=1, expected_version=3, context=ctx)
    # then
    person = Person.objects.get(pk=pid)
    assert (person.name, person.name_key, person.version) == ("Cho Hyun", "chohyun", 4)
    assert not person.aliases.exists()
