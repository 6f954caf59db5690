#!/usr/bin/env bash
# Probe (and, with --start, start) the local PostgreSQL and Redis the test suite prefers.
# Prints shell assignments for DATABASE_URL / CELERY_BROKER_URL that answered.
set -u
start=0; [ "${1:-}" = "--start" ] && start=1

port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

if [ $start = 1 ]; then
  if ! port_open 127.0.0.1 5432 && command -v pg_ctlcluster >/dev/null; then
    echo "starting PostgreSQL" >&2
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start >&2 || true
  fi
  if ! port_open 127.0.0.1 6379 && command -v redis-server >/dev/null; then
    echo "starting Redis" >&2
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 || true
  fi
  for _ in $(seq 1 30); do
    port_open 127.0.0.1 5432 && port_open 127.0.0.1 6379 && break
    sleep 1
  done
fi

if [ -z "${DATABASE_URL:-}" ] && port_open 127.0.0.1 5432; then
  echo "export DATABASE_URL=postgres://postgres@127.0.0.1:5432/tracker"
fi
if [ -z "${CELERY_BROKER_URL:-}" ] && port_open 127.0.0.1 6379; then
  echo "export CELERY_BROKER_URL=redis://127.0.0.1:6379/0"
fi
