"""Real server processes, real Redis, real database: nothing is lost under load.

20 clients tick 300 items at once through the HTTP API of two uvicorn processes
while websocket viewers listen on both; afterwards exactly 300 items are done,
the audit log holds events 1..N without gaps, and every viewer received all 300.
"""

import asyncio
import json

import httpx
import pytest
import websockets

from checklists.models import ChecklistItem
from tests.factories import crowd_release
from warroom.audit import AuditEvent, verify_chain
from warroom.models import ApiToken

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

ITEMS = 300
CLIENTS = 20
VIEWERS_PER_SERVER = 3


async def viewer(url: str, token: str, expected: int, ready: asyncio.Event, received: list[int]):
    auth = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(
        url, additional_headers=auth, open_timeout=10, max_size=None
    ) as ws:
        ready.set()
        while len(received) < expected:
            msg = json.loads(await asyncio.wait_for(ws.recv(), timeout=60))
            if msg["kind"] == "item.status":
                received.append(msg["seq"])


async def run_load(servers, release, tokens, item_ids, viewer_token):
    received: list[list[int]] = []
    ready_events = []
    viewer_tasks = []
    for server in servers:
        for _ in range(VIEWERS_PER_SERVER):
            seqs: list[int] = []
            ready = asyncio.Event()
            received.append(seqs)
            ready_events.append(ready)
            url = f"{server.ws}/ws/releases/{release.pk}/events?after={release.last_seq}"
            viewer_tasks.append(
                asyncio.create_task(viewer(url, viewer_token, len(item_ids), ready, seqs))
            )
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in ready_events)), 20)

    queue: asyncio.Queue[int] = asyncio.Queue()
    for item_id in item_ids:
        queue.put_nowait(item_id)
    statuses: list[int] = []

    async def client(n: int):
        server = servers[n % len(servers)]
        headers = {"Authorization": f"Bearer {tokens[n]}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers, timeout=60) as http:
            while not queue.empty():
                item_id = queue.get_nowait()
                resp = await http.post(
                    f"/api/releases/{release.pk}/items/{item_id}", json={"status": "done"}
                )
                statuses.append(resp.status_code)

    await asyncio.gather(*(client(n) for n in range(CLIENTS)))
    _done, pending = await asyncio.wait(viewer_tasks, timeout=60)
    for task in pending:  # a viewer still waiting: report what it got, don't hang
        task.cancel()
    return statuses, received


def test_twenty_clients_ticking_300_items_lose_nothing(server_factory):
    release, members = crowd_release(items=ITEMS, users=CLIENTS)
    tokens = [ApiToken.issue(u)[1] for u in members]
    item_ids = list(
        ChecklistItem.objects.filter(checklist__release=release).values_list("pk", flat=True)
    )
    servers = [server_factory("web-a"), server_factory("web-b")]
    start_seq = release.last_seq

    statuses, received = asyncio.run(run_load(servers, release, tokens, item_ids, tokens[0]))

    assert statuses == [200] * ITEMS
    assert ChecklistItem.objects.filter(checklist__release=release, status="done").count() == ITEMS
    ticks = list(
        AuditEvent.objects.filter(release=release, kind="item.status")
        .order_by("seq")
        .values_list("seq", flat=True)
    )
    assert ticks == list(range(start_seq + 1, start_seq + ITEMS + 1))
    assert (
        len(
            {
                e
                for e in AuditEvent.objects.filter(release=release).values_list(
                    "data__item", flat=True
                )
                if e
            }
        )
        == ITEMS
    )
    assert verify_chain(release.pk) is None
    expected = list(range(start_seq + 1, start_seq + ITEMS + 1))
    for seqs in received:
        assert sorted(seqs) == expected  # every viewer received every one of the 300
        assert seqs == sorted(seqs)  # and in order


def test_a_viewer_on_one_process_sees_ticks_made_through_another(server_factory):
    release, members = crowd_release(items=3, users=1)
    token = ApiToken.issue(members[0])[1]
    a, b = server_factory("web-a"), server_factory("web-b")
    item_ids = list(
        ChecklistItem.objects.filter(checklist__release=release).values_list("pk", flat=True)
    )

    auth = {"Authorization": f"Bearer {token}"}

    async def scenario():
        url = f"{a.ws}/ws/releases/{release.pk}/events"
        async with websockets.connect(url, additional_headers=auth) as ws:
            async with httpx.AsyncClient(base_url=b.url, timeout=10) as http:
                for item_id in item_ids:
                    resp = await http.post(
                        f"/api/releases/{release.pk}/items/{item_id}",
                        json={"status": "done"},
                        headers={"Authorization": f"Bearer {token}"},
                    )
                    assert resp.status_code == 200
            return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in item_ids]

    messages = asyncio.run(scenario())
    assert [m["data"]["item"] for m in messages] == item_ids
    assert [m["seq"] for m in messages] == [release.last_seq + n for n in (1, 2, 3)]
