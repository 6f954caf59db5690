import uuid

import pytest
from django.core.exceptions import PermissionDenied

from tests.moderation.conftest import ctx
from tracker.eventstore import rebuild
from tracker.eventstore.api import load_stream
from tracker.moderation.commands import pair_mark_distinct, pair_unmark_distinct
from tracker.moderation.models import DistinctPair
from tracker.moderation.selectors import distinct_partners, pair_id, pair_is_distinct

pytestmark = pytest.mark.django_db


def test_not_the_same_is_remembered_in_either_order_and_only_once(curator):
    # given two persons the matcher keeps pairing
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert not pair_is_distinct(a, b)
    # when a curator says they are not the same, twice
    pair_mark_distinct(a_id=a, b_id=b, kind="person", user=curator, context=ctx(curator), reason="different people")
    assert pair_mark_distinct(a_id=b, b_id=a, kind="person", user=curator, context=ctx(curator)) == []
    # then the pair is remembered in both orders, once, and shows in both records' history
    assert pair_is_distinct(a, b) and pair_is_distinct(b, a)
    assert not pair_is_distinct(a, c)
    assert distinct_partners(a) == {b} and distinct_partners(b) == {a}
    [stored] = load_stream(pair_id(a, b))
    assert set(stored.related_ids) == {a, b}
    row = DistinctPair.objects.get()
    assert (row.kind, row.marked_by, row.reason) == ("person", "cora", "different people")


def test_withdrawn_distinction_lets_the_pair_be_suggested_again(curator):
    a, b = uuid.uuid4(), uuid.uuid4()
    pair_mark_distinct(a_id=a, b_id=b, kind="meeting", user=curator, context=ctx(curator))
    # when
    pair_unmark_distinct(a_id=b, b_id=a, user=curator, context=ctx(curator), reason="they were the same")
    # then
    assert not pair_is_distinct(a, b)
    # and marking again works, all of it replaying to the same read model
    pair_mark_distinct(a_id=a, b_id=b, kind="meeting", user=curator, context=ctx(curator))
    assert pair_is_distinct(a, b)
    assert rebuild.check()[0] == []


def test_only_reviewers_may_mark_pairs(contributor, robot):
    a, b = uuid.uuid4(), uuid.uuid4()
    for user in (contributor, robot):
        with pytest.raises(PermissionDenied):
            pair_mark_distinct(a_id=a, b_id=b, user=user, context=ctx(user))
    assert not pair_is_distinct(a, b)
