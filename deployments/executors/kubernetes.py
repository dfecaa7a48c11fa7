"""``kubernetes`` steps: a Deployment's image, a patch, its scale, or an undo — through the
official client and a kubeconfig — then the rollout watched as ``kubectl rollout
status`` decides.

Each action reads the Deployment first and writes only what differs (an image already
set is not set again), and reads it back. Undo follows ``kubectl rollout undo``: refused
while the Deployment is paused; the previous revision is the owned ReplicaSet with the
highest ``deployment.kubernetes.io/revision`` below the current one; its pod template
(without the ``pod-template-hash`` label) replaces the Deployment's. The undo writes the
step's idempotency key into an annotation in the same patch, so a worker taking the step
over sees the undo done instead of undoing the undo.

Rollout status, as kubectl computes it: the spec change must be observed
(``observedGeneration`` ≥ ``generation``); a ``Progressing`` condition with reason
``ProgressDeadlineExceeded`` fails the step; then updated, total and available replicas
must all reach the desired count.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from deployments.executors.base import Executor, RunContext, StepFailed, known, number, text
from warroom.errors import FieldError

ACTIONS = ("set_image", "patch", "scale", "undo", "status")
REVISION = "deployment.kubernetes.io/revision"
UNDO_KEY = "warroom.io/undo-key"
STRATEGIC = "application/strategic-merge-patch+json"
MERGE = "application/merge-patch+json"
RETRIES = 3  # 429 / 5xx answers retried, honouring Retry-After (at most 10 s each)


def rollout_status(d: Mapping) -> tuple[bool, str]:
    """(done, message) — ``kubectl rollout status``'s judgement of a Deployment; raises
    StepFailed when its progress deadline was exceeded."""
    meta, spec, status = d.get("metadata", {}), d.get("spec", {}), d.get("status", {})
    name = meta.get("name", "")
    if meta.get("generation", 0) > status.get("observedGeneration", 0):
        return False, "waiting for the deployment spec update to be observed"
    for c in status.get("conditions") or []:
        if c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded":
            raise StepFailed(f"deployment {name!r} exceeded its progress deadline")
    want = spec.get("replicas", 1)
    updated = status.get("updatedReplicas", 0)
    if updated < want:
        return False, f"{updated} of {want} updated replicas are available"
    if status.get("replicas", 0) > updated:
        old = status.get("replicas", 0) - updated
        return False, f"{old} old replicas are pending termination"
    available = status.get("availableReplicas", 0)
    if available < updated:
        return False, f"{available} of {updated} updated replicas are available"
    return True, f"deployment {name!r} successfully rolled out"


class KubernetesExecutor(Executor):
    kind = "kubernetes"
    label = "Kubernetes"

    def validate(self, config: Mapping[str, Any]) -> dict:
        known(config, {
            "action", "deployment", "namespace", "container", "image", "patch", "replicas",
            "timeout", "poll", "kubeconfig", "context",
        })  # fmt: skip
        action = text(config, "action", choices=ACTIONS)
        out: dict = {
            "action": action,
            "deployment": text(config, "deployment"),
            "namespace": text(config, "namespace", required=False, default="default"),
            "timeout": number(config, "timeout", default=600, minimum=1, maximum=86400),
            "poll": number(config, "poll", default=2, minimum=0.05, maximum=60),
        }
        for key in ("kubeconfig", "context"):
            if config.get(key):
                out[key] = text(config, key)
        if action == "set_image":
            out["container"] = text(config, "container")
            out["image"] = text(config, "image")
        elif action == "patch":
            if not isinstance(config.get("patch"), Mapping) or not config["patch"]:
                raise FieldError("config.patch", "must be a strategic-merge patch (an object)")
            out["patch"] = dict(config["patch"])
        elif action == "scale":
            out["replicas"] = number(config, "replicas", maximum=10000, integer=True)
        return out

    def describe(self, config: Mapping[str, Any]) -> str:
        target = f"{config.get('namespace', 'default')}/{config.get('deployment', '')}"
        action = config.get("action")
        if action == "set_image":
            return f"set image {config.get('container')}={config.get('image')} on {target}"
        if action == "scale":
            return f"scale {target} to {config.get('replicas')}"
        return f"{action} {target}"

    # --- the calls --------------------------------------------------------------------
    def _api(self, c: dict):
        from kubernetes import config as kube_config
        from kubernetes.client import AppsV1Api, Configuration

        path = c.get("kubeconfig") or settings.KUBECONFIG or None
        # No retries inside urllib3: this executor retries itself, within its time budget.
        cfg = Configuration()
        cfg.retries = 0
        try:
            client = kube_config.new_client_from_config(
                config_file=path,
                context=c.get("context"),
                persist_config=False,
                client_configuration=cfg,
            )
        except Exception as exc:
            raise StepFailed(f"cannot load the kubeconfig {path or '(default)'}: {exc}") from None
        return AppsV1Api(client)

    def _call(self, what: str, fn, *args, **kw) -> dict:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError

        timeout = settings.ENGINE_CALL_TIMEOUT
        for attempt in range(RETRIES + 1):
            try:
                resp = fn(*args, _preload_content=False, _request_timeout=(timeout, timeout), **kw)
                return json.loads(resp.data or b"{}")
            except ApiException as exc:
                retryable = exc.status == 429 or (exc.status or 0) >= 500
                if not retryable or attempt == RETRIES:
                    reason = _reason(exc)
                    raise StepFailed(
                        f"{what}: the API server answered {exc.status}: {reason}"
                    ) from None
                wait = _retry_after(exc, attempt)
            except HTTPError as exc:
                if attempt == RETRIES:
                    raise StepFailed(f"{what}: cannot reach the API server ({exc})") from None
                wait = 0.5 * 2**attempt
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _read(self, api, c: dict) -> dict:
        return self._call(
            "read deployment", api.read_namespaced_deployment, c["deployment"], c["namespace"]
        )

    def _patch(self, api, c: dict, body, content_type: str) -> dict:
        return self._call(
            "patch deployment",
            api.patch_namespaced_deployment,
            c["deployment"],
            c["namespace"],
            body,
            _content_type=content_type,
        )

    # --- the step ---------------------------------------------------------------------
    def run(self, ctx: RunContext) -> str:
        c = ctx.config
        api = self._api(c)
        current = self._read(api, c)
        action = c["action"]
        act = {
            "set_image": self._set_image,
            "patch": self._patch_action,
            "scale": self._scale,
            "undo": self._undo,
            "status": self._status,
        }[action]
        change = act(api, c, current, ctx)
        if change is None:
            ctx.log(f"{self.describe(c)}: already so, nothing to change")
        elif ctx.dry_run:
            return f"would {self.describe(c)}: {json.dumps(change)[:300]}"
        return self._wait(api, c, ctx)

    def _set_image(self, api, c, current, ctx) -> dict | None:
        containers = (
            current.get("spec", {}).get("template", {}).get("spec", {}).get("containers") or []
        )
        found = next((x for x in containers if x.get("name") == c["container"]), None)
        if found is None:
            names = ", ".join(x.get("name", "") for x in containers)
            raise StepFailed(f"no container {c['container']!r} in the deployment (it has {names})")
        if found.get("image") == c["image"]:
            return None
        body = {
            "spec": {
                "template": {
                    "spec": {"containers": [{"name": c["container"], "image": c["image"]}]}
                }
            }
        }
        if not ctx.dry_run:
            after = self._patch(api, c, body, STRATEGIC)
            images = {
                x["name"]: x.get("image") for x in after["spec"]["template"]["spec"]["containers"]
            }
            if images.get(c["container"]) != c["image"]:
                raise StepFailed(f"read back {images.get(c['container'])!r}, not {c['image']!r}")
            ctx.log(f"image {found.get('image')} → {c['image']}")
        return body

    def _patch_action(self, api, c, current, ctx) -> dict | None:
        if not ctx.dry_run:
            self._patch(api, c, c["patch"], STRATEGIC)
            ctx.log("patched")
        return c["patch"]

    def _scale(self, api, c, current, ctx) -> dict | None:
        if current.get("spec", {}).get("replicas") == c["replicas"]:
            return None
        body = {"spec": {"replicas": c["replicas"]}}
        if not ctx.dry_run:
            after = self._patch(api, c, body, MERGE)
            if after["spec"].get("replicas") != c["replicas"]:
                raise StepFailed(f"read back {after['spec'].get('replicas')} replicas")
            ctx.log(f"replicas {current['spec'].get('replicas')} → {c['replicas']}")
        return body

    def _status(self, api, c, current, ctx) -> dict | None:
        return None

    def _undo(self, api, c, current, ctx) -> dict | None:
        meta, spec = current.get("metadata", {}), current.get("spec", {})
        if (meta.get("annotations") or {}).get(UNDO_KEY) == ctx.idempotency_key:
            return None  # this very step undid it already (a takeover)
        if spec.get("paused"):
            raise StepFailed("the deployment is paused: resume it before undoing a rollout")
        labels = (spec.get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        listed = self._call(
            "list replicasets",
            api.list_namespaced_replica_set,
            c["namespace"],
            label_selector=selector,
        )
        revision = int((meta.get("annotations") or {}).get(REVISION, 0))
        owned = [
            rs
            for rs in listed.get("items") or []
            if any(
                o.get("uid") == meta.get("uid") for o in rs["metadata"].get("ownerReferences") or []
            )
        ]
        older = [
            (int((rs["metadata"].get("annotations") or {}).get(REVISION, 0)), rs)
            for rs in owned
            if int((rs["metadata"].get("annotations") or {}).get(REVISION, 0)) < revision
        ]
        if not older:
            raise StepFailed(f"no rollout history below revision {revision}: nothing to undo to")
        to_revision, previous = max(older, key=lambda pair: pair[0])
        template = json.loads(json.dumps(previous["spec"]["template"]))
        template.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
        # One patch: the template and the mark that this step did it (JSON Pointer
        # escapes "/" in the annotation's key as "~1").
        if meta.get("annotations"):
            key = UNDO_KEY.replace("~", "~0").replace("/", "~1")
            mark = {
                "op": "add",
                "path": f"/metadata/annotations/{key}",
                "value": ctx.idempotency_key,
            }
        else:
            mark = {
                "op": "add",
                "path": "/metadata/annotations",
                "value": {UNDO_KEY: ctx.idempotency_key},
            }
        body = [{"op": "replace", "path": "/spec/template", "value": template}, mark]
        if not ctx.dry_run:
            self._patch(api, c, body, "application/json-patch+json")
            ctx.log(f"undone to revision {to_revision}")
        return {"to_revision": to_revision}

    def _wait(self, api, c: dict, ctx: RunContext) -> str:
        if ctx.dry_run:
            done, message = rollout_status(self._read(api, c))
            return f"would watch the rollout (now: {message})"
        deadline = time.monotonic() + c["timeout"]
        last = ""
        while True:
            done, message = rollout_status(self._read(api, c))
            if message != last:
                ctx.log(message)
                last = message
            if done:
                return message
            if time.monotonic() > deadline:
                raise StepFailed(f"the rollout did not finish within {c['timeout']:g} s: {message}")
            ctx.sleep(c["poll"])


def _reason(exc) -> str:
    try:
        return json.loads(exc.body or "{}").get("message") or exc.reason or ""
    except ValueError:
        return exc.reason or ""


def _retry_after(exc, attempt: int) -> float:
    headers = exc.headers or {}
    try:
        return min(10.0, float(headers.get("Retry-After", "")))
    except ValueError:
        return min(10.0, 0.5 * 2**attempt)
