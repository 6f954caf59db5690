"""The hostile-input sweep: feed the ingestion path every kind of bad input, one case at a time.

Each case goes through the real services (`feed_poll`, `article_ingest_url`,
`article_ingest_bytes`, `article_ingest_text` + `article_suggest`) against a loopback server
serving the hostile response. A case *survives* when it ends in a recorded ingestion failure
or a clean article (no control characters, within the size cap), within LIMIT_SECONDS and
LIMIT_MB of traced Python memory; anything else (an exception that is not an IngestError,
an unrecorded failure, a bound exceeded) is a *crash*. Every case runs in a transaction that
is rolled back, so the sweep leaves nothing behind in the database it runs against.

`python manage.py hostile_sweep` prints one line per case and a summary line.
"""
from __future__ import annotations

import dataclasses
import random
import resource
import time
import tracemalloc
from collections.abc import Callable

from django.db import transaction
from django.test import override_settings

from meetings.ingest.decode import CONTROL
from meetings.ingest.models import IngestionFailure
from tracker.eventstore.api import Context, content_get

from . import hostile_server as hs

LIMIT_CPU_SECONDS = 30.0  # CPU time of this process: the bound that does not depend on machine load
LIMIT_SECONDS = 180.0  # wall clock, generous for a loaded CI machine
LIMIT_MB = 256.0
FETCH_TIMEOUT = 3.0
ONE_MB = 1024 * 1024


class _Rollback(Exception):
    pass


@dataclasses.dataclass
class CaseResult:
    name: str
    survived: bool
    outcome: str
    seconds: float
    cpu_seconds: float
    peak_mb: float  # peak of Python allocations during the case (tracemalloc)
    rss_growth_mb: float  # growth of the process's peak resident set size

    def line(self) -> str:
        return (
            f"hostile case={self.name} result={'survived' if self.survived else 'CRASHED'} "
            f"seconds={self.seconds:.2f} cpu_seconds={self.cpu_seconds:.2f} peak_mb={self.peak_mb:.1f} rss_growth_mb={self.rss_growth_mb:.1f} "
            f"outcome={self.outcome!r}"
        )


class Crash(Exception):
    """A case ended in a way that is neither a recorded failure nor a clean article."""


def _ctx() -> Context:
    return Context.system(reason="hostile-input sweep", via="cli")


def _article_outcome(result) -> str:  # noqa: ANN001 - an IngestResult
    from django.conf import settings

    text = content_get(result.article.content_hash) or ""
    if CONTROL.search(text):
        raise Crash("stored article text contains control characters")
    if len(text.encode()) > max(settings.INGEST_MAX_BYTES, 2 * ONE_MB):
        raise Crash(f"stored article text is {len(text):,} chars, over the cap")
    return f"article stored ({len(text):,} chars)"


def _expect_recorded(exc: Exception, *, url: str = "") -> str:
    from meetings.ingest.services import IngestError

    if not isinstance(exc, IngestError):
        raise exc
    recorded = IngestionFailure.objects.filter(pk=exc.failure_id).exists() if exc.failure_id else (
        IngestionFailure.objects.filter(url=url, kind=exc.kind).exists()
    )
    if not recorded:
        raise Crash(f"IngestError {exc.kind!r} without a recorded failure")
    return f"failure recorded ({exc.kind})"


def _page(server: hs.HostileServer, path: str) -> str:
    from meetings.ingest.services import article_ingest_url

    url = server.url(path)
    try:
        return _article_outcome(article_ingest_url(url, context=_ctx()))
    except Exception as exc:  # noqa: BLE001 - classified by _expect_recorded
        return _expect_recorded(exc, url=url)


def _feed(server: hs.HostileServer, path: str) -> str:
    from meetings.ingest.commands import feed_register
    from meetings.ingest.services import feed_poll

    url = server.url(path)
    feed = feed_register(url=url, context=_ctx(), title=f"hostile {path}")
    try:
        outcome = feed_poll(feed.id)
    except Exception as exc:  # noqa: BLE001
        return _expect_recorded(exc, url=url)
    return f"feed parsed ({len(outcome.new_entries)} new entries)"


