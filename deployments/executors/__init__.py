"""One executor class per step kind; the engine finds them here by ``kind``."""

from __future__ import annotations

from deployments.executors.aws import AwsExecutor
from deployments.executors.base import Executor, RunContext, StepFailed
from deployments.executors.basic import ManualExecutor, PipelineExecutor, WaitExecutor
from deployments.executors.flags import FlagsExecutor
from deployments.executors.http import HttpExecutor
from deployments.executors.kubernetes import KubernetesExecutor
from deployments.executors.prometheus import PrometheusExecutor
from warroom.errors import FieldError

EXECUTORS: dict[str, Executor] = {
    e.kind: e
    for e in (
        ManualExecutor(),
        WaitExecutor(),
        HttpExecutor(),
        PrometheusExecutor(),
        FlagsExecutor(),
        KubernetesExecutor(),
        AwsExecutor(),
        PipelineExecutor(),
    )
}

# Kinds a CI/CD pipeline reports: never sent to a worker.
REPORTED = frozenset(k for k, e in EXECUTORS.items() if e.reported)

__all__ = ["EXECUTORS", "REPORTED", "Executor", "RunContext", "StepFailed", "executor_for"]


def executor_for(kind: str) -> Executor:
    try:
        return EXECUTORS[kind]
    except KeyError:
        raise FieldError(
            "kind", f"unknown step kind {kind!r} (known: {', '.join(EXECUTORS)})"
        ) from None
