from django.apps import AppConfig


class IngestConfig(AppConfig):
    name = "meetings.ingest"
    label = "ingest"
    verbose_name = "News ingestion"

    def ready(self) -> None:
        from . import projections  # noqa: F401  (registers the feed aggregate and projector)
