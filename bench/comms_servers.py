"""Local servers speaking the Web APIs Warroom's transports call, with their faults.

Slack and a hosted status page cannot be reached from a test machine, so these speak
their documented protocols on loopback and the real client libraries (slack-sdk, httpx)
are pointed at them by their base-URL settings. Each server keeps what it accepted, so a
test counts deliveries at the far end, and injects faults on request:

- ``"429"``: rate limited, with ``Retry-After`` (nothing stored);
- ``"500"``, ``"502"``, ``"503"``, ``"504"``: a server error before acceptance;
- ``"500-after"``: accepted and stored, then answered 500;
- ``"timeout-after"``: accepted and stored, then no answer until the client gave up;
- ``"drop-after"``: accepted and stored, then the connection closed without an answer;
- ``outage(seconds)``: every request answers 503 until it ends.

Used by the tests and by ``bench.comms``.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections import Counter, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

ACCEPT_THEN_FAIL = {"500-after", "timeout-after", "drop-after"}


class FaultyServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    #: Methods (Slack) or verbs (status page) whose requests the queued faults hit.
    faulted: tuple[str, ...] = ()

    def __init__(self, handler) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.lock = threading.Lock()
        self.faults: deque[str] = deque()
        self.outage_until = 0.0
        self.retry_after = 1
        self.hang_seconds = 3.0
        self.calls: Counter = Counter()
        self.now = time.monotonic  # a test may put the outage on its own clock
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server_address[1]

    def start(self):
        self.thread.start()
        return self

    def stop(self) -> None:
        self.shutdown()
        self.server_close()

    def inject(self, *faults: str) -> None:
        with self.lock:
            self.faults.extend(faults)

    def outage(self, seconds: float) -> None:
        self.outage_until = self.now() + seconds

    def next_fault(self, name: str) -> str:
        """The fault for this request ("" for none): outages hit everything, queued
        faults the faulted methods."""
        with self.lock:
            self.calls[name] += 1
            if self.now() < self.outage_until:
                return "503"
            if name in self.faulted and self.faults:
                return self.faults.popleft()
        return ""


class Handler(BaseHTTPRequestHandler):
    server: FaultyServer
    protocol_version = "HTTP/1.1"
    # Headers and body leave in separate writes: without TCP_NODELAY a kept-alive client
    # (httpx's pool) waits out a delayed ACK, ~40 ms per request, which no real API adds.
    disable_nagle_algorithm = True

    def log_message(self, *args) -> None:  # quiet
        pass

    def body(self) -> dict:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if "json" in (self.headers.get("Content-Type") or ""):
            return json.loads(raw or b"{}")
        return dict(parse_qsl(raw.decode()))

    def answer(self, status: int, payload, headers: dict | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, str(v))
        self.end_headers()
        self.wfile.write(data)

    def refuse(self, fault: str) -> bool:
        """Answer a fault that comes before acceptance; True when answered."""
        if fault == "429":
            self.answer(429, {"ok": False, "error": "ratelimited"},
                        {"Retry-After": self.server.retry_after})  # fmt: skip
            return True
        if fault in ("500", "502", "503", "504"):
            self.answer(int(fault), {"ok": False, "error": "service_unavailable"})
            return True
        return False

    def after_accepting(self, fault: str, status: int, payload) -> None:
        if fault == "500-after":
            self.answer(500, {"ok": False, "error": "internal_error"})
        elif fault == "timeout-after":
            time.sleep(self.server.hang_seconds)
            self.close_connection = True
        elif fault == "drop-after":
            self.close_connection = True
        else:
            self.answer(status, payload)


# --- Slack ---------------------------------------------------------------------------
class SlackServer(FaultyServer):
    """``chat.postMessage``, ``chat.update``, ``conversations.history``,
    ``conversations.replies``, ``conversations.open`` (a direct message's conversation,
    ``D`` + the user's ID) and ``users.lookupByEmail`` (from :attr:`users`, email -> user
    ID) of Slack's Web API, at ``base_url``."""

    faulted = ("chat.postMessage",)

    def __init__(self, token: str = "xoxb-test") -> None:
        super().__init__(SlackHandler)
        self.token = token
        self.messages: list[dict] = []
        self.updates: list[dict] = []
        self.responses: list[dict] = []  # answers posted to a command's response_url
        self.users: dict[str, str] = {}
        self._ts = itertools.count(1)

    def direct_messages(self) -> dict[str, Counter]:
        """Per user, how many times each delivery key arrived by direct message."""
        found: dict[str, Counter] = {}
        with self.lock:
            for m in self.messages:
                if m["channel"].startswith("D"):
                    key = ((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                    found.setdefault(m["channel"][1:], Counter())[key] += 1
        return found

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/"

    def response_url(self, name: str) -> str:
        """A ``response_url`` as Slack gives one with a command, answered here."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def new_ts(self) -> str:
        return f"{int(time.time())}.{next(self._ts):06d}"

    def messages_keys(self) -> list:
        return [((m.get("metadata") or {}).get("event_payload") or {}).get("key")
                for m in self.messages]  # fmt: skip

    def per_key(self) -> Counter:
        """How many times each delivery key arrived (exactly once means all 1)."""
        return Counter(
            ((m.get("metadata") or {}).get("event_payload") or {}).get("key") for m in self.messages
        )


class SlackHandler(Handler):
    server: SlackServer

    def do_POST(self) -> None:
        if self.path.startswith("/response/"):
            with self.server.lock:
                self.server.responses.append({"url": self.path, **self.body()})
            self.answer(200, {"ok": True})
            return
        method = urlsplit(self.path).path.rsplit("/", 1)[-1]
        args = {**dict(parse_qsl(urlsplit(self.path).query)), **self.body()}
        fault = self.server.next_fault(method)
        if self.refuse(fault):
            return
        if self.headers.get("Authorization") != f"Bearer {self.server.token}":
            self.answer(200, {"ok": False, "error": "invalid_auth"})
            return
        handler = {
            "chat.postMessage": self.post_message,
            "chat.update": self.update,
            "conversations.history": self.history,
            "conversations.replies": self.replies,
            "conversations.open": self.open_conversation,
            "users.lookupByEmail": self.lookup_by_email,
        }.get(method)
        if handler is None:
            self.answer(200, {"ok": False, "error": "unknown_method"})
            return
        handler(args, fault)

    do_GET = do_POST

    def post_message(self, args: dict, fault: str) -> None:
        if not args.get("channel"):
            self.answer(200, {"ok": False, "error": "channel_not_found"})
            return
        meta = args.get("metadata")
        message = {
            "type": "message",
            "channel": args["channel"],
            "ts": self.server.new_ts(),
            "text": args.get("text", ""),
            "blocks": args.get("blocks") or [],
            "thread_ts": args.get("thread_ts") or None,
            "metadata": json.loads(meta) if isinstance(meta, str) else meta,
        }
        with self.server.lock:
            self.server.messages.append(message)
        self.after_accepting(fault, 200, {"ok": True, "channel": args["channel"],
                                          "ts": message["ts"], "message": message})  # fmt: skip

    def open_conversation(self, args: dict, fault: str) -> None:
        users = [u for u in str(args.get("users") or "").split(",") if u]
        if len(users) != 1 or not users[0].startswith(("U", "W")):
            self.answer(200, {"ok": False, "error": "user_not_found"})
            return
        self.answer(200, {"ok": True, "channel": {"id": f"D{users[0]}", "is_im": True}})

    def lookup_by_email(self, args: dict, fault: str) -> None:
        user = self.server.users.get(str(args.get("email") or "").lower())
        if user is None:
            self.answer(200, {"ok": False, "error": "users_not_found"})
            return
        self.answer(200, {"ok": True, "user": {"id": user, "profile": {"email": args["email"]}}})

    def update(self, args: dict, fault: str) -> None:
        with self.server.lock:
            found = [m for m in self.server.messages if m["ts"] == args.get("ts")]
            if not found:
                self.answer(200, {"ok": False, "error": "message_not_found"})
                return
            found[0]["text"] = args.get("text", "")
            found[0]["blocks"] = args.get("blocks") or []
            self.server.updates.append({"ts": args["ts"], "text": args.get("text", "")})
        self.answer(200, {"ok": True, "channel": args.get("channel"), "ts": args["ts"]})

    def _listed(self, rows: list[dict], args: dict) -> None:
        with_meta = str(args.get("include_all_metadata", "")).lower() in ("1", "true")
        out = [m if with_meta else {k: v for k, v in m.items() if k != "metadata"} for m in rows]
        self.answer(200, {"ok": True, "messages": out, "has_more": False})

    def history(self, args: dict, fault: str) -> None:
        with self.server.lock:
            rows = [m for m in self.server.messages
                    if m["channel"] == args.get("channel") and not m["thread_ts"]]  # fmt: skip
        self._listed(list(reversed(rows)), args)

    def replies(self, args: dict, fault: str) -> None:
        ts = args.get("ts")
        with self.server.lock:
            rows = [m for m in self.server.messages
                    if m["channel"] == args.get("channel")
                    and (m["ts"] == ts or m["thread_ts"] == ts)]  # fmt: skip
        self._listed(rows, args)


# --- a Statuspage-compatible API -------------------------------------------------------
class StatusPageServer(FaultyServer):
    """Incidents of an Atlassian Statuspage-style API (``/v1/pages/{page}/incidents``)."""

    faulted = ("POST", "PATCH")

    def __init__(self, page_id: str = "page1", api_key: str = "sp-key") -> None:
        super().__init__(StatusPageHandler)
        self.page_id, self.api_key = page_id, api_key
        self.incidents: dict[str, dict] = {}
        self._ids = itertools.count(1)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1/"

    def updates(self) -> list[str]:
        return [u["body"] for i in self.incidents.values() for u in i["incident_updates"]]


class StatusPageHandler(Handler):
    server: StatusPageServer

    def route(self, verb: str) -> None:
        parts = urlsplit(self.path).path.strip("/").split("/")
        fields = (self.body().get("incident") or {}) if verb in ("POST", "PATCH") else {}
        fault = self.server.next_fault(verb)
        if self.refuse(fault):
            return
        if self.headers.get("Authorization") != f"OAuth {self.server.api_key}":
            self.answer(401, {"error": "Could not authenticate"})
            return
        if parts[:3] != ["v1", "pages", self.server.page_id] or parts[3:4] != ["incidents"]:
            self.answer(404, {"error": "Not found"})
            return
        incident_id = parts[4] if len(parts) > 4 else None
        if verb == "POST" and incident_id is None:
            self.create(fields, fault)
        elif verb == "PATCH" and incident_id:
            self.change(incident_id, fields, fault)
        elif verb == "GET":
            with self.server.lock:
                if incident_id is None:
                    self.answer(200, list(reversed(self.server.incidents.values())))
                elif incident_id in self.server.incidents:
                    self.answer(200, self.server.incidents[incident_id])
                else:
                    self.answer(404, {"error": "Not found"})
        else:
            self.answer(405, {"error": "Method not allowed"})

    def create(self, fields: dict, fault: str) -> None:
        if not fields.get("name"):
            self.answer(422, {"error": "name can't be blank"})
            return
        incident_id = f"inc{next(self.server._ids)}"
        update = {"status": fields.get("status", "scheduled"), "body": fields.get("body", "")}
        incident = {"id": incident_id, "name": fields["name"], "status": update["status"],
                    "metadata": fields.get("metadata") or {}, "incident_updates": [update],
                    "scheduled_for": fields.get("scheduled_for")}  # fmt: skip
        with self.server.lock:
            self.server.incidents[incident_id] = incident
        self.after_accepting(fault, 201, incident)

    def change(self, incident_id: str, fields: dict, fault: str) -> None:
        with self.server.lock:
            incident = self.server.incidents.get(incident_id)
            if incident is None:
                self.answer(404, {"error": "Not found"})
                return
            incident["status"] = fields.get("status", incident["status"])
            if fields.get("body"):
                incident["incident_updates"].append(
                    {"status": incident["status"], "body": fields["body"]}
                )
        self.after_accepting(fault, 200, incident)

    def do_GET(self) -> None:
        self.route("GET")

    def do_POST(self) -> None:
        self.route("POST")

    def do_PATCH(self) -> None:
        self.route("PATCH")


# --- a signed-webhook receiver ---------------------------------------------------------
class WebhookServer(FaultyServer):
    """Receives Warroom's signed webhooks at ``url``: checks each signature with
    ``secret`` (401 when it does not verify) and keeps what it accepted, in order."""

    faulted = ("POST",)

    def __init__(self, secret: str = "whsec-test") -> None:
        super().__init__(WebhookHandler)
        self.secret = secret
        self.received: list[dict] = []  # every accepted request, repeats included
        self.refused = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/warroom"

    def per_id(self) -> Counter:
        """How many times each delivery id was accepted."""
        return Counter(r["id"] for r in self.received)


class WebhookHandler(Handler):
    server: WebhookServer

    def do_POST(self) -> None:
        import hashlib
        import hmac

        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        fault = self.server.next_fault("POST")
        if self.refuse(fault):
            return
        ts = self.headers.get("X-Warroom-Timestamp", "")
        mac = hmac.new(self.server.secret.encode(), ts.encode() + b"." + raw, hashlib.sha256)
        if not hmac.compare_digest(
            "v1=" + mac.hexdigest(), self.headers.get("X-Warroom-Signature", "")
        ):
            with self.server.lock:
                self.server.refused += 1
            self.answer(401, {"error": "bad signature"})
            return
        with self.server.lock:
            self.server.received.append(
                {"id": self.headers.get("X-Warroom-Delivery"), "ts": ts, **json.loads(raw)}
            )
        self.after_accepting(fault, 200, {"ok": True})
