"""Test data that reads like a runbook: a release with a team, phases, gates.

``team_release()`` builds, through the real importer path (Plan -> instantiate),
a release with T0 at the given time and a login for every role holder:

    rm / rm_backup      Release Manager (primary / backup)
    dba / dba_backup    DBA
    qa                  QA Lead
    sec                 Security Engineer
    devops              DevOps Lead
    vp                  VP Engineering (decision authority with the RM)
    pm                  Product Manager (stakeholder: view only)
    outsider            logged in, on no role
    admin               Django superuser
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model

from checklists.models import ChecklistItem, Gate
from deployments.models import Release
from deployments.runbooks.instantiate import instantiate
from deployments.runbooks.plan import (
    Plan,
    PlanChecklist,
    PlanGate,
    PlanItem,
    PlanPerson,
    PlanPhase,
    PlanRole,
    PlanSignOff,
)
from warroom import clock
from warroom.models import ApiToken
from warroom.people.models import Person

TEAM = {
    # username: (person name, role, primary?)
    "rm": ("Rita Manager", "Release Manager", True),
    "rm_backup": ("Ben Backup", "Release Manager", False),
    "dba": ("Dana Admin", "DBA", True),
    "dba_backup": ("Derek Standby", "DBA", False),
    "qa": ("Quinn Tester", "QA Lead", True),
    "sec": ("Sam Secure", "Security Engineer", True),
    "devops": ("Devi Ops", "DevOps Lead", True),
    "vp": ("Victor President", "VP Engineering", True),
    "pm": ("Paula Product", "Product Manager", True),
}
STAKEHOLDER_ROLES = {"Product Manager"}


def team_plan(items_per_list: int = 3) -> Plan:
    roles = []
    for role_name in dict.fromkeys(r for _, r, _ in TEAM.values()):
        primary = [n for n, r, p in TEAM.values() if r == role_name and p]
        backup = [n for n, r, p in TEAM.values() if r == role_name and not p]
        roles.append(
            PlanRole(
                name=role_name,
                primary=primary,
                backup=backup,
                kind="stakeholder" if role_name in STAKEHOLDER_ROLES else "team",
            )
        )

    def items(owner: str, prefix: str) -> list[PlanItem]:
        return [PlanItem(text=f"{prefix} {n + 1}", owner_role=owner) for n in range(items_per_list)]

    return Plan(
        title="Orbit Payments",
        version="v4.2.0",
        window_start=timedelta(hours=-2),
        window_end=timedelta(hours=6),
        checklists=[
            PlanChecklist(
                name="T-1 Day",
                due=timedelta(days=-1),
                kind="pre_deployment",
                items=items("QA Lead", "Regression suite green"),
            )
        ],
        phases=[
            PlanPhase(
                name="Pre-Deployment",
                start=timedelta(hours=-2),
                duration=timedelta(hours=2),
                checklists=[
                    PlanChecklist(
                        name="Environment verification",
                        items=[*items("DBA", "Verify backup"), PlanItem(text="Roll call")],
                    ),
                ],
            ),
            PlanPhase(
                name="Deployment Execution",
                start=timedelta(0),
                duration=timedelta(hours=2),
                checklists=[
                    PlanChecklist(name="Rollout", items=items("DevOps Lead", "Deploy region")),
                ],
            ),
            PlanPhase(name="Validation", start=timedelta(hours=2), duration=timedelta(hours=1)),
        ],
        roles=roles,
        people=[PlanPerson(name=n, email=f"{u}@orbit.example") for u, (n, _, _) in TEAM.items()],
        gates=[
            PlanGate(
                name="Go/No-Go",
                kind="go_no_go",
                at=timedelta(minutes=-30),
                decision_roles=["Release Manager", "VP Engineering"],
                signoffs=[
                    PlanSignOff("DBA", "Backup verified"),
                    PlanSignOff("QA Lead", "Smoke tests pass"),
                    PlanSignOff("Security Engineer", "No open critical findings"),
                ],
                checklist=[
                    PlanItem(text="All pre-deployment checks passed", owner_role="Release Manager"),
                    PlanItem(text="Rollback plan ready", owner_role="Release Manager"),
                ],
            ),
            PlanGate(
                name="Final go-live approval",
                kind="final_approval",
                at=timedelta(hours=3),
                decision_roles=["Release Manager"],
                signoffs=[PlanSignOff("QA Lead", "Validation complete")],
            ),
        ],
    )


@dataclass
class Team:
    release: Release
    users: dict

    def __getitem__(self, username: str):
        return self.users[username]

    def token(self, username: str) -> str:
        return ApiToken.issue(self.users[username])[1]

    def item(self, owner_role: str | None = None, **filters) -> ChecklistItem:
        qs = ChecklistItem.objects.filter(checklist__release=self.release, **filters)
        if owner_role is None:
            qs = qs.filter(owner_role=None)
        else:
            qs = qs.filter(owner_role__name=owner_role)
        return qs.order_by("id").first()

    def gate(self, kind: str = "go_no_go") -> Gate:
        return Gate.objects.get(release=self.release, kind=kind)


def team_release(
    *, go_live_at: datetime | None = None, items_per_list: int = 3, plan: Plan | None = None
) -> Team:
    """A release with T0 in an hour (by default) and a login for everyone on TEAM."""
    User = get_user_model()
    go_live_at = go_live_at or clock.now() + timedelta(hours=1)
    release = instantiate(plan or team_plan(items_per_list), go_live_at, source_name="tests")
    users = {}
    for username, (name, _, _) in TEAM.items():
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": f"{username}@orbit.example"}
        )
        person = Person.objects.filter(name=name, assignments__role__release=release).first()
        Person.objects.filter(user=user).update(user=None)
        person.user = user
        person.save(update_fields=["user"])
        users[username] = user
    users["outsider"], _ = User.objects.get_or_create(username="outsider")
    users["admin"], _ = User.objects.get_or_create(
        username="admin", defaults={"is_superuser": True, "is_staff": True}
    )
    return Team(release=release, users=users)


def crowd_release(*, items: int = 300, users: int = 20) -> tuple[Release, list]:
    """A release whose ``items`` items all belong to "DevOps Lead", held by ``users`` people."""
    User = get_user_model()
    plan = Plan(
        title="Crowd go-live",
        version="v1",
        phases=[
            PlanPhase(
                name="Execution",
                start=timedelta(0),
                duration=timedelta(hours=2),
                checklists=[
                    PlanChecklist(
                        name="Rollout",
                        items=[
                            PlanItem(text=f"Step {n + 1}", owner_role="DevOps Lead")
                            for n in range(items)
                        ],
                    )
                ],
            )
        ],
        roles=[PlanRole(name="DevOps Lead", primary=[f"Engineer {n}" for n in range(users)])],
    )
    release = instantiate(plan, clock.now() + timedelta(minutes=10), source_name="tests")
    members = []
    for n in range(users):
        user, _ = User.objects.get_or_create(username=f"engineer{n}")
        person = Person.objects.get(name=f"Engineer {n}", assignments__role__release=release)
        person.user = user
        person.save(update_fields=["user"])
        members.append(user)
    return release, members
