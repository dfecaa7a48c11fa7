"""Host names and websocket origins: a forged Host never reaches a link Warroom builds,
and a page from another site cannot open a socket — in development and in production."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys

import httpx
import pytest
import websockets
from channels.testing import WebsocketCommunicator
from websockets.exceptions import InvalidStatus

from tests.conftest import ROOT
from tests.factories import team_release
from warroom.asgi import application

PRODUCTION_HOST = "warroom.example.test"


def test_a_forged_host_header_cannot_get_into_the_rotated_board_link(client, db):
    team = team_release()
    client.force_login(team["rm"])
    url = f"/releases/{team.release.pk}/board/rotate"
    before = team.release.board_token

    resp = client.post(url, HTTP_HOST="evil.example")
    assert resp.status_code == 400
    assert b"evil.example" not in resp.content
    assert b"does not answer to that host name" in resp.content
    team.release.refresh_from_db()
    assert team.release.board_token == before  # refused before anything changed

    # The page's own host gets the link; X-Forwarded-Host is not believed.
    resp = client.post(url, HTTP_HOST="localhost:8000", HTTP_X_FORWARDED_HOST="evil.example")
    assert resp.status_code == 200
    team.release.refresh_from_db()
    assert team.release.board_token != before
    assert f"http://localhost:8000/board/{team.release.board_token}/" in resp.content.decode()
    assert b"evil" not in resp.content


async def _socket(path: str, origin: bytes | None) -> tuple[bool, WebsocketCommunicator]:
    headers = [(b"origin", origin)] if origin is not None else []
    comm = WebsocketCommunicator(application, path, headers=headers)
    connected, _ = await comm.connect(timeout=5)
    return connected, comm


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (b"http://localhost:8000", True),  # the page's own origin (make run)
        (b"http://127.0.0.1:8000", True),
        (b"https://evil.example", False),  # a page on another site
        (b"http://localhost.evil.example", False),
        (b"null", False),  # a sandboxed frame or a file:// page
        (None, True),  # not a browser (a script with a token): nothing to hijack
    ],
)
async def test_in_development_only_pages_from_local_hosts_may_open_a_socket(origin, accepted):
    from channels.db import database_sync_to_async

    team = await database_sync_to_async(team_release)()
    connected, comm = await _socket(f"/ws/board/{team.release.board_token}/live", origin)
    assert connected is accepted
    await comm.disconnect()


@pytest.fixture
def production_server(server_factory, tmp_path):
    """A real uvicorn process under production settings, answering as warroom.example.test."""
    env = {
        "WARROOM_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(50),
        # 127.0.0.1 too: the fixture's readiness probe asks for /healthz by address.
        "ALLOWED_HOSTS": f"{PRODUCTION_HOST},127.0.0.1",
        "CSRF_TRUSTED_ORIGINS": f"https://{PRODUCTION_HOST}",
        "WARROOM_VAR_DIR": str(tmp_path / "var"),
    }
    server = server_factory("production", extra_env=env)
    server.env = env
    return server


@pytest.mark.django_db(transaction=True)
def test_in_production_a_foreign_origin_is_refused_and_the_sites_own_accepted(production_server):
    team = team_release()
    # after=0: the socket answers at once with the whole board.
    path = f"{production_server.ws}/ws/board/{team.release.board_token}/live?after=0"

    async def scenario():
        async with websockets.connect(path, origin=f"https://{PRODUCTION_HOST}") as ws:
            assert 'id="board-summary"' in await asyncio.wait_for(ws.recv(), 5)
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(path, origin="https://evil.example"):
                pass
        assert refused.value.response.status_code == 403
        # Development's local names are not the production site.
        with pytest.raises(InvalidStatus):
            async with websockets.connect(path, origin="http://localhost:8000"):
                pass

    asyncio.run(scenario())


@pytest.mark.django_db(transaction=True)
def test_in_production_a_forged_host_is_refused_before_any_redirect_or_link(production_server):
    team = team_release()
    before = team.release.board_token
    with httpx.Client(base_url=production_server.url, timeout=10) as http:
        resp = http.post(
            f"/releases/{team.release.pk}/board/rotate", headers={"Host": "evil.example"}
        )
        assert resp.status_code == 400
        assert "evil.example" not in resp.text and "evil.example" not in str(resp.headers)
        # The site's own name over plain HTTP is sent to HTTPS (and HSTS comes with HTTPS).
        resp = http.get("/login/", headers={"Host": PRODUCTION_HOST})
        assert resp.status_code == 301
        assert resp.headers["location"] == f"https://{PRODUCTION_HOST}/login/"
    team.release.refresh_from_db()
    assert team.release.board_token == before


@pytest.mark.django_db(transaction=True)
def test_the_images_web_health_check_passes_against_a_production_server(production_server):
    env = {
        **os.environ,
        **production_server.env,
        "DATABASE_URL": "sqlite:///unused",  # the check only asks the server
        "REDIS_URL": "redis://127.0.0.1:1/0",
        "PORT": str(production_server.port),
    }
    result = subprocess.run(
        [sys.executable, "-m", "warroom.container", "healthcheck", "web"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "web: healthy" in result.stdout
