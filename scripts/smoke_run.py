"""Prove the embedded default end to end: `make run`'s stack, a tick, an event.

Starts `make run` (web + worker + beat on SQLite and the embedded Redis), takes a
token for the demo's release manager, connects to the JSON event stream, ticks
an item through the API, waits for the event on the websocket and for beat's
tick to have run on the worker, then stops everything. Exit 0 on success.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> int:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL"}}
    env.update(PORT=str(port), TICK_SECONDS="2")
    proc = subprocess.Popen(
        ["make", "run"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            print(line, end="", flush=True)
            if "Warroom is running" in line:
                break
            if time.monotonic() > deadline:
                raise SystemExit("make run did not print its URL within 5 minutes")
        else:
            raise SystemExit(f"make run exited with {proc.wait()}")
        token = subprocess.run(
            [sys.executable, "manage.py", "create_token", "priya"],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        return asyncio.run(scenario(base, port, token))
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        print("stack stopped", flush=True)


async def scenario(base: str, port: int, token: str) -> int:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=10) as http:
        [release] = [
            r for r in (await http.get("/api/releases")).json() if r["name"] == "Orbit Payments"
        ]
        detail = (await http.get(f"/api/releases/{release['id']}")).json()
        item = next(i for c in detail["checklists"] for i in c["items"] if i["status"] == "todo")
        url = f"ws://127.0.0.1:{port}/ws/releases/{release['id']}/events"
        async with websockets.connect(url, additional_headers=headers) as ws:
            resp = await http.post(
                f"/api/releases/{release['id']}/items/{item['id']}", json={"status": "done"}
            )
            assert resp.status_code == 200, resp.text
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
        assert event["kind"] == "item.status" and event["data"]["item"] == item["id"], event
        print(
            f"ticked item {item['id']} through the API; event #{event['seq']} arrived "
            "on the websocket",
            flush=True,
        )
        for _ in range(60):
            health = (await http.get("/healthz")).json()
            if health.get("last_tick"):
                print(f"worker ran beat's tick at {health['last_tick']}", flush=True)
                return 0
            await asyncio.sleep(1)
    print("the Celery worker never ran beat's tick", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
