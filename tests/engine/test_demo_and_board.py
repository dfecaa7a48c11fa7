"""`make run`'s demo shows the engine, and the board has a steps tile."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.core.management import call_command

from deployments import engine
from deployments.models import Release, Step, StepRun
from tests.engine.test_engine_core import attach

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_runs_its_readiness_checks_live_against_the_app_with_kubernetes_dry(
    service, queue
):
    """The demo's HTTP checks go to the running app (here a local service standing in for
    it), the flag to this Redis; Kubernetes and AWS steps are always dry runs."""
    r = redis.Redis.from_url(settings.FLAGS_REDIS_URL)
    r.delete("feature:checkout-v2:percentage")
    call_command("load_demo", quiet=True, app_url=service.url, minutes_to_go_live=75)
    release = Release.objects.get(source_name="demo-go-live.md")
    steps = Step.objects.filter(phase__release=release)
    assert {s.kind for s in steps} >= {"http", "flags", "kubernetes", "aws", "wait"}
    assert all(s.dry_run for s in steps if s.kind in ("kubernetes", "aws"))
    assert steps.filter(is_rollback=True).count() == 3
    assert all(service.url in str(s.config) for s in steps if s.kind == "http")
    # The phase running now (Readiness Checks, T-1:30 to T-0:30) was started by its manager.
    runs = StepRun.objects.filter(step__phase__release=release)
    assert [r.step.phase.name for r in runs] == ["Readiness Checks"]
    assert runs.get().requested_by == "Priya Raman"
    Step.objects.filter(phase__release=release, kind="wait").update(config={"seconds": 0})
    queue.work()
    done = dict(runs.values_list("step__title", "status"))
    assert set(done.values()) == {"succeeded"} and len(done) == 5, done
    assert r.get("feature:checkout-v2:percentage") == b"0"
    scaled = runs.get(step__kind="kubernetes")
    assert (
        "would scale payments/payments-canary to 2" in scaled.log and "not contacted" in scaled.log
    )
    assert service.hits["/healthz"] >= 2 and service.hits["/login/"] == 1


def test_the_board_shows_the_running_phases_steps_elapsed_against_the_plan(
    team, client, queue, settings
):
    settings.ENGINE_CHAIN_SECONDS = 0
    attach(team, kind="wait", title="Drain the v4.1 pool", config={"seconds": 0})
    attach(team, kind="manual", title="Check the dashboards", config={})
    board = f"/board/{team.release.board_token}/"
    assert "steps-tile" not in client.get(board).content.decode()
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    queue.work()
    body = client.get(board).content.decode()
    assert "Steps · Deployment Execution" in body
    assert "1/2 done" in body
    assert "Awaiting confirmation: Check the dashboards" in body
    assert "elapsed of 2h planned" in body
