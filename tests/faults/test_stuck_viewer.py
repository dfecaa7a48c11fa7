"""A viewer whose socket stops draining (its kernel buffers full) holds back nobody
else on the same server process; once too far behind it is closed with 1013 and,
reconnecting with ?after=, resyncs from the log (real uvicorn, real sockets)."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import socket
import struct
import threading

import pytest
import websockets

from bench.faultkit import ViewerPool
from checklists import services
from tests.factories import team_release
from warroom.live import publisher

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Each event ~4 KB (a long note): 4.8 MB in all, more than the buffers on the way to the
# stuck viewer (~3 MB of kernel buffers on loopback) and its queue (200) hold.
EVENTS = 1200
QUEUE = 200


class StuckViewer:
    """A raw websocket client with a tiny receive buffer that reads nothing until told to;
    then it reads all it was sent (to the close frame) and resyncs with ?after=."""

    def __init__(self, ws_base: str, path: str, token: str, after: int):
        self.base, self.path, self.token, self.after = ws_base, path, token, after
        self.seqs: list[int] = []
        self.close_code: int | None = None
        self.release = threading.Event()
        self.sock = self._handshake()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _handshake(self) -> socket.socket:
        host, port = self.base.split("//")[1].split(":")
        sock = socket.socket()
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.connect((host, int(port)))
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(
            f"GET {self.path}?after={self.after} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
            f"Sec-WebSocket-Version: 13\r\nAuthorization: Bearer {self.token}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head
        return sock

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def _run(self) -> None:
        self.release.wait(120)
        self.sock.settimeout(30)
        with contextlib.suppress(ConnectionError, TimeoutError):
            while True:
                b0, b1 = self._exactly(2)
                size = b1 & 0x7F
                if size == 126:
                    size = struct.unpack("!H", self._exactly(2))[0]
                elif size == 127:
                    size = struct.unpack("!Q", self._exactly(8))[0]
                payload = self._exactly(size)
                if b0 & 0x0F == 0x8:  # close
                    self.close_code = struct.unpack("!H", payload[:2])[0]
                    break
                if b0 & 0x0F == 0x1:
                    self.seqs.append(json.loads(payload)["seq"])
        self.sock.close()
        asyncio.run(self._resync())

    async def _resync(self) -> None:
        after = self.seqs[-1] if self.seqs else self.after
        async with websockets.connect(
            f"{self.base}{self.path}?after={after}",
            additional_headers={"Authorization": f"Bearer {self.token}"},
        ) as ws:
            while True:
                try:
                    text = await asyncio.wait_for(ws.recv(), 5)
                except TimeoutError:
                    return
                self.seqs.append(json.loads(text)["seq"])


def test_a_stuck_viewer_delays_no_one_and_resyncs(server_factory):
    team = team_release()
    server = server_factory(extra_env={"LIVE_VIEWER_QUEUE": str(QUEUE)})
    item, rm = team.item("DBA"), team["rm"]
    first = team.release.last_seq + 1
    path = f"/ws/releases/{team.release.pk}/events"
    stuck = StuckViewer(server.ws, path, team.token("pm"), first - 1)
    stuck.thread.start()
    pool = ViewerPool([server.ws], path, team.token("pm"), 5, after=first - 1).start()
    try:
        # Notes on a blocked item, written here and fanned out by the server's hub.
        for i in range(EVENTS):
            note = f"{i:04} " + "n" * 3_900
            services.item_set_status(item=item, status="blocked", note=note, user=rm)
        assert publisher.flush(30)
        # Every other viewer has every event while the stuck one still reads nothing (and
        # before uvicorn's ping timeout, 20 + 20 s, would have closed the stuck socket).
        waited = pool.wait_whole(first, first + EVENTS - 1, 10)
        assert waited is not None, pool.counts(first, first + EVENTS - 1)
        assert stuck.seqs == []
    finally:
        stuck.release.set()
        pool.stop()
    stuck.thread.join(60)
    assert pool.counts(first, first + EVENTS - 1) == {
        "delivered": 5 * EVENTS,
        "lost": 0,
        "duplicated": 0,
    }
    assert stuck.close_code == 1013  # dropped: "try again later"
    assert stuck.seqs == list(range(first, first + EVENTS))  # and whole again after resync
    # Only the stuck one was dropped; the others kept their sockets all along.
    assert f"fell {QUEUE} messages behind" in server.log.read_text()
    assert [v.connects for v in pool.viewers] == [1] * 5
