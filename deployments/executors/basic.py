"""Steps with no outside system: ``manual`` (a person does it and confirms it),
``wait`` (a pause of a set length, e.g. a soak between two canary weights) and
``pipeline`` (a CI/CD pipeline does it and reports start, finish or failure through
the API with a token scoped to the release)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deployments.executors.base import Executor, RunContext, StepFailed, known, number, text


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


class PipelineExecutor(Executor):
    """A CI/CD pipeline deploys by itself and reports the step; the engine waits for it."""

    kind = "pipeline"
    label = "Reported by a CI/CD pipeline"
    reported = True

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {"pipeline", "instructions"})
        out = {}
        for key in ("pipeline", "instructions"):
            found = text(config, key, required=False)
            if found:
                out[key] = found
        return out

    def run(self, ctx: RunContext) -> str:  # pragma: no cover - never sent to a worker
        raise StepFailed("a CI/CD pipeline reports this step; the engine does not run it")

    def describe(self, config: Mapping[str, Any]) -> str:
        name = config.get("pipeline")
        return f"Reported by the {name} pipeline" if name else self.label
