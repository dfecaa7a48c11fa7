"""The engine's core, read like the runbook: steps attached with a checked config, run in
order, waiting for a person where they must, retried, timed out, taken over once."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings

from deployments import engine
from deployments.models import Release, StepRun
from warroom import clock
from warroom.audit import AuditEvent
from warroom.errors import Conflict, FieldError

pytestmark = pytest.mark.django_db(transaction=True)


def kinds(release, prefix=("step.", "phase.run", "rollback.", "release.closed")) -> list[str]:
    return [
        k
        for k in AuditEvent.objects.filter(release=release)
        .order_by("seq")
        .values_list("kind", flat=True)
        if k.startswith(prefix)
    ]


def attach(team, phase_name="Deployment Execution", **kw):
    phase = team.release.phases.get(name=phase_name)
    return engine.step_attach(phase=phase, user=team["rm"], **kw)


@pytest.mark.parametrize(
    ("kind", "config", "field"),
    [
        ("http", {}, "config.url"),
        ("http", {"url": "ftp://x"}, "config.url"),
        ("http", {"url": "http://x", "expect_status": 999}, "config.expect_status"),
        ("http", {"url": "http://x", "colour": "red"}, "config.colour"),
        ("http", {"requests": [{"url": "http://x"}, {"method": "GET"}]}, "config.requests.1.url"),
        ("prometheus", {"query": "up", "comparison": "~", "threshold": 1}, "config.comparison"),
        ("prometheus", {"query": "up", "comparison": "<"}, "config.threshold"),
        ("flags", {"set": {"feature:x:percentage": True}}, "config.set.feature:x:percentage"),
        ("wait", {"seconds": -1}, "config.seconds"),
        ("teleport", {}, "kind"),
    ],
)
def test_a_bad_step_config_is_refused_naming_the_field_and_nothing_is_written(
    team, kind, config, field
):
    with pytest.raises(FieldError) as refused:
        attach(team, kind=kind, title="Check", config=config)
    assert refused.value.field == field
    assert not team.release.phases.get(name="Deployment Execution").steps.exists()


def test_steps_run_in_order_and_a_manual_promote_waits_for_a_person(team, service, queue):
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete("feature:checkout:percentage")
    attach(
        team, kind="flags", title="Canary 10 %", config={"set": {"feature:checkout:percentage": 10}}
    )
    attach(
        team, kind="http", title="Health", config={"url": f"{service.url}/health",
        "expect_json": {"status": "ok", "db.up": True}},
    )  # fmt: skip
    attach(
        team, kind="flags", title="Full rollout", requires_confirmation=True,
        config={"set": {"feature:checkout:percentage": 100}},
    )  # fmt: skip
    phase = team.release.phases.get(name="Deployment Execution")
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work()
    assert r.get("feature:checkout:percentage") == b"10"
    waiting = StepRun.objects.get(step__title="Full rollout")
    assert waiting.status == StepRun.Status.AWAITING
    with pytest.raises(Conflict):
        engine.phase_run(phase=phase, user=team["rm"])  # already running

    engine.step_confirm(run=waiting, user=team["rm"], note="canary is clean")
    queue.work()
    assert r.get("feature:checkout:percentage") == b"100"
    phase.refresh_from_db()
    assert phase.status == "done" and phase.finished_at is not None
    assert team.release.__class__.objects.get(pk=team.release.pk).status == "in_progress"
    assert kinds(team.release) == [
        "step.attached", "step.attached", "step.attached", "phase.run_started",
        "step.started", "step.succeeded", "step.started", "step.succeeded",
        "step.awaiting", "step.confirmed", "step.started", "step.succeeded",
        "phase.run_finished",
    ]  # fmt: skip


def test_a_dry_run_walks_every_step_and_changes_nothing(team, service, queue):
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.set("feature:search:on", "0")
    attach(team, kind="flags", title="Search on", config={"set": {"feature:search:on": 1}})
    attach(
        team,
        kind="http",
        title="Migrate",
        config={"url": f"{service.url}/migrate", "method": "POST"},
    )
    engine.phase_run(
        phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"], dry_run=True
    )
    queue.work()
    runs = list(StepRun.objects.order_by("pk"))
    assert [r_.status for r_ in runs] == ["succeeded", "succeeded"]
    assert "would set feature:search:on '0' → 1" in runs[0].log
    assert "would POST" in runs[1].log
    assert r.get("feature:search:on") == b"0" and service.applied["/migrate"] == 0
    assert team.release.__class__.objects.get(pk=team.release.pk).status == "planned"


def test_a_failing_check_is_retried_per_its_policy_then_succeeds(team, service, queue):
    service.trouble = [(503, {}), (429, {"Retry-After": "7"})]
    attach(
        team, kind="http", title="Health", config={"url": f"{service.url}/health"}, max_attempts=3
    )
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    queue.work()
    runs = list(StepRun.objects.order_by("attempt"))
    assert [(r.attempt, r.status) for r in runs] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert "answered 503, expected 200" in runs[0].error
    assert "rate limited; retry after 7 s" in runs[1].error
    assert kinds(team.release).count("step.retried") == 2


def test_an_unreachable_or_slow_service_fails_the_step_with_a_readable_message(
    team, service, queue
):
    service.slow = 2
    attach(
        team,
        kind="http",
        title="Slow health",
        config={"url": f"{service.url}/health", "timeout": 0.3},
    )
    attach(team, kind="http", title="Nobody home", config={"url": "http://127.0.0.1:9/health"})
    phase = team.release.phases.get(name="Deployment Execution")
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work()
    slow = StepRun.objects.get(step__title="Slow health")
    assert slow.status == "failed" and "no answer within 0.3 s" in slow.error
    # The phase stops at the failure; a person skips it (with a reason) and it moves on.
    with pytest.raises(FieldError):
        engine.step_skip(run=slow, user=team["rm"], reason="")
    engine.step_skip(run=slow, user=team["rm"], reason="known slow; checked by hand")
    queue.work()
    nobody = StepRun.objects.get(step__title="Nobody home")
    assert nobody.status == "failed" and "cannot connect" in nobody.error


def test_two_workers_never_run_the_same_step_and_a_dead_workers_step_is_taken_over_once(
    team, service, queue
):
    step = attach(
        team, kind="http", title="Deploy v2",
        config={"url": f"{service.url}/deploy", "method": "POST", "json": {"version": "v2"}},
    )  # fmt: skip
    engine.phase_run(phase=step.phase, user=team["rm"])
    run_id = queue.sent.pop()
    claimed = engine.claim(run_id, "worker-a")
    assert claimed is not None and claimed[1] is False
    assert engine.claim(run_id, "worker-b") is None  # held: nobody else runs it
    # worker-a dies mid-step; its lease runs out; worker-b takes the step over.
    with clock.frozen_at(clock.now() + timedelta(seconds=settings.ENGINE_LEASE_SECONDS + 1)):
        assert engine.execute(run_id, "worker-b").startswith("1 request")
        assert engine.claim(run_id, "worker-c") is None
        # worker-a comes back and tries to finish: it no longer holds the lease.
        assert engine.finish(run_id, "worker-a", ok=False, message="late", lines=[]) is None
    run = StepRun.objects.get(pk=run_id)
    assert (run.status, run.takeovers, run.lease_owner) == ("succeeded", 1, "worker-b")
    assert service.applied["/deploy"] == 1
    assert kinds(team.release).count("step.taken_over") == 1


def test_a_step_that_outlives_its_timeout_fails(team, queue):
    attach(team, kind="wait", title="Soak", config={"seconds": 3}, timeout_s=1)
    engine.phase_run(phase=team.release.phases.get(name="Deployment Execution"), user=team["rm"])
    queue.work()
    run = StepRun.objects.get()
    assert run.status == "failed" and run.error == "timed out after 1 s"


def test_closing_a_release_is_an_explicit_audited_action(team, api):
    with pytest.raises(FieldError) as e:
        engine.release_close(release=team.release, outcome="rolled_back", note="", user=team["rm"])
    assert e.value.field == "note"
    refused = api(team["qa"]).post(
        f"/api/releases/{team.release.pk}/close", {"outcome": "done", "note": ""}
    )
    assert refused.status_code == 403
    ok = api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/close", {"outcome": "done", "note": "all green"}
    )
    assert ok.status_code == 200, ok.content
    release = Release.objects.get(pk=team.release.pk)
    assert release.status == "done" and release.finished_at is not None
    again = api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/close", {"outcome": "cancelled", "note": "x"}
    )
    assert again.status_code == 409
    closed = AuditEvent.objects.get(release=release, kind="release.closed")
    assert closed.actor == team["rm"] and closed.data["status"] == "done"
