"""Local Slack and status-page servers with the settings that point Warroom at them."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bench.comms_servers import SlackServer, StatusPageServer
from notifications import delivery
from notifications.models import Delivery
from warroom import clock


@pytest.fixture
def slack(settings):
    server = SlackServer().start()
    settings.SLACK_ENABLED = True
    settings.SLACK_BASE_URL = server.base_url
    settings.SLACK_TOKEN = server.token
    settings.SLACK_TIMEOUT = 1
    server.hang_seconds = 2.0
    yield server
    server.stop()


@pytest.fixture
def statuspage(settings):
    server = StatusPageServer().start()
    settings.STATUSPAGE_ENABLED = True
    settings.STATUSPAGE_BASE_URL = server.base_url
    settings.STATUSPAGE_PAGE_ID = server.page_id
    settings.STATUSPAGE_API_KEY = server.api_key
    settings.STATUSPAGE_TIMEOUT = 1
    server.hang_seconds = 2.0
    yield server
    server.stop()


def drain(start: datetime | None = None, *, limit: int = 500) -> datetime:
    """Work the outbox as a worker would, moving the clock to each delivery's next
    attempt: returns the clock's time when nothing is left to try."""
    now = start or clock.now()
    for _ in range(limit):
        waiting = Delivery.objects.exclude(state__in=["sent", "failed"]).order_by(
            "next_attempt_at", "id"
        )
        d = waiting.first()
        if d is None:
            return now
        now = max(now, d.next_attempt_at) + timedelta(milliseconds=1)
        with clock.frozen_at(now):
            delivery.attempt(d.pk)
    raise AssertionError("the outbox did not drain")
