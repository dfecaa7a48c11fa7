"""Websocket fan-out: N viewers of one release, T ticks through the HTTP API.

    python -m bench.fanout --viewers 1000 --ticks 50 --json

Per tick, ``p95_ms`` runs from just before the API request is sent to the moment
the *last* of the N viewers has received the event (its ``seq``) on the JSON
event stream; ``delivery_p95_ms`` from the moment the event was recorded (its
``at``) to that last viewer; ``tick_request_p95_ms`` is the request's own time.
``lost`` counts (viewer, seq) pairs that never arrived. The same client code then
measures a bare broadcast server written on the ``websockets`` library
(``--serve-baseline``, a separate process) delivering the same payload bytes to N
clients, triggered by a message on a control websocket. ``ratio_p95`` compares
delivery with the baseline's (from the moment its control message was sent);
``ratio_p95_end_to_end`` compares the whole, the tick request included.

The two servers are measured one after the other, so a neighbour's load that comes or
goes in between moves the ratio (on 2 shared cores the baseline's p95 alone ranges
15 to 35 ms from one minute to the next). ``--rounds N`` runs N such pairs back to back and
prints the pair with the median ratio, with every pair's ratio in ``ratio_p95_rounds``
and the losses of all of them.

Clients: a lean asyncio websocket client (handshake and frame parsing by hand,
no per-message library overhead) in ``--client-procs`` processes. They run on
the same 2-core machine as the server and Redis, so they compete for CPU with
what they measure; both servers pay the same client cost. Receive times use
``time.monotonic()`` (CLOCK_MONOTONIC, comparable across processes).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import math
import os
import struct
import subprocess
import sys
import time
from urllib.parse import urlsplit

from bench._stack import (
    ROOT,
    Stack,
    add_stack_arguments,
    free_port,
    log,
    machine,
    raise_open_files,
    summarize_ms,
    warn_if_busy,
)

SEQ_PREFIX = b'{"seq":'


# --- a lean websocket client --------------------------------------------------------
class LeanWebSocket(asyncio.Protocol):
    """Just enough RFC 6455 to receive text frames fast: no extensions, no per-frame tasks.

    ``on_message(ws, payload, t)`` is called for each complete text message with
    the monotonic time of the read that completed it.
    """

    def __init__(self, host: str, path: str, on_message, headers: str = "") -> None:
        self.host, self.path, self.on_message = host, path, on_message
        self.headers = headers  # extra handshake lines, each ending in CRLF
        self.transport: asyncio.Transport | None = None
        self.opened: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()
        self.close_code: int | None = None
        self.upgraded = False
        self.buf = bytearray()
        self.fragments: list[bytes] = []
        self.seen: set[int] = set()

    def connection_made(self, transport) -> None:
        self.transport = transport
        key = base64.b64encode(os.urandom(16)).decode()
        transport.write(
            (
                f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                f"Sec-WebSocket-Version: 13\r\n{self.headers}\r\n"
            ).encode()
        )

    def connection_lost(self, exc) -> None:
        if not self.opened.done():
            self.opened.set_exception(ConnectionError(f"closed before upgrade: {exc}"))
        if not self.closed.done():
            self.closed.set_result(self.close_code)

    def data_received(self, data: bytes) -> None:  # noqa: C901 - a frame parser, kept in one piece for speed
        t = time.monotonic()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(buf[: buf.find(b"\r\n")])
            del buf[: end + 4]
            if b" 101 " not in status + b" ":
                self.opened.set_exception(ConnectionError(status.decode(errors="replace")))
                self.transport.close()
                return
            self.upgraded = True
            self.opened.set_result(True)
        pos, n = 0, len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            length, head = b1 & 0x7F, 2
            if length == 126:
                if n - pos < 4:
                    break
                (length,) = struct.unpack_from("!H", buf, pos + 2)
                head = 4
            elif length == 127:
                if n - pos < 10:
                    break
                (length,) = struct.unpack_from("!Q", buf, pos + 2)
                head = 10
            if b1 & 0x80:  # servers never mask; be lenient anyway
                head += 4
            if n - pos < head + length:
                break
            payload = bytes(buf[pos + head : pos + head + length])
            pos += head + length
            self._frame(b0 & 0x80, b0 & 0x0F, payload, t)
        if pos:
            del buf[:pos]

    def _frame(self, fin: int, opcode: int, payload: bytes, t: float) -> None:
        if opcode in (0, 1, 2):
            if not fin:
                self.fragments.append(payload)
                return
            if self.fragments:
                payload = b"".join([*self.fragments, payload])
                self.fragments = []
            self.on_message(self, payload, t)
        elif opcode == 9:  # ping
            self._send(0xA, payload)
        elif opcode == 8:  # close
            self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            self._send(0x8, payload[:2])
            self.transport.close()

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        n = len(payload)
        head = bytes([0x80 | opcode]) + (
            bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + struct.pack("!H", n)
        )
        if self.transport and not self.transport.is_closing():
            self.transport.write(head + mask + masked)

    def close(self) -> None:
        if self.transport and not self.transport.is_closing():
            self._send(0x8, struct.pack("!H", 1000))
            self.transport.close()


HTML_SEQ = b'id="live-seq" data-seq="'


def message_seq(payload: bytes) -> int | None:
    """The sequence number a message carries: JSON events, or the htmx pages' marker."""
    if payload.startswith(b"<"):
        at = payload.find(HTML_SEQ)
        if at < 0:
            return None
        start = at + len(HTML_SEQ)
        with contextlib.suppress(ValueError):
            return int(payload[start : payload.index(b'"', start)])
        return None
    if payload.startswith(SEQ_PREFIX):
        end = payload.find(b",", len(SEQ_PREFIX))
        with contextlib.suppress(ValueError):
            return int(payload[len(SEQ_PREFIX) : end])
    try:
        return json.loads(payload).get("seq")
    except (ValueError, AttributeError):
        return None


