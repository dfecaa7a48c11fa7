"""`make run`: start web (uvicorn), a Celery worker and Celery beat; print the URL.

All three share the same settings, so with no DATABASE_URL / REDIS_URL they use
SQLite and the embedded Redis. ``make run`` supervises them: a child that dies is
started again (after a pause that grows while it keeps dying) with a line on the
console saying so, as is the embedded Redis (by its keeper, warroom/embedded.py).
Ctrl-C or SIGTERM stops every one of them, the embedded Redis included.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence


def web_command(
    *, host: str, port: int, access_log: bool = False, extra: Sequence[str] = ()
) -> list[str]:
    """uvicorn serving Warroom (HTTP and websockets), as `make run` and the image start it."""
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "warroom.asgi:application",
        "--host",
        host,
        "--port",
        str(port),
        "--ws",
        "websockets-sansio",
        "--loop",
        "uvloop",
        "--http",
        "httptools",
        *([] if access_log else ["--no-access-log"]),
        "--timeout-graceful-shutdown",
        "3",
        *extra,
    ]


def worker_command(*, name: str, concurrency: int = 2, loglevel: str = "WARNING") -> list[str]:
    """A Celery worker on Warroom's queues: its tasks, and the deliveries' own queue."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "warroom",
        "worker",
        "--loglevel",
        loglevel,
        "--concurrency",
        str(concurrency),
        "-Q",
        "warroom,warroom.comms",  # beat's tick and the engine; deliveries (COMMS_QUEUE)
        "--without-gossip",
        "--without-mingle",
        "-n",
        name,
    ]


def beat_command(*, loglevel: str = "WARNING") -> list[str]:
    """Celery beat: one schedule, the periodic tick (settings.CELERY_BEAT_SCHEDULE)."""
    return [sys.executable, "-m", "celery", "-A", "warroom", "beat", "--loglevel", loglevel]


class Child:
    """One supervised process: restarted when it dies, with a growing pause if it keeps dying."""

    QUICK = 60.0  # up this long: the next restart is quick again

    def __init__(self, name: str, cmd: list[str]) -> None:
        self.name, self.cmd = name, cmd
        self.proc: subprocess.Popen | None = None
        self.pause = 0.0
        self.started = 0.0
        self.due = 0.0  # when a dead child is started again

    def start(self) -> None:
        self.proc = subprocess.Popen(self.cmd)
        self.started = time.monotonic()

    def check(self, say) -> None:
        """Start it again if it died (after its pause)."""
        if self.proc is None:
            return
        code = self.proc.poll()
        if code is None:
            if self.pause and time.monotonic() - self.started > self.QUICK:
                self.pause = 0.0
            return
        now = time.monotonic()
        if not self.due:
            self.pause = min(30.0, max(1.0, self.pause * 2))
            how = f"signal {-code}" if code < 0 else f"code {code}"
            say(f"{self.name} exited ({how}); restarting it in {self.pause:.0f} s")
            self.due = now + self.pause
        elif now >= self.due:
            self.due = 0.0
            self.start()
            say(f"{self.name} restarted (pid {self.proc.pid})")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)

    def wait(self, deadline: float) -> None:
        if self.proc is None:
            return
        try:
            self.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


class EmbeddedRedis:
    """Watches the embedded Redis (its keeper restarts it) and says what happens to it."""

    def __init__(self, var_dir) -> None:
        from warroom import embedded

        self.embedded, self.var_dir = embedded, var_dir
        embedded.lease(var_dir)
        self.pid = embedded.server_pid(var_dir)
        self.down_since: float | None = None

    def check(self, say) -> None:
        embedded = self.embedded
        up = embedded.answers(embedded.socket_path(self.var_dir))
        pid = embedded.server_pid(self.var_dir)
        if not up and self.down_since is None:
            self.down_since = time.monotonic()
            say(f"embedded Redis (pid {self.pid}) is down; restarting it")
        elif up and (self.down_since is not None or pid != self.pid):
            if self.down_since is None:
                say(f"embedded Redis (pid {self.pid}) died")
            say(f"embedded Redis is back (pid {pid})")
            self.down_since, self.pid = None, pid
        if not up and self.down_since and time.monotonic() - self.down_since > 5:
            # Its keeper is gone too: lease again, which starts a new one.
            self.down_since = time.monotonic()
            with contextlib.suppress(RuntimeError):
                embedded.lease(self.var_dir)

    def stop(self, timeout: float = 8.0) -> None:
        """Give up this process's lease and wait for the keeper to stop Redis (when this
        was the last user)."""
        embedded = self.embedded
        embedded.release(self.var_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if embedded.holders(self.var_dir) or embedded.server_pid(self.var_dir) is None:
                return
            time.sleep(0.1)


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} make run: {message}", file=sys.stderr, flush=True)


def note_host(host: str) -> None:
    if host not in {"127.0.0.1", "localhost", "::1"} and not os.environ.get("ALLOWED_HOSTS"):
        print(
            f"note: HOST={host}, but only local host names are served; set ALLOWED_HOSTS to "
            "the names others use (e.g. ALLOWED_HOSTS=warroom.lan,192.168.1.20)",
            file=sys.stderr,
        )


def web_answers(url: str, web: Child, stopped) -> bool:
    """Wait (up to 30 s) until the web process answers /healthz."""
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "healthz", timeout=1)
            return True
        except OSError:
            if stopped() or (web.proc is not None and web.proc.poll() is not None):
                return False
            time.sleep(0.1)
    return False


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
    import django

    django.setup()
    from django.conf import settings

    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    note_host(host)
    # The embedded Redis first (when REDIS_URL is unset), so web, worker and beat find it.
    redis = EmbeddedRedis(settings.VAR_DIR) if settings.REDIS_EMBEDDED else None
    children = [
        Child("web", web_command(host=host, port=port)),
        Child("worker", worker_command(name=f"worker-{port}@%h")),
        Child("beat", beat_command()),
    ]
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
    for child in children:
        child.start()
    url = f"http://{host}:{port}/"
    started = web_answers(url, children[0], lambda: bool(stopping))
    if started:
        print(
            f"\nWarroom is running: {url}  (web + Celery worker + beat; Ctrl-C stops)\n",
            flush=True,
        )
    else:
        say("the web server did not start")
        stopping.append(True)
    try:
        while not stopping:
            for child in children:
                child.check(say)
            if redis is not None:
                redis.check(say)
            time.sleep(0.5)
    finally:
        say("stopping web, worker and beat")
        for child in children:
            child.stop()
        deadline = time.monotonic() + 10
        for child in children:
            child.wait(deadline)
        if redis is not None:
            redis.stop()
            say("embedded Redis stopped")
    return 0 if started else 1


if __name__ == "__main__":
    sys.exit(main())
