"""Faults under a live room: how long until every viewer is whole again, and what was lost.

    python -m bench.faults --json [--viewers 200] [--rate 5] [--database-url postgres://…]

Scenarios (each on a fresh stack: a scratch database, a Redis of its own, uvicorn):

- ``redis_restart``: Redis stops for ``--outage`` seconds while ticks flow, then returns.
- ``redis_restart_quiet``: the same, but the ticks stop while Redis is away: nothing
  happens after it returns, so only the hub's own catch-up can deliver them.
- ``uvicorn_sigkill``: two web processes share the viewers; one is SIGKILLed; its
  viewers resume on the other with ``?after=`` (whole: every viewer has the first
  event committed after the kill and all before it).
- ``db_terminate`` (PostgreSQL only): every database connection is terminated.

For each: ``time_to_whole_s`` runs from the moment the fault ends (Redis back, the
process killed, the connections terminated) until every viewer holds every event
committed up to then; ``delivered`` / ``lost`` / ``duplicated`` count (viewer, event)
pairs over the whole run; ``http_5xx`` and ``http_failed`` (no answer) count the ticks.
The baseline is the same stack with no fault (``baseline_time_to_whole_s``: how long
viewers take to hold a just-committed event), so ``ratio`` says what the fault costs.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench._stack import Stack, add_stack_arguments, log, raise_open_files, warn_if_busy
from bench.faultkit import RedisServer, ViewerPool


class Ticks:
    """Ticks open items through the HTTP API at ``rate`` per second on a thread."""

    def __init__(self, team, bases: list[str], rate: float) -> None:
        import httpx

        from checklists.models import ChecklistItem

        self.release = team.release
        self.items = list(
            ChecklistItem.objects.filter(checklist__release=self.release, status="todo")
            .order_by("id")
            .values_list("pk", flat=True)
        )
        self.clients = [
            httpx.Client(
                base_url=b, headers={"Authorization": f"Bearer {team.token('rm')}"}, timeout=10
            )
            for b in bases
        ]
        self.rate = rate
        self.statuses: list[int] = []
        self.failed = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def one(self) -> None:
        item = self.items.pop(0)
        for client in self.clients:  # the first server that answers (same key: applied once)
            try:
                r = client.post(
                    f"/api/releases/{self.release.pk}/items/{item}",
                    json={"status": "done"},
                    headers={"Idempotency-Key": f"tick-{item}"},
                )
            except Exception:
                continue
            self.statuses.append(r.status_code)
            return
        self.failed += 1  # no server answered

    def start(self) -> Ticks:
        self._stop.clear()

        def run() -> None:
            while not self._stop.wait(1 / self.rate) and self.items:
                self.one()

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(30)

    def head(self) -> int:
        self.release.refresh_from_db(fields=["last_seq"])
        return self.release.last_seq

    @property
    def http_5xx(self) -> int:
        return sum(s >= 500 for s in self.statuses)


class Room:
    """One scenario's release, web processes, viewers and ticks on the shared stack."""

    def __init__(self, args, stack: Stack, redis: RedisServer, servers: int = 1) -> None:
        self.stack, self.redis = stack, redis
        team = stack.team_release(items_per_list=max(10, int(args.rate * 40 / 3)))
        self.servers = [stack.start_server(f"web{i}") for i in range(servers)]
        bases = [s.ws for s in self.servers]
        path = f"/ws/releases/{team.release.pk}/events"
        self.ticks = Ticks(team, [s.url for s in self.servers], args.rate)
        self.first = self.ticks.head() + 1
        per = args.viewers // servers
        self.pools = [
            ViewerPool(bases[i:] + bases[:i], path, team.token("pm"), per, self.first - 1)
            for i in range(servers)
        ]
        for pool in self.pools:
            pool.start()
        # One view over every viewer, for the counts.
        self.pool = ViewerPool(bases, path, "", 0, self.first - 1)
        self.pool.viewers = [v for p in self.pools for v in p.viewers]

    def whole_since(self, since: float, head: int | None = None) -> float | None:
        """Seconds from ``since`` until every viewer has every event up to ``head`` (the
        head now, by default); later events may have arrived too."""
        want = set(range(self.first, (head or self.ticks.head()) + 1))
        while time.monotonic() - since < 30:
            if all(want <= set(v.seqs) for v in self.pool.viewers):
                return time.monotonic() - since
            time.sleep(0.05)
        return None

    def result(self, waited: float | None, **extra) -> dict:
        self.ticks.stop()
        last = self.ticks.head()
        self.pool.wait_whole(self.first, last, 15)
        for pool in self.pools:
            pool.stop()
        for server in self.stack.servers:
            server.stop()
        self.stack.servers.clear()
        if not self.redis.answers():
            self.redis.start()
        return {
            "viewers": len(self.pool.viewers),
            "events": last - self.first + 1,
            "time_to_whole_s": None if waited is None else round(waited, 3),
            **self.pool.counts(self.first, last),
            "http_5xx": self.ticks.http_5xx,
            "http_failed": self.ticks.failed,
            "reconnects": sum(v.connects - 1 for v in self.pool.viewers),
            **extra,
        }


