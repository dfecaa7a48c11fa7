"""One websocket frame per event, the same bytes written to every viewer's socket.

A server's frames are not masked, so a text frame is the same bytes for every
connection that negotiated no extension. The hub encodes each event once per variant
(:func:`encode_text`) and, where the socket is served by uvicorn's ``websockets-sansio``
protocol, writes those bytes straight to its transport (:func:`direct_writer`) instead
of going through ASGI ``send`` — which builds the frame again for each of a thousand
viewers and needs a task per viewer per event.

Whenever the direct path cannot be taken the caller uses ``send`` as before: another
server or protocol, a socket that negotiated permessage-deflate (frames are compressed
per connection), a transport that is paused (its buffer is full: the viewer's own queue
and writer take over), or a socket that is closing.
"""

from __future__ import annotations

import struct
from typing import Any

OP_TEXT_FIN = 0x81


def encode_text(text: str) -> bytes:
    """``text`` as one unmasked, final text frame (RFC 6455 section 5.2)."""
    data = text.encode()
    n = len(data)
    if n < 126:
        head = bytes((OP_TEXT_FIN, n))
    elif n < 1 << 16:
        head = struct.pack("!BBH", OP_TEXT_FIN, 126, n)
    else:
        head = struct.pack("!BBQ", OP_TEXT_FIN, 127, n)
    return head + data


class DirectWriter:
    """Writes ready frames to one uvicorn websockets-sansio connection's transport."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: Any) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write ``frame`` now if the connection takes it as it is; False when the caller
        must go through ASGI ``send`` instead (nothing was written)."""
        p = self._protocol
        if (
            p.close_sent
            or p.disconnected
            or p.conn.extensions
            or not p.writable.is_set()
            or p.transport.is_closing()
        ):
            return False
        p.transport.write(frame)
        return True


_REQUIRED = ("close_sent", "disconnected", "writable", "transport", "conn", "handshake_complete")


def direct_writer(send) -> DirectWriter | None:
    """A :class:`DirectWriter` for the connection behind ASGI ``send``, or None when it is
    not a uvicorn websockets-sansio connection whose handshake is done."""
    send = getattr(send, "__wrapped__", send)
    protocol: Any = getattr(send, "__self__", None)
    if type(protocol).__name__ != "WebSocketsSansIOProtocol":
        return None
    if not all(hasattr(protocol, name) for name in _REQUIRED):
        return None
    if not protocol.handshake_complete or not hasattr(protocol.conn, "extensions"):
        return None
    return DirectWriter(protocol)
