"""Redis stops while the web app runs: reads and task-free writes go on, a task-queueing
write succeeds with its task parked, the admin says the broker is unreachable, and the
parked task is delivered once Redis is back."""
import pytest
from django.test import override_settings

from meetings.ingest.services import article_ingest_text
from tracker.eventstore.api import Context
from tracker.reliability.dispatch import enqueue_on_commit, redeliver
from tracker.reliability.models import UndeliveredTask
from tracker.reliability.redis_down import run_redis_down

pytestmark = [pytest.mark.django_db]


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_web_app_keeps_serving_while_redis_is_down_and_parked_tasks_arrive_after():
    # given gunicorn and a worker on a spare Redis, which is then stopped
    # when reads, edits and an admin article submission are made during the outage
    result = run_redis_down(reads=6, writes=3, queued=1)
    print(result.line())

    # then all were served, the task was parked, and the admin home said why
    assert result.reads_ok == 6 and result.writes_ok == 3 and result.queued_writes_ok == 1
    assert result.parked == 1
    assert result.admin_status == 200 and result.admin_says_unreachable
    # and once Redis is back the parked task was delivered and processed
    assert result.delivered_after_restart == 1, result.note
    assert result.processed_after_restart == 1


UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens on port 1


def _unreachable_broker():  # type: ignore[no-untyped-def]
    from tracker.celery import app

    saved = app.conf.broker_write_url
    app.conf.broker_write_url = UNREACHABLE  # what dispatch connects to when it sends
    return app, saved


def _restore(app, saved):  # type: ignore[no-untyped-def]
    app.conf.broker_write_url = saved


def test_a_committed_write_survives_a_broker_error_on_commit(django_capture_on_commit_callbacks):
    # given a broker nobody listens on
    app, saved = _unreachable_broker()
    try:
        # when an article is stored and its suggestion task is queued on commit
        with django_capture_on_commit_callbacks(execute=True):
            stored = article_ingest_text(text="A text whose suggestion cannot be queued.",
                                         context=Context.system(reason="t", via="cli"))
    finally:
        _restore(app, saved)

    # then the write stands and the task is parked, not lost
    assert stored.created
    parked = UndeliveredTask.objects.get()
    assert parked.name == "meetings.suggest_from_article" and parked.args == [str(stored.article.id)]
    assert parked.delivered_at is None


@override_settings(CELERY_TASK_ALWAYS_EAGER=False)
def test_redelivery_keeps_tasks_parked_while_the_broker_is_still_down(django_capture_on_commit_callbacks):
    # given a parked task
    from tracker.celery import ping

    app, saved = _unreachable_broker()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            enqueue_on_commit(ping, "x")
        # when redelivery runs while the broker is still down
        sent = redeliver()
    finally:
        _restore(app, saved)

    # then nothing is marked delivered and the failure is counted
    assert sent == 0
    parked = UndeliveredTask.objects.get()
    assert parked.delivered_at is None and parked.attempts == 2
