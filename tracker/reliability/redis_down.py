"""Redis stops while the web app runs (a spare redis-server of its own, never the shared one).

While it is down: reads are served, a meeting edit (no task) succeeds, an article pasted in
the admin (whose suggestion task cannot be sent) is stored and the task parked, and the
admin home says the broker is unreachable. Once Redis is back, the parked task is sent
(`manage.py redeliver_tasks`, what beat runs every minute) and a worker processes it.
"""
from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
import time
import uuid

import requests
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from rest_framework.authtoken.models import Token

from . import harness
from .kills import ensure_officials

# Worded and dated unlike the kill run's articles, so it is neither a syndicated copy of one
# nor the same meeting as one of their proposals.
TEXT = (
    "WASHINGTON, Feb. 3 (AP) -- Under Secretary of State for Political Affairs Allison Hooker "
    "met First Vice Foreign Minister Park Yoon-joo at the State Department in Washington on "
    "Monday to discuss export controls and shipbuilding, officials said. Outage report {tag}."
)


@dataclasses.dataclass
class RedisDownResult:
    reads: int
    reads_ok: int
    writes: int
    writes_ok: int
    queued_writes: int
    queued_writes_ok: int
    admin_status: int
    admin_says_unreachable: bool
    parked: int
    delivered_after_restart: int
    processed_after_restart: int
    note: str = ""

    def line(self) -> str:
        return (
            f"redis down: reads ok={self.reads_ok}/{self.reads} writes ok={self.writes_ok}/{self.writes} "
            f"task-queueing writes ok={self.queued_writes_ok}/{self.queued_writes} parked={self.parked} "
            f"admin={self.admin_status}{' broker-unreachable shown' if self.admin_says_unreachable else ''} "
            f"tasks delivered after restart={self.delivered_after_restart} "
            f"processed={self.processed_after_restart}"
        )

    @property
    def ok(self) -> bool:
        return (self.reads_ok == self.reads and self.writes_ok == self.writes
                and self.queued_writes_ok == self.queued_writes and self.admin_status == 200
                and self.admin_says_unreachable and self.parked == self.queued_writes
                and self.delivered_after_restart == self.parked
                and self.processed_after_restart == self.queued_writes)


class SpareRedis:
    """A redis-server on its own loopback port that can be stopped and started again."""

    def __init__(self) -> None:
        self.port = harness.free_port()
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", "/tmp"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        harness._wait_until(lambda: harness.port_open(self.port), 20, "redis-server", self.proc)

    def stop(self) -> None:
        if self.proc is not None:
            harness.stop(self.proc, timeout=10)
            self.proc = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _admin_session(base: str, username: str, password: str) -> requests.Session:
    session = requests.Session()
    page = session.get(f"{base}/admin/login/", timeout=30)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(f"{base}/admin/login/?next=/admin/", timeout=30, data={
        "csrfmiddlewaretoken": token, "username": username, "password": password, "next": "/admin/",
    }, headers={"Referer": f"{base}/admin/login/"})
    if "logout" not in done.text.lower():
        raise RuntimeError("admin login failed")
    return session


def _submit_text(session: requests.Session, base: str, text: str) -> int:
    url = f"{base}/admin/ingest/ingestionfailure/submit/"
    page = session.get(url, timeout=30)
    if page.status_code != 200:
        return page.status_code
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(url, timeout=30, allow_redirects=False, headers={"Referer": url}, data={
        "csrfmiddlewaretoken": token, "text": text, "published": "2025-02-03", "title": "outage",
    })
    return answer.status_code


def run_redis_down(*, reads: int = 20, writes: int = 10, queued: int = 1) -> RedisDownResult:
    from meetings.commands import meeting_record
    from meetings.models import SourceArticle
    from people.commands import person_register
    from tracker.eventstore.api import Context
    from tracker.moderation.models import Proposal

    from .models import UndeliveredTask

    ensure_officials()
    system = Context.system(reason="reliability: redis down", via="cli")
    a = person_register(name="Outage Official A", context=system)
    b = person_register(name="Outage Official B", context=system)
    meeting = meeting_record(participants=[{"person_id": str(a)}, {"person_id": str(b)}], context=system,
                             date="2025-11", title="Outage meeting")
    password = uuid.uuid4().hex
    user, _ = get_user_model().objects.get_or_create(username="outage-curator", defaults={"is_staff": True})
    user.is_staff = True
    user.set_password(password)
    user.save()
    user.groups.add(Group.objects.get(name="curator"))
    token = Token.objects.get_or_create(user=user)[0].key
    tags = [uuid.uuid4().hex[:8] for _ in range(queued)]
    parked_before = UndeliveredTask.objects.count()
    parked_before_pk = UndeliveredTask.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    redis = SpareRedis()
    redis.start()
    # the spare Redis is private to this run, so the configured queue name is safe to use
    env = harness.child_env(CELERY_BROKER_URL=redis.url, CELERY_RESULT_BACKEND=redis.url)
    worker = None
    try:
        with harness.gunicorn(workers=2, env=env) as base:
            worker = harness.start_worker(env=env)
            api = requests.Session()
            api.headers["Authorization"] = f"Token {token}"
            admin = _admin_session(base, user.username, password)
            redis.stop()  # the outage
            reads_ok = sum(
                api.get(f"{base}/api/v1/meetings/" if i % 2 else f"{base}/api/v1/meetings/{meeting.id}/",
                        timeout=30).status_code == 200
                for i in range(reads)
            )
            writes_ok = 0
            for i in range(writes):
                url = f"{base}/api/v1/meetings/{meeting.id}/"
                etag = api.get(url, timeout=30).headers.get("ETag", "")
                answer = api.patch(url, json={"summary": f"edited during the outage {i}", "reason": "outage"},
                                   headers={"If-Match": etag}, timeout=30)
                writes_ok += answer.status_code == 200
            queued_ok = sum(_submit_text(admin, base, TEXT.format(tag=t)) == 302 for t in tags)
            home = admin.get(f"{base}/admin/", timeout=30)
            parked = UndeliveredTask.objects.count() - parked_before
            # Redis comes back; beat's redelivery (here run by hand) sends what was parked
            redis.start()
            redelivered = subprocess.run(
                [sys.executable, "manage.py", "redeliver_tasks"], env=env, cwd=harness.ROOT,
                capture_output=True, text=True, timeout=120,
            )
            # (a worker that became ready meanwhile redelivers too: count what the table says)
            note = "" if redelivered.returncode == 0 else (redelivered.stdout + redelivered.stderr)[-500:]
            articles = SourceArticle.objects.filter(title="outage")
            deadline = time.monotonic() + 90
            processed = 0
            while time.monotonic() < deadline:
                processed = Proposal.objects.filter(article_id__in=articles.values("id")).values("article_id").distinct().count()
                if processed >= len(tags):
                    break
                time.sleep(0.5)
            delivered = UndeliveredTask.objects.filter(pk__gt=parked_before_pk, delivered_at__isnull=False).count()
    finally:
        if worker is not None:
            for child in harness.children(worker.pid):
                harness.stop_pid(child)
            harness.stop(worker)
        redis.stop()
    return RedisDownResult(
        reads=reads, reads_ok=reads_ok, writes=writes, writes_ok=writes_ok, queued_writes=len(tags),
        queued_writes_ok=queued_ok, admin_status=home.status_code,
        admin_says_unreachable='id="broker-unreachable"' in home.text, parked=parked,
        delivered_after_restart=delivered, processed_after_restart=processed, note=note,
    )