def one_mb_line(seed: int = 7) -> str:
    """1 MB on one line: names, titles, trigger verbs and dates, no sentence end."""
    words = ("Foreign Minister Cho Hyun met Secretary of State Marco Rubio in Washington on Thursday "
             "and held talks with Vice Minister Park Yoon-joo on March 3 about tariffs, the ministry said").split()
    rnd = random.Random(seed)
    parts, size = [], 0
    while size < ONE_MB:
        w = rnd.choice(words)
        parts.append(w)
        size += len(w) + 1
    return " ".join(parts)[:ONE_MB]


def _one_mb_line_through_pipeline(server: hs.HostileServer) -> str:
    from meetings.ingest.services import article_ingest_text
    from meetings.ingest.suggestions import article_suggest

    result = article_ingest_text(text=one_mb_line(), context=_ctx(), title="one long line", suggest=False)
    outcomes = article_suggest(article_id=result.article.id)
    return f"{_article_outcome(result)}; {len(outcomes)} meeting mention(s) proposed"


def _upload(data: bytes) -> Callable[[hs.HostileServer], str]:
    def case(server: hs.HostileServer) -> str:
        from meetings.ingest.services import article_ingest_bytes

        try:
            return _article_outcome(article_ingest_bytes(data, name="upload.txt", context=_ctx()))
        except Exception as exc:  # noqa: BLE001
            return _expect_recorded(exc)

    return case


def _routes() -> dict[str, hs.Route]:
    article = (
        "<html><head><title>Talks</title></head><body><article><h1>Talks in Seoul</h1>"
        "<p>SEOUL -- Foreign Minister Cho Hyun met Secretary of State Marco Rubio on Thursday, "
        "the ministry said. They discussed tariffs and the alliance at length.</p></article></body></html>"
    )
    nested = "<html><body>" + "<div>" * 100_000 + "<p>Cho Hyun met Marco Rubio.</p>" + "</div>" * 100_000 + "</body></html>"
    bomb = hs.gzip_bomb(200)  # built before serving, so the fetch meets the cap, not the deadline
    fifty_mb = lambda: (b"<p>" + b"x" * 65_530 + b"</p>" for _ in range(800))  # noqa: E731
    return {
        "/feed/malformed": hs.body(b"<rss><channel><item><title>unclosed <link>http://x", content_type="application/rss+xml"),
        "/feed/laughs": hs.body(hs.billion_laughs(), content_type="application/rss+xml"),
        "/feed/xxe": hs.body(hs.external_entity_feed(), content_type="application/rss+xml"),
        "/feed/binary": hs.body(bytes(range(256)) * 64, content_type="application/rss+xml"),
        "/gzip-bomb": hs.stream(lambda: iter([bomb]), encoding="gzip"),
        "/fifty-mb": hs.stream(fifty_mb),
        "/loop": hs.redirect("/loop"),
        "/to-internal": hs.redirect("http://169.254.169.254/latest/meta-data/"),
        "/drip": hs.stream(lambda: (b"<p>drip</p>" for _ in range(10_000)), delay=0.05),
        "/wrong-charset": hs.body(article.replace("Seoul", "Séoul").encode("cp1252"),
                                  content_type="text/html; charset=utf-8"),
        "/unknown-charset": hs.body(article.encode(), content_type="text/html; charset=x-no-such-charset"),
        "/no-charset": hs.body(("<html><body><article><p>" + "Министр иностранных дел встретился с госсекретарём. " * 20
                                + "</p></article></body></html>").encode("cp1251"), content_type="text/html"),
        "/controls": hs.body(("Cho Hyun\x00 met\x07 Marco\x1b[31m Rubio\x7f in Seoul\x85 on Thursday.\r\n" * 50).encode(),
                             content_type="text/plain"),
        "/deep-nesting": hs.body(nested.encode()),
        "/empty": hs.body(b"<html><body><nav>Home</nav></body></html>"),
    }


