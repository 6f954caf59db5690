"""The dispatch ledger: every enqueued task is a row until a worker finishes it, and the sweep
(`redeliver`) sends again a task whose message was lost. Messages go through the real broker;
tasks run the way a worker's pool process runs them (Celery's tracer), or in a real worker."""
import io
import socket
import time
import uuid

import pytest
from celery.app.trace import build_tracer
from django.conf import settings
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from meetings.ingest.services import article_ingest_text
from meetings.tasks import ingest_url_task, suggest_from_article_task
from tracker.celery import app, ping
from tracker.eventstore.api import Context
from tracker.moderation.models import Proposal
from tracker.reliability import tasks as worker_signals  # noqa: F401 (a worker imports it by autodiscovery)
from tracker.reliability.dispatch import enqueue, enqueue_on_commit, redeliver
from tracker.reliability.kills import TEXT, ensure_officials
from tracker.reliability.models import UndeliveredTask

from .queues import drain

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def _drain(queue: str) -> list[dict]:
    """Take every message waiting in the queue off it; returns their headers (task, id, …)."""
    return [headers for headers, _args in drain(queue)]


def _run_as_worker(task, row: UndeliveredTask):  # type: ignore[no-untyped-def]
    """Run a ledger row's task as a worker's pool process does (not eagerly): signals included."""
    tracer = build_tracer(task.name, task, app=app)
    return tracer(row.task_id, row.args, row.kwargs, {"id": row.task_id})


def _stored_article(text: str) -> str:
    return str(article_ingest_text(text=text, suggest=False, context=Context.system(reason="t", via="cli")).article.id)


def test_an_enqueued_task_is_recorded_and_sent_under_the_recorded_id():
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)

    # when a task is enqueued
    assert enqueue(suggest_from_article_task, str(uuid.uuid4()))

    # then its ledger row is sent, not done, and the message on the broker carries its id
    row = UndeliveredTask.objects.get()
    assert row.delivered_at is not None and row.done_at is None and row.attempts == 1
    assert [(m["task"], m["id"]) for m in _drain(queue)] == [("meetings.suggest_from_article", row.task_id)]


def test_a_finished_task_is_marked_done_and_not_sent_again():
    # given an enqueued task a worker took and finished
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    enqueue(suggest_from_article_task, _stored_article("A text with no meeting in it."))
    _drain(queue)
    row = UndeliveredTask.objects.get()
    _run_as_worker(suggest_from_article_task, row)
    assert UndeliveredTask.objects.get().done_at is not None

    # when the sweep runs, even with no age at all
    sent = redeliver(resend_after=0)

    # then nothing was sent again, and the done row, older than that age, is pruned
    assert sent == 0 and _drain(queue) == []
    assert not UndeliveredTask.objects.exists()


def test_a_lost_message_is_sent_again_under_its_id_once_older_than_the_age():
    # given an enqueued task whose message was lost (taken off the queue, never run)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    enqueue(suggest_from_article_task, str(uuid.uuid4()))
    _drain(queue)
    row = UndeliveredTask.objects.get()

    # when the sweep runs before the row is old enough, then after
    early = redeliver(resend_after=3600)
    late = redeliver(resend_after=0)

    # then only the second sends it, under the same task id, and counts the send
    assert early == 0 and late == 1
    assert [m["id"] for m in _drain(queue)] == [row.task_id]
    again = UndeliveredTask.objects.get()
    assert again.attempts == 2 and again.done_at is None and again.delivered_at > row.delivered_at


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@override_settings(INGEST_ALLOWED_NETWORKS=["127.0.0.1/32"])
def test_a_retrying_task_is_not_finished():
    # given an ingestion task for a URL nobody answers (a network error: retried with backoff)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    enqueue(ingest_url_task, f"http://127.0.0.1:{_closed_port()}/news/1")
    _drain(queue)
    row = UndeliveredTask.objects.get()

    # when a worker runs it and it fails
    _run_as_worker(ingest_url_task, row)

    # then the retry is on the broker under the same id, and the row is not done (a retry
    # counts as a send: the resend age starts again)
    assert [(m["id"], m["retries"]) for m in _drain(queue)] == [(row.task_id, 1)]
    after = UndeliveredTask.objects.get()
    assert after.done_at is None and after.delivered_at > row.delivered_at
    assert redeliver(resend_after=0) == 1
    _drain(queue)


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_dropped_message_is_sent_again_by_the_sweep_and_a_worker_completes_it(request):
    # given an article whose suggestion task was enqueued and its message dropped from Redis
    # (as a worker killed between kombu's BRPOP and its unacked bookkeeping loses it)
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    ensure_officials()
    article_id = _stored_article(TEXT.format(dateline="Nov. 7", weekday="Friday", n=0))
    enqueue(suggest_from_article_task, article_id)
    assert len(_drain(queue)) == 1
    request.getfixturevalue("celery_worker_process")  # a real worker, with nothing to do

    # when the sweep runs (here with no age) and the worker takes what it sends
    assert redeliver(resend_after=0) == 1
    deadline = time.monotonic() + 60
    while UndeliveredTask.objects.filter(done_at__isnull=True).exists() and time.monotonic() < deadline:
        time.sleep(0.2)

    # then the task completed: the article's proposal exists and the row is done
    assert UndeliveredTask.objects.get().done_at is not None
    assert Proposal.objects.filter(article_id=article_id).exists()
    # and a second sweep sends nothing (and prunes the done row)
    assert redeliver(resend_after=0) == 0 and not UndeliveredTask.objects.exists()


