"""The append's statement is prepared once per connection, and a failure never leaves a name
that the next call would trip over."""
import pytest
from django.db import DataError, connection, transaction

from tracker.eventstore.prepared import execute_prepared

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]

SQL = "SELECT 10 / %s::int, %s::text"


def _prepared() -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM pg_prepared_statements WHERE name LIKE 'eventstore%%' ORDER BY name")
        return [r[0] for r in cur.fetchall()]


def _run(*params) -> tuple:
    with connection.cursor() as cur:
        execute_prepared(connection, cur, "SELECT set_config('lock_timeout', %s, true); ", SQL, ["5s", *params])
        return cur.fetchone()


def test_a_statement_is_prepared_once_and_then_executed():
    before = _prepared()
    assert _run(2, "a") == (5, "a")
    added = [n for n in _prepared() if n not in before]
    assert len(added) == 1
    assert _run(5, "b") == (2, "b")  # the same prepared statement, other parameters
    assert [n for n in _prepared() if n not in before] == added


def test_a_failed_execution_is_followed_by_a_working_one():
    _run(1, "warm")
    with pytest.raises(DataError), transaction.atomic():
        _run(0, "division by zero")
    assert _run(10, "again") == (1, "again")


@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_the_statement_again():
    assert _run(2, "first") == (5, "first")
    connection.close()
    assert _prepared() == []
    assert _run(2, "second") == (5, "second")
    assert len(_prepared()) == 1
