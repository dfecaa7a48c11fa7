"""A local HTTP server that speaks PagerDuty's Events API v2, for tests and benchmarks.

``POST /v2/enqueue`` with ``{"routing_key", "event_action", "dedup_key", "payload"}``:
202 ``{"status": "success", "message": "Event processed", "dedup_key"}`` when the event
is valid; 400 ``{"status": "invalid event", "message": "Event object is invalid",
"errors": [...]}`` when it is not (a routing key that is not 32 characters, an unknown
action, a trigger without summary/source/severity). It keeps incidents by dedup key, as
PagerDuty does (a second trigger with the same key joins the open incident), and counts
every request. ``fail_next(status, n, retry_after)`` makes the next ``n`` requests
answer 429 or 5xx, to exercise retries.

Connections are kept alive (HTTP/1.1, as PagerDuty's are), and each answer leaves in one
segment. ``latency`` (seconds) delays every answer, standing in for the round trip to
PagerDuty's servers (0 by default: a local server).

The real service is remote: it takes no CPU from the process that sends to it. A benchmark
runs this server in a process of its own (:class:`EventsServerProcess`, ``python -m
bench.pagerduty_server``) and reads its counts back from it over ``GET /_received``; tests
may run it in their own process (:class:`EventsServer`).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACTIONS = {"trigger", "acknowledge", "resolve"}
SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class Received:
    at: float
    action: str
    dedup_key: str
    routing_key: str
    summary: str


@dataclass
class State:
    lock: threading.Lock = field(default_factory=threading.Lock)
    accepted: list[Received] = field(default_factory=list)
    refused: int = 0
    failed: int = 0
    incidents: dict[str, str] = field(default_factory=dict)  # dedup key -> open/resolved
    alerts: list[str] = field(default_factory=list)  # dedup keys, one per alert opened
    failures: list[tuple[int, str | None]] = field(default_factory=list)


def _problems(body: dict) -> list[str]:
    errors = []
    key = body.get("routing_key")
    if not isinstance(key, str) or len(key) != 32:
        errors.append("'routing_key' must be 32 characters")
    if body.get("event_action") not in ACTIONS:
        errors.append("'event_action' is invalid")
    if body.get("event_action") == "trigger":
        payload = body.get("payload") or {}
        if not payload.get("summary"):
            errors.append("'payload.summary' is missing or blank")
        if not payload.get("source"):
            errors.append("'payload.source' is missing or blank")
        if payload.get("severity") not in SEVERITIES:
            errors.append("'payload.severity' is invalid")
    elif not body.get("dedup_key"):
        errors.append("'dedup_key' is required for acknowledge and resolve")
    return errors


class Handler(BaseHTTPRequestHandler):
    server: EventsServer
    protocol_version = "HTTP/1.1"  # keep-alive: a client's pool reuses its connections
    disable_nagle_algorithm = True
    wbufsize = 65536  # headers and body in one write (no delayed-ACK stall)

    def log_message(self, *args) -> None:  # quiet
        pass

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        """``/_received``: what this server accepted (and its alerts, refusals, failures),
        for the process that started it to count at the end."""
        if self.path != "/_received":
            self._answer(404, {"status": "not found"})
            return
        state = self.server.state
        with state.lock:
            body = {
                "accepted": [asdict(r) for r in state.accepted],
                "alerts": list(state.alerts),
                "refused": state.refused,
                "failed": state.failed,
            }
        self._answer(200, body)

    def do_POST(self) -> None:
        state = self.server.state
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.server.latency:
            time.sleep(self.server.latency)
        if self.path != "/v2/enqueue":
            self._answer(404, {"status": "not found"})
            return
        with state.lock:
            failure = state.failures.pop(0) if state.failures else None
            if failure is not None:
                state.failed += 1
        if failure is not None:
            status, retry_after = failure
            headers = {"Retry-After": retry_after} if retry_after else {}
            message = "Too many requests" if status == 429 else "Internal error"
            self._answer(status, {"status": "error", "message": message}, headers)
            return
        try:
            body = json.loads(raw)
            errors = _problems(body) if isinstance(body, dict) else ["body must be an object"]
        except ValueError:
            body, errors = {}, ["body is not JSON"]
        if errors:
            with state.lock:
                state.refused += 1
            self._answer(
                400,
                {"status": "invalid event", "message": "Event object is invalid", "errors": errors},
            )
            return
        action = body["event_action"]
        key = body.get("dedup_key") or f"auto-{len(state.accepted)}"
        with state.lock:
            state.accepted.append(
                Received(
                    time.time(),
                    action,
                    key,
                    body["routing_key"],
                    (body.get("payload") or {}).get("summary", ""),
                )
            )
            if action == "trigger":
                if state.incidents.get(key) != "open":
                    state.alerts.append(key)  # a new alert; a repeat of an open one is merged
                state.incidents[key] = "open"
            elif action == "resolve" and key in state.incidents:
                state.incidents[key] = "resolved"
        self._answer(202, {"status": "success", "message": "Event processed", "dedup_key": key})


class EventsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int = 0, *, latency: float = 0.0):
        super().__init__(("127.0.0.1", port), Handler)
        self.state = State()
        self.latency = latency
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def start(self) -> EventsServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def fail_next(self, status: int, n: int = 1, retry_after: str | None = None) -> None:
        with self.state.lock:
            self.state.failures += [(status, retry_after)] * n

    def triggers(self) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.accepted if r.action == "trigger"]

    def alerts(self) -> list[str]:
        """The alerts PagerDuty opened (what on-call people are paged for): a trigger whose
        dedup key already has an open alert is merged into it, as PagerDuty does."""
        with self.state.lock:
            return list(self.state.alerts)

    def resolves(self) -> list[Received]:
        with self.state.lock:
            return [r for r in self.state.accepted if r.action == "resolve"]


class EventsServerProcess:
    """An :class:`EventsServer` in a process of its own, as PagerDuty is remote: its threads
    take no share of the interpreter of the process that sends to it. Its counts are its
    own, read back over HTTP (``GET /_received``)."""

    def __init__(self, *, latency: float = 0.0) -> None:
        self.latency = latency
        self.url = ""
        self._proc: subprocess.Popen | None = None

    def start(self) -> EventsServerProcess:
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "bench.pagerduty_server", "--latency", str(self.latency)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline().strip()  # its URL, once it listens
        if not line.startswith("http://"):
            self.stop()
            raise RuntimeError(f"the PagerDuty server did not start: {line!r}")
        self.url = line
        return self

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(timeout=10)
            self._proc = None

    def _received(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_received", timeout=30) as resp:
            return json.loads(resp.read())

    def accepted(self) -> list[Received]:
        return [Received(**r) for r in self._received()["accepted"]]

    def triggers(self) -> list[Received]:
        return [r for r in self.accepted() if r.action == "trigger"]

    def alerts(self) -> list[str]:
        return list(self._received()["alerts"])

    def resolves(self) -> list[Received]:
        return [r for r in self.accepted() if r.action == "resolve"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.pagerduty_server", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.0)
    args = parser.parse_args(argv)
    server = EventsServer(args.port, latency=args.latency)
    print(server.url, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
