"""Redis goes away and comes back under a live room (real uvicorn, a Redis of our own).

Viewers keep their sockets through the outage; events committed meanwhile reach
every one of them, in order and once, within seconds of Redis returning — whether or
not anything else happens afterwards. New viewers are let in during the outage (their
replay comes from the database) and pages say "reconnecting…" until the layer is back.
"""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets

from bench.faultkit import ViewerPool
from tests.factories import team_release
from tests.faults.conftest import Ticker

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

BACK_WITHIN = 5.0  # seconds after Redis returns


def start(server_factory, own_redis, name="web"):
    return server_factory(
        name, extra_env={"REDIS_URL": own_redis.url, "CHANNELS_PREFIX": f"faults{own_redis.port}"}
    )


async def page_states(url: str, token: str, states: list[str], stop: asyncio.Event) -> None:
    """A war room page's socket: records the live/reconnecting states it is told."""
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, open_timeout=10, additional_headers=headers) as ws:
        while not stop.is_set():
            try:
                text = await asyncio.wait_for(ws.recv(), 0.3)
            except TimeoutError:
                continue
            if 'id="live-state"' in text:
                states.append("live" if 'data-live="1"' in text else "reconnecting")


def test_events_from_an_outage_reach_every_viewer_without_a_later_event(server_factory, own_redis):
    team = team_release(items_per_list=6)
    server = start(server_factory, own_redis)
    ticker = Ticker(team, server.url, 12)
    first = ticker.head() + 1
    path = f"/ws/releases/{team.release.pk}/events"
    pool = ViewerPool([server.ws], path, team.token("pm"), 20, after=first - 1).start()
    states: list[str] = []
    stop = asyncio.Event()
    loop = asyncio.new_event_loop()
    page = loop.create_task(
        page_states(
            f"{server.ws}/ws/releases/{team.release.pk}/live", team.token("pm"), states, stop
        )
    )
    try:
        loop.run_until_complete(asyncio.sleep(1))  # the page is connected
        ticker.tick(2)
        assert pool.wait_whole(first, first + 1, 10) is not None
        # The hub fans out: per process one group for the release and one for access
        # changes (each with the hub's own channel), never one per socket.
        channels = [c.decode() for c in own_redis.command("PUBSUB", "CHANNELS", "*")]
        groups = sorted(c.split("__group__")[1] for c in channels if "__group__" in c)
        assert groups == ["release." + str(team.release.pk), "warroom.access"], channels
        assert len(channels) == 4, channels

        own_redis.stop()
        loop.run_until_complete(asyncio.sleep(2.5))
        ticker.tick(8)  # committed during the outage
        # A viewer that comes now is let in and gets its replay from the database.
        late = ViewerPool([server.ws], path, team.token("pm"), 1, after=first - 1).start(15)
        assert late.viewers[0].refused == 0
        assert late.wait_whole(first, first + 9, 10) is not None
        loop.run_until_complete(asyncio.sleep(1.5))
        assert "reconnecting" in states

        own_redis.start()
        t_back = time.monotonic()
        waited = pool.wait_whole(first, first + 9, BACK_WITHIN + 3)
        assert waited is not None, pool.counts(first, first + 9)
        assert time.monotonic() - t_back < BACK_WITHIN + 1
        # Live again: later events flow through the layer to everyone, the late viewer too.
        loop.run_until_complete(asyncio.sleep(1.5))
        assert states[-1] == "live", states
        ticker.tick(2)
        assert pool.wait_whole(first, first + 11, 10) is not None
        assert late.wait_whole(first, first + 11, 10) is not None
        late.stop()
    finally:
        stop.set()
        loop.run_until_complete(page)
        loop.close()
        pool.stop()
    assert ticker.statuses == [200] * 12
    assert pool.counts(first, first + 11) == {"delivered": 240, "lost": 0, "duplicated": 0}
    assert all(v.connects == 1 for v in pool.viewers), "sockets stayed open through the outage"
    assert pool.extra == []
    assert json.dumps(states).count("reconnecting") == 1


def test_a_redis_restart_with_200_viewers_and_ticks_flowing(server_factory, own_redis):
    from bench.faults import Ticks

    team = team_release(items_per_list=20)
    server = start(server_factory, own_redis)
    ticks = Ticks(team, [server.url], rate=5)
    first = ticks.head() + 1
    path = f"/ws/releases/{team.release.pk}/events"
    pool = ViewerPool([server.ws], path, team.token("pm"), 200, after=first - 1).start()
    try:
        ticks.start()
        time.sleep(2)
        own_redis.stop()
        time.sleep(5)
        own_redis.start()
        back, head = time.monotonic(), ticks.head()
        want = set(range(first, head + 1))
        while time.monotonic() - back < BACK_WITHIN and not all(
            want <= set(v.seqs) for v in pool.viewers
        ):
            time.sleep(0.05)
        whole_in = time.monotonic() - back
        time.sleep(2)  # ticks go on with Redis back
        ticks.stop()
        last = ticks.head()
        assert pool.wait_whole(first, last, 15) is not None, pool.counts(first, last)
    finally:
        ticks.stop()
        pool.stop()
    assert whole_in < BACK_WITHIN, f"whole {whole_in:.1f} s after Redis returned"
    assert ticks.statuses == [200] * (last - first + 1) and ticks.failed == 0
    events = last - first + 1
    assert events >= 30  # ~5 a second for 9 s
    assert pool.counts(first, last) == {"delivered": 200 * events, "lost": 0, "duplicated": 0}
    assert all(v.connects == 1 for v in pool.viewers)
