"""A CI/CD pipeline that deploys by itself reports into the release's timeline with a
token scoped to that one release."""

from __future__ import annotations

import pytest

from deployments import engine
from deployments.models import PipelineToken, StepRun
from tests.engine.test_engine_core import attach, kinds
from tests.factories import team_release
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


def as_pipeline(client, secret: str):
    def post(path: str, data: dict | None = None):
        return client.post(
            path, data=data or {}, content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )  # fmt: skip

    return post


def test_the_rm_makes_a_token_the_pipeline_reports_its_steps_and_the_phase_moves_on(
    team, api, client, service, queue
):
    rid = team.release.pk
    deploy = attach(team, kind="pipeline", title="Deploy v4.2 (GitLab)",
                    config={"pipeline": "gitlab deploy-prod"})  # fmt: skip
    attach(team, kind="http", title="Health", config={"url": f"{service.url}/health"})
    rm = api(team["rm"])
    # Only the release manager makes tokens.
    assert (
        api(team["devops"]).post(f"/api/releases/{rid}/pipeline-tokens", {"name": "ci"}).status_code
        == 403
    )
    made = rm.post(f"/api/releases/{rid}/pipeline-tokens", {"name": "gitlab"})
    assert made.status_code == 201, made.content
    secret = made.json()["token"]
    assert secret.startswith("wrp_")
    stored = PipelineToken.objects.get()
    assert stored.digest == PipelineToken.digest_of(secret) and secret not in stored.digest
    listed = rm.get(f"/api/releases/{rid}/pipeline-tokens").json()
    assert "token" not in listed[0] and listed[0]["prefix"] == secret[:10]

    engine.phase_run(phase=deploy.phase, user=team["rm"])
    queue.work()  # the pipeline step is not a worker's: nothing runs it
    assert StepRun.objects.get().status == "pending"

    ci = as_pipeline(client, secret)
    base = f"/api/pipeline/releases/{rid}/steps/{deploy.pk}"
    started = ci(f"{base}/start", {"log": "job 881 started: helm upgrade checkout"})
    assert started.status_code == 200, started.content
    assert started.json()["status"] == "running"
    assert ci(f"{base}/start").json()["id"] == started.json()["id"]  # a retry: once
    done = ci(f"{base}/finish", {"log": 'Release "checkout" has been upgraded.\nrollout ok'})
    assert done.status_code == 200 and done.json()["status"] == "succeeded"
    assert "helm upgrade" in done.json()["log"] and done.json()["log"].endswith("rollout ok")
    queue.work()  # the phase moved on to the health check
    assert dict(StepRun.objects.values_list("step__title", "status")) == {
        "Deploy v4.2 (GitLab)": "succeeded", "Health": "succeeded",
    }  # fmt: skip
    started_event = AuditEvent.objects.filter(release=team.release, kind="step.started").first()
    assert started_event.actor_label == f"pipeline gitlab ({secret[:10]}…)"
    assert kinds(team.release).count("step.succeeded") == 2

    # A person's token is no pipeline token, and the pipeline's reaches nothing else.
    assert api(team["rm"]).post(f"{base}/start").status_code == 401
    assert (
        client.get(
            f"/api/releases/{rid}", headers={"Authorization": f"Bearer {secret}"}
        ).status_code
        == 401
    )


def test_a_token_for_release_a_is_refused_on_release_b_and_the_attempt_is_audited(
    team, api, client
):
    other = team_release()
    target = engine.step_attach(
        phase=other.release.phases.get(name="Deployment Execution"), user=other["rm"],
        kind="pipeline", title="Deploy", config={},
    )  # fmt: skip
    _, secret = __import__("deployments.pipelines").pipelines.token_issue(
        release=team.release, name="jenkins", user=team["rm"]
    )
    refused = as_pipeline(client, secret)(
        f"/api/pipeline/releases/{other.release.pk}/steps/{target.pk}/start", {"log": "x"}
    )
    assert refused.status_code == 403 and "another release" in refused.json()["detail"]
    denied = AuditEvent.objects.get(release=other.release, kind="access.denied")
    assert (
        denied.actor_label.startswith("pipeline jenkins") and denied.data["action"] == "report_step"
    )
    assert not StepRun.objects.exists()


def test_a_revoked_token_is_refused_and_its_first_use_is_audited(team, api, client):
    deploy = attach(team, kind="pipeline", title="Deploy", config={})
    rm = api(team["rm"])
    made = rm.post(f"/api/releases/{team.release.pk}/pipeline-tokens", {"name": "github"}).json()
    revoked = client.delete(
        f"/api/releases/{team.release.pk}/pipeline-tokens/{made['id']}", headers=rm.headers
    )
    assert revoked.status_code == 200 and revoked.json()["revoked_by"] == "Rita Manager"
    ci = as_pipeline(client, made["token"])
    for _ in range(3):
        answer = ci(f"/api/pipeline/releases/{team.release.pk}/steps/{deploy.pk}/start")
        assert answer.status_code == 401 and "revoked" in answer.json()["detail"]
    assert not StepRun.objects.exists()
    denied = AuditEvent.objects.filter(release=team.release, kind="access.denied")
    assert denied.count() == 1 and "revoked" in denied.get().data["reason"]
    assert PipelineToken.objects.get().refused_uses == 3
    assert kinds(team.release, ("pipeline_token.",)) == [
        "pipeline_token.created", "pipeline_token.revoked",
    ]  # fmt: skip


def test_a_pipeline_may_report_only_pipeline_steps_and_a_failure_stops_the_phase(
    team, api, client, queue
):
    check = attach(team, kind="wait", title="Soak", config={"seconds": 0}, order=2)
    deploy = attach(team, kind="pipeline", title="Deploy", config={}, order=1)
    made = api(team["rm"]).post(f"/api/releases/{team.release.pk}/pipeline-tokens", {"name": "ci"})
    ci = as_pipeline(client, made.json()["token"])
    base = f"/api/pipeline/releases/{team.release.pk}/steps"
    wrong = ci(f"{base}/{check.pk}/start")
    assert wrong.status_code == 400 and wrong.json()["errors"][0]["field"] == "step"
    assert ci(f"{base}/{deploy.pk}/finish").status_code == 409  # not started
    engine.phase_run(phase=deploy.phase, user=team["rm"])
    ci(f"{base}/{deploy.pk}/start")
    failed = ci(f"{base}/{deploy.pk}/fail", {"log": "helm: timed out waiting for the condition"})
    assert failed.status_code == 200 and failed.json()["error"].startswith("helm: timed out")
    queue.work()
    assert not StepRun.objects.filter(step=check).exists()
