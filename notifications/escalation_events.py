"""The event kinds of escalation and on-call (registered from the app's config)."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare

OWNER = "notifications"


def _paged(d: Mapping) -> str:
    people = d.get("paged") or []
    if not people:
        return "nobody could be paged: the level has no one assigned"
    return "paged " + ", ".join(
        f"{p.get('person', '')} ({'/'.join(p.get('channels') or []) or 'no channel'})"
        for p in people
    )


def _escalated(d: Mapping, who: str) -> str:
    return (
        f"“{d.get('title', '')}” escalated to level {d.get('level', '')} "
        f"({d.get('name', '')}): {_paged(d)}" + (" and PagerDuty" if d.get("pagerduty") else "")
    )


ISSUE_ESCALATED = declare(
    "issue.escalated", describe=_escalated, regions={"summary"}, milestone=True, owner=OWNER
)
DECISION_ESCALATED = declare(
    "decision.escalated", describe=_escalated, regions={"summary"}, milestone=True, owner=OWNER
)
PAGERDUTY_REFUSED = declare(
    "pagerduty.refused",
    describe=lambda d, who: f"PagerDuty refused {d.get('action', '')}: {d.get('reason', '')}",
    regions={"summary"},
    owner=OWNER,
)
POLICY_CHANGED = declare(
    "escalation.policy_changed",
    describe=lambda d, who: f"{who} changed the escalation policy ({d.get('levels', 0)} levels)",
    regions={"summary"},
    owner=OWNER,
)
PAGERDUTY_ROUTED = declare(
    "pagerduty.routed",
    describe=lambda d, who: (
        f"{who} {'connected' if d.get('enabled') else 'disconnected'} PagerDuty"
    ),
    owner=OWNER,
)
ONCALL_CHANGED = declare(
    "oncall.changed",
    describe=lambda d, who: f"{who} {d.get('what', 'changed')} on {d.get('schedule', '')}",
    regions={"summary"},
    owner=OWNER,
)