def test_tasks_run_in_process_write_no_ledger_row(django_assert_num_queries):
    # given tasks run in-process (as the ingestion benchmark runs its suggestion task)
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        # when a task is enqueued and runs, then the ledger costs no statement at all
        with django_assert_num_queries(0):
            assert enqueue(ping, "in-process")
    finally:
        app.conf.task_always_eager = saved
    assert not UndeliveredTask.objects.exists()


def test_the_ingest_command_queues_urls_through_the_ledger():
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    out = io.StringIO()

    # when `manage.py ingest URL` queues a URL (no --sync)
    call_command("ingest", "https://example.org/news/1", stdout=out)

    # then the task is on the broker under its ledger row's id, so a lost message is sent again
    row = UndeliveredTask.objects.get()
    assert row.name == "meetings.ingest_url" and row.args == ["https://example.org/news/1"]
    assert [(m["task"], m["id"]) for m in _drain(queue)] == [("meetings.ingest_url", row.task_id)]
    assert "queued  https://example.org/news/1" in out.getvalue()


def test_a_task_queued_on_commit_is_recorded_with_the_write_and_sent_later_if_never_sent(
    django_capture_on_commit_callbacks,
):
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    article_id = str(uuid.uuid4())

    # given a write that queues a task on commit, whose process dies before the send
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        enqueue_on_commit(suggest_from_article_task, article_id)
    assert len(callbacks) == 1  # the send, never run

    # then the ledger row was written with the write, and nothing reached the broker
    row = UndeliveredTask.objects.get()
    assert row.args == [article_id] and row.done_at is None
    assert _drain(queue) == []
    # and the sweep sends it under its recorded id once it is old enough
    assert redeliver(resend_after=0) == 1
    assert [(m["task"], m["id"]) for m in _drain(queue)] == [("meetings.suggest_from_article", row.task_id)]


def test_a_task_queued_on_commit_by_a_write_that_rolls_back_leaves_no_row():
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue_on_commit(suggest_from_article_task, str(uuid.uuid4()))
        raise RuntimeError("the write failed")
    assert not UndeliveredTask.objects.exists()


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_sends_reuse_one_broker_connection_per_process_and_a_forked_child_makes_its_own():
    import os

    from tracker.reliability import dispatch

    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    # given two tasks sent one after the other
    assert enqueue(ping, "first") and enqueue(ping, "second")
    kept = dispatch._kept.conn
    # then they went over one connection, and both reached the broker
    assert kept is not None and kept.connected
    assert enqueue(ping, "third") and dispatch._kept.conn is kept
    assert len(_drain(queue)) == 3

    # when a forked child sends (a worker process replacing a killed one)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report whether it sent on a connection of its own, then leave
        try:
            ok = enqueue(ping, "from the child") and dispatch._kept.conn is not kept
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    # then the child used its own connection, the parent's still works, and nothing was lost
    assert os.read(read, 1) == b"1"
    assert enqueue(ping, "parent again") and dispatch._kept.conn is kept
    assert sorted(h["argsrepr"] for h in _drain(queue)) == ["('from the child',)", "('parent again',)"]


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_a_changed_broker_address_is_not_sent_to_on_the_old_connection():
    from tracker.reliability import dispatch

    # given a kept connection
    assert enqueue(ping, "x")
    kept = dispatch._kept.conn
    saved = app.conf.broker_write_url
    app.conf.broker_write_url = f"redis://127.0.0.1:{_closed_port()}/0"
    try:
        # when the broker address changes to one nobody listens on, the task is parked
        assert not enqueue(ping, "y")
    finally:
        app.conf.broker_write_url = saved
    assert dispatch._kept.conn is not kept
    assert UndeliveredTask.objects.filter(delivered_at__isnull=True).count() == 1
    _drain(settings.CELERY_TASK_DEFAULT_QUEUE)
