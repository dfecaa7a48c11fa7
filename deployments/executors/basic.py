"""Steps with no outside system: ``manual`` (a person does it and confirms it) and
``wait`` (a pause of a set length, e.g. a soak between two canary weights)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployments.executors.base import Executor, RunContext, known, number, text


class ManualExecutor(Executor):
    """A person does the work; confirming the step is ticking it."""

    kind = "manual"
    label = "Done by a person"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {"instructions"})
        found = text(config, "instructions", required=False)
        return {"instructions": found} if found else {}

    def run(self, ctx: RunContext) -> str:
        return "confirmed done by a person"

    def describe(self, config: Mapping[str, Any]) -> str:
        return config.get("instructions") or self.label


class WaitExecutor(Executor):
    kind = "wait"
    label = "Wait"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {"seconds"})
        return {"seconds": number(config, "seconds", maximum=24 * 3600)}

    def run(self, ctx: RunContext) -> str:
        left = max(0.0, ctx.config["seconds"] - ctx.elapsed)
        if ctx.dry_run:
            return f"would wait {ctx.config['seconds']:g} s"
        ctx.sleep(left)
        return f"waited {ctx.config['seconds']:g} s"

    def describe(self, config: Mapping[str, Any]) -> str:
        return f"Wait {config.get('seconds', 0):g} s"
