"""Every cell of the policy table (warroom/policies.py), allowed and refused, through the API.

Each row: an action, the relation the actor has to the release (and to the
thing acted on), and whether it is allowed. A refusal must answer 403 with a
reason, record exactly one ``access.denied`` event naming the actor, and write
nothing else.
"""

from __future__ import annotations

import pytest

from checklists.models import SignOff
from deployments.models import Step, StepRun
from warroom.audit import AuditEvent
from warroom.people.models import Role
from warroom.policies import TABLE, Action, Relation

pytestmark = pytest.mark.django_db

# (action, relation, username, target) -> expected; the target picks the object.
CELLS = [
    # view: everyone on the release
    (Action.VIEW, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.VIEW, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.VIEW, Relation.TEAM_MEMBER, "dba_backup", None, True),
    (Action.VIEW, Relation.TEAM_MEMBER, "devops", None, True),
    (Action.VIEW, Relation.STAKEHOLDER, "pm", None, True),
    (Action.VIEW, None, "outsider", None, False),
    # tick: the item's owner role, its backups, the manager; team members for unowned items
    (Action.TICK, Relation.RELEASE_MANAGER, "rm", "DBA", True),
    (Action.TICK, Relation.ROLE_HOLDER, "dba", "DBA", True),
    (Action.TICK, Relation.BACKUP, "dba_backup", "DBA", True),
    (Action.TICK, Relation.TEAM_MEMBER, "devops", None, True),
    (Action.TICK, Relation.TEAM_MEMBER, "devops", "DBA", False),
    (Action.TICK, Relation.DECISION_AUTHORITY, "vp", "DBA", False),
    (Action.TICK, Relation.STAKEHOLDER, "pm", None, False),
    (Action.TICK, None, "outsider", None, False),
    # nudge the people on duty for a late item: anyone working the night
    (Action.NUDGE, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.NUDGE, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.NUDGE, Relation.TEAM_MEMBER, "devops", None, True),
    (Action.NUDGE, Relation.STAKEHOLDER, "pm", None, False),
    (Action.NUDGE, None, "outsider", None, False),
    # report an issue: anyone working the night
    (Action.REPORT_ISSUE, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.REPORT_ISSUE, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.REPORT_ISSUE, Relation.TEAM_MEMBER, "devops", None, True),
    (Action.REPORT_ISSUE, Relation.STAKEHOLDER, "pm", None, False),
    (Action.REPORT_ISSUE, None, "outsider", None, False),
    # sign off: only for the role you hold (a backup on behalf of the primary)
    (Action.SIGN_OFF, Relation.ROLE_HOLDER, "dba", "DBA", True),
    (Action.SIGN_OFF, Relation.BACKUP, "dba_backup", "DBA", True),
    (Action.SIGN_OFF, Relation.RELEASE_MANAGER, "rm", "DBA", False),
    (Action.SIGN_OFF, Relation.DECISION_AUTHORITY, "vp", "DBA", False),
    (Action.SIGN_OFF, Relation.TEAM_MEMBER, "devops", "DBA", False),
    (Action.SIGN_OFF, Relation.STAKEHOLDER, "pm", "DBA", False),
    (Action.SIGN_OFF, None, "outsider", "DBA", False),
    # decide: the gate's decision authority only (here: VP Engineering)
    (Action.DECIDE, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.DECIDE, Relation.RELEASE_MANAGER, "rm", None, False),
    (Action.DECIDE, Relation.ROLE_HOLDER, "dba", None, False),
    (Action.DECIDE, Relation.BACKUP, "dba_backup", None, False),
    (Action.DECIDE, Relation.TEAM_MEMBER, "devops", None, False),
    (Action.DECIDE, Relation.STAKEHOLDER, "pm", None, False),
    (Action.DECIDE, None, "outsider", None, False),
    # execute a step: its owner role, backups, the manager
    (Action.EXECUTE_STEP, Relation.RELEASE_MANAGER, "rm", "DBA", True),
    (Action.EXECUTE_STEP, Relation.ROLE_HOLDER, "dba", "DBA", True),
    (Action.EXECUTE_STEP, Relation.BACKUP, "dba_backup", "DBA", True),
    (Action.EXECUTE_STEP, Relation.TEAM_MEMBER, "devops", "DBA", False),
    (Action.EXECUTE_STEP, Relation.DECISION_AUTHORITY, "vp", "DBA", False),
    (Action.EXECUTE_STEP, Relation.STAKEHOLDER, "pm", "DBA", False),
    (Action.EXECUTE_STEP, None, "outsider", "DBA", False),
    # raise a rollback trigger: anyone on the team
    (Action.RAISE_ROLLBACK, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.RAISE_ROLLBACK, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.RAISE_ROLLBACK, Relation.TEAM_MEMBER, "devops", None, True),
    (Action.RAISE_ROLLBACK, Relation.STAKEHOLDER, "pm", None, False),
    (Action.RAISE_ROLLBACK, None, "outsider", None, False),
    # pause, resume, abort the steps: the manager or a decision authority
    (Action.STEER_STEPS, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.STEER_STEPS, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.STEER_STEPS, Relation.ROLE_HOLDER, "devops", None, False),
    (Action.STEER_STEPS, Relation.STAKEHOLDER, "pm", None, False),
    (Action.STEER_STEPS, None, "outsider", None, False),
    # decide a rollback: the manager or a decision authority
    (Action.ROLL_BACK, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.ROLL_BACK, Relation.DECISION_AUTHORITY, "vp", None, True),
    (Action.ROLL_BACK, Relation.TEAM_MEMBER, "devops", None, False),
    (Action.ROLL_BACK, Relation.STAKEHOLDER, "pm", None, False),
    (Action.ROLL_BACK, None, "outsider", None, False),
    # edit the plan, manage people: the release manager
    (Action.EDIT_PLAN, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.EDIT_PLAN, Relation.DECISION_AUTHORITY, "vp", None, False),
    (Action.EDIT_PLAN, Relation.TEAM_MEMBER, "dba", None, False),
    (Action.EDIT_PLAN, Relation.STAKEHOLDER, "pm", None, False),
    (Action.EDIT_PLAN, None, "outsider", None, False),
    (Action.MANAGE_PEOPLE, Relation.RELEASE_MANAGER, "rm", None, True),
    (Action.MANAGE_PEOPLE, Relation.DECISION_AUTHORITY, "vp", None, False),
    (Action.MANAGE_PEOPLE, Relation.TEAM_MEMBER, "dba", None, False),
    (Action.MANAGE_PEOPLE, Relation.STAKEHOLDER, "pm", None, False),
    (Action.MANAGE_PEOPLE, None, "outsider", None, False),
    # administration: superusers only
    (Action.ADMIN, None, "admin", None, True),
    (Action.ADMIN, Relation.RELEASE_MANAGER, "rm", None, False),
    (Action.ADMIN, Relation.DECISION_AUTHORITY, "vp", None, False),
    (Action.ADMIN, Relation.TEAM_MEMBER, "dba", None, False),
    (Action.ADMIN, Relation.STAKEHOLDER, "pm", None, False),
]


