"""The container image's commands (the Dockerfile's ENTRYPOINT).

    docker run IMAGE web | worker | beat     the three long-running processes
    docker run IMAGE migrate                 apply migrations once, then exit
    docker run IMAGE manage ARGS...          any manage.py command (createsuperuser, ...)
    docker run IMAGE healthcheck SERVICE     exit 0 when web / worker / beat is healthy

web, worker and beat become (exec) the same processes `make run` starts — the command
lines come from :mod:`warroom.run` — so signals reach them directly. Settings come from
the environment; the image sets WARROOM_ENV=production, so a missing SECRET_KEY,
ALLOWED_HOSTS, ... stops the container with a message that names them.

Environment read here: HOST (0.0.0.0), PORT (8000), WEB_CONCURRENCY (uvicorn worker processes, 1),
FORWARDED_ALLOW_IPS (proxies whose X-Forwarded-For/-Proto uvicorn trusts, 127.0.0.1),
ACCESS_LOG (true), WORKER_CONCURRENCY (2), CELERY_LOGLEVEL (WARNING).
"""

from __future__ import annotations

import json
import os
import socket
import sys
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from warroom import run

ROOT = Path(__file__).resolve().parent.parent
MANAGE = str(ROOT / "manage.py")


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def worker_name() -> str:
    """This container's Celery node name (the worker's health check pings exactly it)."""
    return f"worker@{socket.gethostname()}"


def web() -> list[str]:
    proxies = _env("FORWARDED_ALLOW_IPS", "127.0.0.1")
    extra = ["--proxy-headers", "--forwarded-allow-ips", proxies]
    extra += ["--workers", _env("WEB_CONCURRENCY", "1")]
    access_log = _env("ACCESS_LOG", "true").lower() in {"1", "true", "yes", "on"}
    return run.web_command(
        host=_env("HOST", "0.0.0.0"),
        port=int(_env("PORT", "8000")),
        access_log=access_log,
        extra=extra,
    )


def worker() -> list[str]:
    return run.worker_command(
        name=worker_name(),
        concurrency=int(_env("WORKER_CONCURRENCY", "2")),
        loglevel=_env("CELERY_LOGLEVEL", "WARNING"),
    )


def beat() -> list[str]:
    return run.beat_command(loglevel=_env("CELERY_LOGLEVEL", "WARNING"))


def migrate() -> list[str]:
    # One service runs this before web, worker and beat start (docker-compose.yml);
    # Django takes the migrations' own lock on PostgreSQL.
    return [sys.executable, MANAGE, "migrate", "--noinput"]


def manage(*args: str) -> list[str]:
    return [sys.executable, MANAGE, *args]


# Each process command and the argv it becomes.
PROCESSES: dict[str, Callable[..., list[str]]] = {
    "web": web,
    "worker": worker,
    "beat": beat,
    "migrate": migrate,
    "manage": manage,
}


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "warroom.settings")
    import django

    django.setup()


def web_healthy() -> str | None:
    """None when /healthz answers 200 with the database up; else what is wrong.

    Asks with the first ALLOWED_HOSTS name, as a browser would (any other Host is
    refused); /healthz is exempt from the redirect to HTTPS.
    """
    from django.conf import settings

    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    request = urllib.request.Request(
        f"http://127.0.0.1:{_env('PORT', '8000')}/healthz", headers={"Host": host}
    )
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            body = json.loads(response.read())
    except (OSError, ValueError) as exc:
        return f"/healthz: {exc}"
    if body.get("database") != "ok":
        return f"/healthz: database {body.get('database')}"
    return None


def worker_healthy() -> str | None:
    """None when this container's Celery worker answers a ping through the broker."""
    from warroom.celery import app

    name = worker_name()
    replies = app.control.ping(destination=[name], timeout=5)
    return None if any(name in reply for reply in replies) else f"{name} did not answer"


def beat_healthy() -> str | None:
    """None when beat's tick reached a worker recently (beat -> broker -> worker -> Redis)."""
    from warroom.health import tick_problem

    return tick_problem()


HEALTHCHECKS: dict[str, Callable[[], str | None]] = {
    "web": web_healthy,
    "worker": worker_healthy,
    "beat": beat_healthy,
}


def usage() -> str:
    return "usage: web | worker | beat | migrate | manage ARGS... | healthcheck " + "|".join(
        HEALTHCHECKS
    )


def main(argv: list[str]) -> int:
    if not argv or argv[0] in {"-h", "--help"}:
        print(usage(), file=sys.stderr)
        return 0 if argv else 2
    name, args = argv[0], argv[1:]
    if name == "healthcheck":
        if len(args) != 1 or args[0] not in HEALTHCHECKS:
            print(usage(), file=sys.stderr)
            return 2
        _setup()
        problem = HEALTHCHECKS[args[0]]()
        print(problem or f"{args[0]}: healthy", file=sys.stderr if problem else sys.stdout)
        return 1 if problem else 0
    if name not in PROCESSES:
        print(f"unknown command {name!r}; {usage()}", file=sys.stderr)
        return 2
    if name != "manage" and args:
        print(f"{name} takes no arguments; {usage()}", file=sys.stderr)
        return 2
    argv_ = PROCESSES[name](*args)
    if os.environ.get("WARROOM_CONTAINER_DRY_RUN"):
        print(json.dumps(argv_))  # what would run (the tests check these)
        return 0
    os.chdir(ROOT)
    os.execv(argv_[0], argv_)
    return 1  # not reached


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
