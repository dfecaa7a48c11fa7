"""Liveness of the background side: beat's tick task leaves its time in Redis."""

from __future__ import annotations

from datetime import datetime

import redis
from django.conf import settings

BEAT_KEY = "warroom:last_tick"


def _redis() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2)


def beat_seen(moment: datetime) -> None:
    """Record that the periodic tick ran (by a worker) at ``moment``."""
    _redis().set(BEAT_KEY, moment.isoformat(), ex=3600)


def last_tick() -> str | None:
    """When a worker last ran the tick, or None (never, or Redis unreachable)."""
    try:
        value = _redis().get(BEAT_KEY)
    except redis.RedisError:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return value or None