def baseline(args, stack: Stack, redis: RedisServer) -> dict:
    """No fault: how long until every viewer holds a just-committed event (worst of 5)."""
    room = Room(args, stack, redis)
    samples = []
    for _ in range(5):
        t0 = time.monotonic()
        room.ticks.one()
        samples.append(room.whole_since(t0) or 30.0)
    return room.result(max(samples))


def redis_restart(args, stack: Stack, redis: RedisServer, *, quiet: bool) -> dict:
    room = Room(args, stack, redis)
    room.ticks.start()
    time.sleep(2)
    redis.stop()
    time.sleep(args.outage)
    if quiet:
        room.ticks.stop()
    redis.start()
    back = time.monotonic()
    waited = room.whole_since(back)
    if not quiet:
        time.sleep(2)  # ticks go on after Redis is back
    return room.result(waited)


def uvicorn_sigkill(args, stack: Stack, redis: RedisServer) -> dict:
    room = Room(args, stack, redis, servers=2)
    room.ticks.start()
    time.sleep(2)
    head = room.ticks.head()
    room.servers[0].proc.send_signal(signal.SIGKILL)
    room.servers[0].proc.wait()
    killed = time.monotonic()
    while room.ticks.head() == head and time.monotonic() - killed < 10:
        time.sleep(0.02)  # the first event after the kill: its viewers must be back for it
    waited = room.whole_since(killed, room.ticks.head())
    time.sleep(2)
    return room.result(waited)


def db_terminate(args, stack: Stack, redis: RedisServer) -> dict:
    if not stack.pg_db:
        return {"skipped": "PostgreSQL only (--database-url)"}
    from django.db import connection

    room = Room(args, stack, redis)
    room.ticks.start()
    time.sleep(2)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        terminated = cursor.fetchone()[0]
    waited = room.whole_since(time.monotonic())
    time.sleep(2)
    return room.result(waited, terminated=terminated)


SCENARIOS = {
    "redis_restart": lambda *a: redis_restart(*a, quiet=False),
    "redis_restart_quiet": lambda *a: redis_restart(*a, quiet=True),
    "uvicorn_sigkill": uvicorn_sigkill,
    "db_terminate": db_terminate,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_stack_arguments(parser)
    parser.add_argument("--viewers", type=int, default=200)
    parser.add_argument("--rate", type=float, default=5.0, help="ticks per second")
    parser.add_argument("--outage", type=float, default=5.0, help="seconds Redis is away")
    parser.add_argument("--only", choices=sorted(SCENARIOS), action="append")
    args = parser.parse_args(argv)
    raise_open_files()
    machine = warn_if_busy()
    out: dict = {"machine": machine, "viewers": args.viewers, "rate": args.rate}
    with tempfile.TemporaryDirectory(prefix="warroom-faults-") as tmp:
        redis = RedisServer(Path(tmp)).start()  # ours: the scenarios stop and start it
        try:
            with Stack(args.database_url, redis.url) as stack:
                out["database"] = stack.database_label
                base = baseline(args, stack, redis)
                log("baseline", base)
                out["baseline_time_to_whole_s"] = base["time_to_whole_s"]
                for name in args.only or SCENARIOS:
                    result = SCENARIOS[name](args, stack, redis)
                    if result.get("time_to_whole_s") and base["time_to_whole_s"]:
                        ratio = result["time_to_whole_s"] / base["time_to_whole_s"]
                        result["ratio"] = round(ratio, 1)
                    log(name, result)
                    out[name] = result
        finally:
            redis.stop()
    print(json.dumps(out) if args.json else json.dumps(out, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.exit(main())
