#!/usr/bin/env bash
# `make bench`: the performance benchmarks (issue 7) on PostgreSQL, in a scratch database
# (<configured name>_bench) that bench/run.py creates, migrates and drops; the configured
# database is never written. Arguments go to bench/run.py, e.g. `--scale 0.01 --only rebuild`.
set -u
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh)"
case "${DATABASE_URL:-}" in
  postgres*) echo "bench database server: PostgreSQL (${DATABASE_URL%%@*}@…)";;
  *) echo "bench: PostgreSQL did not answer (start it with: bash scripts/services.sh --start)"; exit 1;;
esac
export DATABASE_URL
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-bench.settings}"
mkdir -p var
exec .venv/bin/python -m bench.run "$@"
