"""Celery application for the tracker (see Celery's examples/django/proj)."""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")

app = Celery("tracker")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="tracker.ping")
def ping(value: str = "pong") -> str:
    """Echo a value back; used to prove a worker round-trips a task."""
    return value
