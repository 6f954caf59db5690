"""Show the news robot at work: ingest the project's sample articles and raise proposals."""
from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand

from meetings.ingest.services import article_ingest_file
from meetings.ingest.suggestions import article_suggest
from tracker.eventstore.api import Context

SAMPLES = Path(settings.BASE_DIR) / "tracker" / "demo" / "sample_articles"
# Publication dates of the samples (they are dated by their datelines, in 2025).
PUBLISHED = {
    "cho-rubio-washington.txt": "2025-08-01",
    "bae-kratsios-incheon.txt": "2025-08-05",
    "lee-trump-white-house.txt": "2025-08-26",
}


class Command(BaseCommand):
    help = "Ingest the sample articles (idempotent) so the review queue shows the robot's proposals."

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        context = Context.system(reason="demo: sample news articles", via="cli")
        stored = proposed = 0
        for path in sorted(SAMPLES.glob("*.txt")):
            result = article_ingest_file(
                path, context=context, published=PUBLISHED.get(path.name), publisher="Tracker demo", suggest=False
            )
            stored += result.created
            proposed += len(article_suggest(article_id=result.article.id))
        self.stdout.write(f"demo news: {stored} new sample article(s), {proposed} meeting mention(s) suggested")
