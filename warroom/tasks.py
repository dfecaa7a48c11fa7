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
    from warroom.health import beat_seen

    moment = clock.now()
    outcomes = ticks.run(moment)
    beat_seen(moment)
    return {"at": moment.isoformat(), **outcomes}
