"""Websocket credentials: an API token in the Authorization header or as a subprotocol,
never in the URL (URLs reach logs); a session cookie judged exactly as Django judges it
for pages, key rotation (SECRET_KEY_FALLBACKS) included."""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest
import websockets
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from websockets.exceptions import InvalidStatus

from tests.factories import team_release
from warroom.asgi import application
from warroom.models import ApiToken

ORIGIN = (b"origin", b"http://localhost")
OLD_KEY = "old-" + "k" * 60
NEW_KEY = "new-" + "n" * 60


@pytest.fixture
def team(transactional_db):
    return team_release()


async def open_socket(path: str, headers=(), subprotocols=None):
    comm = WebsocketCommunicator(
        application, path, headers=[ORIGIN, *headers], subprotocols=subprotocols
    )
    connected, detail = await comm.connect(timeout=5)
    return comm, connected, detail


@database_sync_to_async
def issue(user) -> str:
    return ApiToken.issue(user)[1]


@pytest.mark.asyncio
async def test_a_token_in_the_authorization_header_opens_the_event_stream(team):
    token = await issue(team["dba"])
    comm, connected, _ = await open_socket(
        f"/ws/releases/{team.release.pk}/events?after=0",
        headers=[(b"authorization", f"Bearer {token}".encode())],
    )
    assert connected
    first = json.loads(await comm.receive_from(timeout=5))
    assert first["seq"] == 1
    await comm.disconnect()


@pytest.mark.asyncio
async def test_a_token_as_subprotocol_opens_it_and_the_server_answers_warroom(team):
    token = await issue(team["dba"])
    comm, connected, chosen = await open_socket(
        f"/ws/releases/{team.release.pk}/events",
        subprotocols=["warroom", f"warroom.token.{token}"],
    )
    assert connected
    assert chosen == "warroom"  # a browser drops a socket whose offer is ignored
    await comm.disconnect()


@pytest.mark.asyncio
async def test_a_wrong_token_is_refused_like_no_token(team):
    _, connected, code = await open_socket(
        f"/ws/releases/{team.release.pk}/events",
        headers=[(b"authorization", b"Bearer wr_not-a-token")],
    )
    assert not connected and code == 4403


@pytest.mark.asyncio
async def test_a_token_in_the_url_is_refused_and_the_log_says_how_to_send_it(team, caplog):
    caplog.set_level(logging.WARNING, logger="warroom.auth")
    token = await issue(team["dba"])
    _, connected, code = await open_socket(f"/ws/releases/{team.release.pk}/events?token={token}")
    assert not connected and code == 4403
    assert "Authorization: Bearer" in caplog.text and "warroom.token." in caplog.text
    assert token not in caplog.text


@pytest.mark.django_db(transaction=True)
def test_no_token_and_no_board_secret_reach_the_server_log(server_factory):
    """uvicorn with its access log on and at debug level: the log shows the handshakes
    and requests, with every secret masked."""
    team = team_release()
    token = team.token("dba")
    board_secret = team.release.board_token
    session_key = login_cookie(team["rm"])
    server = server_factory("logged", access_log=True, extra_args=("--log-level", "debug"))
    base = f"{server.ws}/ws/releases/{team.release.pk}/events"

    async def scenario():
        auth = {"Authorization": f"Bearer {token}"}
        async with websockets.connect(base, additional_headers=auth) as ws:
            assert ws.response.status_code == 101
        offer = ["warroom", f"warroom.token.{token}"]
        async with websockets.connect(base, subprotocols=offer) as ws:
            assert ws.subprotocol == "warroom"
        cookie = {"Cookie": f"sessionid={session_key}", "Origin": "http://127.0.0.1"}
        async with websockets.connect(base, additional_headers=cookie) as ws:
            assert ws.response.status_code == 101
        # An old client still putting the token in the URL: refused, and masked in the log.
        with pytest.raises(InvalidStatus):
            async with websockets.connect(f"{base}?token={token}&after=0"):
                pass
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get(f"/board/{board_secret}/")).status_code == 200
            api = await http.get("/api/releases", headers={"Authorization": f"Bearer {token}"})
            assert api.status_code == 200

    asyncio.run(scenario())
    server.stop()
    log = server.log.read_text()
    assert f"/ws/releases/{team.release.pk}/events" in log  # the handshakes were logged
    assert "GET /board/[masked]/" in log and "token=[masked]" in log
    assert token not in log
    assert token.removeprefix("wr_")[:12] not in log
    assert board_secret not in log
    assert session_key not in log


# --- session cookies and key rotation ---------------------------------------------------
def login_cookie(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


async def session_socket(release_pk: int, session_key: str) -> tuple[bool, int | None]:
    comm, connected, code = await open_socket(
        f"/ws/releases/{release_pk}/events",
        headers=[(b"cookie", f"sessionid={session_key}".encode())],
    )
    if connected:
        await comm.disconnect()
    return connected, None if connected else code


@pytest.mark.asyncio
async def test_after_a_key_rotation_with_the_old_key_as_fallback_sockets_still_open(team):
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        cookie = await database_sync_to_async(login_cookie)(team["dba"])
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[OLD_KEY]):
        # The websocket accepts the session signed with the old key...
        assert await session_socket(team.release.pk, cookie) == (True, None)
        # ...without touching it (a socket cannot hand the browser a new cookie)...
        assert await database_sync_to_async(Session.objects.filter(pk=cookie).exists)()

        # ...and the page still works too (Django re-keys the session there).
        def page_status():
            client = Client()
            client.cookies["sessionid"] = cookie
            return client.get(f"/releases/{team.release.pk}/").status_code

        assert await database_sync_to_async(page_status)() == 200


@pytest.mark.asyncio
async def test_a_key_rotation_without_fallback_refuses_old_sessions(team):
    with override_settings(SECRET_KEY=OLD_KEY, SECRET_KEY_FALLBACKS=[]):
        cookie = await database_sync_to_async(login_cookie)(team["dba"])
    with override_settings(SECRET_KEY=NEW_KEY, SECRET_KEY_FALLBACKS=[]):
        assert await session_socket(team.release.pk, cookie) == (False, 4403)


@pytest.mark.asyncio
async def test_a_password_change_ends_socket_access_for_old_sessions(team):
    cookie = await database_sync_to_async(login_cookie)(team["dba"])
    assert await session_socket(team.release.pk, cookie) == (True, None)

    def change_password():
        user = team["dba"]
        user.set_password("a whole new one")
        user.save()

    await database_sync_to_async(change_password)()
    assert await session_socket(team.release.pk, cookie) == (False, 4403)
