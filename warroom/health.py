"""Health of the parts a war room needs, for ``/readyz`` and the container checks.

- beat's tick task leaves the (war-room clock) time it ran in Redis: a tick younger
  than ``tick_bound()`` means beat, the broker and a worker all work;
- each Celery worker leaves a heartbeat key every ``WORKER_BEAT`` seconds that
  lives ``WORKER_TTL`` seconds (started when the worker is ready: warroom/celery.py).
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from datetime import datetime

import redis
from django.conf import settings

BEAT_KEY = "warroom:last_tick"
WORKER_KEY = "warroom:worker:"
WORKER_BEAT = 5.0
WORKER_TTL = 20


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)


def beat_seen(moment: datetime) -> None:
    """Record that the periodic tick ran (by a worker) at ``moment``."""
    _redis().set(BEAT_KEY, moment.isoformat(), ex=3600)


TICK_LOCK_KEY = "warroom:tick:running"


def tick_lock_seconds() -> int:
    """How long the tick lock lives unless renewed: two periods, at least 10 s."""
    every = float(str(settings.CELERY_BEAT_SCHEDULE["tick"]["schedule"]))
    return max(10, int(2 * every))


@contextlib.contextmanager
def tick_lock():
    """Yield True when this tick may run (no other is running). Held in Redis as a short
    lease that a thread renews while the tick runs, so a long tick keeps it and a worker
    killed mid-tick holds the next ticks up for one lease at most (``tick_lock_seconds``);
    with Redis away the tick runs anyway (its jobs are safe to run twice)."""
    ttl = tick_lock_seconds()
    token = f"{socket.gethostname()}:{os.getpid()}:{time.monotonic()}"
    try:
        client = _redis()
        mine = bool(client.set(TICK_LOCK_KEY, token, nx=True, ex=ttl))
    except redis.RedisError:
        client, mine = None, True
    done = threading.Event()
    renewer = None
    if client is not None and mine:
        renewer = threading.Thread(
            target=_renew_tick_lock, args=(client, token, ttl, done), daemon=True
        )
        renewer.start()
    try:
        yield mine
    finally:
        done.set()
        if renewer is not None:
            renewer.join(timeout=5)
        if client is not None and mine:
            with contextlib.suppress(redis.RedisError):
                if client.get(TICK_LOCK_KEY) == token.encode():
                    client.delete(TICK_LOCK_KEY)


def _renew_tick_lock(client: redis.Redis, token: str, ttl: int, done: threading.Event) -> None:
    """Extend the lease every third of its life while it is still ours."""
    while not done.wait(ttl / 3):
        with contextlib.suppress(redis.RedisError):
            if client.get(TICK_LOCK_KEY) != token.encode():
                return  # lost (expired and taken): the other tick runs; ours finishes
            client.expire(TICK_LOCK_KEY, ttl)


def last_tick() -> str | None:
    """When a worker last ran the tick, or None (never, or Redis unreachable)."""
    try:
        value = _redis().get(BEAT_KEY)
    except redis.RedisError:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return value or None


def tick_bound() -> float:
    """How old the last tick may be: four periods, at least ``READY_TICK_MAX_AGE`` (60 s)."""
    every = float(str(settings.CELERY_BEAT_SCHEDULE["tick"]["schedule"]))
    return max(float(os.environ.get("READY_TICK_MAX_AGE", 60)), 4 * every)


def tick_problem() -> str | None:
    """None when beat's tick ran recently; else what is wrong."""
    from warroom import clock

    seen = last_tick()
    if seen is None:
        return "no tick has run yet"
    age = (clock.now() - datetime.fromisoformat(seen)).total_seconds()
    allowed = tick_bound()
    return None if age <= allowed else f"the last tick ran {age:.0f} s ago (> {allowed:.0f} s)"


def start_worker_heartbeat(name: str | None = None) -> threading.Thread:
    """Called in a worker once it is ready: a daemon thread refreshes its key."""
    key = WORKER_KEY + (name or f"{socket.gethostname()}:{os.getpid()}")

    def beat() -> None:
        client = _redis()
        while True:
            # Redis away: the key expires and /readyz says so.
            with contextlib.suppress(redis.RedisError):
                client.set(key, "1", ex=WORKER_TTL)
            time.sleep(WORKER_BEAT)

    thread = threading.Thread(target=beat, name="warroom-worker-heartbeat", daemon=True)
    thread.start()
    return thread


def _database() -> str | None:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except Exception as exc:
        return f"unavailable ({type(exc).__name__})"
    return None


def _redis_and_workers() -> tuple[str | None, str | None]:
    try:
        r = _redis()
        r.ping()
        workers = next(iter(r.scan_iter(match=WORKER_KEY + "*", count=1000)), None)
    except redis.RedisError as exc:
        return f"unavailable ({type(exc).__name__})", "unknown (Redis is unavailable)"
    return None, (None if workers else f"no worker heartbeat in the last {WORKER_TTL} s")


def readiness() -> dict[str, str | None]:
    """Each dependency and None when it is fine, else what is wrong."""
    redis_problem, worker_problem = _redis_and_workers()
    return {
        "database": _database(),
        "redis": redis_problem,
        "worker": worker_problem,
        "beat": tick_problem() if redis_problem is None else "unknown (Redis is unavailable)",
    }
