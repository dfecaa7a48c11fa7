"""Rolling back: the rollback plan runs in reverse order — on an automatic criterion's
breach, or on a "roll back" decision — live, audited, and the release ends rolled back."""

from __future__ import annotations

from datetime import timedelta

import pytest
import redis
from django.conf import settings

from checklists import services as checklist_services
from deployments import engine, watch
from deployments.models import Release, RollbackCriterion, StepRun
from tests.factories import team_release
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def plan_with_rollback(team, service):
    """Deploy: flags to 10 %, deploy v2, a manual promote to 100 %. Rollback plan: the
    service back to v1, then the flag off (reversed: the flag goes off first)."""
    release = team.release
    deploy = release.phases.get(name="Deployment Execution")
    validation = release.phases.get(name="Validation")
    attach = lambda phase, **kw: engine.step_attach(phase=phase, user=team["rm"], **kw)  # noqa: E731
    attach(deploy, kind="flags", title="Canary 10 %", config={"set": {"feature:pay:pct": 10}})
    attach(
        deploy,
        kind="http",
        title="Deploy v2",
        config={"url": f"{service.url}/deploy", "method": "POST", "json": {"version": "v2"}},
    )
    attach(
        deploy,
        kind="flags",
        title="Promote 100 %",
        requires_confirmation=True,
        config={"set": {"feature:pay:pct": 100}},
    )
    attach(
        deploy,
        kind="flags",
        title="Flag off",
        is_rollback=True,
        config={"set": {"feature:pay:pct": 0}},
    )
    attach(
        validation,
        kind="http",
        title="Back to v1",
        is_rollback=True,
        config={"url": f"{service.url}/rollback", "method": "POST", "json": {"version": "v1"}},
    )
    return deploy  # fmt: skip


def engine_kinds(release) -> list[str]:
    return list(
        AuditEvent.objects.filter(
            release=release, kind__regex=r"^(rollback|release\.closed|metric)"
        )
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def test_an_automatic_criterion_breach_runs_the_rollback_plan_in_reverse_and_closes_the_release(
    service, queue, prometheus, exporter
):
    flags = redis.Redis.from_url(settings.REDIS_URL)
    flags.delete("feature:pay:pct")
    team = team_release(go_live_at=clock.now() - timedelta(minutes=5))
    release = team.release
    deploy = plan_with_rollback(team, service)
    RollbackCriterion.objects.create(
        release=release, metric="error rate", op=">", threshold=0.01,
        query="app_error_ratio", automatic=True, text="error rate above 1 %",
    )  # fmt: skip
    engine.phase_run(phase=deploy, user=team["rm"])
    queue.work()
    assert service.version == "v2" and flags.get("feature:pay:pct") == b"10"
    promote = StepRun.objects.get(step__title="Promote 100 %")
    assert promote.status == "awaiting"

    exporter.set_error_ratio(0.08)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    assert watch.watch_all(clock.now()) == 1
    promote.refresh_from_db()
    assert (promote.status, promote.note) == ("skipped", "the rollback plan runs instead")
    queue.work()
    order = list(
        StepRun.objects.filter(step__is_rollback=True)
        .order_by("started_at")
        .values_list("step__title", "status")
    )
    assert order == [("Back to v1", "succeeded"), ("Flag off", "succeeded")]
    assert service.version == "v1" and flags.get("feature:pay:pct") == b"0"
    assert service.applied["/deploy"] == 1 and service.applied["/rollback"] == 1
    release.refresh_from_db()
    assert release.status == "rolled_back" and release.finished_at is not None
    assert engine_kinds(release) == [
        "metric.breached", "rollback.raised", "rollback.started", "rollback.completed",
        "release.closed",
    ]  # fmt: skip
    started = AuditEvent.objects.get(release=release, kind="rollback.started")
    assert started.actor_label == "metric watch" and started.data["steps"] == [
        "Back to v1",
        "Flag off",
    ]


def test_a_roll_back_decision_runs_the_rollback_plan(team, service, queue):
    deploy = plan_with_rollback(team, service)
    engine.phase_run(phase=deploy, user=team["rm"])
    queue.work()
    call = checklist_services.rollback_raise(
        release=team.release, reason="checkout errors", user=team["qa"]
    )
    checklist_services.rollback_decide(
        call=call, choice="roll_back", rationale="errors on the canary", user=team["vp"]
    )
    queue.work()
    release = Release.objects.get(pk=team.release.pk)
    assert release.status == "rolled_back"
    started = AuditEvent.objects.get(release=release, kind="rollback.started")
    assert started.actor == team["vp"] and "errors on the canary" in started.data["reason"]
    assert service.version == "v1"
    # The forward plan cannot be started again on a rolled-back release.
    with pytest.raises(engine.Conflict):
        engine.phase_run(phase=deploy, user=team["rm"])


def test_a_fix_forward_decision_changes_nothing(team, service, queue):
    deploy = plan_with_rollback(team, service)
    engine.phase_run(phase=deploy, user=team["rm"])
    queue.work()
    call = checklist_services.rollback_raise(
        release=team.release, reason="latency", user=team["qa"]
    )
    checklist_services.rollback_decide(
        call=call, choice="fix_forward", rationale="patch ready", user=team["vp"]
    )
    queue.work()
    release = Release.objects.get(pk=team.release.pk)
    assert release.rollback_started_at is None and release.status == "in_progress"
    assert not StepRun.objects.filter(step__is_rollback=True).exists()
