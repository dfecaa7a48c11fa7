"""Periodic work. Tasks stay thin: they load rows and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from warroom import clock, ticks

logger = logging.getLogger(__name__)


@shared_task(name="warroom.tasks.tick")
def tick() -> dict:
    """Beat's heartbeat: runs every app's scan for due work (:mod:`warroom.ticks`), then
    leaves its time in Redis so health checks can tell the worker and beat are alive."""
    from warroom.health import beat_seen, tick_lock

    moment = clock.now()
    with tick_lock() as mine:
        if not mine:
            # Another worker's tick is still running: two at once only compete for the
            # same rows (every job is safe to run twice, but not free).
            beat_seen(moment)
            return {"at": moment.isoformat(), "skipped": "another tick is running"}
        outcomes = ticks.run(moment)
    beat_seen(moment)
    return {"at": moment.isoformat(), **outcomes}
