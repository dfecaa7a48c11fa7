"""Canary and blue-green as ready-made step sequences, inserted into a phase."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings

from deployments import engine, shapes
from deployments.models import Step, StepRun
from warroom.audit import AuditEvent
from warroom.errors import FieldError

pytestmark = pytest.mark.django_db(transaction=True)

GATE = {"query": "app_error_ratio", "comparison": "<", "threshold": 0.01, "interval": 0.2,
        "count": 2}  # fmt: skip


def plan(phase) -> list[tuple]:
    return [
        (s.kind, s.title, s.is_rollback)
        for s in Step.objects.filter(phase=phase).order_by("order", "id")
    ]


def test_a_canary_shifts_traffic_in_steps_each_watched_by_a_metric_gate(team, api):
    phase = team.release.phases.get(name="Deployment Execution")
    made = api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/phases/{phase.pk}/shapes",
        {"shape": "canary", "params": {"flag": "feature:checkout:percentage", "gate": GATE}},
    )
    assert made.status_code == 201, made.content
    assert plan(phase) == [
        ("flags", "Canary 10 %", False),
        ("prometheus", "Watch canary at 10 %", False),
        ("flags", "Canary 50 %", False),
        ("prometheus", "Watch canary at 50 %", False),
        ("flags", "Canary 100 %", False),
        ("flags", "Canary back to 0 %", True),
    ]
    steps = Step.objects.filter(phase=phase).order_by("order")
    assert steps[2].config == {"set": {"feature:checkout:percentage": "50"}}
    assert steps[1].config["query"] == "app_error_ratio" and steps[1].config["count"] == 2
    event = AuditEvent.objects.get(release=team.release, kind="steps.shape_inserted")
    assert event.actor == team["rm"] and event.data["rollback"] == ["Canary back to 0 %"]


def test_a_blue_green_deploys_green_checks_it_shifts_the_alb_and_watches(team):
    phase = team.release.phases.get(name="Deployment Execution")
    params = {
        "deployment": "checkout-green", "container": "app", "image": "orbit/checkout:4.2.0",
        "health_url": "http://green.internal/health", "expect_json": {"status": "ok"},
        "listener_arn": "arn:aws:elasticloadbalancing:eu-west-1:1:listener/app/x/1/2",
        "blue_target_group": "tg-blue", "green_target_group": "tg-green", "gate": GATE,
    }  # fmt: skip
    shapes.shape_insert(phase=phase, shape="blue_green", params=params, user=team["rm"])
    assert [t for _, t, _ in plan(phase)] == [
        "Deploy green (orbit/checkout:4.2.0)", "Green health check", "Shift traffic to green",
        "Watch green", "Traffic back to blue",
    ]  # fmt: skip
    shift, back = Step.objects.filter(phase=phase, kind="aws").order_by("order")
    assert shift.config["weights"] == {"tg-blue": 0, "tg-green": 100}
    assert back.is_rollback and back.config["weights"] == {"tg-blue": 100, "tg-green": 0}


@pytest.mark.parametrize(
    ("shape", "params", "field"),
    [
        ("canary", {"gate": GATE}, "params.flag"),
        ("canary", {"flag": "f"}, "params.gate"),
        ("canary", {"flag": "f", "gate": {**GATE, "comparison": "~"}}, "params.gate.comparison"),
        ("canary", {"flag": "f", "gate": GATE, "percentages": [50, 10]}, "params.percentages"),
        ("canary", {"flag": "f", "gate": GATE, "colour": "red"}, "params.colour"),
        ("blue_green", {"deployment": "d", "container": "c", "image": "i"}, "params.health_url"),
        ("rainbow", {}, "shape"),
    ],
)
def test_bad_parameters_are_refused_naming_them_and_nothing_is_added(team, shape, params, field):
    phase = team.release.phases.get(name="Deployment Execution")
    with pytest.raises(FieldError) as refused:
        shapes.shape_insert(phase=phase, shape=shape, params=params, user=team["rm"])
    assert refused.value.field == field
    assert not Step.objects.exists()


def test_an_inserted_canary_runs_its_steps_in_order(team, queue, prometheus, exporter):
    r = redis.Redis.from_url(settings.REDIS_URL)
    r.delete("feature:pay:percentage")
    exporter.set_error_ratio(0.001)
    prometheus.wait_for("app_error_ratio", lambda v: v < 0.01)
    phase = team.release.phases.get(name="Deployment Execution")
    shapes.shape_insert(
        phase=phase, shape="canary", user=team["rm"],
        params={"flag": "feature:pay:percentage", "gate": GATE, "percentages": [25, 100]},
    )  # fmt: skip
    engine.phase_run(phase=phase, user=team["rm"])
    queue.work()
    runs = list(StepRun.objects.order_by("pk").values_list("step__title", "status"))
    assert runs == [
        ("Canary 25 %", "succeeded"), ("Watch canary at 25 %", "succeeded"),
        ("Canary 100 %", "succeeded"),
    ]  # fmt: skip
    assert r.get("feature:pay:percentage") == b"100"
