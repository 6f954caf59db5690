#!/usr/bin/env bash
# `make test`: the whole suite, on PostgreSQL + Redis where they answer, else on the embedded
# default (SQLite + filesystem broker), saying so. Under CI=true a fallback is a failure.
set -u
cd "$(dirname "$0")/.."
eval "$(bash scripts/services.sh)"
fallback=()
case "${DATABASE_URL:-sqlite}" in
  postgres*) echo "test database: PostgreSQL (${DATABASE_URL%%@*}@…)";;
  *) why="PostgreSQL did not answer"; [ -n "${DATABASE_URL:-}" ] && why="DATABASE_URL is not PostgreSQL"
     fallback+=("$why: using SQLite; tests marked 'postgres' are skipped");;
esac
case "${CELERY_BROKER_URL:-filesystem}" in
  redis*) echo "broker: Redis";;
  *) why="Redis did not answer"; [ -n "${CELERY_BROKER_URL:-}" ] && why="CELERY_BROKER_URL is not Redis"
     fallback+=("$why: using the filesystem broker; tests marked 'redis' are skipped");;
esac
for line in "${fallback[@]}"; do echo "FALLBACK: $line"; done
if [ "${CI:-}" = "true" ] && [ ${#fallback[@]} -gt 0 ]; then
  echo "CI=true: a fallback is a failure"; exit 1
fi
export DATABASE_URL CELERY_BROKER_URL 2>/dev/null
mkdir -p var
.venv/bin/python -m pytest "$@"
