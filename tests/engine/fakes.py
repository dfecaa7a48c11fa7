"""Local servers the engine's tests point executors at: real sockets, real HTTP.

``Service`` is an application under deployment: a health endpoint and a change
endpoint that honours ``Idempotency-Key`` (the same key applies once), with scripted
trouble — a 503, a 429 with Retry-After, an answer slower than the caller waits.
``Exporter`` is a Prometheus scrape target whose error rate the test sets.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Server:
    def __init__(self) -> None:
        handler = self._handler()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.port = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self):
        raise NotImplementedError

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class JsonHandler(BaseHTTPRequestHandler):
    """A request handler answering JSON, reaching its server object as ``owner``."""

    def log_message(self, *args) -> None:
        pass

    @property
    def owner(self):
        return self.server.owner  # type: ignore[attr-defined]

    def _answer(self, status: int, body: dict, headers: dict | None = None) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the caller gave up waiting (a timeout under test)


class _ServiceHandler(JsonHandler):
    @property
    def service(self) -> Service:
        return self.owner

    def _trouble(self) -> bool:
        service = self.service
        with service.lock:
            service.hits[self.path] += 1
            bad = service.trouble.pop(0) if service.trouble else None
        if service.slow:
            time.sleep(service.slow)
        if bad is not None:
            status, headers = bad
            self._answer(status, {"error": "scripted"}, headers)
            return True
        return False

    def do_GET(self) -> None:
        if self._trouble():
            return
        s = self.service
        self._answer(200, {"status": "ok", "version": s.version, "db": {"up": True}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = {}  # a form-encoded API call (AWS's query protocol)
        if self._trouble():
            return
        service = self.service
        key = self.headers.get("Idempotency-Key", "")
        with service.lock:
            if not key or key not in service.keys:
                service.keys.add(key)
                service.applied[self.path] += 1
                service.version = body.get("version", service.version)
        self._answer(200, {"applied": True, "version": service.version})


class Service(_Server):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.trouble: list[tuple[int, dict]] = []  # answers to give before the good ones
        self.slow = 0.0
        self.hits: Counter[str] = Counter()
        self.applied: Counter[str] = Counter()  # side effects, by what was changed
        self.keys: set[str] = set()
        self.version = "v1"
        super().__init__()

    def _handler(self):
        return _ServiceHandler


class Exporter(_Server):
    """A /metrics target: ``http_requests_total`` by code, which the test moves."""

    def __init__(self) -> None:
        self.ok = 0.0
        self.errors = 0.0
        self.scrapes = 0
        super().__init__()

    def _handler(self):
        exporter = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                exporter.scrapes += 1
                text = (
                    "# TYPE http_requests_total counter\n"
                    f'http_requests_total{{code="200"}} {exporter.ok}\n'
                    f'http_requests_total{{code="500"}} {exporter.errors}\n'
                    "# TYPE app_error_ratio gauge\n"
                    f"app_error_ratio {exporter.ratio()}\n"
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

        return Handler

    def ratio(self) -> float:
        total = self.ok + self.errors
        return self.errors / total if total else 0.0

    def set_error_ratio(self, ratio: float, total: float = 1000.0) -> None:
        self.ok, self.errors = total * (1 - ratio), total * ratio
