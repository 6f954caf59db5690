"""`python -m bench.run [--scale F] [--only NAME,...] [--json PATH] [--profile-rebuild PATH]`

Creates a scratch PostgreSQL database next to the configured one (`<name>_bench`), migrates
it, runs the benchmarks, prints a table, writes the results as JSON and drops the database.
The configured database is never touched.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

DEFAULT_JSON = Path(__file__).resolve().parent / "results.json"


def run_suite(
    *, scale: float, only: list[str] | None = None, json_path: str | Path | None = DEFAULT_JSON,
    profile_rebuild: str | None = None, log: Any = print, scales: dict[str, float] | None = None,
    merge: bool = False,
) -> dict[str, Any]:
    """Run the benchmarks on the current (already migrated) database; return and save results."""
    from django.db import connection

    from .benchmarks import BENCHMARKS, Result

    if connection.vendor != "postgresql":
        raise SystemExit("the benchmarks need PostgreSQL (COPY, server-side cursors)")
    names = only or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(BENCHMARKS)}")
    results = []
    started = time.perf_counter()
    scales = scales or {}
    for name in names:
        own_scale = scales.get(name, scale)
        log(f"running {name} (scale {own_scale}) ...")
        t0 = time.perf_counter()
        kwargs = {"profile_path": profile_rebuild} if name == "rebuild" and profile_rebuild else {}
        try:
            produced = BENCHMARKS[name](own_scale, **kwargs)
        except Exception as exc:  # one broken benchmark must not lose the others' figures
            log(f"  {name} failed: {exc!r}")
            produced = [Result(name=name, title=name, unit="", status="failed", note=repr(exc)[:300])]
        for result in produced:
            result.sizes["scale"] = own_scale
            result.extra.setdefault("seconds", round(time.perf_counter() - t0, 2))
            results.append(result)
    with connection.cursor() as cur:
        cur.execute("SHOW server_version")
        server = cur.fetchone()[0]
    report = {
        "scale": scale,
        "finished_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "postgresql": server,
            "platform": platform.platform(terse=True),
        },
        "benchmarks": {r.name: r.as_json() for r in results},
    }
    if merge and json_path and Path(json_path).exists():
        # Keep the other benchmarks of an earlier run (each entry records its own scale).
        earlier = json.loads(Path(json_path).read_text())
        report["benchmarks"] = {**earlier.get("benchmarks", {}), **report["benchmarks"]}
        report["merged_from"] = earlier.get("finished_at")
    if json_path:
        Path(json_path).write_text(json.dumps(report, indent=2, default=str) + "\n")
    log(format_table(report))
    return report


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}" if abs(value) < 10 else f"{value:.1f}"


def _target(target: dict[str, float], unit: str) -> str:
    if "ratio_min" in target:
        p99 = f", p99 <= {target['p99_max_ms']:g} ms" if "p99_max_ms" in target else ""
        return f"ratio >= {target['ratio_min']:.2f}{p99}"
    if "value_max" in target:
        return f"<= {target['value_max']:g} {unit}"
    return "-"


def format_table(report: dict[str, Any]) -> str:
    """The results as a Markdown table (also valid plain text)."""
    lines = [
        "| benchmark | value | baseline | ratio | target | met | sizes |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in report["benchmarks"].values():
        if r["status"] != "ok":
            lines.append(f"| {r['title']} | {r['status']}: {r['note']} | | | {_target(r['target'], r['unit'])} | | |")
            continue
        sizes = ", ".join(f"{k}={v:,}" if isinstance(v, int) else f"{k}={v}" for k, v in r["sizes"].items())
        met = {True: "yes", False: "no", None: "-"}[r["passed"]]
        lines.append(
            f"| {r['title']} | {_fmt(r['value'])} {r['unit']} "
            f"| {_fmt(r['baseline'])} {r.get('baseline_unit') or r['unit']} "
            f"| {_fmt(r['ratio'])} | {_target(r['target'], r['unit'])} | {met} | {sizes} |"
        )
    return "\n".join(lines)


def _scratch_url(url: str) -> tuple[str, str, str]:
    """(scratch database URL, scratch name, maintenance URL) for a postgres:// URL."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "tracker"
    scratch = os.environ.get("BENCH_DATABASE_NAME", f"{name}_bench")
    return (
        urlunsplit(parts._replace(path=f"/{scratch}")),
        scratch,
        urlunsplit(parts._replace(path="/postgres")),
    )


def _admin(maintenance_url: str, sql: str) -> None:
    import psycopg2

    conn = psycopg2.connect(maintenance_url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (1.0 = the issue's sizes)")
    parser.add_argument(
        "--scales", default="", help="per-benchmark scale overrides, e.g. rebuild=0.01,as_of=1"
    )
    parser.add_argument("--only", default="", help="comma-separated benchmark names")
    parser.add_argument("--json", default=str(DEFAULT_JSON), help="where to write the results")
    parser.add_argument("--profile-rebuild", default=None, help="write a cProfile summary of the rebuild here")
    parser.add_argument(
        "--merge", action="store_true", help="update only these benchmarks in an existing results file"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    args = parser.parse_args(argv)

    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        print("bench: DATABASE_URL must point at PostgreSQL (see scripts/bench.sh)", file=sys.stderr)
        return 2
    scratch_url, scratch, maintenance = _scratch_url(url)
    if scratch == urlsplit(url).path.lstrip("/"):
        print("bench: the scratch database must differ from the configured one", file=sys.stderr)
        return 2
    _admin(maintenance, f'DROP DATABASE IF EXISTS "{scratch}"')
    _admin(maintenance, f'CREATE DATABASE "{scratch}"')
    os.environ["DATABASE_URL"] = scratch_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connections

        print(f"bench: scratch database {scratch} (dropped afterwards{'; kept' if args.keep else ''})")
        call_command("migrate", verbosity=0)
        only = [n.strip() for n in args.only.split(",") if n.strip()] or None
        scales = {k.strip(): float(v) for k, v in (p.split("=") for p in args.scales.split(",") if p.strip())}
        run_suite(
            scale=args.scale, only=only, json_path=args.json, profile_rebuild=args.profile_rebuild,
            scales=scales, merge=args.merge,
        )
        print(f"bench: results written to {args.json}")
        connections.close_all()
    finally:
        if not args.keep:
            _admin(maintenance, f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)')
    return 0


if __name__ == "__main__":
    sys.exit(main())
