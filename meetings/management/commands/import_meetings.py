"""Import meetings from a file: `manage.py import_meetings FILE.jsonl|FILE.csv`."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.importing import (
    BATCH,
    ImportFileError,
    meetings_check,
    meetings_import,
    read_meetings,
)
from tracker.eventstore.api import CommandError as DomainCommandError
from tracker.eventstore.api import Context
from tracker.eventstore.progress import progress

MAX_SHOWN = 50  # errors printed before "... and N more"


class Command(BaseCommand):
    help = (
        "Record meetings with participants and citations from a JSON Lines or CSV file, checking "
        "every row first (nothing is stored if one is invalid), then in batches."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", help=".jsonl (one meeting object per line) or .csv file")
        parser.add_argument("--batch", type=int, default=BATCH, help="Meetings per transaction.")
        parser.add_argument("--reason", default="bulk import", help="Reason stored with every event.")
        parser.add_argument(
            "--skip-existing", action="store_true",
            help="Skip rows whose meeting_id is already recorded (to resume an interrupted import).",
        )
        parser.add_argument("--check", action="store_true", help="Only check the file; store nothing.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = Path(options["file"])
        if options["batch"] < 1:
            raise CommandError("--batch must be at least 1")
        try:
            rows = read_meetings(path)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from exc
        errors = meetings_check(rows, batch=options["batch"], skip_existing=options["skip_existing"])
        if errors:
            for error in errors[:MAX_SHOWN]:
                self.stderr.write(str(error))
            if len(errors) > MAX_SHOWN:
                self.stderr.write(f"... and {len(errors) - MAX_SHOWN} more")
            raise CommandError(f"{path}: {len(errors)} error(s); nothing was recorded")
        if options["check"]:
            self.stdout.write(f"{path}: {len(rows)} meeting(s), no errors")
            return
        context = Context.system(reason=options["reason"], via="cli", source={"file": path.name})
        try:
            stats = meetings_import(
                rows, context=context, batch=options["batch"], skip_existing=options["skip_existing"],
                progress=lambda chunks, total: progress(chunks, total=total, desc="import", unit="batch"),
            )
        except DomainCommandError as exc:
            raise CommandError(f"import stopped: {exc}") from exc
        self.stdout.write(
            f"recorded {stats.recorded} meeting(s) in {stats.batches} batch(es)"
            + (f", skipped {stats.skipped} already recorded" if stats.skipped else "")
        )
