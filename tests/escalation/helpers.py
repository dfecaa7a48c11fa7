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


#: Slack as the people gave it: a user ID, or a display handle found by their email.
SLACK_HANDLES = {
    "Devi Ops": "UDEVI0001",
    "Dana Admin": "@dana",
    "Rita Manager": "URITA0001",
    "Victor President": "@victor",
}
#: The Slack workspace's directory (``users.lookupByEmail``) for the display handles.
SLACK_DIRECTORY = {"dba@orbit.example": "UDANA0001", "vp@orbit.example": "UVICT0001"}


def on_slack(release) -> None:
    """Give the release's people their Slack handles (:data:`SLACK_HANDLES`)."""
    from warroom.people.models import Person

    for name, handle in SLACK_HANDLES.items():
        Person.objects.filter(name=name, assignments__role__release=release).update(
            slack_handle=handle
        )
