from __future__ import annotations

import pytest

from bench.pagerduty_server import EventsServer


@pytest.fixture
def pd(settings):
    """A local server speaking PagerDuty's Events API v2, where the settings send to."""
    server = EventsServer().start()
    settings.PAGERDUTY_EVENTS_URL = server.url
    yield server
    server.stop()
