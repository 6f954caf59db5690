"""Ingest articles from files, folders and URLs: `manage.py ingest PATH_OR_URL ... [--sync]`."""
from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.ingest.services import IngestError, article_ingest_file, article_ingest_url
from tracker.eventstore.api import CommandError as DomainCommandError
from tracker.eventstore.api import Context
from tracker.eventstore.progress import progress

SUFFIXES = {".txt", ".html", ".htm"}


class Command(BaseCommand):
    help = "Store articles from files, folders (*.txt, *.html) or http(s) URLs, then raise suggestions."

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("sources", nargs="+", help="Files, folders or URLs.")
        parser.add_argument("--published", help="Publication date (YYYY-MM-DD or ISO date-time) for files.")
        parser.add_argument("--publisher", default="", help="Publisher name for files.")
        parser.add_argument(
            "--sync", action="store_true",
            help="Fetch and suggest in this process instead of queueing tasks for a worker.",
        )

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        context = Context.system(reason="manage.py ingest", via="cli")
        items: list[str | Path] = []
        for source in options["sources"]:
            if source.startswith(("http://", "https://")):
                items.append(source)
                continue
            path = Path(source)
            if path.is_dir():
                items += sorted(p for p in path.rglob("*") if p.suffix.lower() in SUFFIXES and p.is_file())
            elif path.is_file():
                items.append(path)
            else:
                raise CommandError(f"{source}: no such file, folder or URL")
        stored = existing = failed = queued = 0
        for item in progress(items, total=len(items), desc="ingest", unit="article"):
            try:
                if isinstance(item, Path):
                    result = self._ingest_file(item, options, context)
                elif options["sync"]:
                    result = article_ingest_url(
                        item, context=context, published=options["published"], suggest=False
                    )
                    self._suggest_now(result)
                else:
                    from meetings.tasks import ingest_url_task
                    from tracker.reliability.dispatch import enqueue

                    # through the ledger: a lost message is sent again, a broker outage parks it
                    sent = enqueue(ingest_url_task, item, published=options["published"])
                    queued += 1
                    self.stdout.write(f"queued  {item}" if sent else f"parked  {item} (broker unreachable)")
                    continue
            except (IngestError, DomainCommandError) as exc:
                failed += 1
                self.stderr.write(f"failed  {item}: {exc}")
                continue
            if result.created:
                stored += 1
            else:
                existing += 1
            note = f" (copy of {result.duplicate_of})" if result.duplicate_of else ""
            verb = "stored " if result.created else "known  "
            self.stdout.write(f"{verb} {item} -> article {result.article.id}{note}")
        self.stdout.write(
            f"{len(items)} source(s): {stored} stored, {existing} already known, "
            f"{queued} queued, {failed} failed"
        )
        if failed:
            raise CommandError(f"{failed} source(s) failed; see the messages above and the admin's failures")

    def _ingest_file(self, path: Path, options: dict, context: Context):  # type: ignore[no-untyped-def]
        meta = {"publisher": options["publisher"], "published": options["published"]}
        if not options["sync"]:
            return article_ingest_file(path, context=context, **meta)
        result = article_ingest_file(path, context=context, suggest=False, **meta)
        self._suggest_now(result)
        return result

    def _suggest_now(self, result):  # type: ignore[no-untyped-def]
        """--sync: suggest in this process rather than queueing a task for a worker."""
        from meetings.ingest.suggestions import article_suggest

        if result.created:
            article_suggest(article_id=result.article.id)
