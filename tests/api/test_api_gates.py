"""Go/No-Go through the API: bad input names the field and writes nothing."""

from datetime import timedelta

import pytest

from checklists.models import Decision, SignOff
from warroom import clock
from warroom.people.models import Role

pytestmark = pytest.mark.django_db


def url(team, suffix=""):
    return f"/api/releases/{team.release.pk}/gates/{team.gate().pk}{suffix}"


def test_a_decision_without_rationale_is_400_naming_the_field(api, team):
    resp = api(team["vp"]).post(url(team, "/decisions"), {"outcome": "no_go"})
    assert resp.status_code == 400
    assert resp.json()["errors"] == [{"field": "rationale", "message": "is required"}]
    blank = api(team["vp"]).post(url(team, "/decisions"), {"outcome": "no_go", "rationale": " "})
    assert blank.status_code == 400
    assert blank.json()["errors"] == [{"field": "rationale", "message": "must not be empty"}]
    assert not Decision.objects.exists()


def test_a_no_go_date_in_the_past_is_400(api, team):
    past = (clock.now() - timedelta(hours=1)).isoformat()
    resp = api(team["vp"]).post(
        url(team, "/decisions"), {"outcome": "no_go", "rationale": "db", "new_date": past}
    )
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "new_date"
    assert not Decision.objects.exists()


def test_an_unknown_outcome_is_400_naming_the_field(api, team):
    resp = api(team["vp"]).post(url(team, "/decisions"), {"outcome": "maybe", "rationale": "hmm"})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "outcome"


def test_go_while_blocked_is_400_and_says_what_blocks(api, team):
    resp = api(team["vp"]).post(url(team, "/decisions"), {"outcome": "go", "rationale": "x"})
    assert resp.status_code == 400
    assert "sign-off missing" in resp.json()["detail"]


def test_a_second_decision_without_superseding_is_409(api, team):
    vp = api(team["vp"])
    first = vp.post(url(team, "/decisions"), {"outcome": "no_go", "rationale": "not ready"})
    assert first.status_code == 201
    again = vp.post(url(team, "/decisions"), {"outcome": "no_go", "rationale": "still"})
    assert again.status_code == 409 and again.json()["errors"][0]["field"] == "supersedes"
    later = vp.post(
        url(team, "/decisions"),
        {"outcome": "no_go", "rationale": "moved", "supersedes": first.json()["id"]},
    )
    assert later.status_code == 201 and later.json()["supersedes_id"] == first.json()["id"]


def test_signing_off_for_a_role_not_required_at_the_gate_is_400(api, team):
    devops = Role.objects.get(release=team.release, name="DevOps Lead")
    resp = api(team["devops"]).post(
        url(team, "/signoffs"), {"role_id": devops.pk, "verdict": "approve"}
    )
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "role"
    assert not SignOff.objects.exists()


def test_the_gate_shows_its_sign_offs_and_blockers(api, team):
    dba = Role.objects.get(release=team.release, name="DBA")
    resp = api(team["dba_backup"]).post(
        url(team, "/signoffs"), {"role_id": dba.pk, "verdict": "approve"}
    )
    assert resp.status_code == 200
    gate = api(team["pm"]).get(url(team)).json()
    [signed] = [s for s in gate["signoffs"] if s["role"] == "DBA"]
    assert signed["verdict"] == "approve"
    assert signed["signer"] == "Derek Standby" and signed["on_behalf_of"] == "Dana Admin"
    assert gate["can_go"] is False and gate["blockers"]


def test_an_unknown_gate_is_404(api, team):
    resp = api(team["vp"]).post(
        f"/api/releases/{team.release.pk}/gates/999999/decisions",
        {"outcome": "go", "rationale": "x"},
    )
    assert resp.status_code == 404


def test_two_deciders_through_the_api_propose_confirm_and_the_gate_shows_it(api, team):
    from checklists import services
    from warroom.people.models import Role

    gate = team.gate()
    for username, role_name in (("dba", "DBA"), ("qa", "QA Lead"), ("sec", "Security Engineer")):
        role = Role.objects.get(release=team.release, name=role_name)
        services.signoff_record(gate=gate, role=role, verdict="approve", user=team[username])
    for item in gate.checklist.items.all():
        services.item_set_status(item=item, status="done", user=team["rm"])
    proposed = api(team["vp"]).post(url(team, "/decisions"), {"outcome": "go", "rationale": "ok"})
    assert proposed.status_code == 201, proposed.content
    body = proposed.json()
    assert body["state"] == "proposed" and body["awaiting"] == ["Release Manager"]
    assert [v["role"] for v in body["votes"]] == ["VP Engineering"]
    shown = api(team["pm"]).get(url(team)).json()
    assert shown["decision"] == "" and shown["latest"]["state"] == "proposed"
    assert shown["deciders"] == ["Release Manager", "VP Engineering"]
    # The VP cannot answer twice; the RM confirms and the gate is decided.
    again = api(team["vp"]).post(
        url(team, f"/decisions/{body['id']}/votes"), {"verdict": "confirm"}
    )
    assert again.status_code == 409
    confirmed = api(team["rm"]).post(
        url(team, f"/decisions/{body['id']}/votes"), {"verdict": "confirm"}
    )
    assert confirmed.status_code == 201 and confirmed.json()["state"] == "decided"
    assert api(team["pm"]).get(url(team)).json()["decision"] == "go"
