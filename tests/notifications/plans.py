"""A release with a communication plan like the seeds': notices before the night,
team assembly, a start notice, 15-minute updates in the window, completion, a summary."""

from __future__ import annotations

from datetime import timedelta

from deployments.runbooks.plan import PlanCommsRule, PlanTemplate
from tests.factories import team_plan, team_release

H = timedelta(hours=1)
D = timedelta(days=1)

# (name, at, interval, milestone, channels, audience)
RULES = [
    ("Heads-up a week out", -7 * D, None, "", ["email"], "All stakeholders"),
    ("Three days to go", -3 * D, None, "", ["email", "slack"], "All stakeholders"),
    ("Tomorrow night", -1 * D, None, "", ["email", "slack"], "All stakeholders"),
    ("Team on the bridge", -2 * H, None, "", ["slack"], "Deployment team"),
    ("We have started", timedelta(0), None, "go_live", ["slack", "status_page"], "Everyone"),
    ("Progress", None, timedelta(minutes=15), "", ["slack"], "Stakeholders"),
    ("All done", 2 * H, None, "", ["slack", "email", "status_page"], "All stakeholders"),
    ("Morning summary", 6 * H, None, "", ["email"], "All stakeholders"),
    ("Rollback notice", None, None, "rollback", ["slack", "email"], "All stakeholders"),
]


def comms_plan(rules=RULES):
    plan = team_plan()
    plan.templates = [
        PlanTemplate(
            key=f"t{n}",
            name=name,
            subject=f"[Release Name] [X.Y.Z]: {name}",
            body=f"{name}. Go-live [Go-Live Time], phase [Phase], status [Status].",
        )
        for n, (name, *_rest) in enumerate(rules)
    ]
    plan.comms_rules = [
        PlanCommsRule(
            name=name,
            at=at,
            interval=every,
            milestone=ms,
            channels=list(channels),
            audience=audience,
            template=f"t{n}",
        )
        for n, (name, at, every, ms, channels, audience) in enumerate(rules)
    ]
    return plan


def comms_release(*, go_live_at, rules=RULES):
    return team_release(go_live_at=go_live_at, plan=comms_plan(rules))
