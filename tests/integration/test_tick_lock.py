"""Beat's tick runs once at a time: a tick that finds another still running (on any
worker) steps aside, and a tick not started within its period is dropped by Celery,
so a slow tick never queues more ticks ahead of the deliveries."""

from __future__ import annotations

import time

import pytest
import redis
from django.conf import settings

from warroom import health, tasks

pytestmark = pytest.mark.django_db


def test_a_tick_steps_aside_while_another_runs_and_runs_after_it():
    with health.tick_lock() as mine:
        assert mine
        with health.tick_lock() as second:
            assert not second
        skipped = tasks.tick()
        assert skipped["skipped"] == "another tick is running"
        assert "comms" not in skipped
    ran = tasks.tick()
    assert "skipped" not in ran
    assert {"clock", "comms", "comms.sweep", "comms.slack_requests"} <= set(ran)
    assert health.last_tick() == ran["at"]


def test_a_tick_that_waited_three_periods_is_dropped():
    tick = settings.CELERY_BEAT_SCHEDULE["tick"]
    assert tick["options"]["expires"] == max(10.0, 3 * tick["schedule"])


def test_a_running_tick_renews_its_short_lease_and_a_dead_ones_lapses(settings):
    """A long tick keeps its lock past one lease; a worker killed mid-tick (nobody renews)
    holds the next ticks up for one lease at most — not a minute of missed escalations."""
    settings.CELERY_BEAT_SCHEDULE = {
        "tick": {**settings.CELERY_BEAT_SCHEDULE["tick"], "schedule": 2.0}
    }
    assert health.tick_lock_seconds() == 10
    client = redis.Redis.from_url(settings.REDIS_URL)
    with health.tick_lock() as mine:
        assert mine
        ttl = client.ttl(health.TICK_LOCK_KEY)
        assert 0 < ttl <= 10
        client.expire(health.TICK_LOCK_KEY, 5)  # as if half the lease had passed
        time.sleep(health.tick_lock_seconds() / 3 + 0.5)  # the renewer's turn
        assert client.ttl(health.TICK_LOCK_KEY) > 5
    assert client.get(health.TICK_LOCK_KEY) is None
    # Left behind by a killed worker: a plain key with the lease's life, no renewer.
    client.set(health.TICK_LOCK_KEY, "dead-worker", ex=health.tick_lock_seconds())
    with health.tick_lock() as second:
        assert not second
    assert 0 < client.ttl(health.TICK_LOCK_KEY) <= 10
    client.delete(health.TICK_LOCK_KEY)
