"""A gunicorn server on loopback and a bounded-duration load generator for the API benchmarks."""
from __future__ import annotations

import contextlib
import http.client
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@contextlib.contextmanager
def gunicorn(*, workers: int = 2) -> Iterator[tuple[int, subprocess.Popen]]:
    """Serve the tracker (bench settings) with gunicorn on a free loopback port; yield (port, process)."""
    port = _free_port()
    env = os.environ | {
        "DATABASE_URL": database_url(),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "PYTHONPATH": str(ROOT),
    }
    log = open(ROOT / "var" / "bench-gunicorn.log", "ab")
    # A sync worker does not report to the arbiter while it streams one response, so the
    # timeout must cover a whole CSV export (one full-size bench export ran past 120 s).
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "tracker.wsgi:application", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--log-level", "warning", "--timeout", "900"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                status, _ = get(port, "/bench/baseline/")
                if status == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("gunicorn did not start; see var/bench-gunicorn.log")
            time.sleep(0.3)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def get(port: int, path: str, conn: http.client.HTTPConnection | None = None) -> tuple[int, bytes]:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers={"Accept": "application/json"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        if own:
            conn.close()


def load(port: int, paths: list[str], *, seconds: float, clients: int = 4) -> dict[str, float]:
    """GET the paths round-robin from `clients` keep-alive connections for `seconds`."""
    latencies: list[float] = []
    failures: list[str] = []
    stop = time.monotonic() + seconds

    def client(i: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        n = i
        try:
            while time.monotonic() < stop:
                path = paths[n % len(paths)]
                n += 1
                started = time.perf_counter()
                status, _body = get(port, path, conn)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 200:
                    failures.append(f"{path}: HTTP {status}")
                    return
        finally:
            conn.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(failures[0])
    ordered = sorted(latencies)
    return {
        "rps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2],
        "p99_ms": ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))],
        "requests": len(ordered),
    }


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def worker_pids(master: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        children = (task / "children").read_text().split()
        pids += [int(p) for p in children]
    return pids
