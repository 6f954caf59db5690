"""A worker killed in the middle of a suggestion task loses nothing and duplicates nothing."""
import os
import signal
import time
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from meetings.ingest.services import article_ingest_text
from meetings.tasks import suggest_from_article_task
from tracker.eventstore.api import Context
from tracker.eventstore.store import APPEND_LOCK_KEY
from tracker.moderation.models import Proposal

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

TEXT = (
    "SEOUL, Oct. 10 (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
    "Under Secretary of State for Political Affairs Allison Hooker in Seoul on Friday, the "
    "foreign ministry said."
)


def _children(pid: int) -> list[int]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            out.append(int(stat.parent.name))
    return out


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_killed_worker_child_is_redone_without_duplicate_proposals(officials, celery_worker_process):
    # given a stored article and a lock that makes the task stop right before it appends
    article = article_ingest_text(text=TEXT, context=Context.system(reason="t", via="cli"),
                                  published="2025-10-10", suggest=False).article
    db = connection.settings_dict
    blocker = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"] or "127.0.0.1",
                               port=db["PORT"] or 5432)
    cur = blocker.cursor()
    cur.execute("SELECT pg_advisory_xact_lock(%s)", [APPEND_LOCK_KEY])

    # when the task is mid-way (waiting for the append lock) and its process is SIGKILLed
    suggest_from_article_task.delay(str(article.id))
    waiting = _wait(
        # pg_stat_activity is read on Django's own (autocommit) connection: inside the blocker's
        # transaction the statistics snapshot would never change
        lambda: _query(connection, "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                       "AND query LIKE '%pg_advisory_xact_lock%' AND pid <> pg_backend_pid()"),
        30, "the task to reach the append lock")
    assert waiting
    children = _wait(lambda: _children(celery_worker_process.pid), 10, "the pool process")
    for child in children:
        os.kill(child, signal.SIGKILL)
    blocker.rollback()  # release the lock
    blocker.close()

    # then the message is redelivered, the article is processed again, and once only
    _wait(lambda: Proposal.objects.filter(article_id=article.id).exists(), 60, "the redone task")
    time.sleep(1)
    assert Proposal.objects.filter(article_id=article.id, kind="new_meeting").count() == 1
    # and running it yet again (a duplicate delivery) raises nothing new
    assert suggest_from_article_task.delay(str(article.id)).get(timeout=60) == 1
    assert Proposal.objects.filter(article_id=article.id).count() == 1


def _query(conn, sql):
    with conn.cursor() as c:
        c.execute(sql)
        return c.fetchall()
