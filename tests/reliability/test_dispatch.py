"""A redelivered ingestion task queues the article's suggestion again (its first run may have
died between the commit and the send); the message is read back from the real broker."""
import pytest
from django.conf import settings

from meetings.ingest.services import article_ingest_text
from meetings.tasks import ingest_url_task
from tracker.eventstore.api import Context

from .queues import drain

pytestmark = [pytest.mark.django_db]

URL = "https://news.example.org/2025/11/07/talks"


def _drain(queue: str) -> list[tuple[str, list]]:
    """Every message waiting in the queue, as (task name, args)."""
    return [(headers.get("task", ""), args) for headers, args in drain(queue)]


def test_redelivered_ingest_task_for_a_stored_article_queues_its_suggestion_again():
    # given an article stored from this URL whose suggestion was never queued
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    _drain(queue)
    article = article_ingest_text(text="Talks were held in Seoul on Friday.", url=URL, suggest=False,
                                  context=Context.system(reason="t", via="cli")).article

    # when the ingestion task for that URL runs again (a redelivery after its worker died)
    returned = ingest_url_task.apply(args=[URL]).get()

    # then it names the stored article and the suggestion task is on the broker
    assert returned == str(article.id)
    assert ("meetings.suggest_from_article", [str(article.id)]) in _drain(queue)
