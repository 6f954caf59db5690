"""`python manage.py hostile_sweep [case ...]`: run the hostile-input sweep, one line per case."""
from django.core.management.base import BaseCommand, CommandError

from tracker.security.sweep import run_sweep, summary


class Command(BaseCommand):
    help = "Feed hostile pages, feeds and uploads through ingestion; print survived/crashed per case."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("cases", nargs="*", help="only these cases (default: all)")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        results = run_sweep(options["cases"] or None, echo=lambda line: self.stdout.write(line, ending="\n"))
        self.stdout.write(summary(results))
        if any(not r.survived for r in results):
            raise CommandError("the hostile-input sweep found crashes")
