"""The image's own commands, run for real without Docker: migrate, then web, worker and beat
under production settings behind a (pretend) TLS proxy; the health checks the compose file
uses pass, and a tick through the API reaches the event stream."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import time

import httpx
import pytest
import redis
import websockets
from django.conf import settings

from tests import conftest
from tests.conftest import ROOT, free_port
from tests.factories import team_release
from warroom.health import BEAT_KEY

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

SITE = "warroom.example.test"


def container(*argv: str, env: dict, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "warroom.container", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=kw.pop("timeout", 60),
        **kw,
    )


def wait_healthy(service: str, env: dict, procs: dict, timeout: float = 45) -> None:
    deadline = time.monotonic() + timeout
    while True:
        result = container("healthcheck", service, env=env)
        if result.returncode == 0:
            return
        dead = {n: p.returncode for n, p in procs.items() if p.poll() is not None}
        if dead or time.monotonic() > deadline:
            logs = {n: p.log.read_text()[-1500:] for n, p in procs.items()}
            pytest.fail(f"{service} not healthy: {result.stderr} dead={dead} logs={logs}")
        time.sleep(0.5)


@pytest.fixture
def production_stack(tmp_path):
    port = free_port()
    env = {
        **os.environ,
        "WARROOM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": SITE,
        "CSRF_TRUSTED_ORIGINS": f"https://{SITE}",
        "DATABASE_URL": conftest.test_database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "WARROOM_VAR_DIR": str(tmp_path / "var"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "TICK_SECONDS": "1",
        "WORKER_CONCURRENCY": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    migrated = container("migrate", env=env, timeout=120)
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr
    # A tick left by an earlier run must not make beat look healthy.
    redis.Redis.from_url(settings.REDIS_URL).delete(BEAT_KEY)
    procs = {}
    for name in ("web", "worker", "beat"):
        log = tmp_path / f"{name}.log"
        proc = subprocess.Popen(
            [sys.executable, "-m", "warroom.container", name],
            cwd=ROOT,
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
        )
        proc.log = log
        procs[name] = proc
    try:
        yield port, env, procs
    finally:
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_the_images_commands_run_a_healthy_production_stack(production_stack):
    port, env, procs = production_stack
    team = team_release()
    item = team.item("DBA")
    token = team.token("dba")

    for service in ("web", "worker", "beat"):
        wait_healthy(service, env, procs)

    proxied = {"Host": SITE, "X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.4"}
    base = f"http://127.0.0.1:{port}"

    async def scenario():
        async with httpx.AsyncClient(base_url=base, timeout=10) as http:
            # Straight to the server over plain HTTP: sent to HTTPS.
            plain = await http.get("/login/", headers={"Host": SITE})
            assert plain.status_code == 301
            assert plain.headers["location"] == f"https://{SITE}/login/"
            # Through the TLS proxy (trusted: FORWARDED_ALLOW_IPS): served, with HSTS.
            page = await http.get("/login/", headers=proxied)
            assert page.status_code == 200
            assert page.headers["strict-transport-security"].startswith("max-age=31536000")
            assert "Secure" in page.headers["set-cookie"]  # the CSRF cookie
            async with websockets.connect(
                f"ws://127.0.0.1:{port}/ws/releases/{team.release.pk}/events",
                origin=f"https://{SITE}",
                additional_headers={"Authorization": f"Bearer {token}"},
            ) as ws:
                resp = await http.post(
                    f"/api/releases/{team.release.pk}/items/{item.pk}",
                    json={"status": "done"},
                    headers={**proxied, "Authorization": f"Bearer {token}"},
                )
                assert resp.status_code == 200, resp.text
                event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert event["kind"] == "item.status" and event["data"]["item"] == item.pk

    asyncio.run(scenario())
    item.refresh_from_db()
    assert item.status == "done"
    assert all(p.poll() is None for p in procs.values())


def test_without_its_settings_the_image_refuses_to_start_and_names_them(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"SECRET_KEY", "ALLOWED_HOSTS", "CSRF_TRUSTED_ORIGINS"}
    }
    env.update(
        WARROOM_ENV="production",
        WARROOM_VAR_DIR=str(tmp_path),
        DATABASE_URL="postgres://warroom:pw@db:5432/warroom",
        REDIS_URL="redis://redis:6379/0",
    )
    for command in ("migrate", "worker"):
        result = container(command, env=env)
        assert result.returncode != 0, command
        assert "SECRET_KEY" in result.stderr and "ALLOWED_HOSTS" in result.stderr, command
