"""The benchmarks. Each returns a `Result`: a measured value, a baseline from the same run,
their ratio and the target, or a clear "not available" when the part it measures is missing."""
from __future__ import annotations

import contextlib
import dataclasses
import functools
import importlib.util
import json
import os
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import psycopg2
from django.db import connection, connections, transaction

from tracker.eventstore import rebuild as rebuild_module
from tracker.eventstore.api import load

from . import data, domain


@dataclasses.dataclass
class Result:
    name: str
    title: str
    unit: str
    value: float | None = None
    baseline: float | None = None
    ratio: float | None = None
    # {"ratio_min": x} or {"value_max": y}: what "meets the target" means for this benchmark
    target: dict[str, float] = dataclasses.field(default_factory=dict)
    sizes: dict[str, Any] = dataclasses.field(default_factory=dict)
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)
    baseline_unit: str = ""  # when the baseline is not in `unit`
    status: str = "ok"  # "ok", "not available" (the part is missing) or "failed" (an error)
    note: str = ""

    @property
    def passed(self) -> bool | None:
        if self.status != "ok":
            return None
        if "p99_max_ms" in self.target and self.extra.get("p99_ms", float("inf")) > self.target["p99_max_ms"]:
            return False
        if "ratio_min" in self.target:
            return self.ratio is not None and self.ratio >= self.target["ratio_min"]
        if "value_max" in self.target:
            return self.value is not None and self.value <= self.target["value_max"]
        return None

    def as_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"passed": self.passed}


def _size(base: int, scale: float, minimum: int) -> int:
    return max(minimum, int(base * scale))


def _dsn() -> dict[str, Any]:
    s = connection.settings_dict
    return {
        "dbname": s["NAME"], "user": s["USER"] or None, "password": s["PASSWORD"] or None,
        "host": s["HOST"] or None, "port": s["PORT"] or None,
    }


def _in_threads(clients: int, work: Callable[[int], None]) -> float:
    """Run `work(client_index)` in `clients` threads (each with its own DB connection); wall time."""
    errors: list[BaseException] = []

    def target(i: int) -> None:
        try:
            work(i)
        except BaseException as exc:  # surfaced below, not swallowed
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if errors:
        raise errors[0]
    return elapsed


def _percentile(samples: list[float], pct: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))
    return ordered[index]


# 1. Command path -------------------------------------------------------------------------

def _revise_loop(client: int, count: int) -> None:
    meeting_id = domain.record(client)
    for version in range(1, count + 1):
        domain.revise(meeting_id, title=f"Talks of client {client}, revision {version}", expected_version=version)


def bench_command_path(scale: float) -> list[Result]:
    count = _size(3000, scale, 10)
    first = data.next_position()
    rates: dict[int, float] = {}
    for clients in (1, 2):
        per_client = count // clients
        elapsed = _in_threads(clients, lambda i, n=per_client: _revise_loop(i, n))
        rates[clients] = per_client * clients / elapsed

    with connection.cursor() as cur:
        cur.execute(
            "SELECT AVG(pg_column_size(e.*))::int FROM eventstore_event e "
            "WHERE position >= %s AND type = 'MeetingRevised'",
            [first],
        )
        row_size = cur.fetchone()[0] or 300
        cur.execute("DROP TABLE IF EXISTS bench_raw_insert")
        cur.execute("CREATE TABLE bench_raw_insert (id bigserial PRIMARY KEY, payload text NOT NULL)")
    payload = "x" * max(1, row_size - 40)  # minus tuple header, id and varlena header
    baselines: dict[int, float] = {}
    try:
        for clients in (1, 2):
            per_client = count // clients

            def raw(_i: int, n: int = per_client) -> None:
                conn = psycopg2.connect(**_dsn())
                try:
                    with conn.cursor() as cur:
                        for _ in range(n):
                            cur.execute("INSERT INTO bench_raw_insert (payload) VALUES (%s)", [payload])
                            conn.commit()
                finally:
                    conn.close()

            elapsed = _in_threads(clients, raw)
            baselines[clients] = per_client * clients / elapsed
    finally:
        with connection.cursor() as cur:
            cur.execute("DROP TABLE IF EXISTS bench_raw_insert")

    results = []
    for clients in (1, 2):
        results.append(
            Result(
                name=f"command_path_{clients}_client{'s' if clients > 1 else ''}",
                title=f"Command path, {clients} client{'s' if clients > 1 else ''}",
                unit="commands/s",
                value=rates[clients],
                baseline=baselines[clients],
                ratio=rates[clients] / baselines[clients],
                target={"ratio_min": 0.40},
                sizes={"commands": count, "clients": clients, "row_bytes": row_size},
                note="meeting_revise (validate, load, append, inline projection, commit) vs "
                "single-row INSERT transactions of the same row size (threads, own connections)",
            )
        )
    return results


