"""`manage.py evaluate`: the real pipeline over a labelled corpus, in a scratch database.

Articles go in published order through the same services a worker runs (store, suggest),
and every proposal is accepted as proposed, so later articles can be matched to meetings
recorded from earlier ones. The configured database is never touched: a scratch database
is created next to it and dropped afterwards.
"""
from __future__ import annotations

import contextlib
import dataclasses
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection

from meetings.suggest.scoring import Corpus, load_corpus, score
from tracker.eventstore.api import CommandError, Context
from tracker.eventstore.progress import progress


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """Create an empty, migrated database beside the configured one; drop it on exit."""
    original = connection.settings_dict["NAME"]
    test = connection.settings_dict.setdefault("TEST", {})
    saved_test_name = test.get("NAME")
    if connection.vendor == "sqlite":
        test["NAME"] = str(Path(settings.VAR_DIR) / f"evaluate-{os.getpid()}.sqlite3")
    else:
        test["NAME"] = f"tracker_evaluate_{os.getpid()}"
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    try:
        yield name
    finally:
        connection.creation.destroy_test_db(original, verbosity=0)
        test["NAME"] = saved_test_name


def preload_people(people: list[dict], context: Context) -> int:
    """Record known officials (people.json layout) with their aliases and posts."""
    from people.importing import people_import

    people_import(people, context=context)
    return len(people)


@dataclasses.dataclass
class EvaluationRun:
    predictions: list[dict]
    metrics: dict
    seconds: float
    proposals: dict[str, int]


def _accept_pending(article_id: uuid.UUID, curator, counts: dict[str, int]) -> None:
    from tracker.moderation.commands import proposal_accept
    from tracker.moderation.models import Proposal

    ctx = Context.for_user(curator, via="cli", reason="evaluate: accept as proposed")
    # new persons first, so a meeting proposal never waits on a person it names
    order = {"new_person": 0, "new_alias": 1}
    pending = sorted(
        Proposal.objects.filter(status=Proposal.Status.PENDING),
        key=lambda p: (order.get(p.kind, 2), p.created_at, str(p.id)),
    )
    for proposal in pending:
        try:
            outcome = proposal_accept(proposal_id=proposal.id, user=curator, context=ctx,
                                      expected_version=proposal.version)
            counts[outcome.status] = counts.get(outcome.status, 0) + 1
        except CommandError as exc:
            counts["failed"] = counts.get("failed", 0) + 1
            counts.setdefault("errors", [])  # type: ignore[arg-type]
            counts["errors"].append(f"{proposal.kind} {proposal.id}: {exc} {exc.errors}")  # type: ignore[union-attr]


def run_corpus(corpus: Corpus, *, people: list[dict] | None, show_progress: bool = False) -> EvaluationRun:
    """Ingest the corpus into the current (scratch) database and score the outcome."""
    from meetings.ingest.services import article_ingest_text
    from meetings.ingest.suggestions import article_suggest

    started = time.perf_counter()
    system = Context.system(reason="evaluate", via="cli")
    if people:
        preload_people(people, system)
    curator = get_user_model().objects.create_user(username="evaluator", is_staff=True, is_superuser=True)
    counts: dict[str, int] = {}
    predictions = []
    records = corpus.in_published_order()
    for gold in progress(records, total=len(records), desc="evaluate", unit="article"):
        stored = article_ingest_text(
            text=corpus.articles[gold["article"]], context=system, published=gold.get("published"),
            suggest=False,
        )
        outcomes = article_suggest(article_id=stored.article.id)
        _accept_pending(stored.article.id, curator, counts)
        meetings = [
            {**o.mention, "meeting_id": str(o.meeting_id) if o.meeting_id else None, "action": o.action}
            for o in outcomes
        ]
        predictions.append({"article": gold["article"], "published": gold.get("published"), "meetings": meetings})
    metrics = score(corpus.gold, predictions, corpus.people)
    return EvaluationRun(predictions, metrics, time.perf_counter() - started, counts)


def evaluate(corpus_dir: str | Path, *, people_file: str | None = None, use_people: bool = True,
             show_progress: bool = False) -> EvaluationRun:
    """Score the pipeline on a corpus directory, in a scratch database."""
    import json

    corpus = load_corpus(corpus_dir)
    people = None
    if use_people:
        people = json.loads(Path(people_file).read_text(encoding="utf-8")) if people_file else corpus.people
    with scratch_database():
        return run_corpus(corpus, people=people, show_progress=show_progress)
