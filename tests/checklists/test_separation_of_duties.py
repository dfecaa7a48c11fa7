"""Separation of duties: one person signs or answers for one role of a gate, a decision
that needs two roles needs two people, and who holds a decision role is audited and
shown on the gate."""

from __future__ import annotations

import pytest

from checklists import services
from checklists.models import DecisionVote, SignOff
from deployments import services as release_services
from warroom.audit import AuditEvent
from warroom.errors import Conflict
from warroom.events import describe
from warroom.people.models import Role

pytestmark = pytest.mark.django_db


def role(team, name: str) -> Role:
    return Role.objects.get(release=team.release, name=name)


def make_backup(team, username: str, role_name: str) -> None:
    release_services.role_assign(
        role=role(team, role_name), username=username, kind="backup", user=team["rm"]
    )


def test_a_backup_of_two_roles_signs_for_one_of_them_at_a_gate(api, team):
    """Derek is the DBA's backup; made QA's backup too, he cannot approve the gate twice."""
    make_backup(team, "dba_backup", "QA Lead")
    gate = team.gate()
    services.signoff_record(
        gate=gate, role=role(team, "DBA"), verdict="approve", user=team["dba_backup"]
    )
    with pytest.raises(Conflict) as refused:
        services.signoff_record(
            gate=gate, role=role(team, "QA Lead"), verdict="approve", user=team["dba_backup"]
        )
    assert refused.value.field == "role"
    assert "Derek Standby has already signed or answered for DBA at Go/No-Go" in str(refused.value)
    assert "another holder of QA Lead must" in str(refused.value)
    # Through the API: 409, naming the field; nothing recorded.
    resp = api(team["dba_backup"]).post(
        f"/api/releases/{team.release.pk}/gates/{gate.pk}/signoffs",
        {"role_id": role(team, "QA Lead").pk, "verdict": "approve"},
    )
    assert resp.status_code == 409 and resp.json()["errors"][0]["field"] == "role"
    assert SignOff.objects.filter(required__gate=gate).count() == 1
    # He may still change his own DBA sign-off, and the QA Lead signs for QA.
    services.signoff_record(
        gate=gate, role=role(team, "DBA"), verdict="reject", comment="backup stale",
        user=team["dba_backup"],
    )  # fmt: skip
    services.signoff_record(
        gate=gate, role=role(team, "QA Lead"), verdict="approve", user=team["qa"]
    )


def test_the_same_person_at_other_gates_is_not_held_back(team):
    make_backup(team, "qa", "DBA")
    services.signoff_record(
        gate=team.gate(), role=role(team, "DBA"), verdict="approve", user=team["qa"]
    )
    final = team.gate("final_approval")
    services.signoff_record(
        gate=final, role=role(team, "QA Lead"), verdict="approve", user=team["qa"]
    )


def test_a_decision_needing_two_roles_needs_two_people(team):
    """The release manager made herself backup VP: she proposes as release manager and
    cannot confirm for the VP too."""
    make_backup(team, "rm", "VP Engineering")
    gate = team.gate()
    proposal = services.decision_record(
        gate=gate, outcome="no_go", rationale="the database is not ready", user=team["rm"]
    )
    with pytest.raises(Conflict):
        services.decision_vote_record(decision=proposal, verdict="confirm", user=team["rm"])
    assert [v.role.name for v in DecisionVote.objects.filter(decision=proposal)] == [
        "Release Manager"
    ]
    services.decision_vote_record(decision=proposal, verdict="confirm", user=team["vp"])


def test_who_signed_for_a_role_cannot_answer_the_decision_for_another(team):
    make_backup(team, "vp", "Security Engineer")
    gate = team.gate()
    services.signoff_record(
        gate=gate, role=role(team, "Security Engineer"), verdict="approve", user=team["vp"]
    )
    proposal = services.decision_record(
        gate=gate, outcome="no_go", rationale="not yet", user=team["rm"]
    )
    with pytest.raises(Conflict, match="Victor President has already signed or answered for "
                                       "Security Engineer at Go/No-Go"):  # fmt: skip
        services.decision_vote_record(decision=proposal, verdict="confirm", user=team["vp"])


def test_assigning_a_decision_role_is_audited_and_shown_on_the_gate(client, team):
    make_backup(team, "rm", "VP Engineering")
    event = AuditEvent.objects.filter(release=team.release, kind="people.assigned").last()
    assert event.data["decides"] == ["Go/No-Go"] and event.actor_label == "Rita Manager"
    assert describe(event) == (
        "Rita Manager made Rita Manager backup for VP Engineering (decides Go/No-Go)"
    )
    client.force_login(team["qa"])
    page = client.get(f"/releases/{team.release.pk}/gates/{team.gate().pk}/").content.decode()
    assert "Who decides: Release Manager — Rita Manager; Ben Backup (backup)" in page
    assert "VP Engineering — Victor President; Rita Manager (backup), assigned by Rita Manager" in (
        page
    )
    assert "Rita Manager holds Release Manager and VP Engineering (backup) — answers for one" in (
        page
    )
    # Taking her off is audited too, and the gate no longer shows her.
    release_services.role_unassign(
        role=role(team, "VP Engineering"), username="rm", user=team["rm"]
    )
    event = AuditEvent.objects.filter(release=team.release).last()
    assert event.kind == "people.unassigned" and event.data["decides"] == ["Go/No-Go"]
    page = client.get(f"/releases/{team.release.pk}/gates/{team.gate().pk}/").content.decode()
    assert "Rita Manager holds" not in page
