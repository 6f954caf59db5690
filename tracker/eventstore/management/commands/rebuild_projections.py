"""Replay the event log into the read models, or check that they equal a replay."""
from django.core.management.base import BaseCommand, CommandError

from tracker.eventstore import rebuild


class Command(BaseCommand):
    help = (
        "Make the read models equal to a replay of the log (on PostgreSQL only the rows that differ "
        "are written); with --check, only compare."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument(
            "--check",
            action="store_true",
            help="Rebuild into a scratch copy, compare with the live tables, exit 1 on any difference.",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if options["check"]:
            problems, stats, digest = rebuild.check(show_progress=True)
            if problems:
                for line in problems:
                    self.stderr.write(line)
                raise CommandError(
                    f"read models differ from a replay of {stats.events} events "
                    f"({len(problems)} difference(s) shown)"
                )
            self.stdout.write(
                f"ok: read models equal a replay of {stats.events} events "
                f"in {stats.seconds:.2f}s (checksum {digest[:16]})"
            )
            return
        stats = rebuild.rebuild(show_progress=True)
        self.stdout.write(
            f"rebuilt read models from {stats.events} events in {stats.seconds:.2f}s "
            f"({stats.rate:,.0f} events/s)"
        )
