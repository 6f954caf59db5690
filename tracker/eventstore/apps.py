from django.apps import AppConfig


class EventStoreConfig(AppConfig):
    name = "tracker.eventstore"
    label = "eventstore"
    verbose_name = "Event log"

    def ready(self) -> None:
        # guards registers the SQLite trigger function; content and history declare events.
        from . import content, guards, history  # noqa: F401
