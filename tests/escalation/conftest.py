from __future__ import annotations

import pytest

from bench.pagerduty_server import EventsServer, EventsServerProcess


def _sent_to(settings, server):
    settings.PAGERDUTY_EVENTS_URL = server.url
    yield server
    server.stop()


@pytest.fixture
def pd(settings):
    """A local server speaking PagerDuty's Events API v2, where the settings send to."""
    yield from _sent_to(settings, EventsServer().start())


@pytest.fixture
def pd_process(settings):
    """The same server in a process of its own (as the bench runs it), counting there."""
    yield from _sent_to(settings, EventsServerProcess().start())
