"""Send the tasks parked while the broker was unreachable (beat also does it every minute)."""
from django.core.management.base import BaseCommand

from tracker.reliability.dispatch import redeliver, undelivered_count


class Command(BaseCommand):
    help = "Send tasks parked while the Celery broker was unreachable."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        sent = redeliver()
        self.stdout.write(f"redelivered {sent}; still parked {undelivered_count()}")
