"""SIGKILL Celery workers at random points while they ingest: articles fetched over HTTP from
a loopback server (ingest_url_task), then analysed (suggest_from_article_task). Pool
processes and whole workers (main process and pool) are killed; a killed pool process's
message is requeued at once (reject_on_worker_lost), a killed main process's comes back
after the Redis visibility timeout, and a message lost with a killed main process (popped
from the queue, not yet recorded as unacknowledged) is sent again by the dispatch ledger's
sweep (`dispatch.redeliver`, here run as beat would, with a short age). In the end every URL
is one article, every article has been analysed (its proposal exists) and no proposal exists
twice."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import random
import signal
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.db.models import Count

from . import harness

# Visibility timeout the killed workers' messages wait before redelivery (seconds).
VISIBILITY_TIMEOUT = "5"
# Age after which the sweep sends a queued task not finished yet again (seconds): above the
# visibility timeout, so a message Redis still holds is normally restored first.
RESEND_AFTER = 15.0
# How often the final wait runs the sweep (beat runs it every minute).
SWEEP_EVERY = 3.0

OFFICIALS = [
    ("Park Yoon-joo", "KR", "First Vice Foreign Minister", "Ministry of Foreign Affairs", "2025-06"),
    ("Allison Hooker", "US", "Under Secretary of State for Political Affairs", "Department of State", "2025-04"),
]
TEXT = (
    "SEOUL, {dateline} (Yonhap) -- First Vice Foreign Minister Park Yoon-joo held talks with "
    "Under Secretary of State for Political Affairs Allison Hooker in Seoul on {weekday}, the "
    "foreign ministry said. Article {n} of the reliability run."
)


@dataclasses.dataclass
class KillResult:
    kills: int
    pool_kills: int
    main_kills: int
    articles: int
    stored: int
    processed: int
    lost: int
    duplicate_articles: int
    duplicate_proposals: int
    restarts: int
    seconds: float
    # Tasks the ledger's sweep sent again (not finished RESEND_AFTER seconds after their send).
    resent: int = 0
    # For a failed run: the URLs not stored or not analysed, and the workers' log lines of
    # this run that say something went wrong (a pool process not replaced, a lost task).
    missing: list[str] = dataclasses.field(default_factory=list)
    worker_errors: list[str] = dataclasses.field(default_factory=list)

    def line(self) -> str:
        return (
            f"kills: worker kills={self.kills} (pool={self.pool_kills} main={self.main_kills}) "
            f"articles={self.articles} stored={self.stored} processed={self.processed} lost={self.lost} "
            f"duplicate_articles={self.duplicate_articles} duplicate_proposals={self.duplicate_proposals} "
            f"worker_restarts={self.restarts} resent={self.resent} seconds={self.seconds:.0f}"
        )

    def diagnosis(self) -> str:
        """What to read when the run failed: the summary, what was missing, the workers' errors."""
        errors = "\n".join(self.worker_errors[-40:]) or "(none)"
        return f"{self.line()}\nmissing: {self.missing or '(none)'}\nworker log errors:\n{errors}"

    @property
    def ok(self) -> bool:
        return (self.lost == 0 and self.duplicate_articles == 0 and self.duplicate_proposals == 0
                and self.processed == self.articles == self.stored)


def _article_dates(count: int) -> list[dt.date]:
    # three weeks apart: each article reports a meeting of its own, never one already proposed
    return [dt.date(2025, 7, 4) + dt.timedelta(days=21 * i) for i in range(count)]


class _ArticleServer:
    """Plain-text articles on loopback, each slow enough that kills land mid-task."""

    def __init__(self, count: int) -> None:
        bodies = {}
        for n, day in enumerate(_article_dates(count)):
            bodies[f"/news/{n}"] = TEXT.format(
                dateline=day.strftime("%b. %-d"), weekday=day.strftime("%A"), n=n
            ).encode()
        self.bodies = bodies

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                body = bodies.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                time.sleep(0.2)
                try:
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain; charset=utf-8")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the fetching worker was killed

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def urls(self) -> list[tuple[str, str]]:
        port = self.httpd.server_address[1]
        dates = _article_dates(len(self.bodies))
        return [(f"http://127.0.0.1:{port}/news/{n}", dates[n].isoformat()) for n in range(len(self.bodies))]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ensure_officials() -> None:
    from people.commands import person_register, person_tenure_start, post_ensure
    from people.models import Person
    from tracker.eventstore.api import Context, current_version

    system = Context.system(reason="reliability: officials", via="cli")
    for name, country, title, org, start in OFFICIALS:
        if Person.objects.filter(name=name).exists():
            continue
        pid = person_register(name=name, country=country, context=system)
        post = post_ensure(title=title, organization_name=org, country=country, context=system)
        person_tenure_start(person_id=pid, post_id=post, start=start, expected_version=current_version(pid),
                            context=system)


def _age(pid: int) -> float:
    """Seconds since a process started (from /proc), 0 if it is gone."""
    try:
        start_ticks = int(open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[19])
        uptime = float(open("/proc/uptime").read().split()[0])
    except (OSError, IndexError, ValueError):
        return 0.0
    return uptime - start_ticks / os.sysconf("SC_CLK_TCK")


def _kill(pid: int) -> bool:
    try:
        os.kill(pid, signal.SIGKILL)
        return True
    except ProcessLookupError:
        return False


def _processed_count(urls: list[tuple[str, str]]) -> int:
    from meetings.models import SourceArticle
    from tracker.moderation.models import Proposal

    ids = SourceArticle.objects.filter(url__in=[u for u, _ in urls]).values_list("id", flat=True)
    return Proposal.objects.filter(article_id__in=ids).values("article_id").distinct().count()


