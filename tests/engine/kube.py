"""A local Kubernetes API server for apps/v1 Deployments and ReplicaSets — what the
``kubernetes`` executor calls (read, patch, list) — with rollouts that progress a step
per read, revisions on ReplicaSets, ProgressDeadlineExceeded, and scripted errors
(429 with Retry-After, 500, slow answers). No real API server runs here; the official
client is pointed at this one through a kubeconfig (``kubeconfig(path)``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import time
import uuid
from urllib.parse import parse_qs, urlsplit

from tests.engine.fakes import JsonHandler, _Server

REVISION = "deployment.kubernetes.io/revision"
PATH = re.compile(r"^/apis/apps/v1/namespaces/([^/]+)/(deployments|replicasets)(?:/([^/?]+))?")


def _hash(template: dict) -> str:
    clean = copy.deepcopy(template)
    clean.get("metadata", {}).get("labels", {}).pop("pod-template-hash", None)
    return hashlib.sha1(json.dumps(clean, sort_keys=True).encode()).hexdigest()[:10]


def strategic_merge(target, patch):
    """Enough of strategic merge: objects merge, lists of named objects merge by name."""
    if isinstance(target, dict) and isinstance(patch, dict):
        out = dict(target)
        for k, v in patch.items():
            out[k] = None if v is None else strategic_merge(target.get(k), v)
        return {k: v for k, v in out.items() if v is not None}
    if isinstance(target, list) and isinstance(patch, list) and all("name" in p for p in patch):
        out = [dict(x) for x in target]
        for p in patch:
            match = next((x for x in out if x.get("name") == p["name"]), None)
            if match is None:
                out.append(p)
            else:
                out[out.index(match)] = strategic_merge(match, p)
        return out
    return copy.deepcopy(patch)


def json_patch(doc: dict, ops: list[dict]) -> dict:
    out = copy.deepcopy(doc)
    for op in ops:
        parts = [p.replace("~1", "/").replace("~0", "~") for p in op["path"].split("/")[1:]]
        here = out
        for p in parts[:-1]:
            here = here.setdefault(p, {})
        if op["op"] in ("add", "replace"):
            here[parts[-1]] = copy.deepcopy(op["value"])
        elif op["op"] == "remove":
            here.pop(parts[-1], None)
    return out


class KubeApi(_Server):
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.deployments: dict[tuple[str, str], dict] = {}
        self.replicasets: list[dict] = []
        self.trouble: list[tuple[int, dict]] = []
        self.stuck = False  # a rollout that never progresses: ProgressDeadlineExceeded
        self.writes = 0  # PATCHes that changed the pod template (a new rollout)
        self.calls: list[str] = []
        super().__init__()

    def _handler(self):
        return _KubeHandler

    def add_deployment(self, name: str, image: str, replicas: int = 3, ns: str = "default") -> dict:
        template = {
            "metadata": {"labels": {"app": name}},
            "spec": {"containers": [{"name": name, "image": image}]},
        }
        d = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": name, "namespace": ns, "uid": str(uuid.uuid4()), "generation": 1,
                         "annotations": {REVISION: "1"}, "labels": {"app": name}},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": template, "progressDeadlineSeconds": 600},
            "status": {"observedGeneration": 1, "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas,
                       "conditions": [{"type": "Progressing", "status": "True",
                                       "reason": "NewReplicaSetAvailable"}]},
        }  # fmt: skip
        with self.lock:
            self.deployments[(ns, name)] = d
            self._replicaset_for(d, 1)
        return d

    def image(self, name: str, ns: str = "default") -> str:
        return self.deployments[(ns, name)]["spec"]["template"]["spec"]["containers"][0]["image"]

    def _replicaset_for(self, d: dict, revision: int) -> None:
        template = copy.deepcopy(d["spec"]["template"])
        h = _hash(template)
        for rs in self.replicasets:
            if rs["metadata"]["labels"].get("pod-template-hash") == h:
                rs["metadata"]["annotations"][REVISION] = str(revision)
                return
        template["metadata"].setdefault("labels", {})["pod-template-hash"] = h
        meta = d["metadata"]
        self.replicasets.append({
            "metadata": {"name": f"{meta['name']}-{h}", "namespace": meta["namespace"],
                         "uid": str(uuid.uuid4()), "labels": {**template["metadata"]["labels"]},
                         "annotations": {REVISION: str(revision)},
                         "ownerReferences": [{"kind": "Deployment", "name": meta["name"],
                                              "uid": meta["uid"]}]},
            "spec": {"replicas": d["spec"]["replicas"], "template": template},
        })  # fmt: skip

    def progress(self, d: dict) -> None:
        """One step of the controller: observe the spec, then roll one pod at a time."""
        meta, spec, st = d["metadata"], d["spec"], d["status"]
        want = spec.get("replicas", 1)
        if st["observedGeneration"] < meta["generation"]:
            st["observedGeneration"] = meta["generation"]
            return
        if self.stuck:
            st["conditions"] = [{"type": "Progressing", "status": "False",
                                 "reason": "ProgressDeadlineExceeded"}]  # fmt: skip
            return
        if st["updatedReplicas"] < want:
            st["updatedReplicas"] += 1
            st["replicas"] = want + 1  # surge: an old pod still running
        elif st["replicas"] > want:
            st["replicas"] = want
        elif st["availableReplicas"] != want:
            st["availableReplicas"] = want
        st["readyReplicas"] = st["availableReplicas"]

    def apply(self, d: dict, patched: dict) -> dict:
        before = _hash(d["spec"]["template"])
        changed_spec = patched["spec"] != d["spec"]
        d.update(patched)
        if changed_spec:
            d["metadata"]["generation"] += 1
        if _hash(d["spec"]["template"]) != before:
            self.writes += 1
            revision = 1 + max(
                int(rs["metadata"]["annotations"][REVISION]) for rs in self.replicasets
            )
            d["metadata"].setdefault("annotations", {})[REVISION] = str(revision)
            self._replicaset_for(d, revision)
            d["status"]["updatedReplicas"] = 0
            d["status"]["availableReplicas"] = max(0, d["spec"].get("replicas", 1) - 1)
        elif changed_spec:
            d["status"]["updatedReplicas"] = min(d["status"]["updatedReplicas"], 0)
        return d


class _KubeHandler(JsonHandler):
    @property
    def api(self) -> KubeApi:
        return self.owner

    def _status(self, code: int, message: str, headers: dict | None = None) -> None:
        body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": message,
                "code": code}  # fmt: skip
        self._answer(code, body, headers)

    def _route(self):
        api = self.api
        api.calls.append(f"{self.command} {self.path}")
        if self.headers.get("Authorization") != "Bearer fake-token":
            self._status(401, "Unauthorized")
            return None
        with api.lock:
            bad = api.trouble.pop(0) if api.trouble else None
        if bad is not None:
            status, headers = bad
            if status == 0:  # slower than any caller waits
                time.sleep(float(headers.get("sleep", 30)))
                return None
            self._status(status, "scripted trouble", headers)
            return None
        m = PATH.match(self.path)
        if not m:
            self._status(404, f"no route {self.path}")
            return None
        return m.groups()

    def do_GET(self) -> None:
        route = self._route()
        if route is None:
            return
        ns, what, name = route
        api = self.api
        with api.lock:
            if what == "replicasets":
                query = parse_qs(urlsplit(self.path).query).get("labelSelector", [""])[0]
                wanted = dict(p.split("=", 1) for p in query.split(",") if p)
                items = [
                    rs
                    for rs in api.replicasets
                    if rs["metadata"]["namespace"] == ns
                    and all(rs["metadata"]["labels"].get(k) == v for k, v in wanted.items())
                ]
                self._answer(
                    200, {"kind": "ReplicaSetList", "apiVersion": "apps/v1", "items": items}
                )
                return
            d = api.deployments.get((ns, name))
            if d is None:
                self._status(404, f'deployments.apps "{name}" not found')
                return
            seen = copy.deepcopy(d)
            api.progress(d)  # the controller moves on after each read
            self._answer(200, seen)

    def do_PATCH(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        route = self._route()
        if route is None:
            return
        ns, what, name = route
        kind = self.headers.get("Content-Type", "")
        api = self.api
        with api.lock:
            d = api.deployments.get((ns, name))
            if d is None or what != "deployments":
                self._status(404, f'deployments.apps "{name}" not found')
                return
            current = {"metadata": d["metadata"], "spec": d["spec"]}
            if "json-patch" in kind:
                patched = json_patch(current, body)
            elif "strategic-merge" in kind or "merge-patch" in kind:
                patched = strategic_merge(current, body)
            else:
                self._status(415, f"unsupported patch type {kind}")
                return
            self._answer(200, api.apply(d, patched))


def kubeconfig(path, server: KubeApi) -> str:
    """A kubeconfig (JSON is YAML) pointing the official client at ``server``."""
    path.write_text(json.dumps({
        "apiVersion": "v1", "kind": "Config", "current-context": "fake",
        "clusters": [{"name": "fake", "cluster": {"server": server.url}}],
        "users": [{"name": "tester", "user": {"token": "fake-token"}}],
        "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "tester"}}],
    }))  # fmt: skip
    return str(path)