# 2. Bulk import --------------------------------------------------------------------------

def bench_bulk_import(scale: float) -> list[Result]:
    meetings = _size(100_000, scale, 20)
    batch = 500
    articles = [domain.register_article(10_000_000 + i) for i in range(max(1, meetings // 100))]
    first = data.next_position()
    started = time.perf_counter()
    for start in range(0, meetings, batch):
        domain.record_many(range(start, min(meetings, start + batch)), articles)
    elapsed = time.perf_counter() - started
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM eventstore_event WHERE position >= %s", [first])
        events = cur.fetchone()[0]
        # Baseline: COPY the very rows just written into an identical scratch table.
        cur.execute("DROP TABLE IF EXISTS bench_copy_event")
        cur.execute("CREATE TABLE bench_copy_event (LIKE eventstore_event INCLUDING ALL)")
        buf = _copy_out(cur, first)
        copy_started = time.perf_counter()
        cur.copy_expert("COPY bench_copy_event FROM STDIN", buf)
        copy_elapsed = time.perf_counter() - copy_started
        cur.execute("DROP TABLE bench_copy_event")
    value, baseline = events / elapsed, events / copy_elapsed
    return [
        Result(
            name="bulk_import",
            title="Bulk import",
            unit="events/s",
            value=value,
            baseline=baseline,
            ratio=value / baseline,
            target={"ratio_min": 0.10},
            sizes={"meetings": meetings, "events": events, "batch": batch, "participants_each": 3},
            note=f"meeting_record_many (the batch import command: per meeting 3 participants and "
            f"one citation, i.e. a MeetingRecorded and an ArticleCited), {batch} meetings per call "
            "(one transaction), vs COPY of the same event rows into a copy of the events table "
            "(same indexes)",
        )
    ]


def _copy_out(cur: Any, first: int) -> Any:
    import io

    buf = io.StringIO()
    cur.copy_expert(
        f"COPY (SELECT * FROM eventstore_event WHERE position >= {int(first)} ORDER BY position) TO STDOUT",
        buf,
    )
    buf.seek(0)
    return buf


# 3. Rebuild ------------------------------------------------------------------------------

def _plain_read() -> tuple[int, float]:
    conn = psycopg2.connect(**_dsn())
    try:
        started = time.perf_counter()
        with conn.cursor(name="bench_plain_read") as cur:
            cur.itersize = rebuild_module.BATCH
            cur.execute(
                "SELECT e.position, e.stream_type, e.stream_id, e.version, e.type, e.schema_version,"
                " e.data, e.metadata, e.event_id, e.recorded_at FROM eventstore_event e"
                " ORDER BY e.position"
            )
            count = 0
            for _row in cur:  # psycopg2 decodes jsonb columns with json.loads
                count += 1
        conn.rollback()
        return count, time.perf_counter() - started
    finally:
        conn.close()


def _read_model_rows() -> dict[str, int]:
    """Rows of the larger read models (what a rebuild finds before it replays)."""
    tables = ["eventstore_streamstate", "meetings_meeting", "meetings_participation", "meetings_citation"]
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables))
        return dict(cur.fetchall())


def _streams() -> int:
    with connection.cursor() as cur:
        cur.execute("SELECT count(DISTINCT stream_id) FROM eventstore_event")
        return cur.fetchone()[0]


def bench_rebuild(scale: float, profile_path: str | None = None) -> list[Result]:
    events = _size(1_000_000, scale, 100)
    data.clone_meetings(events=events, stream_length=10, seed=1)
    count, first_read = _plain_read()  # also warms the cache for both contenders
    before = _read_model_rows()
    started = time.perf_counter()
    if profile_path:
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        stats = profiler.runcall(rebuild_module.rebuild)
        with open(profile_path, "w") as out:
            pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(40)
    else:
        stats = rebuild_module.rebuild()
    elapsed = time.perf_counter() - started
    _, second_read = _plain_read()
    baseline_seconds = min(first_read, second_read)
    streams = _streams()
    value, baseline = stats.events / elapsed, count / baseline_seconds
    return [
        Result(
            name="rebuild",
            title="Rebuild",
            unit="events/s",
            value=value,
            baseline=baseline,
            ratio=value / baseline,
            target={"ratio_min": 0.50},
            sizes={"events": stats.events, "generated": events, "stream_length": 10},
            extra={
                "rebuild_seconds": elapsed, "plain_read_seconds": baseline_seconds,
                "read_models_before": before, "streams": streams,
                "phases_seconds": {k: round(v, 3) for k, v in stats.phases.items()},
                "merged_rows": stats.merged_rows,
            },
            note="rebuild_projections (replay the whole log into the read models, writing the rows "
            "that differ) vs a server-side-cursor read with JSON decode of the same log; read models "
            f"before the rebuild: {before['eventstore_streamstate']:,} stream states of {streams:,} "
            f"streams, {before['meetings_meeting']:,} meetings, {before['meetings_participation']:,} "
            "participations"
            + (" (profiled: cProfile overhead included)" if profile_path else ""),
        )
    ]


# 4. As of --------------------------------------------------------------------------------

def bench_as_of(scale: float) -> list[Result]:
    length = _size(1000, scale, 20)
    repeats = _size(300, scale, 10)
    (stream_id,) = data.clone_meetings(events=length, stream_length=length, seed=2)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT position FROM eventstore_event WHERE stream_id = %s AND version = %s",
            [stream_id, length // 2],
        )
        midpoint = cur.fetchone()[0]
    load(stream_id, stream_type="meeting", as_of_position=midpoint)  # warm-up
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        _state, version = load(stream_id, stream_type="meeting", as_of_position=midpoint)
        samples.append((time.perf_counter() - started) * 1000)
    if version != length // 2:
        raise RuntimeError(f"as-of load returned version {version}, expected {length // 2}")
    plain = []
    with connection.cursor() as cur:
        for _ in range(repeats):
            started = time.perf_counter()
            cur.execute(
                "SELECT position, type, data, metadata, recorded_at FROM eventstore_event"
                " WHERE stream_id = %s AND position <= %s ORDER BY position",
                [stream_id, midpoint],
            )
            cur.fetchall()
            plain.append((time.perf_counter() - started) * 1000)
    p99, base_p99 = _percentile(samples, 99), _percentile(plain, 99)
    return [
        Result(
            name="as_of",
            title="As of (p99)",
            unit="ms",
            value=p99,
            baseline=base_p99,
            ratio=base_p99 / p99,
            target={"value_max": 20.0},
            sizes={"stream_events": length, "as_of_version": length // 2, "repeats": repeats},
            extra={"p50_ms": statistics.median(samples), "baseline_p50_ms": statistics.median(plain)},
            note="load(meeting, as_of_position=midpoint), the fold behind the as-of view; baseline "
            "is a plain SELECT of the same rows (ratio = baseline / value, 1.0 = no fold cost)",
        )
    ]


# 5-7. Parts that have not landed ---------------------------------------------------------

def _missing(name: str, title: str, unit: str, target: dict, reason: str) -> list[Result]:
    return [Result(name=name, title=title, unit=unit, target=target, status="not available", note=reason)]


COUNTRIES_SQL = "(ARRAY['US','KR','JP','CN','DE'])"


def _api_data(scale: float) -> dict[str, Any]:
    """Read models at the issue's sizes (scaled), generated in SQL; returns ids to query."""
    from meetings.models import Meeting, Participation
    from people.models import Person

    from .fill import fill, uuid_expr
    from .models import BaselineRow

    persons, meetings = _size(10_000, scale, 20), _size(100_000, scale, 50)
    participations = _size(250_000, scale, 125)
    day = "(date '2010-01-01' + (g % 5000))"
    with transaction.atomic():
        fill(Person, persons, {
            "id": uuid_expr(1), "name": "'Person ' || g", "sort_name": "'Person ' || g",
            "name_key": "'person' || g", "country": f"{COUNTRIES_SQL}[1 + g % 5]", "version": "1",
        })
        fill(Meeting, meetings, {
            "id": uuid_expr(2), "title": "'Talks no. ' || g", "date": f"to_char({day}, 'YYYY-MM-DD')",
            "date_precision": "'day'", "date_first": day, "date_last": day,
            "location_country": f"{COUNTRIES_SQL}[1 + g % 5]", "mode": "'in_person'",
            "status": "'held'", "version": "1",
        })
        m = f"(1 + (g - 1) % {meetings})"
        p = f"(1 + (g * 7919) % {persons})"
        fill(Participation, participations, {
            "id": uuid_expr(3), "meeting_id": uuid_expr(2, m), "name": f"'Person ' || {p}",
            "recorded_person_id": uuid_expr(1, p), "person_id": uuid_expr(1, p),
            "side": f"{COUNTRIES_SQL}[1 + {p} % 5]",
        })
        fill(BaselineRow, meetings, {
            "name": "'Row ' || g", "country": f"{COUNTRIES_SQL}[1 + g % 5]", "date": day,
            "amount": "g", "created_at": "now()",
        })
    with connection.cursor() as cur:
        # The busiest person, so the filtered list and the counterparts have work to do.
        cur.execute(
            "SELECT person_id FROM meetings_participation WHERE person_id IS NOT NULL"
            " GROUP BY person_id ORDER BY COUNT(*) DESC LIMIT 1"
        )
        person = cur.fetchone()[0]
        cur.execute("SELECT COUNT(*) FROM eventstore_event")
        logged = cur.fetchone()[0]
    if logged < 200:
        data.clone_meetings(events=200, stream_length=10, seed=3)
    return {
        "person": person, "persons": persons, "meetings": meetings, "participations": participations,
    }


def bench_api_reads(scale: float) -> list[Result]:
    from django.apps import apps

    if not apps.is_installed("bench"):
        return _missing(
            "api_reads", "API reads", "requests/s", {"ratio_min": 0.50},
            "needs the bench settings (python -m bench.run), which install the baseline endpoint",
        )
    from . import server

    sizes = _api_data(scale)
    person = sizes.pop("person")
    seconds = max(2.0, 10.0 * min(1.0, scale * 10))
    endpoints = {
        "api_meetings_list": (
            "API: filtered meetings list",
            f"/api/v1/meetings/?participant={person}&date_from=2010-01-01&date_to=2023-12-31"
            "&country_pair=US,KR&page_size=50",
        ),
        "api_counterparts": ("API: counterparts", f"/api/v1/people/{person}/counterparts/"),
        "api_changes": ("API: change feed page", "/api/v1/changes/?after=0&limit=50"),
    }
    results = []
    with server.gunicorn(workers=2) as (port, _proc):
        for path in ["/bench/baseline/", *(p for _, p in endpoints.values())]:
            status, body = server.get(port, path)  # warm-up, and fail loudly on a broken URL
            if status != 200:
                raise RuntimeError(f"{path}: HTTP {status}: {body[:200]!r}")
        base = server.load(port, ["/bench/baseline/"], seconds=seconds)
        for name, (title, path) in endpoints.items():
            got = server.load(port, [path], seconds=seconds)
            results.append(
                Result(
                    name=name, title=title, unit="requests/s", value=got["rps"], baseline=base["rps"],
                    ratio=got["rps"] / base["rps"], target={"ratio_min": 0.50, "p99_max_ms": 100.0},
                    sizes={**sizes, "seconds": seconds, "clients": 4, "gunicorn_workers": 2},
                    extra={"p50_ms": got["p50_ms"], "p99_ms": got["p99_ms"],
                           "baseline_p50_ms": base["p50_ms"], "baseline_p99_ms": base["p99_ms"],
                           "requests": got["requests"]},
                    note=f"GET {path.split('?')[0]} vs a minimal DRF cursor-paginated list of a plain "
                    "6-column table, same gunicorn (2 workers, loopback), 4 keep-alive clients",
                )
            )
    return results


def bench_export(scale: float) -> list[Result]:
    from django.apps import apps

    if not apps.is_installed("bench"):
        return _missing(
            "export", "Export (streaming CSV)", "MB over idle", {"value_max": 50.0},
            "needs the bench settings (python -m bench.run), which serve the tracker with gunicorn",
        )
    from . import server

    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM meetings_meeting")
        have = cur.fetchone()[0]
    sizes = {"meetings": have} if have >= _size(100_000, scale, 50) else _api_data(scale)
    sizes.pop("person", None)
    with server.gunicorn(workers=1) as (port, proc):
        server.get(port, "/api/v1/meetings/?page_size=1")  # load the code paths once
        (worker,) = server.worker_pids(proc.pid)
        idle = server.rss_mb(worker)
        peak = [idle]
        done = threading.Event()

        def sample() -> None:
            while not done.is_set():
                peak[0] = max(peak[0], server.rss_mb(worker))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample)
        sampler.start()
        started = time.perf_counter()
        try:
            import http.client

            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
            conn.request("GET", "/api/v1/meetings/?format=csv")
            response = conn.getresponse()
            rows = -1  # the header line
            while chunk := response.read(1 << 16):
                rows += chunk.count(b"\n")
            conn.close()
        finally:
            elapsed = time.perf_counter() - started
            done.set()
            sampler.join()
    if response.status != 200:
        raise RuntimeError(f"CSV export: HTTP {response.status}")
    growth = peak[0] - idle
    return [
        Result(
            name="export", title="Export (streaming CSV), memory", unit="MB over idle",
            value=growth, baseline=idle, baseline_unit="MB idle RSS", ratio=peak[0] / idle,
            target={"value_max": 50.0},
            sizes={**sizes, "rows": rows},
            extra={"rows_per_s": rows / elapsed, "idle_rss_mb": idle, "peak_rss_mb": peak[0]},
            note="GET /api/v1/meetings/?format=csv on one gunicorn worker; value = peak RSS "
            "growth of the worker, baseline = its idle RSS (ratio = peak / idle)",
        )
    ]


# The development corpus sits beside the repository (as the evaluate tests expect it).
CORPUS = Path(os.environ.get("BENCH_CORPUS", Path(__file__).resolve().parents[2] / "shared" / "corpus"))


def _articles(count: int) -> list[tuple[str, str | None]]:
    """(text, published) pairs: the corpus articles, each copy made unique by a closing line."""
    gold = {}
    for line in (CORPUS / "gold.jsonl").read_text().splitlines():
        if line.strip():
            record = json.loads(line)
            gold[record["article"]] = record.get("published")
    sources = [((CORPUS / "articles" / f"{a}.txt").read_text(), p) for a, p in sorted(gold.items())]
    return [
        (f"{text.rstrip()}\n\n(Reference {i}: reported by bench desk {i}.)\n", published)
        for i, (text, published) in ((i, sources[i % len(sources)]) for i in range(count))
    ]


@contextlib.contextmanager
def _article_server(texts: list[str]) -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            try:
                body = texts[int(self.path.strip("/").split("/")[-1].removesuffix(".txt"))].encode()
            except (ValueError, IndexError):
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def bench_ingestion(scale: float) -> list[Result]:
    from django.apps import apps
    from django.conf import settings

    title, unit, target = "Ingestion", "articles/s/worker", {"ratio_min": 0.50}
    if importlib.util.find_spec("meetings.suggest") is None:
        return _missing("ingestion", title, unit, target, "meetings/suggest has not landed yet")
    if not apps.is_installed("bench") or not settings.CELERY_TASK_ALWAYS_EAGER:
        return _missing(
            "ingestion", title, unit, target,
            "needs the bench settings (python -m bench.run): loopback fetches allowed, suggestion "
            "task run in-process",
        )
    if not (CORPUS / "gold.jsonl").exists():
        return _missing("ingestion", title, unit, target, f"no corpus at {CORPUS} (set BENCH_CORPUS)")
    from meetings.ingest.services import article_ingest_url
    from meetings.ingest.suggestions import known_people
    from meetings.suggest.pipeline import extract

    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM meetings_meeting")
        have = cur.fetchone()[0]
    sizes = {"meetings": have} if have >= _size(100_000, scale, 50) else _api_data(scale)
    sizes.pop("person", None)
    count = _size(200, scale, 5)
    articles = _articles(count)
    known = known_people()  # built once per worker, as a worker keeps it between articles
    # A worker has run the pipeline before: its first calls build caches (date parsing,
    # patterns) that would otherwise be counted in the baseline only, flattering the ratio.
    nlp = functools.partial(extract, known_people=known.gazetteer, title_resolver=known.resolver)
    for text, published in articles[: len(articles) // 40 + 5]:
        nlp(text, published=published)
    # Baseline and ingestion alternate in blocks of articles, so a change of load on the host
    # (another process, a checkpoint) weighs on both sides of the ratio alike.
    bare_seconds = ingest_seconds = 0.0
    block = 20
    with _article_server([t for t, _ in articles]) as port:
        for first in range(0, count, block):
            started = time.perf_counter()
            for text, published in articles[first : first + block]:
                nlp(text, published=published)
            bare_seconds += time.perf_counter() - started
            started = time.perf_counter()
            for i in range(first, min(first + block, count)):
                article_ingest_url(
                    f"http://127.0.0.1:{port}/a/{i}.txt", context=domain.CTX, published=articles[i][1]
                )
            ingest_seconds += time.perf_counter() - started
    bare, value = count / bare_seconds, count / ingest_seconds
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM eventstore_event WHERE stream_type = 'proposal'")
        proposals = cur.fetchone()[0]
    return [
        Result(
            name="ingestion", title=title, unit=unit, value=value, baseline=bare, ratio=value / bare,
            target=target, sizes={**sizes, "articles": count, "proposal_events": proposals},
            note="article_ingest_url (fetch from a local server, decode, store, near-duplicate "
            "check, suggestion task in-process: extract, link, propose) vs pipeline.extract alone "
            "on the same texts with the same gazetteer",
        )
    ]


BENCHMARKS: dict[str, Callable[..., list[Result]]] = {
    "command_path": bench_command_path,
    "bulk_import": bench_bulk_import,
    "rebuild": bench_rebuild,
    "as_of": bench_as_of,
    "api_reads": bench_api_reads,
    "export": bench_export,
    "ingestion": bench_ingestion,
}
