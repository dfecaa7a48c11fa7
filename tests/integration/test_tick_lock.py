"""Beat's tick runs once at a time: a tick that finds another still running (on any
worker) steps aside, and a tick not started within its period is dropped by Celery,
so a slow tick never queues more ticks ahead of the deliveries."""

from __future__ import annotations

import pytest
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
