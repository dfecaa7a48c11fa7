"""``kubernetes`` steps through the official client and a kubeconfig, against a local
API server speaking apps/v1 (tests/engine/kube.py): set an image and watch the rollout
as kubectl does, undo to the previous revision, and fail readably on errors."""

from __future__ import annotations

import pytest

from deployments.executors import RunContext, StepFailed
from deployments.executors.kubernetes import KubernetesExecutor, rollout_status
from tests.engine.kube import KubeApi, kubeconfig
from warroom.errors import FieldError

EXECUTOR = KubernetesExecutor()


@pytest.fixture
def kube(tmp_path, settings):
    api = KubeApi()
    api.add_deployment("checkout", "registry.example/checkout:4.1.0", replicas=3)
    settings.KUBECONFIG = kubeconfig(tmp_path / "kubeconfig", api)
    settings.ENGINE_CALL_TIMEOUT = 2
    yield api
    api.close()


def run(config: dict, key: str = "warroom-step-1-attempt-1", dry_run: bool = False) -> RunContext:
    ctx = RunContext(config=EXECUTOR.validate(config), idempotency_key=key, dry_run=dry_run)
    ctx.lines.append(EXECUTOR.run(ctx))
    return ctx


SET_IMAGE = {"action": "set_image", "deployment": "checkout", "container": "checkout",
             "image": "registry.example/checkout:4.2.0", "poll": 0.05}  # fmt: skip


def test_setting_an_image_waits_for_the_rollout_as_kubectl_decides_and_applies_once(kube):
    ctx = run(SET_IMAGE)
    assert kube.image("checkout") == "registry.example/checkout:4.2.0"
    assert ctx.lines[0] == "image registry.example/checkout:4.1.0 → registry.example/checkout:4.2.0"
    assert "waiting for the deployment spec update to be observed" in ctx.lines
    assert "0 of 3 updated replicas are available" in ctx.lines
    assert "1 old replicas are pending termination" in ctx.lines
    assert ctx.lines[-1] == "deployment 'checkout' successfully rolled out"
    # Again (a retry, a takeover): the image is already set; nothing is written.
    again = run(SET_IMAGE)
    assert "already so, nothing to change" in again.lines[0]
    assert kube.writes == 1


def test_a_dry_run_reads_and_says_what_it_would_do(kube):
    ctx = run(SET_IMAGE, dry_run=True)
    assert ctx.lines[-1].startswith("would set image checkout=registry.example/checkout:4.2.0")
    assert kube.writes == 0 and kube.image("checkout").endswith(":4.1.0")


def test_undo_goes_back_to_the_previous_revision_once_even_when_taken_over(kube):
    run(SET_IMAGE)
    d = kube.deployments[("default", "checkout")]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "2"
    undo = {"action": "undo", "deployment": "checkout", "poll": 0.05}
    ctx = run(undo, key="warroom-step-9-attempt-1")
    assert kube.image("checkout") == "registry.example/checkout:4.1.0"
    assert "undone to revision 1" in ctx.lines
    # kubectl's undo: the template has no pod-template-hash; the old ReplicaSet is reused
    # and becomes revision 3.
    assert "pod-template-hash" not in d["spec"]["template"]["metadata"]["labels"]
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    assert len(kube.replicasets) == 2
    # The same step again (another worker took it over): not undone twice.
    again = run(undo, key="warroom-step-9-attempt-1")
    assert "already so" in again.lines[0] and kube.image("checkout").endswith(":4.1.0")
    assert kube.writes == 2


def test_undo_is_refused_while_paused_and_without_history(kube):
    with pytest.raises(StepFailed, match="no rollout history below revision 1"):
        run({"action": "undo", "deployment": "checkout"})
    kube.deployments[("default", "checkout")]["spec"]["paused"] = True
    with pytest.raises(StepFailed, match="paused: resume it"):
        run({"action": "undo", "deployment": "checkout"})


def test_a_rollout_past_its_progress_deadline_fails_the_step(kube):
    kube.stuck = True
    with pytest.raises(StepFailed, match="'checkout' exceeded its progress deadline"):
        run(SET_IMAGE)


def test_scaling_reads_back_and_waits(kube):
    ctx = run({"action": "scale", "deployment": "checkout", "replicas": 5, "poll": 0.05})
    assert ctx.lines[0] == "replicas 3 → 5"
    assert kube.deployments[("default", "checkout")]["status"]["availableReplicas"] == 5


def test_rate_limits_and_server_errors_are_retried_then_fail_readably(kube):
    kube.trouble = [(429, {"Retry-After": "1"}), (503, {})]
    run(SET_IMAGE)
    assert kube.image("checkout").endswith(":4.2.0")
    kube.trouble = [(500, {})] * 4
    with pytest.raises(StepFailed, match="read deployment: the API server answered 500: scripted"):
        run(SET_IMAGE)
    with pytest.raises(StepFailed, match=r'answered 404: deployments\.apps "cart" not found'):
        run({**SET_IMAGE, "deployment": "cart"})


def test_an_api_server_that_does_not_answer_fails_within_the_call_timeout(kube):
    kube.trouble = [(0, {"sleep": "5"})] * 4
    with pytest.raises(StepFailed, match="cannot reach the API server"):
        run(SET_IMAGE)


def test_the_config_names_the_missing_field():
    with pytest.raises(FieldError) as e:
        EXECUTOR.validate({"action": "set_image", "deployment": "checkout", "container": "c"})
    assert e.value.field == "config.image"
    with pytest.raises(FieldError) as e:
        EXECUTOR.validate({"action": "rollout", "deployment": "checkout"})
    assert e.value.field == "config.action"


def test_rollout_status_reads_like_kubectl():
    d = {"metadata": {"name": "web", "generation": 2},
         "spec": {"replicas": 2},
         "status": {"observedGeneration": 2, "replicas": 2, "updatedReplicas": 2,
                    "availableReplicas": 1}}  # fmt: skip
    assert rollout_status(d) == (False, "1 of 2 updated replicas are available")
    d["status"]["availableReplicas"] = 2
    assert rollout_status(d) == (True, "deployment 'web' successfully rolled out")
