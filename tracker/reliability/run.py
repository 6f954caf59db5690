"""Run the chosen drivers in one scratch database and print their figures."""
from __future__ import annotations

import traceback

from . import harness


def _soak(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    from .soak import run_soak

    per_client = writes or (25 if short else 250)
    with harness.gunicorn(workers=2) as base:
        result = run_soak(base=base, clients=clients, writes_per_client=per_client,
                          people=12, meetings=8, seconds=120 if short else 360)
    for line in result.lines():
        print(line, flush=True)
    for sample in result.error_samples:
        print(f"  error: {sample}", flush=True)
    for problem in result.check_problems[:5]:
        print(f"  rebuild: {problem}", flush=True)
    return result.ok


def _kills(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    from .kills import run_kills

    result = run_kills(kills=kills or (3 if short else 20), articles=8 if short else 80)
    print(result.line(), flush=True)
    return result.ok


def _merge(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    from .merge_cut import run_merge_cut

    result = run_merge_cut()
    print(result.line(), flush=True)
    return result.ok


def _redis(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    from .redis_down import run_redis_down

    result = run_redis_down()
    print(result.line(), flush=True)
    return result.ok


def _backup(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    from .backup import run_backup

    result = run_backup()
    print(result.line(), flush=True)
    return result.ok


def _hostile(short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    # the hostile-input sweep (tracker.security), run here so it writes to the scratch database
    from tracker.security.sweep import run_sweep, summary

    results = run_sweep(echo=lambda line: print(f"  {line}", flush=True))
    print(summary(results), flush=True)
    return all(r.survived for r in results)


PARTS = {"soak": _soak, "kills": _kills, "merge": _merge, "redis": _redis, "backup": _backup,
         "hostile": _hostile}


def default_parts() -> list[str]:
    """Every part; the hostile-input sweep only where tracker.security provides it."""
    import importlib.util

    parts = ["soak", "kills", "merge", "redis", "backup"]
    if importlib.util.find_spec("tracker.security.sweep") is not None:
        parts.append("hostile")
    return parts


# Parts calibrated on an empty database get one of their own: the hostile sweep's CPU budgets
# assume no other records (with the soak's records present its 1 MB line took 39.6 s CPU).
ISOLATED = {"hostile"}


def _run(name: str, short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    try:
        return PARTS[name](short, clients, writes, kills)
    except Exception:  # a driver that crashes is a failed figure, not a stopped run
        print(f"{name}: CRASHED", flush=True)
        traceback.print_exc()
        return False


def run_parts(parts: list[str], *, short: bool, clients: int, writes: int | None, kills: int | None) -> bool:
    ok = True
    shared = [p for p in parts if p not in ISOLATED]
    if shared:
        with harness.scratch_database():
            for name in shared:
                ok = _run(name, short, clients, writes, kills) and ok
    for name in parts:
        if name in ISOLATED:
            with harness.scratch_database(prefix=f"tracker_reliability_{name}"):
                ok = _run(name, short, clients, writes, kills) and ok
    return ok
