"""``prometheus`` steps: a metric gate judged the way Argo Rollouts' analysis judges.

Each measurement queries Prometheus's HTTP API (``/api/v1/query``) and is
*successful* (the condition holds), *failed* (it does not), *inconclusive* (no data:
an empty vector, or NaN) or an *error* (Prometheus unreachable, a bad query). The
gate takes ``count`` measurements ``interval`` seconds apart and fails as soon as
failures exceed ``failure_limit`` (default 0), consecutive failures exceed
``consecutive_failure_limit`` (for "error rate above 1 % for 5 minutes" rules), or
consecutive errors exceed ``consecutive_error_limit`` (default 4). An inconclusive
measurement stops the gate for a person to look (retry or skip it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
from django.conf import settings

from deployments.executors.base import (
    COMPARISONS,
    Executor,
    RunContext,
    StepFailed,
    known,
    number,
    text,
    url,
)

SUCCESSFUL, FAILED, INCONCLUSIVE, ERROR = "successful", "failed", "inconclusive", "error"


@dataclass(frozen=True)
class Measurement:
    phase: str
    value: float | None = None
    message: str = ""


def query_value(base_url: str, query: str, timeout: float) -> tuple[float | None, str]:
    """The query's first sample as a float (``None`` for no data) and a line saying so.
    Raises ``httpx.HTTPError`` or ``ValueError`` when Prometheus cannot answer."""
    resp = httpx.get(
        base_url.rstrip("/") + "/api/v1/query", params={"query": query}, timeout=timeout
    )
    if resp.status_code == 429 or resp.status_code >= 500:
        raise ValueError(f"Prometheus answered {resp.status_code}")
    body = resp.json()
    if body.get("status") != "success":
        raise ValueError(f"Prometheus refused the query: {body.get('error', resp.status_code)}")
    data = body["data"]
    kind, result = data.get("resultType"), data.get("result")
    if kind == "vector":
        if not result:
            return None, "no data (empty vector)"
        raw = result[0]["value"][1]
    elif kind == "scalar":
        raw = result[1]
    else:
        raise ValueError(f"the query returns a {kind}, not a vector or scalar")
    return float(raw), f"value {raw}"  # Prometheus sends "NaN", "+Inf" as strings


def measure(
    base_url: str, query: str, comparison: str, threshold: float, timeout: float
) -> Measurement:
    """One measurement: does ``value <comparison> threshold`` hold?"""
    try:
        value, line = query_value(base_url, query, timeout)
    except httpx.TimeoutException:
        return Measurement(ERROR, None, f"Prometheus gave no answer within {timeout:g} s")
    except (httpx.HTTPError, ValueError, KeyError, IndexError) as exc:
        return Measurement(ERROR, None, f"cannot query Prometheus: {exc}")
    if value is None or math.isnan(value):
        return Measurement(INCONCLUSIVE, value, line)
    holds = COMPARISONS[comparison](value, threshold)
    return Measurement(
        SUCCESSFUL if holds else FAILED,
        value,
        f"{line} {comparison} {threshold:g}: {'yes' if holds else 'no'}",
    )


class PrometheusExecutor(Executor):
    kind = "prometheus"
    label = "Metric gate"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {
            "query", "comparison", "threshold", "interval", "count", "failure_limit",
            "consecutive_failure_limit", "consecutive_error_limit", "url", "timeout",
        })  # fmt: skip
        out = {
            "query": text(config, "query"),
            "comparison": text(config, "comparison", choices=tuple(COMPARISONS)),
            "threshold": number(config, "threshold", minimum=-math.inf),
            "interval": number(config, "interval", default=10, minimum=0.1, maximum=3600),
            "count": number(config, "count", default=1, minimum=1, maximum=10000, integer=True),
            "failure_limit": number(config, "failure_limit", default=0, integer=True),
            "consecutive_error_limit": number(
                config, "consecutive_error_limit", default=4, integer=True
            ),
            "timeout": number(
                config, "timeout", default=settings.ENGINE_CALL_TIMEOUT, minimum=0.1, maximum=300
            ),
        }
        if config.get("consecutive_failure_limit") is not None:
            out["consecutive_failure_limit"] = number(
                config, "consecutive_failure_limit", integer=True
            )
        if config.get("url"):
            out["url"] = url(config, "url")
        return out

    def describe(self, config: Mapping[str, Any]) -> str:
        return (
            f"{config.get('query', '')} {config.get('comparison', '')}"
            f" {config.get('threshold', 0):g}, {config.get('count', 1)} times"
            f" every {config.get('interval', 10):g} s"
        )

    def run(self, ctx: RunContext) -> str:
        c = ctx.config
        base = c.get("url") or settings.PROMETHEUS_URL
        if ctx.dry_run:
            return f"would query {base}: {self.describe(c)}"
        failures = consecutive_failures = consecutive_errors = 0
        for n in range(int(c["count"])):
            if n:
                ctx.sleep(c["interval"])
            m = measure(base, c["query"], c["comparison"], c["threshold"], c["timeout"])
            ctx.log(f"measurement {n + 1}: {m.phase} — {m.message}")
            if m.phase == INCONCLUSIVE:
                raise StepFailed(f"inconclusive ({m.message}): a person decides — retry or skip")
            if m.phase == ERROR:
                consecutive_errors += 1
                if consecutive_errors > c["consecutive_error_limit"]:
                    raise StepFailed(f"{consecutive_errors} errors in a row: {m.message}")
                continue
            consecutive_errors = 0
            if m.phase == FAILED:
                failures += 1
                consecutive_failures += 1
                if failures > c["failure_limit"]:
                    raise StepFailed(
                        f"the gate failed ({failures} failed measurements): {m.message}"
                    )
                limit = c.get("consecutive_failure_limit")
                if limit is not None and consecutive_failures > limit:
                    raise StepFailed(
                        f"{consecutive_failures} failed measurements in a row: {m.message}"
                    )
            else:
                consecutive_failures = 0
        return f"the gate held for {int(c['count'])} measurement{'s' if c['count'] != 1 else ''}"
