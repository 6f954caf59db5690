"""Load the demo officials, posts and meetings through the commands (idempotent)."""
from django.core.management.base import BaseCommand

from tracker.demo.loader import demo_load
from tracker.eventstore.api import Context


class Command(BaseCommand):
    help = (
        "Record the demo officials with their posts and the meetings between them, through "
        "the commands (so each has a history). A second run appends nothing."
    )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        report = demo_load(context=Context.system(reason="demo data", via="cli"), show_progress=True)
        self.stdout.write(report.summary())
