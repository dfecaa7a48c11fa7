"""Open sockets lose access when the access goes: a rotated board link, a revoked API
token, a role taken away and a logout each close the sockets concerned within seconds
(through the real channel layer, Redis), while everyone else's stay open and live."""

from __future__ import annotations

import time

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from checklists import services as checklist_services
from deployments import services as release_services
from tests.factories import team_release
from warroom.asgi import application
from warroom.models import ApiToken
from warroom.people.models import Role
from warroom.revoke import CLOSE_ACCESS_ENDED

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]
ORIGIN = (b"origin", b"http://localhost")
WITHIN = 5.0  # seconds


@pytest.fixture
async def team(transactional_db):
    return await database_sync_to_async(team_release)()


async def open_socket(path: str, *headers) -> WebsocketCommunicator:
    comm = WebsocketCommunicator(application, path, headers=[ORIGIN, *headers])
    connected, code = await comm.connect(timeout=5)
    assert connected, code
    return comm


def bearer(token: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {token}".encode())


def cookie(session_key: str) -> tuple[bytes, bytes]:
    return (b"cookie", f"sessionid={session_key}".encode())


async def closed_within(comm: WebsocketCommunicator, seconds: float = WITHIN) -> int:
    """Read what the socket is sent until the server closes it; the close code."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            message = await comm.receive_output(timeout=left)
        except TimeoutError:
            break
        if message["type"] == "websocket.close":
            return message.get("code", 1000)
    raise AssertionError(f"the socket was still open after {seconds} s")


async def still_live(comm: WebsocketCommunicator, team, owner_role: str, user) -> None:
    """A tick after the revocation reaches ``comm``: its socket stayed open and live."""
    item = await database_sync_to_async(team.item)(owner_role)
    await database_sync_to_async(checklist_services.item_set_status)(
        item=item, status="done", user=user
    )
    deadline = time.monotonic() + WITHIN
    while time.monotonic() < deadline:
        message = await comm.receive_output(timeout=deadline - time.monotonic())
        assert message["type"] == "websocket.send", message
        text = message.get("text", "")
        if f'"item":{item.pk}' in text or f"item-{item.pk}" in text:
            return
    raise AssertionError("the unaffected socket received nothing")


async def test_rotating_the_board_link_closes_boards_open_with_the_old_one(team):
    old = team.release.board_token
    board = await open_socket(f"/ws/board/{old}/live")
    token = await database_sync_to_async(team.token)("qa")
    war_room = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(token))

    await database_sync_to_async(release_services.release_rotate_board_link)(
        release=team.release, user=team["rm"]
    )

    assert await closed_within(board) == CLOSE_ACCESS_ENDED
    # The new link opens the board; the team's own sockets were not touched.
    release = await database_sync_to_async(lambda: type(team.release).objects.get())()
    fresh = await open_socket(f"/ws/board/{release.board_token}/live")
    await still_live(war_room, team, "QA Lead", team["qa"])
    await fresh.disconnect()
    await war_room.disconnect()


async def test_deleting_an_api_token_closes_the_sockets_opened_with_it(team):
    revoked = await database_sync_to_async(team.token)("dba")
    kept = await database_sync_to_async(team.token)("dba")
    doomed = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(revoked))
    other = await open_socket(f"/ws/releases/{team.release.pk}/live", bearer(kept))

    digest = ApiToken.digest_of(revoked)
    await database_sync_to_async(lambda: ApiToken.objects.get(digest=digest).delete())()

    assert await closed_within(doomed) == CLOSE_ACCESS_ENDED
    # The same person's other token still works on its own socket.
    await still_live(other, team, "DBA", team["dba"])
    await other.disconnect()


async def test_taking_someone_off_their_role_closes_their_sockets_on_that_release(team):
    dba_token = await database_sync_to_async(team.token)("dba")
    qa_token = await database_sync_to_async(team.token)("qa")
    dba_events = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(dba_token))
    dba_page = await open_socket(f"/ws/releases/{team.release.pk}/live", bearer(dba_token))
    qa_events = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(qa_token))

    role = await database_sync_to_async(Role.objects.get)(release=team.release, name="DBA")
    await database_sync_to_async(release_services.role_unassign)(
        role=role, username="dba", user=team["rm"]
    )

    assert await closed_within(dba_events) == CLOSE_ACCESS_ENDED
    assert await closed_within(dba_page) == CLOSE_ACCESS_ENDED
    await still_live(qa_events, team, "QA Lead", team["qa"])
    await qa_events.disconnect()
    # And the socket cannot come back: the policy refuses the handshake now.
    comm = WebsocketCommunicator(
        application, f"/ws/releases/{team.release.pk}/events", headers=[ORIGIN, bearer(dba_token)]
    )
    connected, code = await comm.connect(timeout=5)
    assert not connected and code == 4403


async def test_a_role_holder_who_keeps_another_role_keeps_their_socket(team):
    """Losing one of two roles is not losing the release."""
    vp_token = await database_sync_to_async(team.token)("vp")
    qa_role = await database_sync_to_async(Role.objects.get)(release=team.release, name="QA Lead")
    await database_sync_to_async(release_services.role_assign)(
        role=qa_role, username="vp", kind="backup", user=team["rm"]
    )
    vp_events = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(vp_token))
    await database_sync_to_async(release_services.role_unassign)(
        role=qa_role, username="vp", user=team["rm"]
    )
    await still_live(vp_events, team, "QA Lead", team["qa"])
    await vp_events.disconnect()


async def test_logging_out_closes_that_sessions_sockets_and_no_other(team):
    def login() -> Client:
        client = Client()
        client.force_login(team["dba"])
        return client

    leaving = await database_sync_to_async(login)()
    staying = await database_sync_to_async(login)()
    leaving_key = leaving.cookies["sessionid"].value
    staying_key = staying.cookies["sessionid"].value
    page = await open_socket(f"/ws/releases/{team.release.pk}/live", cookie(leaving_key))
    other_browser = await open_socket(f"/ws/releases/{team.release.pk}/events", cookie(staying_key))

    response = await database_sync_to_async(leaving.post)("/logout/")
    assert response.status_code == 302

    assert await closed_within(page) == CLOSE_ACCESS_ENDED
    await still_live(other_browser, team, "DBA", team["dba"])
    await other_browser.disconnect()


async def test_a_deactivated_account_loses_its_sockets(team):
    token = await database_sync_to_async(team.token)("sec")
    comm = await open_socket(f"/ws/releases/{team.release.pk}/events", bearer(token))

    def deactivate():
        user = team["sec"]
        user.is_active = False
        user.save()

    await database_sync_to_async(deactivate)()
    assert await closed_within(comm) == CLOSE_ACCESS_ENDED
