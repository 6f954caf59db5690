"""What a new user touches first: the demo data, the curator login, the settings defaults, `make run`."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from io import StringIO
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command

from tracker.demo.loader import demo_data

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def _event_count() -> int:
    return apps.get_model("eventstore", "Event").objects.count()


# --- demo data ------------------------------------------------------------------------------


def test_demo_records_every_official_and_meeting_of_the_data_file_with_history():
    from meetings.models import Meeting
    from people.models import Person, Tenure
    from people.selectors import person_history

    # given the demo data file
    data = demo_data()

    # when the demo is loaded into an empty tracker
    call_command("demo", stdout=StringIO())

    # then every person, tenure and meeting of the file is in the read models
    assert set(Person.objects.values_list("name", flat=True)) == {p["name"] for p in data["people"]}
    assert Tenure.objects.count() == sum(len(p["tenures"]) for p in data["people"])
    assert set(Meeting.objects.values_list("title", flat=True)) == {m["title"] for m in data["meetings"]}
    # and each participant is linked to the person (not only a raw name)
    for meeting in Meeting.objects.prefetch_related("participants"):
        assert all(p.person_id is not None for p in meeting.participants.all()), meeting.title
    # and an official's history starts with the registration, made by the system for the demo
    person = Person.objects.get(name="Cho Hyun")
    entries = person_history(person_id=person.id)
    events = list(apps.get_model("eventstore", "Event").objects.filter(stream_id=person.id).order_by("version"))
    own = [e for e in entries if not e.related]
    assert [e.event.event_id for e in own] == [row.event_id for row in events]
    assert len(events) == 3  # registered, then the alias, then the tenure
    # and the meeting the official took part in shows in the official's history too
    assert [e.event.type for e in entries if e.related] == ["MeetingRecorded"]
    assert events[0].type == "PersonRegistered"
    for row in events:
        assert (row.metadata["reason"], row.metadata["via"], row.metadata["actor_kind"]) == (
            "demo data",
            "cli",
            "system",
        )


def test_demo_twice_appends_no_event_the_second_time_and_rebuild_check_stays_clean():
    # given a tracker with the demo loaded once
    before = _event_count()
    first = StringIO()
    call_command("demo", stdout=first)
    after_first = _event_count()

    # when it is loaded again
    second = StringIO()
    call_command("demo", stdout=second)

    # then the first run appended events and the second none, and each run said so
    assert after_first > before
    assert _event_count() == after_first
    assert f"{after_first - before} events appended" in first.getvalue()
    assert "0 events appended" in second.getvalue()
    # and the read models equal a replay of the log (the command raises on any difference)
    out = StringIO()
    call_command("rebuild_projections", "--check", stdout=out)
    assert out.getvalue().startswith(f"ok: read models equal a replay of {after_first} events")


def test_demo_reuses_an_official_already_entered_by_hand():
    from people.commands import person_register
    from people.models import Person, Tenure
    from tracker.eventstore.api import Context

    # given a curator who already registered one of the demo officials
    by_hand = person_register(name="Marco Rubio", country="US", context=Context.system(reason="typed in"))

    # when the demo is loaded
    call_command("demo", stdout=StringIO())

    # then there is still one Marco Rubio, the hand-made record, now holding the demo post
    assert list(Person.objects.filter(name="Marco Rubio").values_list("id", flat=True)) == [by_hand]
    assert Tenure.objects.filter(person_id=by_hand, post__title="Secretary of State").count() == 1


def test_demo_data_file_is_consistent():
    # given the committed data file
    data = demo_data()
    orgs = {o["key"] for o in data["organizations"]}
    people = {p["name"]: p for p in data["people"]}

    # then every tenure names a known organization, and every meeting at least two known people
    for person in data["people"]:
        for tenure in person["tenures"]:
            assert tenure["organization"] in orgs, (person["name"], tenure)
    keys = [m["key"] for m in data["meetings"]]
    assert len(keys) == len(set(keys))
    for meeting in data["meetings"]:
        names = [p["name"] for p in meeting["participants"]]
        assert len(names) >= 2 and len(set(names)) == len(names), meeting["key"]
        assert set(names) <= set(people), meeting["key"]
        for p in meeting["participants"]:
            assert p["side"] == people[p["name"]]["country"], (meeting["key"], p)


# --- curator login --------------------------------------------------------------------------


def test_curator_login_is_created_once_and_its_password_reused(tmp_path):
    # given no curator yet and no password file
    password_file = tmp_path / "curator-password.txt"

    # when the login is ensured twice
    first, second = StringIO(), StringIO()
    call_command("ensure_curator", "--password-file", str(password_file), stdout=first)
    call_command("ensure_curator", "--password-file", str(password_file), stdout=second)

    # then one staff user exists, with the password kept in the file, shown the same both times
    password = password_file.read_text().strip()
    assert len(password) >= 12
    assert oct(password_file.stat().st_mode & 0o777) == oct(0o600)
    users = get_user_model().objects.filter(username="curator")
    assert users.count() == 1
    user = users.get()
    assert user.is_staff and user.check_password(password)
    assert first.getvalue() == second.getvalue() == f"login: curator / {password}\n"
    # and the user is in the curator group exactly when that group exists
    has_group = Group.objects.filter(name="curator").exists()
    assert user.groups.filter(name="curator").exists() == has_group


def test_curator_password_is_never_overwritten_unless_its_file_is_gone(tmp_path):
    password_file = tmp_path / "curator-password.txt"
    call_command("ensure_curator", "--password-file", str(password_file), stdout=StringIO())
    user = get_user_model().objects.get(username="curator")

    # given the curator changed the password in the admin
    user.set_password("chosen-by-the-curator")
    user.save()

    # when the login is ensured again, then the chosen password stays and is not printed
    out = StringIO()
    call_command("ensure_curator", "--password-file", str(password_file), stdout=out)
    user.refresh_from_db()
    assert user.check_password("chosen-by-the-curator")
    assert "not shown" in out.getvalue()

    # when the password file is deleted, then a new password is generated, set and printed
    password_file.unlink()
    out = StringIO()
    call_command("ensure_curator", "--password-file", str(password_file), stdout=out)
    new_password = password_file.read_text().strip()
    user.refresh_from_db()
    assert user.check_password(new_password)
    assert out.getvalue() == f"login: curator / {new_password}\n"


# --- settings defaults ----------------------------------------------------------------------


def _settings_in_subprocess(**env_overrides: str) -> dict:
    """Import tracker.settings in a fresh interpreter with a clean environment and report."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    env.update(env_overrides)
    code = (
        "import json, tracker.settings as s;"
        "print(json.dumps({'debug': s.DEBUG, 'db': s.DATABASES['default'],"
        " 'broker': s.CELERY_BROKER_URL, 'hosts': s.ALLOWED_HOSTS, 'var': str(s.VAR_DIR)}, default=str))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.skipif((ROOT / ".env").exists(), reason="a local .env overrides the defaults")
def test_settings_default_to_no_debug_sqlite_under_var_and_a_serverless_broker():
    # given an environment that sets nothing
    # when the settings are read
    s = _settings_in_subprocess()

    # then DEBUG is off, the database is a SQLite file under var/, and the broker needs no server
    assert s["debug"] is False
    assert s["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert Path(s["db"]["NAME"]).parent == Path(s["var"]) == ROOT / "var"
    assert s["broker"] == "filesystem://"
    assert "*" not in s["hosts"]


def test_settings_follow_the_environment():
    # given an environment that sets debug, a PostgreSQL URL and a Redis broker
    s = _settings_in_subprocess(
        DJANGO_DEBUG="true",
        DATABASE_URL="postgres://u:p@db.invalid:5433/tracker_x",
        CELERY_BROKER_URL="redis://redis.invalid:6379/1",
        DJANGO_ALLOWED_HOSTS="tracker.invalid,www.tracker.invalid",
    )

    # then the settings take them
    assert s["debug"] is True
    assert s["db"]["ENGINE"] == "django.db.backends.postgresql"
    assert (s["db"]["NAME"], s["db"]["HOST"], int(s["db"]["PORT"])) == ("tracker_x", "db.invalid", 5433)
    assert s["broker"] == "redis://redis.invalid:6379/1"
    assert s["hosts"] == ["tracker.invalid", "www.tracker.invalid"]


# --- make run ---------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    """Direct child processes of `pid` (from /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(entry.name))
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


class _Session:
    """A tiny cookie-keeping HTTP client for the admin login round trip."""

    def __init__(self, base: str) -> None:
        import http.cookiejar

        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect()
        )

    def get(self, path: str):  # type: ignore[no-untyped-def]
        try:
            return self.opener.open(self.base + path, timeout=20)
        except urllib.error.HTTPError as exc:  # 3xx land here (redirects are not followed)
            return exc

    def post(self, path: str, fields: dict[str, str]):  # type: ignore[no-untyped-def]
        body = urllib.parse.urlencode(fields).encode()
        request = urllib.request.Request(self.base + path, data=body, headers={"Referer": self.base + path})
        try:
            return self.opener.open(request, timeout=20)
        except urllib.error.HTTPError as exc:
            return exc

    def cookie(self, name: str) -> str:
        return next(c.value for c in self.jar if c.name == name)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_make_run_serves_the_admin_with_the_demo_data_and_a_worker_and_stops_on_ctrl_c(tmp_path):
    import re
    import threading

    from django.conf import settings
    from django.db import connection

    # given a fresh database of the kind the suite runs on, a free port and a queue of its own
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_", "CELERY_"))}
    scratch_db = None
    if connection.vendor == "postgresql":
        db = connection.settings_dict
        scratch_db = f"{db['NAME']}_run_{uuid.uuid4().hex[:8]}"
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{scratch_db}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'run.sqlite3'}"
    env["CELERY_BROKER_URL"] = settings.CELERY_BROKER_URL
    env["CELERY_TASK_DEFAULT_QUEUE"] = f"run-test-{uuid.uuid4().hex[:8]}"
    env["PORT"] = str(port)
    env["WEB_CONCURRENCY"] = "1"
    lines: list[str] = []

    # when `make run`'s script starts
    proc = subprocess.Popen(
        ["bash", "scripts/run.sh"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True, start_new_session=True,
        # A shell started in the background inherits SIGINT ignored, and bash cannot trap a
        # signal ignored on entry; a terminal's Ctrl-C always arrives with the default action.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        deadline = time.monotonic() + 240
        while not any("Press Ctrl-C" in line for line in lines):
            assert proc.poll() is None, "run.sh ended early:\n" + "".join(lines)
            assert time.monotonic() < deadline, "run.sh did not come up:\n" + "".join(lines)
            time.sleep(0.5)
        output = "".join(lines)

        # then it printed the URL, the admin URL, the login, and a worker that ran a task
        assert f"http://127.0.0.1:{port}/admin/" in output
        assert "worker: running" in output, output
        login = re.search(r"login: curator / (\S+)", output)
        assert login, output
        assert "demo data: 19 people (19 new)" in output

        # and the admin login page serves, with its static files, and /admin/ asks for a login
        client = _Session(f"http://127.0.0.1:{port}")
        page = client.get("/admin/login/")
        assert page.status == 200 and "csrfmiddlewaretoken" in page.read().decode()
        assert client.get("/static/admin/css/base.css").status == 200
        assert client.get("/admin/").status == 302

        # and the printed login works
        answer = client.post(
            "/admin/login/?next=/admin/",
            {"username": "curator", "password": login.group(1),
             "csrfmiddlewaretoken": client.cookie("csrftoken"), "next": "/admin/"},
        )
        assert answer.status == 302 and answer.headers["Location"] == "/admin/"
        assert client.get("/admin/").status == 200

        # when Ctrl-C reaches it
        children = _children(proc.pid)
        assert len(children) >= 3  # worker, beat, web server
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=90)

        # then the web server, the worker and beat are stopped too
        deadline = time.monotonic() + 30
        while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not [pid for pid in children if _alive(pid)]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        if scratch_db:
            with connection.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{scratch_db}" WITH (FORCE)')


def test_env_example_and_readme_list_every_variable_the_settings_read():
    import re

    # given the variables tracker/settings.py reads through django-environ
    source = (ROOT / "tracker" / "settings.py").read_text()
    read = set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z][A-Z0-9_]*)\"", source))
    assert {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SECRET_KEY", "DJANGO_DEBUG"} <= read

    # when .env.example and the README's configuration table are read
    example = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]*)=", example, flags=re.M))
    table = set(re.findall(r"^\| `([A-Z][A-Z0-9_]*)` \|", (ROOT / "README.md").read_text(), flags=re.M))

    # then each of them is listed in both
    assert read - listed == set()
    assert read - table == set()


