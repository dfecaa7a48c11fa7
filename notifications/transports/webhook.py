"""Signed webhooks: each message POSTed as JSON to ``WEBHOOK_URL`` for anything else
(a chat bridge, an incident tool, a script).

The receiver verifies ``X-Warroom-Signature: v1=<hex>``, HMAC-SHA256 with
``WEBHOOK_SECRET`` over ``{X-Warroom-Timestamp}.{body}``, and refuses an old timestamp.
A webhook has no way to ask the far end whether an earlier attempt arrived, so every
attempt carries the same ``X-Warroom-Delivery`` (the delivery's idempotency key, also
``id`` in the body): a receiver that keeps the ids it has seen takes each message once.
429 and 5xx are retried (honouring ``Retry-After``), as are timeouts and dropped
connections; any other 4xx is refused and shown.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import json
from typing import ClassVar

import httpx
from django.conf import settings

from notifications.render import Content
from notifications.transports.base import Refused, Retry, Transport
from warroom import clock
from warroom.audit import release_model


@functools.lru_cache(maxsize=4)
def _client(timeout: float) -> httpx.Client:
    """One client (and its connection pool) per process."""
    return httpx.Client(timeout=timeout, follow_redirects=False)


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The ``X-Warroom-Signature`` value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


class WebhookTransport(Transport):
    channel: ClassVar[str] = "webhook"
    setting: ClassVar[str] = "WEBHOOK_ENABLED"

    @classmethod
    def disabled(cls) -> str:
        off = super().disabled()
        if off:
            return off
        if not settings.WEBHOOK_URL:
            return "webhook has no address (WEBHOOK_URL)"
        if not settings.WEBHOOK_SECRET:
            return "webhook has no signing secret (WEBHOOK_SECRET)"
        return ""

    def send(self, delivery, content: Content) -> str:
        message = delivery.message
        release = release_model().objects.get(pk=message.release_id)
        body = json.dumps(
            {
                "id": delivery.key,
                "release": {"id": release.pk, "name": release.name, "version": release.version},
                "subject": content.subject,
                "text": content.text,
                "status_update": content.status_update,
                "due_at": message.due_at.isoformat(),
                "cause": message.cause,
            },
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode()
        ts = str(int(clock.now().timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "Warroom-Webhook/1",
            "X-Warroom-Delivery": delivery.key,
            "X-Warroom-Timestamp": ts,
            "X-Warroom-Signature": sign(settings.WEBHOOK_SECRET, ts, body),
        }
        try:
            r = _client(settings.WEBHOOK_TIMEOUT).post(
                settings.WEBHOOK_URL, content=body, headers=headers
            )
        except httpx.TimeoutException as e:
            raise Retry(f"webhook timed out: {type(e).__name__}") from e
        except httpx.TransportError as e:
            raise Retry(f"webhook unreachable: {type(e).__name__}: {e}") from e
        if r.status_code == 429 or r.status_code >= 500:
            after = r.headers.get("Retry-After", "")
            raise Retry(
                f"webhook answered {r.status_code}",
                after=float(after) if after.replace(".", "", 1).isdigit() else None,
            )
        if r.status_code >= 300:
            raise Refused(f"webhook refused ({r.status_code}): {r.text[:200]}")
        return f"{r.status_code} {r.headers.get('X-Request-Id', '')}".strip()
