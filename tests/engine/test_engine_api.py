"""The engine through the API: what a CI/CD pipeline or a script does."""

from __future__ import annotations

import pytest

from deployments.models import Step, StepRun

pytestmark = pytest.mark.django_db(transaction=True)


def test_steps_are_attached_ordered_run_and_confirmed_through_the_api(team, api, service, queue):
    rm = api(team["rm"])
    release = team.release
    phase = release.phases.get(name="Deployment Execution")
    base = f"/api/releases/{release.pk}/phases/{phase.pk}"

    bad = rm.post(f"{base}/steps", {"kind": "http", "title": "Health", "config": {"method": "GET"}})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "config.url"
    assert not Step.objects.exists()

    health = rm.post(f"{base}/steps", {"kind": "http", "title": "Health",
                                       "config": {"url": f"{service.url}/health"}})  # fmt: skip
    assert health.status_code == 201, health.content
    gate = rm.post(f"{base}/steps", {"kind": "manual", "title": "Look at the dashboards",
                                     "config": {"instructions": "Grafana: checkout"},
                                     "owner_role": "QA Lead"})  # fmt: skip
    assert gate.status_code == 201 and gate.json()["requires_confirmation"] is True
    ids = [gate.json()["id"], health.json()["id"]]
    ordered = rm.post(f"{base}/steps/order", {"steps": ids})
    assert [s["title"] for s in ordered.json()] == ["Look at the dashboards", "Health"]
    assert (
        rm.post(f"{base}/steps/order", {"steps": ids[:1]}).json()["errors"][0]["field"] == "steps"
    )

    # Someone outside the release manager's seat may not edit the plan.
    soak = {"kind": "wait", "title": "Soak", "config": {"seconds": 1}}
    assert api(team["qa"]).post(f"{base}/steps", soak).status_code == 403

    started = rm.post(f"{base}/run", {})
    assert started.status_code == 202 and started.json()["status"] == "awaiting"
    run_id = started.json()["id"]
    # The manual step is QA's: the QA lead ticks it; a DBA may not.
    assert (
        api(team["dba"]).post(f"/api/releases/{release.pk}/runs/{run_id}/confirm", {}).status_code
        == 403
    )
    done = api(team["qa"]).post(
        f"/api/releases/{release.pk}/runs/{run_id}/confirm", {"note": "all green"}
    )
    assert done.status_code == 200 and done.json()["status"] == "pending"
    queue.work()
    listed = rm.get(f"/api/releases/{release.pk}/steps").json()
    assert [(s["title"], s["latest_run"]["status"]) for s in listed] == [
        ("Look at the dashboards", "succeeded"),
        ("Health", "succeeded"),
    ]
    assert StepRun.objects.get(step_id=ids[1]).log.endswith("1 request met expectations")
