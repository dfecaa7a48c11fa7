"""`make run` (python -m warroom.run) on the embedded default, as a newcomer runs it.

It supervises web, worker, beat and the embedded Redis: a child that dies is started
again with a line on the console, a killed redis-server comes back and viewers catch
up, and SIGTERM stops every process, redis-server included. Commands that do not need
Redis start none, and the embedded Redis ends when the last process using it is gone.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
import websockets

from tests.conftest import ROOT, free_port

pytestmark = pytest.mark.integration


def embedded_env(var: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    return {**env, "WARROOM_VAR_DIR": str(var), "DJANGO_SETTINGS_MODULE": "warroom.settings"}


def manage(env: dict, *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def children_of(pid: int) -> dict[str, int]:
    """{"web"|"worker"|"beat": pid} among the direct children of ``pid``."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmd = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid != pid:
            continue
        text = b" ".join(cmd).decode()
        role = "web" if "uvicorn" in text else "worker" if " worker" in text else "beat"
        found[role] = int(entry.name)
    return found


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def redis_pid(var: Path) -> int | None:
    try:
        pid = int((var / "redis.pid").read_text())
    except (OSError, ValueError):
        return None
    return pid if alive(pid) else None


def wait(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_commands_start_no_redis_and_the_last_user_stops_it(tmp_path):
    var = tmp_path / "var"
    env = embedded_env(var)
    runbook = tmp_path / "plan.md"
    runbook.write_text("# Go-live\n## T-1 Hour: Preparation\n- [ ] Roll call\n")
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "import_runbook", str(runbook), "--dry-run")
    manage(env, "check")
    assert not (var / "redis.sock").exists() and redis_pid(var) is None

    # Two processes lease it; it lives until the last one is gone (even by SIGKILL).
    holder = [sys.executable, "-c",
              "import os,sys,time; os.environ['DJANGO_SETTINGS_MODULE']='warroom.settings';"
              "import django; django.setup(); from warroom.embedded import use_if_embedded;"
              "use_if_embedded(); print('up', flush=True); time.sleep(600)"]  # fmt: skip
    first = subprocess.Popen(holder, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    second = subprocess.Popen(holder, cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert first.stdout.readline().strip() == "up"
        assert second.stdout.readline().strip() == "up"
        pid = redis_pid(var)
        assert alive(pid)
        first.kill()
        first.wait()
        time.sleep(4)
        assert redis_pid(var) == pid, "the second user still holds it"
        second.send_signal(signal.SIGKILL)
        second.wait()
        assert wait(lambda: not alive(pid), 10), "the embedded Redis outlived its last user"
    finally:
        for p in (first, second):
            if p.poll() is None:
                p.kill()


async def _view(url: str, token: str, seqs: list[dict], stop: asyncio.Event) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with websockets.connect(url, open_timeout=15, additional_headers=headers) as ws:
        while not stop.is_set():
            try:
                seqs.append(json.loads(await asyncio.wait_for(ws.recv(), 0.3)))
            except TimeoutError:
                continue


def test_make_run_restarts_what_dies_and_stops_everything(tmp_path):
    var = tmp_path / "var"
    env = embedded_env(var)
    manage(env, "migrate", "--verbosity", "0")
    manage(env, "load_demo", "--quiet")
    token = manage(env, "create_token", "admin").strip()
    first_open = (
        "import json; from checklists.models import ChecklistItem as I;"
        "i = I.objects.filter(status='todo').order_by('id').first();"
        "print(json.dumps([i.checklist.release_id, i.pk]))"
    )
    release_id, first_item = json.loads(manage(env, "shell", "--no-imports", "-c", first_open))
    port = free_port()
    console = tmp_path / "console.log"
    run = subprocess.Popen(
        [sys.executable, "-m", "warroom.run"],
        cwd=ROOT, env={**env, "PORT": str(port)},
        stdout=console.open("w"), stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()
    seqs: list[dict] = []
    try:
        assert wait(lambda: "Warroom is running" in console.read_text(), 60), console.read_text()
        kids = children_of(run.pid)
        assert set(kids) == {"web", "worker", "beat"}
        redis_before = redis_pid(var)
        assert alive(redis_before)

        # A dead web process is started again, and says so.
        os.kill(kids["web"], signal.SIGKILL)
        assert wait(lambda: "web restarted" in console.read_text(), 30), console.read_text()
        assert "web exited (signal 9); restarting it in 1 s" in console.read_text()
        assert wait(lambda: answers(base + "/healthz"), 30)

        # A viewer; then redis-server is killed and an item ticked: the viewer catches up.
        http = httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"})
        head = http.get(f"/api/releases/{release_id}").json()["last_seq"]
        url = f"ws://127.0.0.1:{port}/ws/releases/{release_id}/events?after={head}"
        viewer = loop.create_task(_view(url, token, seqs, stop))
        loop.run_until_complete(asyncio.sleep(1.5))
        os.kill(redis_before, signal.SIGKILL)
        r = http.post(f"/api/releases/{release_id}/items/{first_item}", json={"status": "done"})
        assert r.status_code == 200, r.text
        assert wait(lambda: alive(redis_pid(var)) and redis_pid(var) != redis_before, 15)
        loop.run_until_complete(asyncio.sleep(6))
        # The tick arrives once; what the running demo recorded meanwhile (its engine's
        # steps, its clock) arrives too, every event once and in order.
        got = [m["seq"] for m in seqs]
        assert got == list(range(head + 1, head + 1 + len(got))), got
        ticks = [m for m in seqs if m["kind"] == "item.status"]
        assert [m["data"]["item"] for m in ticks] == [first_item], seqs
        text = console.read_text()
        assert f"embedded Redis (pid {redis_before}) is down" in text, text
        assert "embedded Redis is back" in text
    finally:
        stop.set()
        with_viewer = "viewer" in locals()
        if with_viewer:
            loop.run_until_complete(viewer)
        loop.close()
        redis_now = redis_pid(var)
        kids = children_of(run.pid)
        run.send_signal(signal.SIGTERM)
        run.wait(30)
    assert all(wait(lambda p=p: not alive(p), 10) for p in kids.values())
    assert wait(lambda: not alive(redis_now), 10), "redis-server outlived make run"
    assert "embedded Redis stopped" in console.read_text()
