"""`make run`: start web (uvicorn), a Celery worker and Celery beat; print the URL.

All three share the same settings, so with no DATABASE_URL / REDIS_URL they use
SQLite and the embedded Redis. Ctrl-C stops them all.
"""

from __future__ import annotations

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
    """A Celery worker on Warroom's queue."""
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
        "warroom",
        "--without-gossip",
        "--without-mingle",
        "-n",
        name,
    ]


def beat_command(*, loglevel: str = "WARNING") -> list[str]:
    """Celery beat: one schedule, the periodic tick (settings.CELERY_BEAT_SCHEDULE)."""
    return [sys.executable, "-m", "celery", "-A", "warroom", "beat", "--loglevel", loglevel]


def main() -> int:  # noqa: C901 - known exception: the supervisor rewrite splits it
    # Load the settings once here: with no REDIS_URL that starts the embedded Redis
    # before web, worker and beat race to start it.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
    import django

    django.setup()
    port = int(os.environ.get("PORT", "8000"))
    host = os.environ.get("HOST", "127.0.0.1")
    if host not in {"127.0.0.1", "localhost", "::1"} and not os.environ.get("ALLOWED_HOSTS"):
        print(
            f"note: HOST={host}, but only local host names are served; set ALLOWED_HOSTS to "
            "the names others use (e.g. ALLOWED_HOSTS=warroom.lan,192.168.1.20)",
            file=sys.stderr,
        )
    procs = {
        "web": web_command(host=host, port=port),
        "worker": worker_command(name=f"worker-{port}@%h"),
        "beat": beat_command(),
    }
    running = {name: subprocess.Popen(cmd) for name, cmd in procs.items()}

    def stop(*_):
        for p in running.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for p in running.values():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()

    signal.signal(signal.SIGTERM, lambda *a: (stop(), sys.exit(0)))
    url = f"http://{host}:{port}/"
    for _ in range(300):
        try:
            urllib.request.urlopen(url + "healthz", timeout=1)
            break
        except OSError:
            if running["web"].poll() is not None:
                stop()
                print("the web server failed to start", file=sys.stderr)
                return 1
            time.sleep(0.1)
    print(f"\nWarroom is running: {url}  (web + Celery worker + beat; Ctrl-C stops)\n", flush=True)
    try:
        while all(p.poll() is None for p in running.values()):
            time.sleep(0.5)
        dead = [n for n, p in running.items() if p.poll() is not None]
        print(f"stopped: {', '.join(dead)} exited", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        stop()


if __name__ == "__main__":
    sys.exit(main())
