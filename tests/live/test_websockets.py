"""Websockets through Channels' WebsocketCommunicator, over the real channel layer (Redis)."""

import asyncio
import json

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from checklists import services
from warroom.asgi import application
from warroom.models import ApiToken

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def connect(path: str, token: str | None = None) -> WebsocketCommunicator:
    """Open a socket as a page on localhost would; ``token`` goes in the Authorization header."""
    headers = [(b"origin", b"http://localhost")]
    if token:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await comm.connect(timeout=5)
    comm.close_code = None if connected else code
    comm.ok = connected
    return comm


@database_sync_to_async
def tick(item, user, status="done", note=None):
    return services.item_set_status(item=item, status=status, user=user, note=note)


@database_sync_to_async
def token_for(user):
    return ApiToken.issue(user)[1]


@pytest.fixture
async def ateam(transactional_db):
    from tests.factories import team_release

    return await database_sync_to_async(team_release)()


@database_sync_to_async
def dba_items(team):
    checklist = team.release.checklists.get(name="Environment verification")
    return list(checklist.items.filter(owner_role__name="DBA"))


async def receive_json(comm, timeout=3):
    return json.loads(await comm.receive_from(timeout=timeout))


async def test_a_token_holder_receives_each_tick_as_a_json_event(ateam):
    token = await token_for(ateam["dba"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events", token)
    assert comm.ok
    item = await database_sync_to_async(ateam.item)("DBA")
    await tick(item, ateam["dba"])
    msg = await receive_json(comm)
    assert msg["kind"] == "item.status"
    assert msg["seq"] == ateam.release.last_seq + 1
    assert msg["actor"] == "Dana Admin"
    assert msg["data"]["item"] == item.pk and msg["data"]["status"] == "done"
    assert set(msg) == {"seq", "kind", "at", "actor", "data"}
    await comm.disconnect()


async def test_after_replays_what_came_after_then_goes_live_without_duplicates(ateam):
    items = await database_sync_to_async(
        lambda: list(ateam.release.checklists.get(name="Rollout").items.all())
    )()
    start = ateam.release.last_seq  # the seq before the two ticks
    for item in items[:2]:
        await tick(item, ateam["devops"])
    token = await token_for(ateam["devops"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events?after={start}", token)
    replayed = [await receive_json(comm), await receive_json(comm)]
    assert [m["seq"] for m in replayed] == [start + 1, start + 2]
    await tick(items[2], ateam["devops"])
    live = await receive_json(comm)
    assert live["seq"] == start + 3
    assert await comm.receive_nothing(timeout=0.3)
    await comm.disconnect()


async def test_without_login_or_token_the_socket_is_refused(ateam):
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events")
    assert not comm.ok and comm.close_code == 4403


async def test_an_unknown_release_closes_with_4404(ateam):
    token = await token_for(ateam["dba"])
    comm = await connect("/ws/releases/999999/events", token)
    assert not comm.ok and comm.close_code == 4404


async def test_an_outsider_is_refused_and_the_refusal_is_audited(ateam):
    from warroom.audit import AuditEvent

    token = await token_for(ateam["outsider"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events", token)
    assert not comm.ok and comm.close_code == 4403
    count = await database_sync_to_async(
        AuditEvent.objects.filter(release=ateam.release, kind="access.denied").count
    )()
    assert count == 1


async def test_the_war_room_socket_gets_htmx_fragments_for_the_changed_item(ateam):
    token = await token_for(ateam["rm"])
    comm = await connect(
        f"/ws/releases/{ateam.release.pk}/live?variant=warroom&after={ateam.release.last_seq}",
        token,
    )
    assert comm.ok
    # The first message is the roll call (presence), listing the manager.
    first = await comm.receive_from(timeout=3)
    assert 'id="rollcall"' in first and "Rita Manager" in first
    item = await database_sync_to_async(ateam.item)("DBA")
    await tick(item, ateam["dba"], status="blocked", note="<script>alert(1)</script>")
    html = await comm.receive_from(timeout=3)
    while 'id="live-seq"' not in html:
        html = await comm.receive_from(timeout=3)
    assert f'id="item-{item.pk}"' in html and 'hx-swap-oob="true"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<script>alert(1)</script>" not in html
    await comm.disconnect()


async def test_the_board_link_socket_needs_only_the_secret_and_gets_board_fragments(ateam):
    comm = await connect(
        f"/ws/board/{ateam.release.board_token}/live?after={ateam.release.last_seq}"
    )
    assert comm.ok
    await tick(await database_sync_to_async(ateam.item)("DBA"), ateam["dba"])
    html = await comm.receive_from(timeout=3)
    assert 'id="board-summary"' in html and 'id="item-' not in html
    bad = await connect("/ws/board/not-the-token/live")
    assert not bad.ok and bad.close_code == 4404
    await comm.disconnect()


async def test_a_viewer_that_reconnects_after_missing_events_gets_the_full_state(ateam):
    token = await token_for(ateam["rm"])
    seq = ateam.release.last_seq
    await tick(await database_sync_to_async(ateam.item)("DBA"), ateam["dba"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/live?variant=board&after={seq}", token)
    html = await comm.receive_from(timeout=3)
    assert f'data-seq="{seq + 1}" data-full' in html
    await comm.disconnect()


async def test_roll_call_shows_who_is_connected_and_drops_who_left(ateam):
    rm = await connect(
        f"/ws/releases/{ateam.release.pk}/live?variant=warroom", await token_for(ateam["rm"])
    )
    await rm.receive_from(timeout=3)
    dba = await connect(
        f"/ws/releases/{ateam.release.pk}/live?variant=warroom", await token_for(ateam["dba"])
    )
    seen = ""
    while "Dana Admin" not in seen:
        seen = await rm.receive_from(timeout=3)
    assert "Rita Manager" in seen
    await dba.disconnect()
    seen = await rm.receive_from(timeout=3)
    while "Dana Admin" in seen:
        seen = await rm.receive_from(timeout=3)
    assert "Rita Manager" in seen
    await rm.disconnect()
    await asyncio.sleep(0)


@database_sync_to_async
def session_cookie(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def connect_with_cookie(path, sessionid):
    comm = WebsocketCommunicator(
        application,
        path,
        headers=[(b"origin", b"http://localhost"), (b"cookie", f"sessionid={sessionid}".encode())],
    )
    connected, code = await comm.connect(timeout=5)
    comm.ok, comm.close_code = connected, None if connected else code
    return comm


async def test_a_browser_session_cookie_is_enough_for_the_war_room_socket(ateam):
    cookie = await session_cookie(ateam["dba"])
    comm = await connect_with_cookie(f"/ws/releases/{ateam.release.pk}/events", cookie)
    assert comm.ok
    await tick(await database_sync_to_async(ateam.item)("DBA"), ateam["dba"])
    assert (await receive_json(comm))["actor"] == "Dana Admin"
    await comm.disconnect()
    forged = await connect_with_cookie(f"/ws/releases/{ateam.release.pk}/events", "forged")
    assert not forged.ok and forged.close_code == 4403


async def test_a_lost_broadcast_is_filled_from_the_audit_log(ateam, monkeypatch):
    from warroom import live

    token = await token_for(ateam["dba"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events", token)
    items = await dba_items(ateam)
    with monkeypatch.context() as m:
        m.setattr(live.publisher, "submit", lambda batch: None)  # Redis hiccup: lost
        await tick(items[0], ateam["dba"])
    await tick(items[1], ateam["dba"])
    first, second = await receive_json(comm), await receive_json(comm)
    assert [first["data"]["item"], second["data"]["item"]] == [items[0].pk, items[1].pk]
    assert second["seq"] == first["seq"] + 1
    await comm.disconnect()


async def test_viewers_in_the_writers_process_get_events_without_the_layer_round_trip(
    ateam, monkeypatch
):
    """The publisher hands a committed batch to this process's hub directly: with every
    publish to Redis failing, a viewer here still gets each tick at once, in order; with
    the layer back, the copy that returns through Redis is not delivered a second time."""
    from channels_redis.pubsub import RedisPubSubLoopLayer

    token = await token_for(ateam["dba"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events", token)
    items = await dba_items(ateam)

    async def unreachable(layer, group, message):
        raise ConnectionError("redis is away")

    with monkeypatch.context() as m:
        m.setattr(RedisPubSubLoopLayer, "group_send", unreachable)
        await tick(items[0], ateam["dba"])
        # Well before the hub's catch-up from the log (every 3 s) could have filled it.
        first = await receive_json(comm, timeout=1)
    await tick(items[1], ateam["dba"])
    second = await receive_json(comm)
    assert [first["data"]["item"], second["data"]["item"]] == [items[0].pk, items[1].pk]
    assert second["seq"] == first["seq"] + 1
    assert await comm.receive_nothing(timeout=0.5)  # the layer's copy was stale: dropped
    await comm.disconnect()


async def test_the_publisher_renders_fragments_only_after_this_processs_viewers_have_the_json(
    ateam, monkeypatch
):
    """Rendering on the publisher's thread would take turns at the interpreter lock with
    the hub writing to every socket: it waits until the hub has handed the JSON out (here
    the layer answers at once, so nothing else gives the hub its turn)."""
    from channels_redis.pubsub import RedisPubSubLoopLayer

    from warroom import live

    async def sent_at_once(layer, group, message):
        return None

    monkeypatch.setattr(RedisPubSubLoopLayer, "group_send", sent_at_once)

    token = await token_for(ateam["dba"])
    comm = await connect(f"/ws/releases/{ateam.release.pk}/events", token)
    hub = live.hub()
    seen_when_rendering: list[list[int]] = []
    watched = live.Publisher._pages_watched

    def pages_watched(self, release_ids):
        if ateam.release.pk in release_ids:  # not an earlier test's batch still going out
            viewers = hub.viewers.get(ateam.release.pk, ())
            seen_when_rendering.append([v.last_seq for v in viewers])
        return watched(self, release_ids)

    monkeypatch.setattr(live.Publisher, "_pages_watched", pages_watched)
    for _ in range(100):  # the viewer's replay is over: what comes now is sent, not buffered
        viewers = hub.viewers.get(ateam.release.pk, ())
        if viewers and all(v.buffer is None for v in viewers):
            break
        await asyncio.sleep(0.02)
    item = await database_sync_to_async(ateam.item)("DBA")
    await tick(item, ateam["dba"])
    msg = await receive_json(comm)
    assert await asyncio.to_thread(live.publisher.flush)
    assert seen_when_rendering == [[msg["seq"]]]
    await comm.disconnect()