def cases() -> list[tuple[str, Callable[[hs.HostileServer], str]]]:
    def page(path: str) -> Callable[[hs.HostileServer], str]:
        return lambda s: _page(s, path)

    def feed(path: str) -> Callable[[hs.HostileServer], str]:
        return lambda s: _feed(s, path)

    return [
        ("malformed_xml_feed", feed("/feed/malformed")),
        ("billion_laughs_feed", feed("/feed/laughs")),
        ("external_entity_feed", feed("/feed/xxe")),
        ("binary_feed", feed("/feed/binary")),
        ("gzip_bomb_200mb", page("/gzip-bomb")),
        ("page_50mb", page("/fifty-mb")),
        ("endless_redirects", page("/loop")),
        ("redirect_to_metadata_ip", page("/to-internal")),
        ("slow_drip", page("/drip")),
        ("wrong_charset", page("/wrong-charset")),
        ("unknown_charset", page("/unknown-charset")),
        ("missing_charset_cp1251", page("/no-charset")),
        ("control_characters", page("/controls")),
        ("deeply_nested_html", page("/deep-nesting")),
        ("page_without_article", page("/empty")),
        ("one_mb_single_line", _one_mb_line_through_pipeline),
        ("upload_latin1", _upload("Séoul: Cho Hyun met Marco Rubio on Thursday.".encode("latin-1"))),
        ("upload_utf16_no_bom", _upload("Cho Hyun met Marco Rubio.".encode("utf-16-le"))),
        ("upload_random_bytes", _upload(random.Random(3).randbytes(64 * 1024))),
        ("upload_control_characters", _upload(b"Cho Hyun\x00\x01\x02 met Marco Rubio\x1b on Thursday.\x0c")),
    ]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def run_case(name: str, case: Callable[[hs.HostileServer], str], server: hs.HostileServer) -> CaseResult:
    rss_before = _rss_mb()
    tracemalloc.start()
    started, cpu_started = time.monotonic(), time.process_time()
    outcome, survived = "", False
    try:
        with transaction.atomic():
            outcome = case(server)
            survived = True
            raise _Rollback
    except _Rollback:
        pass
    except Exception as exc:  # noqa: BLE001 - a crash is what the sweep reports
        outcome = f"{type(exc).__name__}: {str(exc)[:200]}"
    seconds, cpu = time.monotonic() - started, time.process_time() - cpu_started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak_mb = peak / ONE_MB
    if survived and cpu > LIMIT_CPU_SECONDS:
        survived, outcome = False, f"used {cpu:.1f}s CPU (> {LIMIT_CPU_SECONDS:.0f}s): {outcome}"
    if survived and seconds > LIMIT_SECONDS:
        survived, outcome = False, f"took {seconds:.1f}s (> {LIMIT_SECONDS:.0f}s): {outcome}"
    if survived and peak_mb > LIMIT_MB:
        survived, outcome = False, f"peak {peak_mb:.0f} MB (> {LIMIT_MB:.0f} MB): {outcome}"
    return CaseResult(name, survived, outcome, seconds, cpu, peak_mb, max(0.0, _rss_mb() - rss_before))


def run_sweep(only: list[str] | None = None, *, echo: Callable[[str], None] | None = None) -> list[CaseResult]:
    """Run every case (or those named in `only`); `echo` gets each line as it is ready."""
    results = []
    with hs.HostileServer(_routes()) as server, override_settings(
        INGEST_ALLOWED_NETWORKS=["127.0.0.1/32"], INGEST_TIMEOUT_SECONDS=FETCH_TIMEOUT,
        CELERY_TASK_ALWAYS_EAGER=False,
    ):
        for name, case in cases():
            if only and name not in only:
                continue
            result = run_case(name, case, server)
            results.append(result)
            if echo:
                echo(result.line())
    return results


def summary(results: list[CaseResult]) -> str:
    crashed = [r.name for r in results if not r.survived]
    return (
        f"hostile: cases={len(results)} survived={len(results) - len(crashed)} crashed={len(crashed)}"
        f" max_seconds={max((r.seconds for r in results), default=0):.2f}"
        f" max_cpu_seconds={max((r.cpu_seconds for r in results), default=0):.2f}"
        f" max_peak_mb={max((r.peak_mb for r in results), default=0):.1f}"
        + (f" crashed_cases={','.join(crashed)}" if crashed else "")
    )


__all__ = ["CaseResult", "cases", "one_mb_line", "run_case", "run_sweep", "summary"]
