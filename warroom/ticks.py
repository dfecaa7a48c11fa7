"""What beat's periodic tick does: each app registers the scans it needs here.

Schedules live in rows, not in beat's config: one ``tick`` task (every
``TICK_SECONDS``) runs every registered job with the current time. A job finds what
has fallen due and acts on it idempotently (a job run twice, or by two workers at
once, acts once), so a restart of the worker or beat loses or doubles nothing.
Apps register their jobs in a ``ticks`` module, loaded at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime

logger = logging.getLogger(__name__)

Job = Callable[[datetime], object]
_jobs: dict[str, Job] = {}


def on_tick(name: str) -> Callable[[Job], Job]:
    """Register ``fn(now)`` to run at every tick under ``name``."""

    def register(fn: Job) -> Job:
        _jobs[name] = fn
        return fn

    return register


def run(now: datetime) -> dict[str, str]:
    """Run every job; one job failing never stops the others. Returns each outcome."""
    outcomes = {}
    for name, job in list(_jobs.items()):
        try:
            outcomes[name] = str(job(now))
        except Exception:
            logger.exception("tick job %s failed; it runs again at the next tick", name)
            outcomes[name] = "failed"
    return outcomes


def registered() -> list[str]:
    return list(_jobs)
