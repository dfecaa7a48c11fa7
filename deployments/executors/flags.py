"""``flags`` steps: feature flags and rollout percentages in the application's Redis
(the runbooks' ``SET feature:x:percentage 10``). Reads each key first and writes only
what differs; reads every write back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import redis
from django.conf import settings

from deployments.executors.base import Executor, RunContext, StepFailed, known, text
from warroom.errors import FieldError


class FlagsExecutor(Executor):
    kind = "flags"
    label = "Feature flags"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {"set", "redis_url"})
        values = config.get("set")
        if not isinstance(values, Mapping) or not values:
            raise FieldError(
                "config.set", 'must map flag keys to values, e.g. {"feature:x:percentage": 10}'
            )
        for key, value in values.items():
            if not key or not isinstance(key, str):
                raise FieldError("config.set", "flag keys must be text")
            if isinstance(value, bool) or not isinstance(value, str | int | float):
                raise FieldError(f"config.set.{key}", "must be text or a number")
        out: dict = {"set": {k: str(v) for k, v in values.items()}}
        where = text(config, "redis_url", required=False)
        if where:
            if not where.startswith(("redis://", "rediss://", "unix://")):
                raise FieldError("config.redis_url", "must be a redis://, rediss:// or unix:// URL")
            out["redis_url"] = where
        return out

    def describe(self, config: Mapping[str, Any]) -> str:
        return ", ".join(f"{k} = {v}" for k, v in config.get("set", {}).items())

    def run(self, ctx: RunContext) -> str:
        wanted: dict[str, str] = ctx.config["set"]
        where = ctx.config.get("redis_url") or settings.FLAGS_REDIS_URL
        timeout = settings.ENGINE_CALL_TIMEOUT
        client = redis.Redis.from_url(
            where, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True
        )
        try:
            current = dict(zip(wanted, client.mget(list(wanted)), strict=True))
            changes = {k: v for k, v in wanted.items() if current[k] != v}
            if ctx.dry_run:
                return "would set " + (
                    ", ".join(f"{k} {current[k]!r} → {v}" for k, v in changes.items())
                    or "nothing (already set)"
                )
            if changes:
                client.mset(changes)
            after = dict(zip(wanted, client.mget(list(wanted)), strict=True))
        except redis.RedisError as exc:
            raise StepFailed(f"flags Redis at {where.split('@')[-1]}: {exc}") from None
        finally:
            client.close()
        wrong = {k: after[k] for k, v in wanted.items() if after[k] != v}
        if wrong:
            raise StepFailed(f"read back differs: {wrong}")
        for k, v in changes.items():
            ctx.log(f"{k}: {current[k]!r} → {v}")
        kept = len(wanted) - len(changes)
        return f"{len(changes)} changed, {kept} already set"
