from django.apps import AppConfig


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = "Meetings"

    def ready(self) -> None:
        # Registers the event types, aggregates and projector of meetings and articles.
        from . import aggregates, events, projections  # noqa: F401
