"""Measure the news pipeline on a labelled corpus: `manage.py evaluate CORPUS_DIR`."""
from __future__ import annotations

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from meetings.ingest.evaluation import evaluate


class Command(BaseCommand):
    help = (
        "Run the real pipeline over a corpus (articles/, gold.jsonl, people.json) in a scratch "
        "database, accept every proposal, and print the scoring contract's metrics."
    )

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("corpus", help="Corpus directory.")
        who = parser.add_mutually_exclusive_group()
        who.add_argument("--people", help="Known officials to preload (default: the corpus's people.json).")
        who.add_argument("--no-people", action="store_true", help="Start cold: no known officials.")
        parser.add_argument("--predictions", help="Write one JSON line per article (gold layout + meeting_id).")
        parser.add_argument("--json", action="store_true", help="Print the metrics as JSON.")

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        corpus = Path(options["corpus"])
        if not (corpus / "gold.jsonl").is_file() or not (corpus / "articles").is_dir():
            raise CommandError(f"{corpus} is not a corpus directory (needs articles/ and gold.jsonl)")
        run = evaluate(corpus, people_file=options["people"], use_people=not options["no_people"], show_progress=True)
        if options["predictions"]:
            with open(options["predictions"], "w", encoding="utf-8") as fh:
                for line in run.predictions:
                    fh.write(json.dumps(line, ensure_ascii=False) + "\n")
        metrics = {**run.metrics, "seconds": round(run.seconds, 2), "proposals": run.proposals}
        if options["json"]:
            self.stdout.write(json.dumps(metrics, indent=1, default=str))
            return
        for key, value in metrics.items():
            if key in ("calibration", "proposals"):
                continue
            self.stdout.write(f"{key:28} {value}")
        self.stdout.write(f"{'proposals':28} {run.proposals}")
        m = run.metrics
        self.stdout.write(
            f"evaluated {m['articles']} articles in {run.seconds:.1f}s: meeting F1 {m['meeting_f1']}, "
            f"participant F1 {m['participant_f1']}, date {m['date_accuracy']}, link recall {m['link_recall']}"
        )
