"""Shared fixtures: a team release, API clients, and real server processes."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from tests.factories import team_release

ROOT = Path(__file__).resolve().parent.parent


# Tests here start real processes that share this session's Redis (given REDIS_URL).
NEEDS_REDIS = {
    "live",
    "integration",
    "faults",
    "e2e",
    "bench",
    "production",
    "engine",
    "notifications",
}


def pytest_collection_modifyitems(session, config, items):
    """With the embedded default, lease its Redis only when a collected test needs it
    (the lease ends with the session; the last user gone, the Redis stops)."""
    if not settings.REDIS_EMBEDDED:
        return
    if any(
        NEEDS_REDIS & set(Path(str(item.path)).relative_to(ROOT).parts)
        or item.get_closest_marker("redis")
        for item in items
    ):
        from warroom.embedded import lease

        lease(settings.VAR_DIR)


@pytest.fixture(autouse=True)
def _celery_pools_follow_the_settings():
    """Celery reads its broker from the settings on each use, but makes its connection and
    producer pools once. A test that points the settings at a Redis of its own (and stops
    it) would leave them, and every later test's sends, on that Redis: drop them then."""
    yield
    from warroom.celery import app

    amqp = app.__dict__.get("amqp")
    producers = getattr(amqp, "_producer_pool", None)
    made = [p for p in (app._pool, producers.connections if producers else None) if p]
    wanted = app.connection_for_write().as_uri()
    if any(p.connection.as_uri() != wanted for p in made):
        app._pool = None
        if amqp is not None:
            amqp._producer_pool = None


@pytest.fixture(autouse=True)
def _fresh_page_cache():
    """Test databases reuse primary keys after a rollback; cached page bodies must not."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def team(db):
    return team_release()


@pytest.fixture
def api(client):
    """``api(user).get/post(...)`` with a Bearer token for ``user``."""
    from warroom.models import ApiToken

    class Api:
        def __init__(self, user):
            self.headers = {"Authorization": f"Bearer {ApiToken.issue(user)[1]}"}

        def get(self, path, **kw):
            return client.get(path, headers=self.headers, **kw)

        def post(self, path, data=None, **kw):
            return client.post(
                path, data=data or {}, content_type="application/json", headers=self.headers, **kw
            )

        def put(self, path, data=None, **kw):
            return client.put(
                path, data=data or {}, content_type="application/json", headers=self.headers, **kw
            )

        def patch(self, path, data=None, **kw):
            return client.patch(
                path, data=data or {}, content_type="application/json", headers=self.headers, **kw
            )

        def delete(self, path, **kw):
            return client.delete(path, headers=self.headers, **kw)

    return Api


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_database_url() -> str:
    """The URL of the database pytest-django created, for server subprocesses."""
    s = connection.settings_dict
    if s["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{s['NAME']}"
    host = s.get("HOST") or "127.0.0.1"
    port = s.get("PORT") or 5432
    auth = (
        s["USER"] + (f":{s['PASSWORD']}" if s.get("PASSWORD") else "") + "@"
        if s.get("USER")
        else ""
    )
    return f"postgres://{auth}{host}:{port}/{s['NAME']}"


class Server:
    """A real uvicorn process serving Warroom against the test database and Redis."""

    def __init__(self, port: int, proc: subprocess.Popen, log: Path):
        self.port, self.proc, self.log = port, proc, log
        self.url = f"http://127.0.0.1:{port}"
        self.ws = f"ws://127.0.0.1:{port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def start_server(
    tmp_path: Path,
    name: str = "web",
    extra_env: dict | None = None,
    *,
    access_log: bool = False,
    extra_args: tuple[str, ...] = (),
) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "warroom.settings",
        **(extra_env or {}),
    }
    log = tmp_path / f"{name}-{port}.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "warroom.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--ws",
            "websockets-sansio",
            *([] if access_log else ["--no-access-log"]),
            *extra_args,
        ],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    server = Server(port, proc, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            urllib.request.urlopen(server.url + "/healthz", timeout=1)
            return server
        except OSError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not start: {log.read_text()[-2000:]}")


@pytest.fixture
def server_factory(tmp_path):
    """Start real uvicorn processes (use with ``django_db(transaction=True)``)."""
    servers: list[Server] = []

    def start(name: str = "web", **kw) -> Server:
        server = start_server(tmp_path, name, **kw)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.stop()


class Background:
    """A real Celery worker or beat process against the test database and Redis."""

    def __init__(self, name: str, cmd: list[str], env: dict, log: Path):
        self.name, self.cmd, self.env, self.log = name, cmd, env, log
        self.proc: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.cmd, cwd=ROOT, env=self.env, stdout=self.log.open("a"), stderr=subprocess.STDOUT
        )

    def kill(self) -> None:
        """SIGKILL, as a crash would: no clean shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()


@pytest.fixture
def celery_factory(tmp_path):
    """Start a real Celery ``worker`` or ``beat`` (use with ``django_db(transaction=True)``).

    Every process shares the clock kept in Redis (``WARROOM_SHARED_CLOCK``), so a test can
    move the whole stack through the night with ``warroom.clock.travel``.
    """
    started: list[Background] = []
    queue = f"warroom-test-{os.getpid()}"
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "DJANGO_SETTINGS_MODULE": "warroom.settings",
        "WARROOM_SHARED_CLOCK": "1",
        "WARROOM_VAR_DIR": str(tmp_path),
        "TICK_SECONDS": "1",
        "CELERY_QUEUE": queue,
    }

    def start(role: str, **extra) -> Background:
        py = sys.executable
        cmd = {
            "worker": [py, "-m", "celery", "-A", "warroom", "worker", "--loglevel", "INFO",
                       "--concurrency", "1", "-Q", f"{queue},{queue}.comms", "--without-gossip",
                       "--without-mingle", "-n", f"{queue}-{len(started)}@%h"],
            "beat": [py, "-m", "celery", "-A", "warroom", "beat", "--loglevel", "INFO",
                     "--schedule", str(tmp_path / f"beat-{len(started)}")],
        }[role]  # fmt: skip
        proc = Background(role, cmd, {**env, **extra}, tmp_path / f"{role}.log")
        started.append(proc)
        return proc

    yield start
    for proc in started:
        proc.stop()
