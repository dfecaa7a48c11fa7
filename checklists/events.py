"""The event kinds the checklists app owns: ticks, sign-offs, decisions, rollback calls."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare

OWNER = "checklists"
STATUS_WORDS = {"done": "ticked", "todo": "reopened", "blocked": "blocked", "na": "marked n/a"}


def _item_status(d: Mapping, who: str) -> str:
    if d.get("status") == d.get("from") and d.get("note"):
        return f"{who} added a note to “{d.get('text', '')}” — {d['note']}"
    verb = STATUS_WORDS.get(d.get("status", ""), d.get("status", ""))
    line = f"{who} {verb} “{d.get('text', '')}”"
    return line + (f" — {d['note']}" if d.get("note") else "")


def _signoff(d: Mapping, who: str) -> str:
    verb = "approved" if d.get("verdict") == "approve" else "rejected"
    behalf = f" on behalf of {d['on_behalf_of']}" if d.get("on_behalf_of") else ""
    return f"{who} {verb} {d.get('role', '')} sign-off for {d.get('gate', '')}{behalf}"


def _decision(d: Mapping, who: str) -> str:
    outcome, gate = d.get("outcome_label", ""), d.get("gate", "")
    return f"{who} decided {outcome} at {gate}: {d.get('rationale', '')}"


def _nudged(d: Mapping, who: str) -> str:
    to = ", ".join(d.get("to") or []) or "the people on duty"
    return f"{who} nudged {to} about “{d.get('text', '')}”"


ITEM_NUDGED = declare("item.nudged", describe=_nudged, regions={"nudge"}, owner=OWNER)
ITEM_STATUS = declare(
    "item.status", describe=_item_status, regions={"summary", "item"}, owner=OWNER
)
SIGNOFF_RECORDED = declare(
    "signoff.recorded", describe=_signoff, regions={"summary", "gates"}, owner=OWNER
)
DECISION_RECORDED = declare(
    "decision.recorded",
    describe=_decision,
    regions={"summary", "gates"},
    milestone=True,
    owner=OWNER,
)


def _proposed(d: Mapping, who: str) -> str:
    awaiting = " + ".join(d.get("awaiting") or []) or "the other decision roles"
    return (
        f"{who} proposed {d.get('outcome_label', '')} at {d.get('gate', '')}, awaiting "
        f"{awaiting}: {d.get('rationale', '')}"
    )


def _voted(d: Mapping, who: str) -> str:
    verb = "confirmed" if d.get("verdict") == "confirm" else "objected to"
    line = f"{who} ({d.get('role', '')}) {verb} {d.get('outcome_label', '')} at {d.get('gate', '')}"
    return line + (f": {d['comment']}" if d.get("comment") else "")


DECISION_PROPOSED = declare(
    "decision.proposed",
    describe=_proposed,
    regions={"summary", "gates"},
    milestone=True,
    owner=OWNER,
)
DECISION_VOTED = declare(
    "decision.voted", describe=_voted, regions={"summary", "gates"}, owner=OWNER
)
ROLLBACK_RAISED = declare(
    "rollback.raised",
    describe=lambda d, who: f"{who} raised a rollback trigger: {d.get('reason', '')}",
    regions={"summary", "gates", "rollback"},
    milestone=True,
    owner=OWNER,
)
ROLLBACK_DECIDED = declare(
    "rollback.decided",
    describe=lambda d, who: (
        f"{who} decided to {d.get('choice_label', '')}: {d.get('rationale', '')}"
    ),
    regions={"summary", "gates", "rollback"},
    milestone=True,
    owner=OWNER,
)
ROLLBACK_EXPIRED = declare(
    "rollback.expired",
    describe=lambda d, who: (
        f"The rollback decision clock ran out with no decision: {d.get('reason', '')}"
    ),
    regions={"summary", "gates", "rollback"},
    milestone=True,
    owner=OWNER,
)
