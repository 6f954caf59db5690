#!/usr/bin/env bash
# `make reliability`: the bounded soak and fault drivers (issue 6) on PostgreSQL + Redis, in a
# scratch database (<configured name>_… created, migrated and dropped by tracker/reliability);
# the configured database is never written. Prints one line per figure; exits 1 if any fails.
# Arguments go to `python -m tracker.reliability`, e.g. `soak kills --short`.
set -u
cd "$(dirname "$0")/.."
bash scripts/services.sh --start >/dev/null
eval "$(bash scripts/services.sh)"
case "${DATABASE_URL:-}" in
  postgres*) ;;
  *) echo "reliability: PostgreSQL did not answer (start it with: bash scripts/services.sh --start)"; exit 1;;
esac
case "${CELERY_BROKER_URL:-}" in
  redis*) ;;
  *) echo "reliability: Redis did not answer (start it with: bash scripts/services.sh --start)"; exit 1;;
esac
export DATABASE_URL CELERY_BROKER_URL
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-tracker.settings}"
mkdir -p var/reliability
# Every part, the hostile-input sweep (tracker.security) included, runs in one scratch database.
exec timeout -s INT -k 30 600 .venv/bin/python -m tracker.reliability "$@"
