"""A team release with an escalation matrix like the runbooks' (levels at 0/15/30/60 min)."""

from __future__ import annotations

from datetime import datetime, timedelta

from deployments.runbooks.plan import PlanEscalationLevel
from tests.factories import Team, team_plan, team_release

ROUTING_KEY = "R0UT1NGKEY0123456789abcdefABCDEF"  # 32 characters, as PagerDuty's are


def matrix() -> list[PlanEscalationLevel]:
    return [
        PlanEscalationLevel(1, "On-Call Engineers", roles=["DevOps Lead"], after=timedelta(0)),
        PlanEscalationLevel(2, "Team leads", roles=["DBA"], after=timedelta(minutes=15)),
        PlanEscalationLevel(
            3,
            "Release Manager + VP Engineering",
            roles=["Release Manager", "VP Engineering"],
            after=timedelta(minutes=30),
        ),
        PlanEscalationLevel(
            4, "Executive Team", contacts=["Paula Product"], after=timedelta(minutes=60)
        ),
    ]


def escalation_release(go_live_at: datetime | None = None) -> Team:
    plan = team_plan()
    plan.escalation = matrix()
    return team_release(go_live_at=go_live_at, plan=plan)
