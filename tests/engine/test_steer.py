"""Pause, resume and abort, read like the night: a person asks, the request is stored
with who, when and why, and the engine acts on it through the policy table."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from deployments import engine
from deployments.models import EngineRequest, Release, StepRun
from tests.engine.test_engine_core import attach, kinds
from warroom import clock
from warroom.audit import AuditEvent
from warroom.errors import Conflict, FieldError

pytestmark = pytest.mark.django_db(transaction=True)


def three_flag_steps(team) -> redis.Redis:
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete("feature:pay:percentage")
    for pct in (10, 50, 100):
        attach(
            team, kind="flags", title=f"Canary {pct} %",
            config={"set": {"feature:pay:percentage": pct}},
        )  # fmt: skip
    return r


@pytest.fixture
def one_step_per_task(settings):
    """Each step through the queue (no chaining), so a test can act between two steps."""
    settings.ENGINE_CHAIN_SECONDS = 0


def test_a_pause_holds_the_next_step_and_a_resume_sends_it_on(team, queue, one_step_per_task):
    r = three_flag_steps(team)
    phase = team.release.phases.get(name="Deployment Execution")
    engine.phase_run(phase=phase, user=team["rm"])
    # The first step runs; the VP (a decision authority) pauses before the second starts.
    queue.work(limit=1)
    assert r.get("feature:pay:percentage") == b"10"
    paused = engine.steps_pause(release=team.release, user=team["vp"], note="latency looks odd")
    assert (paused.requested_by, paused.note, paused.action) == (
        "Victor President", "latency looks odd", "pause"
    )  # fmt: skip
    assert paused.acted_at is not None and paused.outcome == "paused"
    queue.work()  # the second step was queued: its worker leaves it alone
    assert r.get("feature:pay:percentage") == b"10"
    second = StepRun.objects.get(step__title="Canary 50 %")
    assert second.status == "pending" and second.started_at is None
    with pytest.raises(Conflict):
        engine.steps_pause(release=team.release, user=team["rm"])
    with pytest.raises(Conflict) as busy:
        engine.phase_run(phase=phase, user=team["rm"])
    assert "paused" in str(busy.value)
    # The tick does not send a paused release's queued steps again and again.
    assert engine.resume_due(clock.now()) == 0

    resumed = engine.steps_resume(release=team.release, user=team["rm"], note="it was the CDN")
    assert resumed.outcome == "resumed; 1 queued step sent"
    queue.work()
    assert r.get("feature:pay:percentage") == b"100"
    assert Release.objects.get(pk=team.release.pk).paused_at is None
    assert kinds(team.release, ("steps.", "phase.run")) == [
        "phase.run_started", "steps.paused", "steps.resumed", "phase.run_finished",
    ]  # fmt: skip
    line = AuditEvent.objects.get(release=team.release, kind="steps.paused")
    assert line.actor == team["vp"] and line.data["note"] == "latency looks odd"


def test_an_abort_needs_a_note_runs_nothing_more_and_closes_the_release(
    team, queue, one_step_per_task
):
    r = three_flag_steps(team)
    phase = team.release.phases.get(name="Deployment Execution")
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work(limit=1)
    with pytest.raises(FieldError) as e:
        engine.steps_abort(release=team.release, user=team["rm"], note="  ")
    assert e.value.field == "note"
    assert not EngineRequest.objects.exists()

    abort = engine.steps_abort(release=team.release, user=team["rm"], note="payments vendor down")
    assert abort.outcome == "1 queued step skipped"
    queue.work()
    assert r.get("feature:pay:percentage") == b"10"
    statuses = dict(StepRun.objects.values_list("step__title", "status"))
    assert statuses == {"Canary 10 %": "succeeded", "Canary 50 %": "skipped"}
    release = Release.objects.get(pk=team.release.pk)
    assert release.status == "cancelled" and release.finished_at is not None
    assert release.close_note == "aborted: payments vendor down"
    phase.refresh_from_db()
    assert phase.status == "skipped" and phase.finished_at is not None
    with pytest.raises(Conflict):
        engine.steps_resume(release=team.release, user=team["rm"])
    closed = AuditEvent.objects.get(release=release, kind="release.closed")
    assert closed.actor == team["rm"] and closed.data["status"] == "cancelled"


def test_a_step_running_when_aborted_finishes_and_nothing_follows_it(team, queue):
    r = three_flag_steps(team)
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    run_id = queue.sent.pop()
    claimed = engine.claim(run_id, "worker-a")
    assert claimed is not None
    engine.steps_abort(release=team.release, user=team["rm"], note="stop now")
    engine.finish(run_id, "worker-a", ok=True, message="set", lines=[])
    queue.work()
    assert StepRun.objects.count() == 1 and StepRun.objects.get().status == "succeeded"
    assert r.get("feature:pay:percentage") is None  # the test called finish, not the flag
    aborted = AuditEvent.objects.get(release=team.release, kind="steps.aborted")
    assert aborted.data["running"] == ["Canary 10 %"]


def test_pause_resume_and_abort_through_the_api_follow_the_policy_table(team, api, queue):
    three_flag_steps(team)
    rid = team.release.pk
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    denied = AuditEvent.objects.filter(release=team.release, kind="access.denied")
    refused = api(team["dba"]).post(f"/api/releases/{rid}/steps/pause", {"note": "hm"})
    assert refused.status_code == 403 and denied.count() == 1
    assert denied.get().data["action"] == "steer_steps"
    assert not EngineRequest.objects.exists()

    rm = api(team["rm"])
    assert rm.post(f"/api/releases/{rid}/steps/resume", {}).status_code == 409
    paused = rm.post(f"/api/releases/{rid}/steps/pause", {"note": "hold"})
    assert paused.status_code == 200 and paused.json()["acted_at"]
    no_note = rm.post(f"/api/releases/{rid}/steps/abort", {"note": ""})
    assert no_note.status_code == 400 and no_note.json()["errors"][0]["field"] == "note"
    aborted = api(team["vp"]).post(f"/api/releases/{rid}/steps/abort", {"note": "called off"})
    assert aborted.status_code == 200, aborted.content
    listed = rm.get(f"/api/releases/{rid}/steps/requests").json()
    assert [(x["action"], x["requested_by"], x["note"]) for x in listed] == [
        ("pause", "Rita Manager", "hold"),
        ("abort", "Victor President", "called off"),
    ]


def test_a_worker_runs_the_steps_that_follow_at_once_itself_until_a_person_must_confirm(
    team, queue
):
    """Chaining: the worker that finishes a step claims the next in the same transaction
    (no trip through the broker); a step that waits for a person ends the chain."""
    r = three_flag_steps(team)
    attach(team, kind="manual", title="Look at the dashboards", config={})
    attach(
        team, kind="flags", title="Flag off again", config={"set": {"feature:pay:percentage": 0}}
    )
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    assert len(queue.sent) == 1
    queue.work(limit=1)  # one task: three steps, up to the person's step
    assert r.get("feature:pay:percentage") == b"100" and queue.sent == []
    runs = dict(StepRun.objects.values_list("step__title", "status"))
    assert runs["Look at the dashboards"] == "awaiting"
    assert kinds(team.release, ("step.",))[:7] == [
        "step.attached", "step.attached", "step.attached", "step.attached", "step.attached",
        "step.started", "step.succeeded",
    ]  # fmt: skip
    started = AuditEvent.objects.filter(release=team.release, kind="step.started")
    assert started.count() == 3 and len({e.data["worker"] for e in started}) == 1
