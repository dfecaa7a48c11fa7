"""The one place code asks for the time, so tests (and rehearsals) can move it.

Everything is stored in UTC. ``format_offset`` renders a T-offset the way the
runbooks write it ("T-01:45", "T+0:30", "T-7d").
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime, timedelta

from django.utils import timezone

_frozen: datetime | None = None


def now() -> datetime:
    """The current time (UTC, aware), or the moment a test froze it at."""
    if _frozen is not None:
        return _frozen
    return timezone.now()


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
