"""The command path's statements are prepared once per connection, a failure never leaves a
name that the next call would trip over, and a connection that lost its prepared statements
prepares them again."""
import datetime as dt
import uuid

import pytest
from django.db import DatabaseError, DataError, connection, transaction
from django.db.backends.postgresql.psycopg_any import Jsonb
from django.test.utils import CaptureQueriesContext

from tracker.eventstore.prepared import execute_prepared

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SQL = "SELECT 10 / %s::int, %s::text"
LOCK_TIMEOUT = "SELECT set_config('lock_timeout', %s, true)"


def _prepared() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'eventstore%%' ORDER BY name")
        return [r[0] for r in cur.fetchall()]


def _run(*params) -> tuple:
    return execute_prepared(connection, (LOCK_TIMEOUT, SQL), ["5s", *params])


def test_statements_are_prepared_once_and_then_executed():
    before = _prepared()
    assert _run(2, "a") == (5, "a")
    added = [n for n in _prepared() if n not in before]
    assert len(added) == 2  # the lock timeout's statement and the query
    assert _run(5, "b") == (2, "b")  # the same prepared statements, other parameters
    assert [n for n in _prepared() if n not in before] == added


def test_a_failed_execution_is_followed_by_a_working_one():
    _run(1, "warm")
    with pytest.raises(DataError), transaction.atomic():
        _run(0, "division by zero")
    assert _run(10, "again") == (1, "again")


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statements_again():
    assert _run(2, "first") == (5, "first")
    connection.close()
    assert _prepared() == []
    assert _run(2, "second") == (5, "second")
    assert len(_prepared()) == 2


@pytest.mark.django_db(transaction=True)
def test_statements_lost_outside_a_transaction_are_prepared_again_at_once():
    assert _run(2, "first") == (5, "first")
    with connection.cursor() as cur:
        cur.execute("DEALLOCATE ALL")  # as DISCARD ALL, or a pooler's other session
    assert _run(5, "again") == (2, "again")
    assert len(_prepared()) == 2


def test_statements_lost_inside_a_transaction_fail_it_and_are_prepared_next_time():
    assert _run(2, "first") == (5, "first")
    with connection.cursor() as cur:
        cur.execute("DEALLOCATE ALL")
    with pytest.raises(DatabaseError, match="does not exist"), transaction.atomic():  # nothing can be retried in it
        _run(5, "lost")
    assert _run(5, "again") == (2, "again")


def test_parameters_and_results_are_as_through_djangos_cursor():
    stream_id = uuid.uuid4()
    sql = "SELECT %s::uuid, %s::jsonb ->> 'a', now()"
    found = execute_prepared(connection, (sql,), [stream_id, Jsonb({"a": "b"})])
    assert found[:2] == (stream_id, "b")
    assert found[2].utcoffset() == dt.timedelta(0)  # an aware datetime, as Django gives them
    with CaptureQueriesContext(connection) as queries:  # query logging sees the statement
        assert execute_prepared(connection, (sql,), [stream_id, Jsonb({"a": "c"})])[1] == "c"
    assert len(queries) == 1 and queries[0]["sql"].startswith("EXECUTE eventstore_")


def test_an_execute_wrapper_sees_the_statements():
    seen = []

    def wrapper(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        assert _run(2, "watched") == (5, "watched")
    assert len(seen) == 1 and seen[0].count("EXECUTE eventstore_") == 2
