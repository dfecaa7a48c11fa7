"""Time travel with real processes: beat's tick, a Celery worker and a uvicorn server.

The whole stack shares one clock (kept in Redis). Moving it across the Go/No-Go time
and T0, every boundary is recorded exactly once and reaches a connected viewer within
a few ticks; killing beat and the worker between boundaries and starting new ones
loses or doubles nothing.
"""

from __future__ import annotations

import asyncio
import json
import time
from datetime import timedelta

import pytest
import websockets

from tests.factories import team_release
from warroom import clock
from warroom.audit import AuditEvent
from warroom.models import ApiToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def kinds(release) -> list[str]:
    return list(
        AuditEvent.objects.filter(release=release, actor_label="clock")
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.25)
    return predicate()


async def listen(url: str, token: str, seen: list[dict], stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, open_timeout=10, additional_headers=headers) as ws:
        while not stop.is_set():
            try:
                seen.append(json.loads(await asyncio.wait_for(ws.recv(), 0.5)))
            except TimeoutError:
                continue


def test_the_night_moves_and_every_boundary_is_recorded_once(
    server_factory, celery_factory, monkeypatch
):
    monkeypatch.setenv("WARROOM_SHARED_CLOCK", "1")
    clock.travel(timedelta(0))
    team = team_release()  # T0 in an hour: Pre-Deployment (T-2h) is running
    release = team.release
    server = server_factory(extra_env={"WARROOM_SHARED_CLOCK": "1"})
    token = ApiToken.issue(team["pm"])[1]
    worker = celery_factory("worker")
    beat = celery_factory("beat")
    seen: list[dict] = []

    async def scenario() -> None:
        stop = asyncio.Event()
        url = f"{server.ws}/ws/releases/{release.pk}/events?after={release.last_seq}"
        listener = asyncio.create_task(listen(url, token, seen, stop))
        await asyncio.sleep(1)
        try:
            # T-31m: nothing is due yet (the window opened before the release existed).
            clock.travel(timedelta(minutes=29))
            await asyncio.to_thread(lambda: time.sleep(4))
            assert await asyncio.to_thread(kinds, release) == []
            # T-29m: the Go/No-Go is due and undecided.
            clock.travel(timedelta(minutes=31))
            ok = await asyncio.to_thread(wait_for, lambda: "gate.late" in kinds(release))
            assert ok, "gate.late was not recorded"
            await asyncio.to_thread(wait_for, lambda: any(m["kind"] == "gate.late" for m in seen))
            # Beat and the worker die; new ones start; nothing is recorded twice.
            beat.kill()
            worker.kill()
            worker.start()
            beat.start()
            await asyncio.to_thread(lambda: time.sleep(5))
            # T+1m: Pre-Deployment ended with items open, T0, Deployment Execution started.
            clock.travel(timedelta(minutes=61))
            expected = {"phase.ended", "checklist.overdue", "release.t0_reached", "phase.started"}
            ok = await asyncio.to_thread(wait_for, lambda: expected <= set(kinds(release)), 30)
            assert ok, kinds(release)
            await asyncio.to_thread(lambda: time.sleep(4))  # more ticks: still once each
        finally:
            stop.set()
            await listener

    try:
        asyncio.run(scenario())
    finally:
        clock.travel(timedelta(0))
    recorded = kinds(release)
    # T-30m: the Go/No-Go gate and its checklist (two items open); T0: Pre-Deployment
    # ended with Environment verification open, T0 itself, Deployment Execution began.
    assert sorted(recorded[:2]) == ["checklist.overdue", "gate.late"]
    assert sorted(recorded[2:]) == [
        "checklist.overdue",
        "phase.ended",
        "phase.started",
        "release.t0_reached",
    ]
    # The viewer got each of them, once and in order.
    clock_seen = [m["kind"] for m in seen if m["actor"] == "clock"]
    assert clock_seen == recorded
