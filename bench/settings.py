"""Settings for benchmark runs: the tracker's settings without request throttling."""
from tracker.settings import *  # noqa: F403
from tracker.settings import REST_FRAMEWORK

# A load generator on loopback would otherwise be throttled after a few requests.
REST_FRAMEWORK = {
    **REST_FRAMEWORK,
    "DEFAULT_THROTTLE_CLASSES": [],
    "DEFAULT_THROTTLE_RATES": {"anon": None, "user": None},
}
