#!/usr/bin/env bash
# `make run`: set up (or reuse) everything and serve the tracker locally.
#   migrate, collect static files, load the demo data, make sure a curator login exists,
#   start a Celery worker and beat in the background, then gunicorn in the foreground.
# Defaults need nothing but Python (SQLite under var/, the filesystem broker); DATABASE_URL
# and CELERY_BROKER_URL may point at PostgreSQL and Redis instead. Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

PORT="${PORT:-8000}"
HOST=127.0.0.1
BIN=.venv/bin
PY="$BIN/python"
export DJANGO_SETTINGS_MODULE=tracker.settings

[ -x "$PY" ] && [ -f .venv/.installed ] || make -s venv
mkdir -p var/log var/cache
# Both web processes must count failed logins and API requests together: a cache in files
# under var/ needs no server (set CACHE_URL to Redis or memcached instead if you have one).
export CACHE_URL="${CACHE_URL:-filecache://$PWD/var/cache}"

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
if port_open "$HOST" "$PORT"; then
  echo "port $PORT on $HOST is already in use: stop what runs there or set PORT=..." >&2
  exit 1
fi

step() { printf '\n== %s\n' "$*"; }

step "database"
# A PostgreSQL database named in DATABASE_URL is created if the server has none of that name.
"$PY" - <<'PY'
import django
from django.db import connection
django.setup()
if connection.vendor == "postgresql":
    import psycopg2
    from psycopg2 import sql
    s = connection.settings_dict
    try:
        connection.ensure_connection()
    except Exception as exc:
        if "does not exist" not in str(exc):
            raise
        admin = psycopg2.connect(dbname="postgres", user=s["USER"], password=s["PASSWORD"] or None,
                                 host=s["HOST"] or None, port=s["PORT"] or None)
        admin.autocommit = True
        admin.cursor().execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(s["NAME"])))
        admin.close()
        print(f"created PostgreSQL database {s['NAME']}")
print(f"using {connection.vendor}: {connection.settings_dict['NAME']}")
from django.db.migrations.executor import MigrationExecutor
executor = MigrationExecutor(connection)
if executor.migration_plan(executor.loader.graph.leaf_nodes()):
    open("var/.migrations-pending", "w").close()
PY
"$PY" manage.py migrate --noinput
if [ -e var/.migrations-pending ]; then
  # A migration may add read-model columns that only a replay of the log fills in.
  "$PY" manage.py rebuild_projections
  rm -f var/.migrations-pending
fi
"$PY" manage.py collectstatic --noinput --verbosity 0

step "demo data"
"$PY" manage.py demo
"$PY" manage.py demo_news  # the robot at work: sample articles become pending proposals

step "curator login"
login="$("$PY" manage.py ensure_curator)"
echo "$login"

pids=()
stop_all() {
  trap - INT TERM EXIT
  if [ ${#pids[@]} -gt 0 ]; then
    printf '\nstopping web server, worker and beat...\n'
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop_all EXIT
trap 'exit 130' INT TERM

step "worker and beat (logs: var/log/worker.log, var/log/beat.log)"
"$BIN/celery" -A tracker worker --loglevel=INFO --concurrency=2 >>var/log/worker.log 2>&1 &
pids+=($!)
"$BIN/celery" -A tracker beat --loglevel=INFO --schedule var/celerybeat-schedule \
  >>var/log/beat.log 2>&1 &
pids+=($!)

step "web server"
"$BIN/gunicorn" tracker.wsgi:application --bind "$HOST:$PORT" --workers "${WEB_CONCURRENCY:-2}" \
  --access-logfile - --error-logfile - &
web=$!
pids+=("$web")

for _ in $(seq 1 60); do
  port_open "$HOST" "$PORT" && break
  kill -0 "$web" 2>/dev/null || { echo "the web server did not start" >&2; exit 1; }
  sleep 0.5
done
# Ask the worker for a round trip, so "running" means a task really runs.
if "$PY" - <<'PY'
import logging
import sys
import django
django.setup()
logging.getLogger("kombu.connection").setLevel(logging.ERROR)  # filesystem:// has no host: not news
from tracker.celery import ping
try:
    ok = ping.apply_async(args=["ready"]).get(timeout=60) == "ready"
except Exception as exc:  # noqa: BLE001 - reported below
    print(f"worker did not answer: {exc}", file=sys.stderr)
    ok = False
sys.exit(0 if ok else 1)
PY
then worker_state="running (answered a ping task)"
else worker_state="NOT answering: see var/log/worker.log"
fi

cat <<MSG

  Meeting tracker is running
  api:    http://$HOST:$PORT/api/v1/
  admin:  http://$HOST:$PORT/admin/
  ${login}
  worker: ${worker_state}
  Press Ctrl-C to stop (the worker and beat stop too).

MSG
wait "$web"
