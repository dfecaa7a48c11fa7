"""Reconnect storm: N viewers reconnect at once to a freshly started server.

    python -m bench.storm --viewers 1000 --json
    python -m bench.storm --viewers 1000 --database-url postgres://127.0.0.1/postgres --json

A server restart drops every socket; browsers and integrations come back within the
same second, each resuming after the last event it had. Here the release has a short
history, the server starts cold, and ``--viewers`` clients (in ``--client-procs``
processes, all connecting at once) resume ``--missed`` events behind the head:

- ``json``: the JSON event stream (``?after=``), each client replays what it missed;
- ``warroom``: the war room's htmx socket (session cookie), each gets the full state.

``whole_s`` is the time from the first connect attempt until every viewer has every
event up to the head, i.e. is live again (the target: within 5 s on PostgreSQL);
``server_cpu_s`` is the server process's CPU over the same span (on a busy machine it
says more than the wall time).
The same clients against the bare ``websockets`` broadcast server (connect only,
nothing to replay) give ``baseline_connect_s`` for the machine's own floor.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from bench._stack import (
    ROOT,
    Stack,
    add_stack_arguments,
    free_port,
    log,
    machine,
    raise_open_files,
    warn_if_busy,
)
from bench.fanout import ClientPool, cpu_seconds, start_profiler, stop_profiler


def _whole_s(results: list[dict], first: int, last: int) -> float | None:
    """Per client process, the last receipt of the range minus its first connect attempt."""
    worst = 0.0
    for r in results:
        stats = r.get("stats", {})
        ends = [stats[str(seq)][2] for seq in range(first, last + 1) if str(seq) in stats]
        if len(ends) < last - first + 1:
            return None
        worst = max(worst, max(ends) - r["t0"])
    return round(worst, 2)


def storm(args, stack: Stack) -> dict:
    team = stack.team_release(items_per_list=max(3, args.missed))
    release = team.release
    from checklists import services

    items = [i for row in release.checklists.all() for i in row.items.all()][: args.missed + 2]
    for item in items:
        services.item_set_status(item=item, status="done", user=team["rm"])
    release.refresh_from_db()
    head = release.last_seq
    after = head - args.missed
    if args.variant == "json":
        path = f"/ws/releases/{release.pk}/events?after={after}"
        headers: list[str] = [f"Authorization: Bearer {team.token('pm')}"]
        first = after + 1
    else:
        cookie = "; ".join(f"{k}={v}" for k, v in stack.session_cookie(team["pm"]).items())
        path = f"/ws/releases/{release.pk}/live?variant=warroom&after={after}"
        headers = [f"Cookie: {cookie}"]
        first = head  # one full-state message carries the head
    server = stack.start_server()
    profiler = start_profiler(args.profile, server.proc.pid) if args.profile else None
    per_proc = -(-args.viewers // args.client_procs)
    cpu0 = cpu_seconds(server.proc.pid)
    pool = ClientPool(server.ws + path, args.viewers, args.client_procs, per_proc, headers)
    try:
        ready = pool.wait_ready()
        results = pool.collect(first, head, args.drain)
        server_cpu = cpu_seconds(server.proc.pid) - cpu0
    finally:
        if profiler:
            stop_profiler(profiler, args.profile)
        pool.stop()
        server.stop()
    received = sum(
        sum(r["stats"].get(str(seq), [0])[0] for seq in range(first, head + 1)) for r in results
    )
    connected = sum(r.get("connected", 0) for r in results)
    return {
        "connected": connected,
        "failed": ready["failed"],
        "errors": ready["errors"],
        "connect_s": ready["connect_s"],
        "whole_s": _whole_s(results, first, head),
        "lost": connected * (head - first + 1) - received,
        "closed_early": sum(r.get("closed_early", 0) for r in results),
        # The server's own CPU for the storm: steadier than wall time on a busy machine.
        "server_cpu_s": round(server_cpu, 2),
        "server_cpu_ms_per_viewer": round(1000 * server_cpu / max(1, connected), 2),
    }


def baseline(args) -> float:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout", "--serve-baseline", str(port)], cwd=ROOT
    )
    try:
        time.sleep(1.0)
        per_proc = -(-args.viewers // args.client_procs)
        pool = ClientPool(
            f"ws://127.0.0.1:{port}/viewer", args.viewers, args.client_procs, per_proc
        )
        try:
            ready = pool.wait_ready()
            pool.collect(1, 0, 0)
        finally:
            pool.stop()
        return ready["connect_s"]
    finally:
        proc.terminate()
        proc.wait(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.storm", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--missed", type=int, default=5, help="events each viewer missed")
    parser.add_argument("--variant", choices=["json", "warroom"], default="json")
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--drain", type=float, default=30.0, help="seconds to wait at most")
    parser.add_argument("--profile", metavar="PATH", help="py-spy the server during the storm")
    args = parser.parse_args(argv)
    raise_open_files()
    before = warn_if_busy()
    with Stack.from_args(args) as stack:
        out = {
            "viewers": args.viewers,
            "variant": args.variant,
            "database": stack.database_label,
            "redis": stack.redis_label,
            **storm(args, stack),
        }
    out["baseline_connect_s"] = baseline(args)
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    log(json.dumps(out))
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
