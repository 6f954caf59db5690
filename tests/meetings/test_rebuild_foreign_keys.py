"""A PostgreSQL rebuild checks the foreign keys of the rows it writes once per constraint
(tracker/eventstore/foreignkeys.py) when that is equivalent to the per-row checks, and a
broken key still fails the rebuild and leaves the read models as they were."""
import uuid

import pytest
from django.db import IntegrityError, connection, transaction

from meetings.models import Meeting, Participation
from meetings.replay import MeetingsReplay
from tracker.eventstore import foreignkeys, rebuild
from tracker.eventstore.projection import owned_models
from tracker.eventstore.replay import merged_models

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the fast replay is PostgreSQL only"),
]


def _keys():  # type: ignore[no-untyped-def]
    return foreignkeys.checked_at_once(merged_models(), owned_models())


def test_every_foreign_key_of_the_written_tables_is_checked_at_once():
    # when
    keys = _keys()
    # then: the tests' role may skip the triggers, and the keys from and to the written tables
    # are listed with their columns
    assert keys is not None
    by_name = {(k.table, k.columns, k.referenced) for k in keys}
    assert ("meetings_participation", ("meeting_id",), "meetings_meeting") in by_name
    assert ("meetings_citation", ("article_id",), "meetings_sourcearticle") in by_name
    assert ("meetings_meeting", ("merged_into_id",), "meetings_meeting") in by_name


def test_a_key_that_refers_to_nothing_is_a_violation(record):
    # given: a participation whose meeting does not exist, written without the triggers
    meeting = record()
    keys = _keys()
    part = Participation.objects.filter(meeting_id=meeting.id).first()
    missing = uuid.uuid4()
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SET LOCAL session_replication_role = replica")
            cur.execute("UPDATE meetings_participation SET meeting_id = %s WHERE id = %s", [missing, part.id])
            # when
            found = foreignkeys.violations(keys)
        transaction.set_rollback(True)
    # then: that constraint, with the key
    assert len(found) == 1 and str(missing) in found[0] and "meetings_participation (meeting_id)" in found[0]
    assert foreignkeys.violations(keys) == []


def test_a_role_that_may_not_skip_triggers_keeps_the_per_row_checks():
    # given: a role without the privilege (created and dropped with this transaction)
    role = f"rebuild_plain_{uuid.uuid4().hex[:8]}"
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(f"CREATE ROLE {role} NOSUPERUSER")
            cur.execute(f"SET LOCAL ROLE {role}")
            # when / then
            assert _keys() is None
        transaction.set_rollback(True)


def test_a_table_with_a_trigger_of_its_own_keeps_the_per_row_checks():
    # given: a trigger on a written table (replica mode would skip it too)
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "CREATE FUNCTION pg_temp.nothing() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NEW; END'"
            )
            cur.execute(
                "CREATE TRIGGER audit AFTER INSERT ON meetings_meeting"
                " FOR EACH ROW EXECUTE FUNCTION pg_temp.nothing()"
            )
            # when / then
            assert _keys() is None
        transaction.set_rollback(True)


def test_a_rebuild_writing_a_broken_key_fails_and_leaves_the_read_models_as_they_were(record, monkeypatch):
    # given: read models equal to a replay, and a replay that writes one participation whose
    # meeting does not exist
    meeting = record()
    rebuild.rebuild()
    before = rebuild.snapshot()
    write = MeetingsReplay.write

    def write_a_broken_row(self, writer):  # type: ignore[no-untyped-def]
        write(self, writer)
        writer.rows(Participation, [(uuid.uuid4(), uuid.uuid4(), "Nobody", "nobody", None, None, None, "", False)])

    monkeypatch.setattr(MeetingsReplay, "write", write_a_broken_row)
    # when / then: the rebuild fails on that key
    with pytest.raises(IntegrityError, match="meetings_participation"):
        rebuild.rebuild()
    # and nothing it wrote stayed
    assert rebuild.snapshot() == before
    assert Meeting.objects.filter(pk=meeting.id).exists()


def test_a_rebuild_restores_the_replication_role():
    # when
    rebuild.rebuild()
    # then
    with connection.cursor() as cur:
        cur.execute("SHOW session_replication_role")
        assert cur.fetchone()[0] == "origin"
