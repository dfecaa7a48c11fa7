"""PagerDuty Events API v2 (``POST /v2/enqueue``) through httpx.

A trigger opens (or, with the same ``dedup_key``, joins) an incident; a resolve closes it.
PagerDuty answers 202 when it took the event, 400 ``{"status": "invalid event"}`` for an
event it will never take (a routing key that is not 32 characters, say), 429 when the
integration sends too fast and 5xx when it is unwell: the last two are retried here with
backoff (honouring ``Retry-After``); what is still failing is left to the next tick.

:meth:`PagerDuty.send_many` sends a batch at once from a few threads over the one
client's connection pool (``PAGERDUTY_CONCURRENCY`` connections, kept alive);
:meth:`PagerDuty.start_many` hands a batch to those threads and returns at once, so a
caller goes on with its own work (the tick writes its next chunk) while they send.
"""

from __future__ import annotations

import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from django.conf import settings

ROUTING_KEY_LENGTH = 32
SEVERITIES = {"critical": "critical", "high": "error", "medium": "warning", "low": "info"}


@dataclass(frozen=True)
class Event:
    """One Events v2 message: what :meth:`PagerDuty.send` takes."""

    routing_key: str
    action: str
    dedup_key: str
    summary: str = ""
    severity: str = "critical"


@dataclass(frozen=True)
class Outcome:
    ok: bool
    retry: bool  # worth trying again later (429, 5xx, no answer)
    status: int | None
    message: str


class PagerDuty:
    """Sends Events v2 messages to ``base_url`` (``PAGERDUTY_EVENTS_URL``)."""

    def __init__(
        self,
        base_url: str | None = None,
        *,
        attempts: int = 3,
        timeout: float = 5.0,
        max_wait: float = 2.0,
        client: httpx.Client | None = None,
        concurrency: int | None = None,
    ):
        self.url = (base_url or settings.PAGERDUTY_EVENTS_URL).rstrip("/") + "/v2/enqueue"
        self.attempts = attempts
        self.max_wait = max_wait
        self.concurrency = max(1, concurrency or settings.PAGERDUTY_CONCURRENCY)
        limits = httpx.Limits(
            max_connections=self.concurrency, max_keepalive_connections=self.concurrency
        )
        self.client = client or httpx.Client(timeout=timeout, limits=limits)
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        """Wait for what was started, then close the threads and the connections."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
        self.client.close()

    def send_many(self, events: list[Event]) -> list[Outcome]:
        """Send ``events`` at once (each with its own retries); outcomes in their order."""
        if len(events) <= 1 or self.concurrency == 1:
            return [self.send(**vars(e)) for e in events]
        return [f.result() for f in self.start_many(events)]

    def start_many(self, events: list[Event]) -> list[Future[Outcome]]:
        """Start sending ``events`` on the transport's threads (``PAGERDUTY_CONCURRENCY``,
        one pool kept until :meth:`close`) and return at once: one future per event, in
        their order. Batches started one after another share the threads and queue
        behind each other in the order they were started."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="pagerduty")
        return [self._pool.submit(self._send_event, e) for e in events]

    def _send_event(self, event: Event) -> Outcome:
        return self.send(**vars(event))

    def send(
        self,
        *,
        routing_key: str,
        action: str,
        dedup_key: str,
        summary: str = "",
        severity: str = "critical",
        source: str = "warroom",
    ) -> Outcome:
        body: dict = {"routing_key": routing_key, "event_action": action, "dedup_key": dedup_key}
        if action == "trigger":
            body["payload"] = {
                "summary": summary[:1024] or dedup_key,
                "source": source,
                "severity": SEVERITIES.get(severity, severity),
            }
        last = Outcome(False, True, None, "not sent")
        for attempt in range(self.attempts):
            try:
                resp = self.client.post(self.url, json=body)
            except httpx.HTTPError as exc:
                last = Outcome(False, True, None, f"{type(exc).__name__}: {exc}")
                self._wait(attempt, None)
                continue
            if resp.status_code == 202:
                return Outcome(True, False, 202, "accepted")
            message = _message(resp)
            if resp.status_code == 429 or resp.status_code >= 500:
                last = Outcome(False, True, resp.status_code, message)
                self._wait(attempt, resp.headers.get("Retry-After"))
                continue
            return Outcome(False, False, resp.status_code, message)
        return last

    def _wait(self, attempt: int, retry_after: str | None) -> None:
        if attempt == self.attempts - 1:
            return
        try:
            wait = float(retry_after) if retry_after else 0.1 * 2**attempt
        except ValueError:
            wait = 0.1 * 2**attempt
        time.sleep(min(max(wait, 0.0), self.max_wait))


def _message(resp: httpx.Response) -> str:
    try:
        data = resp.json()
    except ValueError:
        return f"{resp.status_code}: {resp.text[:200]}"
    errors = "; ".join(str(e) for e in data.get("errors") or [])
    return (
        f"{resp.status_code} {data.get('status', '')}: {data.get('message', '')} {errors}".strip()
    )
