#!/bin/sh
# Only the web server migrates; the worker and beat wait until the migrations are applied,
# so one `docker compose up` never runs two migrations at once.
set -eu

case "${1:-}" in
  gunicorn)
    if python manage.py migrate --check >/dev/null 2>&1; then
      :
    else
      python manage.py migrate --noinput
      # A migration may add read-model columns that only a replay of the log fills in.
      python manage.py rebuild_projections --check || python manage.py rebuild_projections
    fi
    ;;
  celery)
    tries=0
    until python manage.py migrate --check >/dev/null 2>&1; do
      tries=$((tries + 1))
      if [ "$tries" -ge 90 ]; then
        echo "migrations still not applied after ${tries} tries; is the web service up?" >&2
        exit 1
      fi
      echo "waiting for the web service to apply migrations..." >&2
      sleep 2
    done
    ;;
esac

exec "$@"