async def run_clients(  # noqa: C901
    url: str, count: int, concurrency: int, keep_texts: bool, headers: str = ""
) -> None:
    """Client process: connect ``count`` viewers, report, receive, report per-seq stats.

    Talks to the driver in JSON lines: prints ``{"ready": ...}`` once connected,
    reads ``{"expect": [first, last], "timeout": s}``, waits until every open
    viewer has every seq in that range (or the timeout), prints the stats.
    """
    raise_open_files()
    loop = asyncio.get_running_loop()
    parts = urlsplit(url)
    host, port = parts.hostname, parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    stats: dict[int, list] = {}  # seq -> [deliveries, first receipt, last receipt]
    texts: dict[int, str] = {}

    def on_message(ws: LeanWebSocket, payload: bytes, t: float) -> None:
        seq = message_seq(payload)
        if seq is None or seq in ws.seen:
            return
        ws.seen.add(seq)
        s = stats.get(seq)
        if s is None:
            stats[seq] = [1, t, t]
            if keep_texts:
                texts[seq] = payload.decode()
        else:
            s[0] += 1
            if t > s[2]:
                s[2] = t

    sem = asyncio.Semaphore(concurrency)
    errors: list[str] = []

    async def connect() -> LeanWebSocket | None:
        async with sem:
            for attempt in range(3):
                try:
                    _, ws = await loop.create_connection(
                        lambda: LeanWebSocket(f"{host}:{port}", path, on_message, headers),
                        host,
                        port,
                    )
                    await asyncio.wait_for(ws.opened, 30)
                    return ws
                except (OSError, ConnectionError, TimeoutError) as exc:
                    if attempt == 2:
                        errors.append(repr(exc))
                    await asyncio.sleep(0.2)
        return None

    t0 = time.monotonic()
    conns = [ws for ws in await asyncio.gather(*(connect() for _ in range(count))) if ws]
    print(
        json.dumps(
            {"ready": len(conns), "failed": count - len(conns), "errors": errors[:3],
             "connect_s": round(time.monotonic() - t0, 2)}
        ),
        flush=True,
    )  # fmt: skip
    line = await loop.run_in_executor(None, sys.stdin.readline)
    cmd = json.loads(line or '{"expect": [1, 0], "timeout": 0}')
    first, last = cmd["expect"]
    wanted = set(range(first, last + 1))
    deadline = time.monotonic() + cmd.get("timeout", 15)
    while time.monotonic() < deadline:
        if all(wanted <= ws.seen for ws in conns if not ws.closed.done()):
            break
        await asyncio.sleep(0.05)
    closed = sum(1 for ws in conns if ws.closed.done())
    codes = sorted({str(ws.close_code) for ws in conns if ws.closed.done()})
    print(
        json.dumps(
            {"stats": stats, "texts": texts, "connected": len(conns), "closed_early": closed,
             "close_codes": codes, "wall_minus_monotonic": time.time() - time.monotonic(),
             "t0": t0}
        ),
        flush=True,
    )  # fmt: skip
    for ws in conns:
        ws.close()
    await asyncio.sleep(0.2)