def run_kills(*, kills: int = 20, articles: int = 40, seed: int = 6, deadline_seconds: float = 240) -> KillResult:
    """Queue `articles` URL ingestions, SIGKILL workers `kills` times, wait for all to finish."""
    from meetings.models import SourceArticle
    from meetings.tasks import ingest_url_task
    from tracker.moderation.models import Proposal

    from .dispatch import enqueue, redeliver

    ensure_officials()
    rng = random.Random(seed)
    server = _ArticleServer(articles * 8)
    env = harness.child_env(CELERY_VISIBILITY_TIMEOUT=VISIBILITY_TIMEOUT, CELERY_UNACKED_RESTORE_INTERVAL="1",
                            CELERY_UNACKED_RESTORE_THROTTLE="1", DISPATCH_RESEND_AFTER_SECONDS=str(RESEND_AFTER),
                            INGEST_ALLOWED_NETWORKS="127.0.0.1/32")
    started = time.monotonic()
    reserve = server.urls()
    urls = reserve[:articles]
    log = harness.log_path("worker")
    log_start = log.stat().st_size if log.exists() else 0  # workers append: read this run's part
    workers: list[subprocess.Popen] = []
    pool_kills = main_kills = restarts = resent = 0

    def stored_urls() -> set[str]:
        return set(SourceArticle.objects.filter(url__in=[u for u, _ in urls]).values_list("url", flat=True))

    def done() -> bool:
        ids = SourceArticle.objects.filter(url__in=[u for u, _ in urls]).values_list("id", flat=True)
        return (len(stored_urls()) == len(urls)
                and Proposal.objects.filter(article_id__in=ids).values("article_id").distinct().count() == len(urls))

    try:
        worker = harness.start_worker(env=env, concurrency=1)
        workers.append(worker)
        for url, published in urls:
            enqueue(ingest_url_task, url, published=published)
        batch = max(2, articles // 4)
        deadline = started + deadline_seconds
        while pool_kills + main_kills < kills and time.monotonic() < deadline:
            if done() or len(urls) - _processed_count(urls) < batch:
                # kills must land while there is ingesting to do: queue more articles
                more = reserve[len(urls):len(urls) + batch]
                for url, published in more:
                    enqueue(ingest_url_task, url, published=published)
                urls = urls + more
            time.sleep(rng.uniform(0.6, 1.8))
            if worker.poll() is not None:
                # the worker gave up (a pool process killed while starting): a supervisor restarts it
                restarts += 1
                worker = harness.start_worker(env=env, concurrency=1)
                workers.append(worker)
                continue
            pool = [p for p in harness.children(worker.pid) if _age(p) > 1.5]
            if not pool:
                continue  # still booting: a kill now would hit nothing that is ingesting
            if (pool_kills + main_kills) % 4 == 1:
                # the whole worker: its unacknowledged message returns after the visibility timeout
                _kill(worker.pid)
                for child in pool:
                    _kill(child)
                worker.wait(timeout=10)
                main_kills += 1
                worker = harness.start_worker(env=env, concurrency=1)
                workers.append(worker)
            elif any(_kill(child) for child in pool):
                pool_kills += 1
        swept = 0.0
        while not done() and time.monotonic() < deadline + 120:
            if worker.poll() is not None:
                restarts += 1
                worker = harness.start_worker(env=env, concurrency=1)
                workers.append(worker)
            if time.monotonic() - swept > SWEEP_EVERY:
                # beat's sweep: what a killed worker lost is sent again
                resent += redeliver(resend_after=RESEND_AFTER)
                swept = time.monotonic()
            time.sleep(0.5)
        time.sleep(1)  # a late duplicate delivery would show up now
    finally:
        for w in workers:
            for child in harness.children(w.pid):
                _kill(child)
            harness.stop(w, timeout=15)
        server.close()
    articles_by_url = (SourceArticle.objects.filter(url__in=[u for u, _ in urls])
                       .values("url").annotate(n=Count("id")))
    ids = list(SourceArticle.objects.filter(url__in=[u for u, _ in urls]).values_list("id", flat=True))
    per_article = (Proposal.objects.filter(article_id__in=ids, kind="new_meeting")
                   .values("article_id").annotate(n=Count("id")))
    processed = Proposal.objects.filter(article_id__in=ids).values("article_id").distinct().count()
    stored = len({r["url"] for r in articles_by_url})
    analysed = set(SourceArticle.objects.filter(id__in=Proposal.objects.filter(article_id__in=ids)
                                                .values("article_id")).values_list("url", flat=True))
    return KillResult(
        kills=pool_kills + main_kills, pool_kills=pool_kills, main_kills=main_kills,
        articles=len(urls), stored=stored, processed=processed, lost=len(urls) - processed,
        duplicate_articles=sum(r["n"] - 1 for r in articles_by_url),
        duplicate_proposals=sum(r["n"] - 1 for r in per_article),
        restarts=restarts, resent=resent, seconds=time.monotonic() - started,
        missing=[u for u, _ in urls if u not in analysed],
        worker_errors=_worker_errors(log, log_start),
    )


# Worker log lines worth reading after a failed run.
_WORKER_TROUBLE = ("ERROR", "CRITICAL", "WARNING", "Timed out", "WorkerLostError", "Restoring")


def _worker_errors(log: Path, start: int) -> list[str]:
    try:
        with log.open("rb") as f:
            f.seek(start)
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return []
    return [line for line in text.splitlines() if any(word in line for word in _WORKER_TROUBLE)]