def _decision_gate(team):
    """The final approval gate, decided by VP Engineering alone for these cells."""
    from checklists.models import GateDecisionRole

    gate = team.gate("final_approval")
    gate.decision_roles.clear()
    GateDecisionRole.objects.create(
        gate=gate, role=Role.objects.get(release=team.release, name="VP Engineering")
    )
    return gate


def prepare(team, action, target) -> dict:
    """What must exist before the action (written before the footprint is taken)."""
    r = team.release
    if action == Action.DECIDE:
        return {"gate": _decision_gate(team)}
    if action == Action.EXECUTE_STEP:
        phase = r.phases.get(name="Deployment Execution")
        owner = Role.objects.get(release=r, name=target)
        return {"step": Step.objects.create(phase=phase, title="Run migrations", owner_role=owner)}
    if action == Action.ROLL_BACK:
        from checklists.services import rollback_raise

        return {"call": rollback_raise(release=r, reason="p95 800ms", user=team["rm"])}
    return {}


def perform(team, api, action, username, target, ctx):  # noqa: C901 - one case per action
    """Do ``action`` as ``username`` through the API; return the response."""
    r = team.release
    client = api(team[username])
    match action:
        case Action.VIEW:
            return client.get(f"/api/releases/{r.pk}")
        case Action.TICK:
            item = team.item(target)
            return client.post(f"/api/releases/{r.pk}/items/{item.pk}", {"status": "done"})
        case Action.NUDGE:
            late = r.checklists.get(name="T-1 Day").items.first()  # due yesterday, open
            return client.post(f"/api/releases/{r.pk}/items/{late.pk}/nudges")
        case Action.SIGN_OFF:
            role = Role.objects.get(release=r, name=target)
            gate = team.gate()
            return client.post(
                f"/api/releases/{r.pk}/gates/{gate.pk}/signoffs",
                {"role_id": role.pk, "verdict": "approve", "comment": "ok"},
            )
        case Action.DECIDE:
            gate = ctx["gate"]
            return client.post(
                f"/api/releases/{r.pk}/gates/{gate.pk}/decisions",
                {"outcome": "no_go", "rationale": "validation not started"},
            )
        case Action.EXECUTE_STEP:
            return client.post(f"/api/releases/{r.pk}/steps/{ctx['step'].pk}/runs")
        case Action.REPORT_ISSUE:
            return client.post(
                f"/api/releases/{r.pk}/issues", {"title": "502s", "severity": "high"}
            )
        case Action.RAISE_ROLLBACK:
            return client.post(
                f"/api/releases/{r.pk}/rollback-calls", {"reason": "error rate 2% for 6 minutes"}
            )
        case Action.ROLL_BACK:
            call = ctx["call"]
            return client.post(
                f"/api/releases/{r.pk}/rollback-calls/{call.pk}/decision",
                {"choice": "fix_forward", "rationale": "hotfix ready"},
            )
        case Action.STEER_STEPS:
            return client.post(f"/api/releases/{r.pk}/steps/pause", {"note": "hold on"})
        case Action.EDIT_PLAN:
            return client.patch(f"/api/releases/{r.pk}", {"name": "Orbit Payments (moved)"})
        case Action.MANAGE_PEOPLE:
            role = Role.objects.get(release=r, name="QA Lead")
            return client.post(
                f"/api/releases/{r.pk}/roles/{role.pk}/assignments",
                {"username": "devops", "kind": "backup"},
            )
        case Action.ADMIN:
            return client.get(f"/api/releases/{r.pk}/audit/verify")
    raise AssertionError(action)


