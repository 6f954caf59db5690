"""Import officials from a people.json-layout file: `manage.py import_people FILE`."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from people.importing import people_import
from tracker.eventstore.api import CommandError as DomainCommandError
from tracker.eventstore.api import Context
from tracker.eventstore.progress import progress


class Command(BaseCommand):
    help = "Record officials with aliases and posts from a JSON list ([{name, aliases, country, positions}])."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("file", help="people.json-layout file")
        parser.add_argument("--reason", default="bulk import", help="Reason stored with every event.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        path = Path(options["file"])
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"{path}: cannot read a JSON list of officials: {exc}") from exc
        if not isinstance(records, list) or not all(isinstance(r, dict) and r.get("name") for r in records):
            raise CommandError(f"{path}: expected a JSON list of objects with a 'name'")
        context = Context.system(reason=options["reason"], via="cli", source={"file": path.name})
        try:
            stats = people_import(progress(records, total=len(records), desc="import", unit="person"),
                                  context=context)
        except DomainCommandError as exc:
            raise CommandError(f"import stopped: {exc} {exc.errors}") from exc
        self.stdout.write(
            f"imported {len(records)} record(s): {stats.persons_new} new, {stats.persons_known} already known, "
            f"{stats.aliases_added} alias(es) and {stats.tenures_added} tenure(s) added"
        )
