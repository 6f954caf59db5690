"""Production settings pass `check --deploy`; secrets come only from the environment."""
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _manage(*args: str, **env_vars: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "SECURE_"))}
    env.update({"DATABASE_URL": "sqlite:///var/deploy-check.sqlite3", "PYTHONPATH": str(ROOT)}, **env_vars)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "tracker.settings_production",
    "DJANGO_ALLOWED_HOSTS": "tracker.example.org",
    "CACHE_URL": "redis://127.0.0.1:6379/1",
}


def test_check_deploy_is_clean_with_production_settings():
    # given: production settings with a secret key, a host name and a shared cache
    # when: Django's deployment checks run, failing on warnings too
    proc = _manage("check", "--deploy", "--fail-level", "WARNING",
                   DJANGO_SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    # then: no issue at all
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "no issues" in proc.stdout


def test_production_settings_refuse_to_start_without_a_secret_key():
    proc = _manage("check", **PRODUCTION)
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in proc.stderr


def test_a_real_host_without_a_key_and_without_debug_fails_loudly():
    # given: the base settings serving a real host name, DEBUG off, no key
    proc = _manage("check", DJANGO_SETTINGS_MODULE="tracker.settings", DJANGO_ALLOWED_HOSTS="tracker.example.org")
    # then: it refuses to start and says why
    assert proc.returncode != 0
    assert "DJANGO_SECRET_KEY is not set" in proc.stderr


@pytest.mark.parametrize("flag", [{"DJANGO_DEBUG": "true"}, {"DJANGO_ALLOW_INSECURE_KEY": "true"}, {}])
def test_the_dev_key_is_kept_for_debug_local_hosts_or_the_explicit_flag(flag):
    # given: DEBUG, the explicit flag, or only local host names (make run, tests)
    hosts = {} if not flag else {"DJANGO_ALLOWED_HOSTS": "tracker.example.org"}
    proc = _manage("check", "--deploy", DJANGO_SETTINGS_MODULE="tracker.settings", **hosts, **flag)
    # then: the app starts, and the deployment check reports the fallback key as an error
    assert "tracker.security.E001" in proc.stdout + proc.stderr


def test_debug_is_off_unless_set():
    code = "from django.conf import settings; print(settings.DEBUG)"
    proc = _manage("shell", "-c", code, DJANGO_SECRET_KEY="k" * 60, **PRODUCTION)
    assert proc.stdout.strip().splitlines()[-1] == "False", proc.stderr
