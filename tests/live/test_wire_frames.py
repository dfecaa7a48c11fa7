"""Events are framed once and the same bytes go to every viewer (warroom.wsframes): the
frames are what the websockets library itself would send, a real uvicorn
(websockets-sansio) connection takes them directly, and a connection that negotiated
compression or is closing is left to ASGI ``send``."""

from __future__ import annotations

import asyncio
import contextlib

import pytest
import uvicorn
import websockets
from websockets.frames import Frame, Opcode

from tests.conftest import free_port
from warroom import wsframes


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_000])
def test_a_frame_is_what_the_websockets_library_sends_for_the_same_text(size):
    text = ("é" * size)[: max(0, size // 2)] + "x" * (size - size // 2)
    expected = Frame(Opcode.TEXT, text.encode()).serialize(mask=False)
    assert wsframes.encode_text(text) == expected


def test_a_plain_function_is_not_a_connection_to_write_to():
    async def send(message):
        return None

    assert wsframes.direct_writer(send) is None


def _app(events: list[str], took: dict):
    async def app(scope, receive, send):
        assert scope["type"] == "websocket"
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        writer = wsframes.direct_writer(send)
        took["writer"] = writer is not None
        took["direct"] = 0
        for text in events:
            if writer is not None and writer.write(wsframes.encode_text(text)):
                took["direct"] += 1
            else:
                await send({"type": "websocket.send", "text": text})
        await send({"type": "websocket.close", "code": 1000})
        took["after_close"] = writer.write(wsframes.encode_text("late")) if writer else None
        with contextlib.suppress(Exception):
            while (await receive())["type"] != "websocket.disconnect":
                pass

    return app


async def _serve_and_read(events: list[str], compression: str | None):
    took: dict = {}
    port = free_port()
    config = uvicorn.Config(
        _app(events, took), host="127.0.0.1", port=port, ws="websockets-sansio", lifespan="off"
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        async with websockets.connect(f"ws://127.0.0.1:{port}/", compression=compression) as ws:
            received = [message async for message in ws]
    finally:
        server.should_exit = True
        await serving
    return received, took


def test_a_plain_connection_gets_the_shared_bytes_directly_and_in_order():
    events = ["a", "é" * 70, "x" * 70_000, '{"seq":4}']
    received, took = asyncio.run(_serve_and_read(events, compression=None))
    assert received == events
    assert took == {"writer": True, "direct": len(events), "after_close": False}


def test_a_compressed_connection_is_sent_to_through_asgi():
    events = ["a", "b" * 300]
    received, took = asyncio.run(_serve_and_read(events, compression="deflate"))
    assert received == events
    assert took["writer"] is True and took["direct"] == 0
