"""The one place code asks for the time, so tests (and rehearsals) can move it.

Everything is stored in UTC. ``format_offset`` renders a T-offset the way the
runbooks write it ("T-01:45", "T+0:30", "T-7d").

Two ways to move time:

- :func:`frozen_at` freezes it in this process (unit tests);
- with ``WARROOM_SHARED_CLOCK=1`` every process (web, worker, beat) adds the same
  offset, kept in Redis, so a test or a rehearsal can jump a whole running stack to
  T-30m and watch the war room change (:func:`travel`). Production leaves it off.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone

_frozen: datetime | None = None
SHARED_KEY = "warroom:clock:offset"
SHARED_REREAD = 0.2  # seconds between reads of the shared offset
_shared: list[float] = [0.0, -1.0]  # offset seconds, monotonic time read


def _shared_offset() -> timedelta:
    if not os.environ.get("WARROOM_SHARED_CLOCK"):
        return timedelta(0)
    if time.monotonic() - _shared[1] > SHARED_REREAD:
        import redis
        from django.conf import settings

        try:
            value = redis.Redis.from_url(settings.REDIS_URL, socket_timeout=1).get(SHARED_KEY)
            _shared[0] = float(value) if value else 0.0
        except (redis.RedisError, ValueError):
            pass  # keep the last offset read
        _shared[1] = time.monotonic()
    return timedelta(seconds=_shared[0])


def now() -> datetime:
    """The current time (UTC, aware), as frozen or moved by tests and rehearsals."""
    if _frozen is not None:
        return _frozen
    return timezone.now() + _shared_offset()


def travel(offset: timedelta) -> None:
    """Move every process's clock (``WARROOM_SHARED_CLOCK=1``) to real time + ``offset``."""
    import redis
    from django.conf import settings

    redis.Redis.from_url(settings.REDIS_URL).set(SHARED_KEY, offset.total_seconds())
    _shared[1] = -1.0


@contextlib.contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Freeze :func:`now` at ``moment`` for the duration of the block."""
    global _frozen
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous


def format_offset(delta: timedelta | None) -> str:
    """T-offset as people write it: ``T-01:45``, ``T+0:30``, ``T-7d``, ``T0``."""
    if delta is None:
        return ""
    seconds = int(delta.total_seconds())
    if seconds == 0:
        return "T0"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days and not hours and not minutes:
        return f"T{sign}{days}d"
    hours += days * 24
    if sign == "-":
        return f"T-{hours:02d}:{minutes:02d}"
    return f"T+{hours}:{minutes:02d}"
