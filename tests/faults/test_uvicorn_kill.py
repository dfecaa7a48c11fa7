"""A web process is SIGKILLed under a live room: its viewers resume on another with
?after=, gap-free, while ticks go on (real uvicorn processes)."""

from __future__ import annotations

import time

import pytest

from bench.faultkit import ViewerPool
from bench.faults import Ticks
from tests.factories import team_release

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_the_viewers_of_a_killed_process_resume_on_another(server_factory):
    team = team_release(items_per_list=10)
    a, b = server_factory("a"), server_factory("b")
    ticks = Ticks(team, [b.url, a.url], rate=5)
    first = ticks.head() + 1
    path = f"/ws/releases/{team.release.pk}/events"
    on_a = ViewerPool([a.ws, b.ws], path, team.token("pm"), 50, after=first - 1).start()
    on_b = ViewerPool([b.ws, a.ws], path, team.token("pm"), 50, after=first - 1).start()
    try:
        ticks.start()
        time.sleep(2)
        a.proc.kill()
        a.proc.wait()
        time.sleep(3)
        ticks.stop()
        last = ticks.head()
        assert on_a.wait_whole(first, last, 20) is not None, on_a.counts(first, last)
        assert on_b.wait_whole(first, last, 20) is not None, on_b.counts(first, last)
    finally:
        ticks.stop()
        on_a.stop()
        on_b.stop()
    events = last - first + 1
    assert events >= 15 and ticks.statuses == [200] * events
    for pool in (on_a, on_b):
        assert pool.counts(first, last) == {"delivered": 50 * events, "lost": 0, "duplicated": 0}
    assert all(v.connects == 2 for v in on_a.viewers)  # moved once, to b
    assert all(v.connects == 1 for v in on_b.viewers)