# --- docker -----------------------------------------------------------------------------------


def test_compose_runs_web_worker_and_beat_from_one_image_after_healthy_services():
    import yaml

    # given the compose file
    compose = yaml.safe_load((ROOT / "docker" / "compose.yaml").read_text())
    services = compose["services"]

    # then db and redis have health checks, and web, worker and beat wait for them
    assert {"db", "redis", "web", "worker", "beat"} <= set(services)
    assert services["db"]["image"].startswith("postgres:16")
    assert "healthcheck" in services["db"] and "healthcheck" in services["redis"]
    django = [services[name] for name in ("web", "worker", "beat")]
    for svc in django:
        assert svc["depends_on"] == {
            "db": {"condition": "service_healthy"},
            "redis": {"condition": "service_healthy"},
        }
    # and the three share one image and configuration, differing in what they run
    shared = ("build", "image", "env_file", "restart")
    assert all({k: s[k] for k in shared} == {k: django[0][k] for k in shared} for s in django)
    assert [s["command"][0] for s in django] == ["gunicorn", "celery", "celery"]
    assert services["worker"]["command"][3] == "worker" and services["beat"]["command"][3] == "beat"
    # and only the web command migrates (the entrypoint keys on it)
    entrypoint = (ROOT / "docker" / "entrypoint.sh").read_text()
    assert entrypoint.index("gunicorn)") < entrypoint.index("manage.py migrate --noinput") < entrypoint.index("celery)")
