"""Periodic work. Tasks stay thin: they load rows and call services."""

from __future__ import annotations

import logging

from celery import shared_task

from warroom import clock

logger = logging.getLogger(__name__)


@shared_task(name="warroom.tasks.tick")
def tick() -> str:
    """Beat's heartbeat: scans for due work (the execution engine and comms hook in here).

    For now it records the time it ran in Redis so `/healthz` can show worker liveness.
    """
    from warroom.health import beat_seen

    moment = clock.now()
    beat_seen(moment)
    return moment.isoformat()
