"""Page latency: the war room and the board of a 300-item release beside a trivial view.

    python -m bench.http --json

One uvicorn process (as ``make run`` starts it); ``--concurrency`` keep-alive
connections from a lean asyncio HTTP/1.1 client (raw streams, so the client
spends little of the 2 cores the server also needs) hammer one URL at a time
for ``--duration`` seconds after a short warm-up. The war room and the board
are fetched with a logged-in session (the release manager); ``/healthz`` is the
trivial Django view (one ``SELECT 1``) that shows the server's floor. ``ratio_rps_*``
is a page's requests per second over the trivial view's, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time

from bench._stack import (
    Stack,
    add_stack_arguments,
    log,
    machine,
    raise_open_files,
    summarize_ms,
    warn_if_busy,
)


async def _fetch(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes):
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    headers = head.lower()
    if b"\r\ncontent-length:" in headers:
        start = headers.index(b"\r\ncontent-length:") + 17
        length = int(headers[start : headers.index(b"\r\n", start)])
        body = await reader.readexactly(length)
    elif b"transfer-encoding: chunked" in headers:
        chunks = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip(), 16)
            chunks.append(await reader.readexactly(size + 2))
            if size == 0:
                break
        body = b"".join(chunks)
    else:
        body = await reader.read()
    return status, len(body)


async def load(
    host: str, port: int, path: str, cookie: str, *, concurrency: int, duration: float,
    warmup: float,
) -> dict:  # fmt: skip
    """Keep ``concurrency`` requests in flight for ``warmup + duration`` seconds (and
    until each client has measured one request)."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nCookie: {cookie}\r\n"
        "Accept: text/html\r\nConnection: keep-alive\r\n\r\n"
    ).encode()
    latencies: list[float] = []
    errors: dict[str, int] = {}
    sizes: list[int] = []
    t_start = time.monotonic()
    t_measure = t_start + warmup
    t_end = t_measure + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port, limit=2**22)
        measured = 0
        try:
            while True:
                t0 = time.monotonic()
                # Each client measures at least one request, however slow the machine.
                if t0 >= t_end and measured:
                    return
                status, size = await _fetch(reader, writer, request)
                t1 = time.monotonic()
                if status != 200:
                    errors[str(status)] = errors.get(str(status), 0) + 1
                if t0 >= t_measure:
                    measured += 1
                    latencies.append(t1 - t0)
                    sizes.append(size)
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.monotonic() - t_measure
    return {
        "p50_ms": summarize_ms(latencies)["p50_ms"],
        "p95_ms": summarize_ms(latencies)["p95_ms"],
        "rps": round(len(latencies) / elapsed, 1) if elapsed > 0 else None,
        "requests": len(latencies),
        "errors": errors,
        "bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.http", description=__doc__.split("\n")[0]
    )
    add_stack_arguments(parser)
    parser.add_argument("--items", type=int, default=300, help="checklist items in the release")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per URL")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds before measuring")
    args = parser.parse_args(argv)
    raise_open_files()
    before = warn_if_busy()

    with Stack.from_args(args) as stack:
        # team_plan(k) has 3k + 3 items: three lists of k, a roll call and two gate items.
        team = stack.team_release(items_per_list=max(1, (args.items - 3 + 2) // 3))
        release = team.release
        from checklists.models import ChecklistItem

        items = ChecklistItem.objects.filter(checklist__release=release).count()
        cookie = "; ".join(f"{k}={v}" for k, v in stack.session_cookie(team["rm"]).items())
        server = stack.start_server()
        urls = {
            "warroom": f"/releases/{release.pk}/",
            "board": f"/releases/{release.pk}/board/",
            "trivial": "/healthz",
        }
        out: dict = {"items": items, "concurrency": args.concurrency,
                     "database": stack.database_label, "redis": stack.redis_label}  # fmt: skip
        for name, path in urls.items():
            log(f"{name}: GET {path} x{args.concurrency} for {args.duration}s")
            result = asyncio.run(
                load("127.0.0.1", server.port, path, cookie, concurrency=args.concurrency,
                     duration=args.duration, warmup=args.warmup)
            )  # fmt: skip
            log(f"{name}: {result}")
            if result["errors"]:
                log(f"{name}: non-200 answers {result['errors']}")
            out[name] = result
        server.stop()
    for name in ("warroom", "board"):
        base, ours = out["trivial"]["p95_ms"], out[name]["p95_ms"]
        out[f"ratio_p95_{name}"] = round(ours / base, 2) if base and ours else None
        # Throughput beside the trivial view's (targets: war room >= 0.25, board >= 0.5).
        base, ours = out["trivial"]["rps"], out[name]["rps"]
        out[f"ratio_rps_{name}"] = round(ours / base, 3) if base and ours else None
    out["machine"] = {**before, "load_1m_after": machine()["load_1m"]}
    print(json.dumps(out) if args.json else json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
