"""Settings for benchmark runs: the tracker's settings, no request throttling, and the
`bench` app whose plain table and list endpoint are the API benchmark's baseline."""
from tracker.settings import *  # noqa: F403
from tracker.settings import INSTALLED_APPS, REST_FRAMEWORK

INSTALLED_APPS = [*INSTALLED_APPS, "bench"]
ROOT_URLCONF = "bench.urls"

# A load generator on loopback would otherwise be throttled after a few requests.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
}

# The ingestion benchmark fetches articles from a local server and runs the suggestion task
# in the same process (one worker process, end to end).
INGEST_ALLOWED_NETWORKS = ["127.0.0.1/32"]
CELERY_TASK_ALWAYS_EAGER = True

# The suggestion task runs in-process 200 times: its per-task "succeeded" lines (Celery's
# trace logger, INFO) would bury the results table.
LOGGING = {**LOGGING, "loggers": {"celery.app.trace": {"level": "WARNING"}}}  # noqa: F405
