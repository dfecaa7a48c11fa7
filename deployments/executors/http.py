"""``http`` steps (httpx): a health check with an expected status and JSON fields, or a
smoke suite — a list of such requests, all of which must meet their expectations.

A request that changes something (any method but GET/HEAD) carries an
``Idempotency-Key`` that stays the same when another worker takes the step over, so
a service that honours the header applies it once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx
from django.conf import settings

from deployments.executors.base import Executor, RunContext, StepFailed, known, number, text, url
from warroom.errors import FieldError

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
CHECK_KEYS = {"url", "method", "expect_status", "expect_json", "json", "timeout"}


def _check(config: Mapping[str, Any], prefix: str) -> dict:
    known(config, CHECK_KEYS, prefix)
    status = config.get("expect_status", 200)
    statuses = status if isinstance(status, list) else [status]
    if not statuses or any(
        isinstance(s, bool) or not isinstance(s, int) or not 100 <= s <= 599 for s in statuses
    ):
        raise FieldError(f"{prefix}.expect_status", "must be an HTTP status (100-599) or a list")
    expect_json = config.get("expect_json") or {}
    if not isinstance(expect_json, Mapping):
        raise FieldError(f"{prefix}.expect_json", "must map field paths (a.b) to values")
    body = config.get("json")
    return {
        "url": url(config, "url", prefix=prefix),
        "method": text(
            config, "method", required=False, default="GET", prefix=prefix, choices=METHODS
        ),
        "expect_status": statuses,
        "expect_json": dict(expect_json),
        **({"json": body} if body is not None else {}),
        "timeout": number(
            config,
            "timeout",
            default=settings.ENGINE_CALL_TIMEOUT,
            minimum=0.1,
            maximum=300,
            prefix=prefix,
        ),
    }


def _field(document: Any, path: str) -> tuple[bool, Any]:
    here = document
    for part in path.split("."):
        if isinstance(here, Mapping) and part in here:
            here = here[part]
        elif isinstance(here, list) and part.isdigit() and int(part) < len(here):
            here = here[int(part)]
        else:
            return False, None
    return True, here


class HttpExecutor(Executor):
    kind = "http"
    label = "HTTP check"

    def validate(self, config: Mapping[str, Any]) -> dict:
        if isinstance(config, Mapping) and "requests" in config:
            known(config, {"requests"})
            suite = config["requests"]
            if not isinstance(suite, list) or not suite:
                raise FieldError("config.requests", "must be a non-empty list of requests")
            return {"requests": [_check(c, f"config.requests.{n}") for n, c in enumerate(suite)]}
        return {"requests": [_check(config, "config")]}

    def describe(self, config: Mapping[str, Any]) -> str:
        reqs = config.get("requests") or []
        if len(reqs) == 1:
            return f"{reqs[0]['method']} {reqs[0]['url']} → {reqs[0]['expect_status']}"
        return f"Smoke suite of {len(reqs)} requests"

    def run(self, ctx: RunContext) -> str:
        reqs = ctx.config["requests"]
        if ctx.dry_run:
            return "would " + "; ".join(f"{r['method']} {r['url']}" for r in reqs)
        with httpx.Client(follow_redirects=False) as client:
            for n, r in enumerate(reqs):
                ctx.log(self._one(client, r, f"{ctx.idempotency_key}-{n}"))
                if not ctx.heartbeat():
                    raise StepFailed("the lease on this step was lost to another worker")
        return f"{len(reqs)} request{'s' if len(reqs) != 1 else ''} met expectations"

    def _one(self, client: httpx.Client, r: dict, key: str) -> str:
        headers = {} if r["method"] in ("GET", "HEAD") else {"Idempotency-Key": key}
        what = f"{r['method']} {r['url']}"
        try:
            resp = client.request(
                r["method"], r["url"], json=r.get("json"), headers=headers, timeout=r["timeout"]
            )
        except httpx.TimeoutException:
            raise StepFailed(f"{what}: no answer within {r['timeout']:g} s") from None
        except httpx.HTTPError as exc:
            raise StepFailed(f"{what}: cannot connect ({exc.__class__.__name__}: {exc})") from None
        if resp.status_code not in r["expect_status"]:
            extra = ""
            if resp.status_code == 429 and resp.headers.get("Retry-After"):
                extra = f" (rate limited; retry after {resp.headers['Retry-After']} s)"
            want = " or ".join(str(s) for s in r["expect_status"])
            raise StepFailed(f"{what}: answered {resp.status_code}, expected {want}{extra}")
        if r["expect_json"]:
            try:
                document = resp.json()
            except ValueError:
                raise StepFailed(f"{what}: the answer is not JSON") from None
            for path, want in r["expect_json"].items():
                found, value = _field(document, path)
                if not found:
                    raise StepFailed(f"{what}: the answer has no field {path!r}")
                if value != want:
                    raise StepFailed(f"{what}: {path} is {value!r}, expected {want!r}")
        return f"{what} → {resp.status_code}"
