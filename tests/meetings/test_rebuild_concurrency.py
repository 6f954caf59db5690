"""A rebuild and a check next to live commands (PostgreSQL): a rebuild keeps appends out for
its transaction, a check reads the log and the read models as of one moment."""
import threading

import psycopg2
import pytest
from django.db import OperationalError, connection, connections

from meetings import commands
from meetings.models import Meeting
from tracker.eventstore import rebuild
from tracker.eventstore.merge import MergeWriter
from tracker.eventstore.store import APPEND_LOCK_KEY

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="advisory lock and snapshots: PostgreSQL"),
]


def _other_connection():  # type: ignore[no-untyped-def]
    s = connection.settings_dict
    return psycopg2.connect(dbname=s["NAME"], user=s["USER"], host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432)


def test_rebuild_takes_the_append_lock_and_waits_for_an_append_in_flight(record, settings):
    # given a meeting, and another session holding the log's append lock (an append in flight)
    meeting = record()
    settings.EVENTSTORE_LOCK_TIMEOUT = "300ms"
    other = _other_connection()
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_advisory_lock(%s)", [APPEND_LOCK_KEY])
        # when a rebuild starts, then it waits for the lock and gives up at the lock timeout
        with pytest.raises(OperationalError, match="lock timeout"):
            rebuild.rebuild()
    finally:
        other.close()
    # and once the lock is free it rebuilds, and the read models equal a replay
    rebuild.rebuild()
    assert Meeting.objects.get(pk=meeting.id).title == meeting.title
    assert rebuild.check()[0] == []


def test_a_command_committing_during_a_check_is_no_difference(record, ctx, monkeypatch):
    # given a meeting, and a revision of it that commits after the check has replayed the log
    # and before it compares (from another thread, with its own connection)
    meeting = record()
    compare = MergeWriter.differences

    def revise_then_compare(self, **kwargs):  # type: ignore[no-untyped-def]
        def revise() -> None:
            try:
                commands.meeting_revise(meeting_id=meeting.id, changes={"title": "Revised meanwhile"},
                                        context=ctx, expected_version=1)
            finally:
                connections.close_all()

        worker = threading.Thread(target=revise)
        worker.start()
        worker.join()
        return compare(self, **kwargs)

    monkeypatch.setattr(MergeWriter, "differences", revise_then_compare)
    # when the check runs
    problems, stats, _ = rebuild.check()
    # then it compared one moment of the log with the same moment of the tables
    assert problems == []
    assert Meeting.objects.get(pk=meeting.id).title == "Revised meanwhile"  # the command did commit
    # and afterwards the tables still equal a replay
    monkeypatch.setattr(MergeWriter, "differences", compare)
    assert rebuild.check()[0] == []
