"""`python -m tracker.reliability [soak|kills|merge|redis|backup|all] [--short]`: the
reliability drivers against a scratch PostgreSQL database; one line per figure."""
from __future__ import annotations

import argparse
import os
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tracker.reliability", description=__doc__)
    parser.add_argument("parts", nargs="*", default=["all"],
                        help="soak, kills, merge, redis, backup, hostile or all (default)")
    parser.add_argument("--short", action="store_true", help="the CI-sized version")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--writes", type=int, default=None, help="writes per client")
    parser.add_argument("--kills", type=int, default=None)
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tracker.settings")
    # A queue of its own, so no other worker on the same broker takes the run's tasks.
    os.environ["CELERY_TASK_DEFAULT_QUEUE"] = f"reliability-{os.getpid()}"
    import django

    django.setup()
    from .run import PARTS, default_parts, run_parts

    parts = default_parts() if "all" in args.parts else args.parts
    unknown = [p for p in parts if p not in PARTS]
    if unknown:
        parser.error(f"unknown part(s): {', '.join(unknown)}; choose from {', '.join(PARTS)} or all")
    started = time.monotonic()
    ok = run_parts(parts, short=args.short, clients=args.clients, writes=args.writes, kills=args.kills)
    print(f"reliability: parts={','.join(parts)} seconds={time.monotonic() - started:.0f} "
          f"result={'ok' if ok else 'FAILED'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
