"""The engine with real processes: Celery workers and beat on Redis, the test database,
and a local service that counts its side effects.

SIGKILL the worker in the middle of a step and start another: the step is taken over
once, the phase finishes, and every change reaches the service exactly once.
"""

from __future__ import annotations

import os
import signal

import pytest

from deployments import engine
from deployments.models import Phase, StepRun
from tests.engine.fakes import Service
from tests.factories import team_release
from tests.integration.test_clock_processes import wait_for
from warroom.audit import AuditEvent

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]


def test_a_worker_killed_mid_step_is_taken_over_once_and_each_change_applies_once(
    celery_factory, settings
):
    settings.CELERY_TASK_DEFAULT_QUEUE = f"warroom-test-{os.getpid()}"
    service = Service()
    try:
        team = team_release()
        phase = team.release.phases.get(name="Deployment Execution")
        attach = lambda **kw: engine.step_attach(phase=phase, user=team["rm"], **kw)  # noqa: E731
        attach(
            kind="http",
            title="Deploy v2",
            config={"url": f"{service.url}/deploy", "method": "POST", "json": {"version": "v2"}},
        )
        attach(kind="wait", title="Soak", config={"seconds": 6})
        attach(
            kind="http",
            title="Promote",
            config={
                "url": f"{service.url}/promote",
                "method": "POST",
                "json": {"version": "v2-full"},
            },
        )
        attach(kind="http", title="Health", config={"url": f"{service.url}/health",
               "expect_json": {"version": "v2-full"}})  # fmt: skip
        lease = {"ENGINE_LEASE_SECONDS": "2"}
        first = celery_factory("worker", **lease)
        engine.phase_run(phase=phase, user=team["rm"])

        soak = lambda: StepRun.objects.filter(step__title="Soak", status="running").first()  # noqa: E731
        assert wait_for(lambda: soak() is not None), first.log.read_text()[-3000:]
        holder = soak().lease_owner
        # SIGKILL the process running the step (the pool's child), then the worker itself.
        os.kill(int(holder.rsplit(":", 1)[1]), signal.SIGKILL)
        first.kill()

        celery_factory("worker", **lease)
        celery_factory("beat", **lease)
        assert wait_for(lambda: Phase.objects.get(pk=phase.pk).status == "done", timeout=90), [
            (r.step.title, r.status, r.error) for r in StepRun.objects.all()
        ]

        runs = {r.step.title: r for r in StepRun.objects.select_related("step")}
        assert {t: r.status for t, r in runs.items()} == dict.fromkeys(
            ["Deploy v2", "Soak", "Promote", "Health"], "succeeded"
        )
        assert runs["Soak"].takeovers == 1 and runs["Soak"].lease_owner != holder
        assert sum(r.takeovers for r in runs.values()) == 1
        assert (service.applied["/deploy"], service.applied["/promote"]) == (1, 1)
        kinds = list(AuditEvent.objects.filter(release=team.release).values_list("kind", flat=True))
        assert kinds.count("step.taken_over") == 1
        assert kinds.count("step.succeeded") == 4 and kinds.count("phase.run_finished") == 1
    finally:
        service.close()


def _ticks_after(count: int = 2) -> bool:
    """Wait until beat's tick has run ``count`` more times on the worker (each tick also
    re-sends every due step, so a step that could start would have by then)."""
    from warroom.health import last_tick

    seen = [last_tick()]

    def more() -> bool:
        latest = last_tick()
        if latest != seen[-1]:
            seen.append(latest)
        return len(seen) > count

    return wait_for(more, 30)


def test_pause_holds_the_sequence_resume_continues_and_abort_runs_nothing_more(
    celery_factory, settings
):
    from deployments.models import Release

    settings.CELERY_TASK_DEFAULT_QUEUE = f"warroom-test-{os.getpid()}"
    service = Service()
    try:
        team = team_release()
        phase = team.release.phases.get(name="Deployment Execution")
        attach = lambda **kw: engine.step_attach(phase=phase, user=team["rm"], **kw)  # noqa: E731
        post = lambda path: {"url": f"{service.url}/{path}", "method": "POST", "json": {}}  # noqa: E731
        attach(kind="http", title="Deploy v2", config=post("deploy"))
        attach(kind="wait", title="Soak", config={"seconds": 3})
        attach(kind="http", title="Promote", config=post("promote"))
        attach(kind="wait", title="Soak at 100 %", config={"seconds": 3})
        attach(kind="http", title="Finalize", config=post("finalize"))
        worker = celery_factory("worker")
        celery_factory("beat")
        run = lambda title: StepRun.objects.filter(step__title=title).first()  # noqa: E731
        engine.phase_run(phase=phase, user=team["rm"])

        # Paused while "Soak" runs: it finishes, and "Promote" does not start.
        assert wait_for(lambda: (r := run("Soak")) is not None and r.status == "running", 30), (
            worker.log.read_text()[-3000:]
        )
        engine.steps_pause(release=team.release, user=team["vp"], note="checkout latency")
        assert wait_for(lambda: run("Soak").status == "succeeded", 30)
        assert _ticks_after(2)
        assert run("Promote").status == "pending" and run("Promote").started_at is None
        assert service.applied["/promote"] == 0

        # Resumed: the sequence goes on from where it stood.
        engine.steps_resume(release=team.release, user=team["rm"], note="CDN, not us")
        assert wait_for(lambda: (r := run("Soak at 100 %")) is not None and r.status == "running")
        assert service.applied["/promote"] == 1

        # Aborted while the last soak runs: nothing more runs and the release is closed.
        engine.steps_abort(release=team.release, user=team["rm"], note="vendor outage")
        assert wait_for(lambda: run("Soak at 100 %").status == "succeeded", 30)
        assert _ticks_after(2)
        assert run("Finalize") is None and service.applied["/finalize"] == 0
        assert (service.applied["/deploy"], service.applied["/promote"]) == (1, 1)
        release = Release.objects.get(pk=team.release.pk)
        assert (release.status, release.close_note) == ("cancelled", "aborted: vendor outage")
        assert release.paused_at is None and release.finished_at is not None
        assert Phase.objects.get(pk=phase.pk).status == "skipped"
        kinds = list(
            AuditEvent.objects.filter(release=release)
            .filter(kind__startswith="steps.")
            .values_list("kind", flat=True)
        )
        assert kinds == ["steps.paused", "steps.resumed", "steps.aborted"]
    finally:
        service.close()
