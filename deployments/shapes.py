"""Ready-made step sequences for the two common rollout shapes, inserted into a phase.

- **canary**: shift traffic in steps (10 % → 50 % → 100 % by default), each increase
  followed by a *watch*: a Prometheus metric gate that must hold before the next one
  (Argo Rollouts' setWeight / analysis rhythm). Traffic moves either through a feature
  flag's rollout percentage in Redis (``flag``) or through ALB listener weights between a
  stable and a canary target group (``listener_arn``). Its rollback step puts all
  traffic back on stable.
- **blue_green**: deploy green (Kubernetes set image, waiting for the rollout), check
  its health over HTTP, shift the ALB's weights from blue to green, watch the metric
  gate, done. Its rollback step shifts the weights back to blue.

:func:`shape_steps` turns a shape and its parameters into step definitions (errors name
the parameter: ``params.gate.query``); :func:`shape_insert` appends them to a phase in one
transaction — all of them or none.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from deployments import engine
from deployments.executors.base import COMPARISONS, known, number, text, url
from deployments.models import Phase, Step
from warroom import events, policies
from warroom.errors import FieldError

GATE_KEYS = {"query", "comparison", "threshold", "interval", "count", "consecutive_failure_limit"}


def _gate(params: Mapping[str, Any]) -> dict:
    gate = params.get("gate")
    if not isinstance(gate, Mapping):
        raise FieldError("params.gate", "describe the watch: query, comparison, threshold")
    known(gate, GATE_KEYS, "params.gate")
    out = {
        "query": text(gate, "query", prefix="params.gate"),
        "comparison": text(gate, "comparison", prefix="params.gate", choices=tuple(COMPARISONS)),
        "threshold": number(gate, "threshold", minimum=-1e308, prefix="params.gate"),
        "interval": number(gate, "interval", default=60, minimum=0.1, maximum=3600,
                           prefix="params.gate"),
        "count": number(gate, "count", default=5, minimum=1, maximum=10000, integer=True,
                        prefix="params.gate"),
    }  # fmt: skip
    if gate.get("consecutive_failure_limit") is not None:
        out["consecutive_failure_limit"] = number(
            gate, "consecutive_failure_limit", integer=True, prefix="params.gate"
        )
    return out


def _watch(gate: dict, label: str) -> dict:
    return {"kind": "prometheus", "title": f"Watch {label}", "config": gate}


def _weights_of(params: Mapping[str, Any], a: str, b: str) -> tuple[str, str, str]:
    return (
        text(params, "listener_arn", prefix="params"),
        text(params, a, prefix="params"),
        text(params, b, prefix="params"),
    )


def canary(params: Mapping[str, Any]) -> list[dict]:
    allowed = {"flag", "redis_url", "listener_arn", "stable_target_group", "canary_target_group",
               "percentages", "gate", "confirm_each"}  # fmt: skip
    known(params, allowed, "params")
    percentages = params.get("percentages", [10, 50, 100])
    if (
        not isinstance(percentages, list)
        or not percentages
        or not all(isinstance(p, int) and not isinstance(p, bool) for p in percentages)
        or percentages != sorted(set(percentages))
        or not percentages[0] > 0
        or percentages[-1] != 100
    ):
        raise FieldError("params.percentages", "whole numbers rising to 100, e.g. [10, 50, 100]")
    gate = _gate(params)
    confirm = bool(params.get("confirm_each"))
    if params.get("flag"):
        flag = text(params, "flag", prefix="params")
        extra = (
            {"redis_url": text(params, "redis_url", prefix="params")}
            if params.get("redis_url")
            else {}
        )

        def shift(pct: int) -> dict:
            return {"kind": "flags", "config": {"set": {flag: pct}, **extra}}
    elif params.get("listener_arn"):
        listener, stable, canary_tg = _weights_of(
            params, "stable_target_group", "canary_target_group"
        )

        def shift(pct: int) -> dict:
            return {"kind": "aws", "config": {"action": "alb_weights", "listener_arn": listener,
                    "weights": {stable: 100 - pct, canary_tg: pct}}}  # fmt: skip
    else:
        raise FieldError("params.flag", "name the rollout flag (or listener_arn for ALB weights)")
    steps: list[dict] = []
    for n, pct in enumerate(percentages):
        steps.append({**shift(pct), "title": f"Canary {pct} %",
                      "requires_confirmation": confirm and n > 0})  # fmt: skip
        if pct != 100:
            steps.append(_watch(gate, f"canary at {pct} %"))
    steps.append({**shift(0), "title": "Canary back to 0 %", "is_rollback": True})
    return steps


def blue_green(params: Mapping[str, Any]) -> list[dict]:
    known(params, {"deployment", "namespace", "container", "image", "health_url", "expect_json",
                   "listener_arn", "blue_target_group", "green_target_group", "gate"},
          "params")  # fmt: skip
    k8s = {
        "action": "set_image",
        "deployment": text(params, "deployment", prefix="params"),
        "namespace": text(params, "namespace", required=False, default="default", prefix="params"),
        "container": text(params, "container", prefix="params"),
        "image": text(params, "image", prefix="params"),
    }
    health: dict = {"url": url(params, "health_url", prefix="params")}
    if params.get("expect_json") is not None:
        if not isinstance(params["expect_json"], Mapping):
            raise FieldError("params.expect_json", "must be an object of expected fields")
        health["expect_json"] = dict(params["expect_json"])
    listener, blue, green = _weights_of(params, "blue_target_group", "green_target_group")
    gate = _gate(params)

    def weights(to_green: int) -> dict:
        return {"action": "alb_weights", "listener_arn": listener,
                "weights": {blue: 100 - to_green, green: to_green}}  # fmt: skip

    return [
        {"kind": "kubernetes", "title": f"Deploy green ({k8s['image']})", "config": k8s},
        {"kind": "http", "title": "Green health check", "config": health},
        {"kind": "aws", "title": "Shift traffic to green", "config": weights(100)},
        _watch(gate, "green"),
        {"kind": "aws", "title": "Traffic back to blue", "config": weights(0), "is_rollback": True},
    ]


SHAPES = {"canary": canary, "blue_green": blue_green}


def shape_steps(phase: Phase, shape: str, params: Mapping[str, Any]) -> list[Step]:
    """The shape's steps for ``phase``, validated and unsaved."""
    if shape not in SHAPES:
        raise FieldError("shape", f"must be one of {', '.join(SHAPES)}")
    if not isinstance(params, Mapping):
        raise FieldError("params", "must be an object")
    built = []
    for fields in SHAPES[shape](params):
        try:
            built.append(engine.build_step(phase=phase, **fields))
        except FieldError as exc:  # a value the shape passed on that the kind refuses
            raise FieldError(f"params ({fields['title']}: {exc.field})", exc.message) from None
    return built


def shape_insert(
    *, phase: Phase, shape: str, params: Mapping[str, Any], user, standing=None
) -> list[Step]:
    """Append the shape's steps to ``phase`` (after its own), all or none; audited."""
    release = phase.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"shape": str(shape)[:40]})
    steps = shape_steps(phase, shape, params)
    with transaction.atomic():
        events.lock_head(release)
        start = phase.steps.aggregate(m=Max("order"))["m"] or 0
        for n, step in enumerate(steps, start=1):
            step.order = start + n
        Step.objects.bulk_create(steps)
        events.record(
            release,
            "steps.shape_inserted",
            actor=user,
            data={
                "phase": phase.pk,
                "name": phase.name,
                "shape": shape,
                "steps": [s.title for s in steps if not s.is_rollback],
                "rollback": [s.title for s in steps if s.is_rollback],
            },
        )
    return list(phase.steps.filter(order__gt=start).order_by("order", "id"))
