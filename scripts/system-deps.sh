#!/usr/bin/env bash
# Debian packages the browser tests use (Chromium from Debian, never a downloaded browser).
set -eu
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing Debian's chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "chromium is missing: install Debian's 'chromium' package to run the browser tests" >&2
  fi
fi
