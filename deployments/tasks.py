"""Celery tasks of the releases app: thin, they call the engine."""

from __future__ import annotations

from celery import shared_task

from deployments import engine


@shared_task(name=engine.RUN_TASK, ignore_result=True)
def run_step(run_id: int) -> str:
    """Run one StepRun (claimed atomically; a run that is not due is left alone)."""
    return engine.execute(run_id)
