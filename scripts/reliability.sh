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
status=0
timeout -s INT -k 30 600 .venv/bin/python -m tracker.reliability "$@" || status=$?
# The hostile-input sweep (tracker.security) joins the run once it exists.
if [ $# -eq 0 ] && .venv/bin/python -c "import tracker.security" 2>/dev/null \
   && .venv/bin/python manage.py help hostile_sweep >/dev/null 2>&1; then
  .venv/bin/python manage.py hostile_sweep || status=$?
fi
exit $status