def footprint(release) -> dict:
    """What an action can write, to prove a refusal wrote nothing else."""
    from checklists.models import ChecklistItem, Decision, RollbackCall
    from deployments.models import EngineRequest
    from warroom.people.models import Assignment

    release.refresh_from_db()
    return {
        "done": ChecklistItem.objects.filter(checklist__release=release, status="done").count(),
        "signoffs": SignOff.objects.filter(required__gate__release=release).count(),
        "decisions": Decision.objects.filter(gate__release=release).count(),
        "runs": StepRun.objects.filter(step__phase__release=release).count(),
        "calls_decided": RollbackCall.objects.filter(release=release)
        .exclude(decided_at=None)
        .count(),
        "calls": RollbackCall.objects.filter(release=release).count(),
        "name": release.name,
        "paused": release.paused_at,
        "engine_requests": EngineRequest.objects.filter(release=release).count(),
        "assignments": Assignment.objects.filter(role__release=release).count(),
        "events": AuditEvent.objects.filter(release=release).exclude(kind="access.denied").count(),
    }


def test_the_table_covers_every_action_and_relation():
    covered = {(a, rel) for a, rel, *_ in CELLS}
    # Creating a release is not an act on a release: tested on its own below.
    for action in set(Action) - {Action.CREATE_RELEASE}:
        assert any(a == action for a, _ in covered), f"no cell tests {action}"
    for action, allowed in TABLE.items():
        for relation in allowed - {Relation.BOARD_LINK, Relation.ACCOUNT}:
            assert (action, relation) in covered, f"{action} x {relation} is untested"


@pytest.mark.parametrize(
    ("action", "relation", "username", "target", "allowed"),
    CELLS,
    ids=[f"{a}-{r or 'none'}-{u}-{'allowed' if ok else 'refused'}" for a, r, u, _, ok in CELLS],
)
def test_policy_cell(team, api, action, relation, username, target, allowed):
    ctx = prepare(team, action, target)
    denied = AuditEvent.objects.filter(release=team.release, kind="access.denied")
    denied_before = denied.count()
    before = footprint(team.release)

    resp = perform(team, api, action, username, target, ctx)

    if allowed:
        assert resp.status_code in (200, 201, 202), (resp.status_code, resp.content)
        assert denied.count() == denied_before
    else:
        assert resp.status_code == 403, (resp.status_code, resp.content)
        assert resp.json()["detail"]
        assert denied.count() == denied_before + 1
        event = denied.order_by("-seq").first()
        assert event.actor == team[username]
        assert event.data["action"] == str(action)
        assert footprint(team.release) == before


def test_the_board_link_may_view_the_board_and_nothing_else(client, team):
    r = team.release
    assert client.get(f"/board/{r.board_token}/").status_code == 200
    assert client.get(f"/board/{r.board_token}/sync").status_code == 200
    assert client.get(f"/releases/{r.pk}/").status_code == 302  # to the login page
    item = team.item("DBA")
    resp = client.post(f"/releases/{r.pk}/items/{item.pk}/status", {"status": "done"})
    assert resp.status_code == 302
    assert client.get("/board/not-the-token/").status_code == 404


def test_creating_a_release_needs_a_login_and_reusing_one_needs_its_manager(client, team):
    from datetime import timedelta

    from deployments import services as release_services
    from deployments.models import Release
    from warroom.policies import Refused

    t0 = team.release.go_live_at + timedelta(days=7)
    before = Release.objects.count()
    denied = AuditEvent.objects.filter(release=team.release, kind="access.denied")
    # A team member (not the manager) may not reuse the release: refused and audited.
    with pytest.raises(Refused):
        release_services.release_clone(release=team.release, go_live_at=t0, user=team["dba"])
    assert denied.count() == 1 and denied.get().data["action"] == "edit_plan"
    # Through the browser too, and nothing is created.
    client.force_login(team["pm"])
    resp = client.post(f"/releases/{team.release.pk}/reuse", {"go_live_at": t0.isoformat()})
    assert resp.status_code == 403
    assert Release.objects.count() == before
    # The release manager may.
    new = release_services.release_clone(release=team.release, go_live_at=t0, user=team["rm"])
    assert new.created_by == team["rm"] and Release.objects.count() == before + 1


def test_an_anonymous_caller_may_not_create_a_release():
    from django.contrib.auth.models import AnonymousUser

    from warroom.policies import Refused, require_create

    with pytest.raises(Refused):
        require_create(AnonymousUser())
    require_create(None)  # the system itself (manage.py import_runbook, the demo loader)
