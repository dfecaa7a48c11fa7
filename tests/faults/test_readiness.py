"""/readyz names what a war room is missing (real uvicorn, Celery worker and beat, a Redis
of our own); /healthz stays the process-alive probe."""

from __future__ import annotations

import time

import httpx
import pytest

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def ready(server) -> tuple[int, dict]:
    r = httpx.get(server.url + "/readyz", timeout=10)
    return r.status_code, r.json()


def wait_until(server, predicate, timeout: float = 30) -> tuple[int, dict]:
    deadline = time.monotonic() + timeout
    status, body = ready(server)
    while not predicate(status, body) and time.monotonic() < deadline:
        time.sleep(0.3)
        status, body = ready(server)
    return status, body


def test_readyz_names_redis_the_worker_and_beat(server_factory, celery_factory, own_redis):
    env = {"REDIS_URL": own_redis.url, "CHANNELS_PREFIX": f"ready{own_redis.port}"}
    server = server_factory(extra_env={**env, "READY_TICK_MAX_AGE": "3", "TICK_SECONDS": "1"})
    status, body = ready(server)
    assert status == 503
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"] == "ok"
    assert body["checks"]["worker"].startswith("no worker heartbeat")
    assert body["checks"]["beat"] == "no tick has run yet"

    celery_factory("worker", **env)
    beat = celery_factory("beat", **env)
    status, body = wait_until(server, lambda s, b: s == 200)
    assert (status, body["status"], body["problems"]) == (200, "ready", [])

    own_redis.stop()
    status, body = wait_until(server, lambda s, b: s == 503, 10)
    assert status == 503
    assert body["problems"][0].startswith("redis: unavailable")
    r = httpx.get(server.url + "/readyz", timeout=10)
    assert r.headers["Retry-After"] == "5"
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200

    own_redis.start()  # worker and beat reconnect by themselves
    status, body = wait_until(server, lambda s, b: s == 200, 30)
    assert status == 200, body

    beat.kill()
    status, body = wait_until(server, lambda s, b: s == 503, 15)
    assert status == 503
    assert [p.split(":")[0] for p in body["problems"]] == ["beat"]
    assert "the last tick ran" in body["checks"]["beat"]


def test_readyz_names_an_unreachable_database(server_factory, own_redis):
    server = server_factory(
        extra_env={
            "REDIS_URL": own_redis.url,
            "DATABASE_URL": "sqlite:////nonexistent-warroom-dir/warroom.sqlite3",
        }
    )
    status, body = ready(server)
    assert status == 503
    assert body["checks"]["database"].startswith("unavailable")
    assert "database: unavailable (OperationalError)" in body["problems"]
    assert httpx.get(server.url + "/healthz", timeout=10).status_code == 200
