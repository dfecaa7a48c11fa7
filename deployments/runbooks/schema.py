"""The plan as JSON: what ``import_runbook PATH --dry-run --json`` prints and CI reads.

The schema is documented in the README ("Runbook import: the JSON plan"). Times are
seconds from T0 (negative before go-live); every element keeps its source ``line``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from .plan import Plan, PlanItem

SCHEMA_VERSION = 1


def stated_t0(stated: str, now: datetime) -> datetime | None:
    """T0 from what the runbook states (``Plan.go_live_at``): a date and time as written, a
    time alone on its next occurrence after ``now``; None when nothing (usable) is stated."""
    if not stated:
        return None
    try:
        if "T" in stated:
            moment = datetime.fromisoformat(stated)
        else:
            moment = datetime.fromisoformat(f"{now.astimezone(UTC).date().isoformat()}T{stated}")
    except ValueError:
        return None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    while "T" not in stated and moment <= now:
        moment += timedelta(days=1)
    return moment


def _s(value: timedelta | None) -> int | None:
    return int(value.total_seconds()) if value is not None else None


def _items(items: list[PlanItem]) -> list[dict[str, Any]]:
    return [
        {
            "text": i.text,
            "owner": i.owner_role,
            "done": i.done,
            "verification": i.verification,
            "line": i.line,
            "children": _items(i.children),
        }
        for i in items
    ]


def plan_json(plan: Plan) -> dict[str, Any]:
    """The whole plan, not only its counts."""
    summary = plan.summary()
    warnings = summary.pop("warnings")
    summary["rollback_steps"] = len(plan.rollback_plan)
    checklists = [
        {
            "title": c.name,
            "phase": None,
            "kind": c.kind,
            "due_offset_s": _s(c.due),
            "line": c.line,
            "items": _items(c.items),
        }
        for c in plan.checklists
    ] + [
        {
            "title": c.name,
            "phase": p.name,
            "kind": c.kind,
            "due_offset_s": _s(p.start if c.due is None else c.due),
            "line": c.line,
            "items": _items(c.items),
        }
        for p in plan.phases
        for c in p.checklists
    ]
    return {
        "schema": SCHEMA_VERSION,
        "title": plan.title,
        "go_live_at": plan.go_live_at or None,
        "timezone": plan.timezone,
        "counts": summary,
        "phases": [
            {
                "title": p.name,
                "offset_s": _s(p.start),
                "duration_s": _s(p.duration),
                "participants": p.participants,
                "line": p.line,
            }
            for p in plan.phases
        ],
        "checklists": checklists,
        "roles": [
            {
                "name": r.name,
                "kind": r.kind,
                "people": r.primary,
                "backup": r.backup,
                "unfilled": r.unfilled,
                "line": r.line,
            }
            for r in plan.roles
        ],
        "contacts": [
            {"name": p.name, "email": p.email, "phone": p.phone, "slack": p.slack, "line": p.line}
            for p in plan.people
        ],
        "escalation": [
            {
                "level": lv.level,
                "name": lv.name,
                "after_s": _s(lv.after),
                "roles": lv.roles,
                "contacts": lv.contacts,
                "line": lv.line,
            }
            for lv in plan.escalation
        ],
        "rollback_criteria": [
            {
                "text": c.text,
                "metric": c.metric,
                "op": c.comparison or None,
                "threshold": c.threshold if c.comparison else None,
                "unit": c.unit,
                "for_s": _s(c.duration),
                "automatic": c.automatic,
                "severity": c.severity,
                "line": c.line,
            }
            for c in plan.rollback_criteria
        ],
        "rollback_plan": _items(plan.rollback_plan),
        "gates": [
            {
                "title": g.name,
                "kind": g.kind,
                "offset_s": _s(g.at),
                "signoffs": [
                    {"role": s.role, "criteria": s.criteria, "line": s.line} for s in g.signoffs
                ],
                "decision_roles": g.decision_roles,
                "items": _items(g.checklist),
                "line": g.line,
            }
            for g in plan.gates
        ],
        "comms": [
            {
                "name": r.name,
                "at_s": _s(r.at),
                "every_s": _s(r.interval),
                "milestone": r.milestone,
                "channels": r.channels,
                "audience": r.audience,
                "template": r.template,
                "line": r.line,
            }
            for r in plan.comms_rules
        ],
        "templates": [
            {
                "key": t.key,
                "name": t.name,
                "subject": t.subject,
                "channel": t.channel,
                "placeholders": t.placeholders,
                "line": t.line,
            }
            for t in plan.templates
        ],
        "notes": [{"title": n.title, "line": n.line} for n in plan.notes],
        "warnings": warnings,
    }