# --- the bare baseline server -----------------------------------------------------
async def serve_baseline(port: int) -> None:
    """Every websocket is a viewer except ``/control``, whose messages go to all viewers."""
    from websockets.asyncio.server import broadcast, serve

    viewers: set = set()

    async def handler(ws) -> None:
        if ws.request.path.startswith("/control"):
            async for message in ws:
                broadcast(viewers, message)
                await ws.send("ok")
            return
        viewers.add(ws)
        try:
            await ws.wait_closed()
        finally:
            viewers.discard(ws)

    async with serve(handler, "127.0.0.1", port, backlog=4096, compression=None) as server:
        print(f"baseline listening on {port}", file=sys.stderr, flush=True)
        await server.serve_forever()


# --- the driver -----------------------------------------------------------------
class ClientPool:
    """``procs`` client processes holding ``total`` viewers of ``url`` between them."""

    def __init__(
        self,
        url: str,
        total: int,
        procs: int,
        concurrency: int,
        headers: list[str] = (),
        token: str = "",
    ) -> None:
        self.procs: list[subprocess.Popen] = []
        # The viewers' API token goes in the environment (not argv, which `ps` shows).
        env = {**os.environ, "BENCH_WS_TOKEN": token}
        share = [total // procs + (1 if i < total % procs else 0) for i in range(procs)]
        extra = [arg for h in headers for arg in ("--header", h)]
        for i, n in enumerate(s for s in share if s):
            cmd = [
                sys.executable, "-m", "bench.fanout", "--client", url, "--count", str(n),
                "--concurrency", str(concurrency), *(["--keep-texts"] if i == 0 else []),
                *extra,
            ]  # fmt: skip
            self.procs.append(
                subprocess.Popen(
                    cmd,
                    cwd=ROOT,
                    env=env,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    text=True,
                )
            )
        self.cpu_start = 0.0

    def wait_ready(self) -> dict:
        ready = [
            json.loads(p.stdout.readline() or '{"ready": 0, "failed": -1}') for p in self.procs
        ]
        return {
            "ready": sum(r["ready"] for r in ready),
            "failed": sum(r["failed"] for r in ready),
            "errors": [e for r in ready for e in r.get("errors", [])][:3],
            "connect_s": max(r.get("connect_s", 0) for r in ready),
        }

    def cpu_seconds(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def collect(self, first: int, last: int, timeout: float) -> list[dict]:
        cmd = json.dumps({"expect": [first, last], "timeout": timeout}) + "\n"
        for p in self.procs:
            p.stdin.write(cmd)
            p.stdin.flush()
        results = []
        for p in self.procs:
            line = p.stdout.readline()
            results.append(json.loads(line) if line else {"stats": {}, "texts": {}})
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        return results

    def stop(self) -> None:
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux /proc)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def event_times(texts: dict[int, str]) -> dict[int, float]:
    """When each event was recorded (its ``at``, wall clock), from the JSON viewers got."""
    from datetime import datetime

    found = {}
    for seq, text in texts.items():
        with contextlib.suppress(ValueError, KeyError, TypeError):
            found[seq] = datetime.fromisoformat(json.loads(text)["at"]).timestamp()
    return found


def measure(
    pool: ClientPool,
    trigger,
    seqs: list[int],
    *,
    rate: float,
    warmup: int,
    drain: float,
    born: dict[int, float] | None = None,
) -> dict:
    """Fire ``trigger(i)`` for each tick at ``rate``/s; match receipts to ``seqs[i]``.

    Delivery runs from an event's birth to its last viewer: ``born[seq]`` (wall clock)
    where given, else the moment the trigger was sent.
    """
    starts: list[float] = []
    sent_wall: list[float] = []
    trigger_s: list[float] = []
    interval = 1.0 / rate
    next_at = time.monotonic() + 0.5
    for i in range(len(seqs)):
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        t0 = time.monotonic()
        sent_wall.append(time.time())
        trigger(i)
        trigger_s.append(time.monotonic() - t0)
        starts.append(t0)
        next_at = max(next_at + interval, time.monotonic())
        if i == warmup:
            cpu0 = pool.cpu_seconds()
            wall0 = time.monotonic()
    client_cpu = pool.cpu_seconds() - cpu0 if len(seqs) > warmup else 0.0
    wall = time.monotonic() - wall0 if len(seqs) > warmup else 0.0
    results = pool.collect(min(seqs), max(seqs), drain)
    viewers = sum(r.get("connected", 0) for r in results)
    merged: dict[int, list] = {}
    texts: dict[int, str] = {}
    for r in results:
        texts.update({int(k): v for k, v in r.get("texts", {}).items()})
        to_wall = r.get("wall_minus_monotonic", 0.0)
        for k, (count, first_t, last_t) in r["stats"].items():
            m = merged.setdefault(int(k), [0, first_t, last_t, last_t + to_wall])
            m[0] += count
            m[1], m[2] = min(m[1], first_t), max(m[2], last_t)
            m[3] = max(m[3], last_t + to_wall)
    born = born if born is not None else event_times(texts)
    latencies, first_latencies, delivery = [], [], []
    for i, seq in enumerate(seqs):
        if i < warmup or seq not in merged:
            continue
        latencies.append(merged[seq][2] - starts[i])
        first_latencies.append(merged[seq][1] - starts[i])
        # From the event's birth (recorded; or sent, for the baseline) to the last viewer:
        # fan-out alone, the request's own time left out.
        delivery.append(merged[seq][3] - born.get(seq, sent_wall[i]))
    received = sum(merged.get(seq, [0])[0] for seq in seqs)
    return {
        **summarize_ms(latencies),
        "delivery_p50_ms": summarize_ms(delivery)["p50_ms"],
        "delivery_p95_ms": summarize_ms(delivery)["p95_ms"],
        "lost": viewers * len(seqs) - received,
        "first_viewer_p50_ms": summarize_ms(first_latencies)["p50_ms"],
        "trigger_p50_ms": summarize_ms(trigger_s[warmup:])["p50_ms"],
        "trigger_p95_ms": summarize_ms(trigger_s[warmup:])["p95_ms"],
        "client_cpu_pct": round(100 * client_cpu / wall, 1) if wall else None,
        "viewers_connected": viewers,
        "closed_early": sum(r.get("closed_early", 0) for r in results),
        "close_codes": sorted({c for r in results for c in r.get("close_codes", [])}),
        "_texts": texts,
        "_wall": wall,
    }


def start_profiler(path: str, pid: int) -> subprocess.Popen:
    """py-spy (``pip install py-spy``) on the server during the ticks: folded stacks."""
    exe = os.path.join(os.path.dirname(sys.executable), "py-spy")
    cmd = [exe if os.path.exists(exe) else "py-spy", "record", "--pid", str(pid), "--format",
           "raw", "--output", path, "--rate", "250", "--threads", "--nonblocking"]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    return proc


def stop_profiler(proc: subprocess.Popen, path: str) -> None:
    proc.send_signal(2)
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
    log(f"profile (py-spy folded stacks) written to {path}")


def run_warroom(args, stack: Stack) -> dict:
    import httpx

    total = args.ticks + args.warmup
    team = stack.team_release(items_per_list=math.ceil(total / 3) + 1)
    release = team.release
    from checklists.models import ChecklistItem

    items = list(
        ChecklistItem.objects.filter(checklist__release=release, status="todo")
        .order_by("id")
        .values_list("pk", flat=True)[:total]
    )
    if len(items) < total:
        raise SystemExit(f"the release has only {len(items)} open items for {total} ticks")
    ticker, viewer = team.token("rm"), team.token("pm")
    first_seq = release.last_seq + 1
    server = stack.start_server()
    path = f"/ws/releases/{release.pk}/events"
    pool = ClientPool(
        server.ws + path, args.viewers, args.client_procs, args.concurrency, token=viewer
    )
    try:
        ready = pool.wait_ready()
        log(f"warroom: {ready['ready']} viewers connected in {ready['connect_s']}s", ready)
        time.sleep(1.0)
        note = "x" * max(0, args.note_bytes)
        http = httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {ticker}"})
        statuses: list[int] = []

        def tick(i: int) -> None:
            r = http.post(
                f"/api/releases/{release.pk}/items/{items[i]}",
                json={"status": "done", "note": note},
            )
            statuses.append(r.status_code)

        profiler = start_profiler(args.profile, server.proc.pid) if args.profile else None
        cpu0 = cpu_seconds(server.proc.pid)
        result = measure(
            pool, tick, [first_seq + i for i in range(total)],
            rate=args.rate, warmup=args.warmup, drain=args.drain,
        )  # fmt: skip
        server_cpu = cpu_seconds(server.proc.pid) - cpu0
        if profiler:
            stop_profiler(profiler, args.profile)
        http.close()
        bad = [s for s in statuses if s != 200]
        if bad:
            log(f"warroom: {len(bad)} ticks answered {sorted(set(bad))}")
        result["api_errors"] = len(bad)
        result["connect_failed"] = ready["failed"]
        result["server_cpu_ms_per_event"] = round(1000 * server_cpu / total, 2)
        result["server_cpu_us_per_delivery"] = round(
            1e6 * server_cpu / max(1, total * max(1, result["viewers_connected"])), 2
        )
        result["_seqs"] = [first_seq + i for i in range(total)]
        release.refresh_from_db()
        if release.last_seq != first_seq + total - 1:
            log(f"warning: expected last seq {first_seq + total - 1}, got {release.last_seq}")
        return result
    finally:
        pool.stop()
        server.stop()


def run_baseline(args, texts: dict[int, str], seqs: list[int]) -> dict:
    from websockets.sync.client import connect

    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.fanout", "--serve-baseline", str(port)], cwd=ROOT
    )
    pool = None
    cleanup = contextlib.ExitStack()
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                control = cleanup.enter_context(
                    connect(f"ws://127.0.0.1:{port}/control", compression=None)
                )
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise
                time.sleep(0.1)
        pool = ClientPool(
            f"ws://127.0.0.1:{port}/viewer", args.viewers, args.client_procs, args.concurrency
        )
        ready = pool.wait_ready()
        log(f"baseline: {ready['ready']} viewers connected in {ready['connect_s']}s")
        time.sleep(1.0)
        payloads = [texts.get(seq) or json.dumps({"seq": seq}) for seq in seqs]

        def trigger(i: int) -> None:
            control.send(payloads[i])
            control.recv()

        cpu0 = cpu_seconds(proc.pid)
        result = measure(
            pool, trigger, seqs, rate=args.rate, warmup=args.warmup, drain=args.drain, born={}
        )
        result["server_cpu_ms_per_event"] = round(
            1000 * (cpu_seconds(proc.pid) - cpu0) / len(seqs), 2
        )
        return result
    finally:
        cleanup.close()
        if pool:
            pool.stop()
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.fanout", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--viewers", type=int, default=1000)
    parser.add_argument("--ticks", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=2, help="ticks before measuring")
    parser.add_argument("--rate", type=float, default=5.0, help="ticks per second")
    parser.add_argument(
        "--note-bytes", type=int, default=605, help="tick note: pads events to ~800 wire bytes"
    )
    parser.add_argument("--client-procs", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=50, help="connects in flight per proc")
    parser.add_argument("--drain", type=float, default=15.0, help="seconds to wait for stragglers")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--profile", metavar="PATH", help="py-spy the server during the ticks")
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="pairs of (ours, baseline) run back to back; the median pair's figures are printed",
    )
    # internal roles
    parser.add_argument("--client", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--count", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--keep-texts", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--header", action="append", default=[], help=argparse.SUPPRESS)
    parser.add_argument("--serve-baseline", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.client:
        token = os.environ.get("BENCH_WS_TOKEN", "")
        auth = [f"Authorization: Bearer {token}"] if token else []
        headers = "".join(f"{h}\r\n" for h in [*args.header, *auth])
        _run_loop(run_clients(args.client, args.count, args.concurrency, args.keep_texts, headers))
        return 0
    if args.serve_baseline:
        raise_open_files()
        with contextlib.suppress(KeyboardInterrupt):
            _run_loop(serve_baseline(args.serve_baseline))
        return 0

    limit = raise_open_files()
    log(f"open-files limit {limit}")
    before = warn_if_busy()
    with Stack.from_args(args) as stack:  # one database and Redis; a release per round
        rounds = [one_round(args, stack) for _ in range(max(1, args.rounds))]
    out = rounds[0] if len(rounds) == 1 else _median_round(rounds)
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    if args.json:
        print(json.dumps(out))
    else:
        print(json.dumps(out, indent=2))
    return 0


def one_round(args, stack: Stack) -> dict:
    """Our server, then the bare baseline right after it with the same payloads."""
    ours = run_warroom(args, stack)
    out = {
        "viewers": args.viewers,
        "ticks": args.ticks,
        **{k: ours[k] for k in ("p50_ms", "p95_ms", "max_ms", "lost")},
        "delivery_p95_ms": ours["delivery_p95_ms"],
        "tick_request_p50_ms": ours["trigger_p50_ms"],
        "tick_request_p95_ms": ours["trigger_p95_ms"],
        "database": stack.database_label,
        "redis": stack.redis_label,
        "rate_per_s": args.rate,
        "client_procs": args.client_procs,
        "payload_bytes": round(
            sum(len(t.encode()) for t in ours["_texts"].values()) / max(1, len(ours["_texts"]))
        ),
        "detail": {k: v for k, v in ours.items() if not k.startswith("_")},
    }
    if not args.no_baseline:
        base = run_baseline(args, ours["_texts"], ours["_seqs"])
        keys = ("p50_ms", "p95_ms", "max_ms", "lost", "delivery_p95_ms")
        out["baseline"] = {k: base[k] for k in keys}
        out["baseline_detail"] = {k: v for k, v in base.items() if not k.startswith("_")}
        if out["delivery_p95_ms"] and base["delivery_p95_ms"]:
            # Fan-out against fan-out: each from the moment its trigger answered.
            out["ratio_p95"] = round(out["delivery_p95_ms"] / base["delivery_p95_ms"], 2)
        if out["p95_ms"] and base["p95_ms"]:
            # End to end, the tick request included (the baseline's trigger is a bare send).
            out["ratio_p95_end_to_end"] = round(out["p95_ms"] / base["p95_ms"], 2)
    log(f"round: ratio_p95 {out.get('ratio_p95')}, delivery p95 {out['delivery_p95_ms']} ms")
    return out


def _median_round(rounds: list[dict]) -> dict:
    """Several rounds: the one with the median ``ratio_p95`` (its figures, whole), every
    round's ratios beside it, and the losses summed over all of them."""
    ranked = sorted(rounds, key=lambda r: r.get("ratio_p95") or 0.0)
    out = dict(ranked[(len(ranked) - 1) // 2])
    out["rounds"] = len(rounds)
    out["ratio_p95_rounds"] = [r.get("ratio_p95") for r in rounds]
    out["ratio_p95_end_to_end_rounds"] = [r.get("ratio_p95_end_to_end") for r in rounds]
    out["lost"] = sum(r["lost"] for r in rounds)
    if "baseline" in out:
        out["baseline"] = {**out["baseline"], "lost": sum(r["baseline"]["lost"] for r in rounds)}
    return out


def _run_loop(coro) -> None:
    try:
        import uvloop

        uvloop.run(coro)
    except ImportError:
        asyncio.run(coro)


if __name__ == "__main__":
    sys.exit(main())
