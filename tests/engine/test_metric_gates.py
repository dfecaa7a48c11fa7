"""Metric gates and rollback criteria against a real Prometheus scraping a target the
test controls: the error rate moves, Prometheus scrapes it, the gate or the watcher
judges what Prometheus answers."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklists import selectors as checklist_selectors
from deployments import engine, watch
from deployments.executors.prometheus import ERROR, FAILED, INCONCLUSIVE, SUCCESSFUL, measure
from deployments.models import Release, RollbackCriterion, Step, StepRun, WarIssue
from tests.factories import team_release
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_measurement_is_successful_failed_inconclusive_or_an_error(prometheus, exporter):
    exporter.set_error_ratio(0.002)
    prometheus.wait_for("app_error_ratio", lambda v: abs(v - 0.002) < 1e-9)
    assert measure(prometheus.url, "app_error_ratio", "<", 0.01, 5).phase == SUCCESSFUL
    assert measure(prometheus.url, "app_error_ratio", ">", 0.01, 5).phase == FAILED
    # An empty vector is no data — not a success.
    none = measure(prometheus.url, 'app_error_ratio{region="mars"}', "<", 0.01, 5)
    assert (none.phase, none.message) == (INCONCLUSIVE, "no data (empty vector)")
    # Sample values arrive as strings: NaN is inconclusive, +Inf a number that compares.
    assert measure(prometheus.url, "0/0", "<", 1, 5).phase == INCONCLUSIVE
    assert measure(prometheus.url, "1/0", ">", 1e308, 5).phase == SUCCESSFUL
    bad = measure(prometheus.url, "rate(", "<", 1, 5)
    assert bad.phase == ERROR and "refused the query" in bad.message
    gone = measure("http://127.0.0.1:9", "up", "<", 1, 1)
    assert gone.phase == ERROR and "cannot query Prometheus" in gone.message


def test_a_metric_gate_step_holds_while_the_error_rate_stays_low_and_fails_when_it_rises(
    team, prometheus, exporter, queue
):
    exporter.set_error_ratio(0.001)
    prometheus.wait_for("app_error_ratio", lambda v: v < 0.01)
    phase = team.release.phases.get(name="Deployment Execution")
    gate = {"query": "app_error_ratio", "comparison": "<", "threshold": 0.01, "interval": 0.5}
    engine.step_attach(phase=phase, user=team["rm"], kind="prometheus", title="Watch 10 %",
                       config={**gate, "count": 3})  # fmt: skip
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work()
    held = StepRun.objects.get(step__title="Watch 10 %")
    assert held.status == "succeeded", held.log
    assert held.log.count("successful") == 3

    exporter.set_error_ratio(0.05)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    engine.step_attach(phase=phase, user=team["rm"], kind="prometheus", title="Watch 50 %",
                       config={**gate, "count": 5, "failure_limit": 1})  # fmt: skip
    step = Step.objects.get(title="Watch 50 %")
    engine.step_request_run(step=step, user=team["rm"])
    queue.work()
    failed = StepRun.objects.get(step=step)
    assert failed.status == "failed"
    assert "the gate failed (2 failed measurements)" in failed.error
    assert failed.log.count("measurement ") == 2  # stopped at the limit, not after all 5


def criterion(release, **kw) -> RollbackCriterion:
    fields = {"metric": "error rate", "op": ">", "threshold": 0.01,
              "query": "app_error_ratio", "text": "error rate above 1 %"} | kw  # fmt: skip
    return RollbackCriterion.objects.create(release=release, **fields)


def test_a_breach_held_for_its_duration_turns_the_release_red_and_asks_for_a_decision(
    prometheus, exporter
):
    team = team_release(go_live_at=clock.now() - timedelta(minutes=10))
    release = team.release
    c = criterion(release, for_s=120)
    exporter.set_error_ratio(0.05)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    now = clock.now()
    assert watch.watch_all(now) == 0  # breaching, not yet for 2 minutes
    assert watch.watch_all(now + timedelta(minutes=1)) == 0
    assert watch.watch_all(now + timedelta(minutes=2)) == 1
    c.refresh_from_db()
    assert c.breached_at is not None and c.consecutive_breaches == 3 and c.last_value == 0.05
    assert WarIssue.objects.get(release=release).severity == "critical"
    kinds = list(AuditEvent.objects.filter(release=release).values_list("kind", flat=True))
    assert kinds[-3:] == ["metric.breached", "issue.reported", "rollback.raised"]
    gate = checklist_selectors.gate_states(release)[0]
    assert (
        "1 critical issue open" in gate.blockers
        and "a rollback decision is pending" in gate.blockers
    )
    # Not automatic: nothing rolls back until someone decides.
    assert Release.objects.get(pk=release.pk).rollback_started_at is None
    assert watch.watch_all(now + timedelta(minutes=3)) == 0  # breached once, acted on once


def test_a_dip_below_the_threshold_starts_the_duration_again(prometheus, exporter):
    team = team_release(go_live_at=clock.now() - timedelta(minutes=10))
    c = criterion(team.release, for_s=120)
    now = clock.now()
    exporter.set_error_ratio(0.05)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    watch.watch_all(now)
    exporter.set_error_ratio(0.001)
    prometheus.wait_for("app_error_ratio", lambda v: v < 0.01)
    watch.watch_all(now + timedelta(minutes=1))
    exporter.set_error_ratio(0.05)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    assert watch.watch_all(now + timedelta(minutes=2)) == 0
    c.refresh_from_db()
    assert (c.consecutive_breaches, c.breached_at) == (1, None)


def test_criteria_are_watched_only_from_t0_to_the_end_of_the_window(prometheus, exporter):
    exporter.set_error_ratio(0.05)
    prometheus.wait_for("app_error_ratio", lambda v: v > 0.01)
    early = team_release(go_live_at=clock.now() + timedelta(minutes=30))
    criterion(early.release)
    assert watch.watch_all(clock.now()) == 0
    assert watch.watch_all(clock.now() + timedelta(minutes=31)) == 1
    assert watch.watch_all(clock.now() + timedelta(hours=7)) == 0  # nothing left to watch
