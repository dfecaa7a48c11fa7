"""Plan -> canonical markdown runbook.

The output is an ordinary runbook a person can read and edit, written in the
shapes ``parse.py`` understands without guessing: headings with an explicit
type prefix ("Phase:", "Checklist:", "Gate:", "Template:", "Note:"), ``**Key:**
value`` metadata, ``- [ ]`` items with ``(Owner: Role)``, and tables with fixed
headers. Times are T-offsets ("T-2:00", "T+0:30", "T-7d") so the export does
not depend on the go-live date.

Text is written verbatim where the parser reads it back unchanged; otherwise
(pipes, a trailing "(Owner: x)", a leading "1." ...) it is backslash-escaped,
which the parser undoes. ``parse_runbook(render_plan(plan)) == plan`` holds for
any plan whose strings are single-line (bodies, verification and note text may
span lines) and whose names are unique where the model keys on them (role and
contact names, escalation levels, template keys).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

from .parse import (
    _CHECKBOX,
    cell_text,
    escape,
    format_duration,
    format_offset,
    item_text,
    meta_value,
    plain,
    split_list,
    unescape,
)
from .plan import Plan, PlanChecklist, PlanGate, PlanItem, PlanPhase

__all__ = ["render_plan"]

_BLOCK_START = re.compile(r"^(?:\d+[.)]|[-+*>#=|<~`_]|\s)|\s$")


def _fit(text: str, reader: Callable[[str], object], *, block: bool = False) -> str:
    """``text`` if the parser reads it back unchanged, else its escaped form."""
    if (
        "\n" not in text
        and "\r" not in text
        and reader(text) == text
        and not (block and _BLOCK_START.search(text))
    ):
        return text
    return escape(text)


def _heading(text: str) -> str:
    return _fit(text, lambda s: None if re.search(r"(^|\s)#+\s*$", s) else unescape(s.strip()))


def _meta(text: str) -> str:
    return _fit(text, meta_value)


def _cell(text: str) -> str:
    return _fit(text, lambda s: None if "|" in s else cell_text(s))


def _cell_list(values: list[str]) -> str:
    return "; ".join(
        _fit(v, lambda s: None if ("|" in s or ";" in s or s.endswith("\\")) else cell_text(s))
        for v in values
    )


def _meta_list(values: list[str]) -> str:
    if not values:
        return "-"
    return "; ".join(
        _fit(v, lambda s: None if (";" in s or s.endswith("\\")) else cell_text(s)) for v in values
    )


def _bullet(text: str) -> str:
    return _fit(text, lambda s: None if _CHECKBOX.match(s) else unescape(s.strip()), block=True)


def _off(value: timedelta | None) -> str:
    return format_offset(value) if value is not None else ""


def _dur(value: timedelta | None) -> str:
    return format_duration(value) if value is not None else ""


def _fence(body: str, indent: str = "", info: str = "text") -> list[str]:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    ticks = "`" * max(3, longest + 1)
    lines = [f"{indent}{ticks}{info}"]
    lines += [f"{indent}{ln}" if ln else "" for ln in body.split("\n")]
    lines.append(f"{indent}{ticks}")
    return lines


def _item_line(item: PlanItem) -> str:
    box = "[x]" if item.done else "[ ]"
    plain_form = f"{item.text} (Owner: {item.owner_role})" if item.owner_role else item.text
    if "\n" not in plain_form and item_text(plain_form) == (item.text, item.owner_role):
        body = plain_form
    else:
        body = escape(item.text)
        if item.owner_role:
            body += f" (Owner: {escape(item.owner_role)})"
    return f"- {box} {body}".rstrip()


def _items(items: list[PlanItem], indent: str = "") -> list[str]:
    out: list[str] = []
    for item in items:
        out.append(indent + _item_line(item))
        if item.verification:
            out += _fence(item.verification, indent + "  ", "bash")
        if item.children:
            out += _items(item.children, indent + "  ")
    return out


def _meta_lines(pairs: list[tuple[str, str]]) -> list[str]:
    return [f"**{k}:** {v}" for k, v in pairs if v]


def _checklist(cl: PlanChecklist, level: int) -> list[str]:
    out = ["", f"{'#' * level} Checklist: {_heading(cl.name)}", ""]
    out += _meta_lines([("Kind", _meta(cl.kind)), ("Due", _off(cl.due))])
    if cl.items:
        out += ["", *_items(cl.items)]
    return out


def _phase(phase: PlanPhase) -> list[str]:
    out = ["", f"### Phase: {_heading(phase.name)}", ""]
    meta = _meta_lines(
        [
            ("Start", _off(phase.start)),
            ("Duration", _dur(phase.duration)),
            ("Description", _meta(phase.description) if phase.description else ""),
        ]
    )
    out += meta
    if phase.participants:
        out += ["", "**Participants:**", ""]
        out += [f"* {_bullet(p)}" for p in phase.participants]
    for cl in phase.checklists:
        out += _checklist(cl, 4)
    return out


def _gate(gate: PlanGate) -> list[str]:
    out = ["", f"### Gate: {_heading(gate.name)}", ""]
    out += _meta_lines(
        [("Kind", _meta(gate.kind)), ("At", _off(gate.at)), ("Consensus", _meta(gate.consensus))]
    )
    if gate.decision_roles:
        out += ["", "**Decision Makers:**", ""]
        out += [f"* {_bullet(r)}" for r in gate.decision_roles]
    if gate.signoffs:
        out += ["", "| Role | Criteria |", "| --- | --- |"]
        out += [f"| {_cell(s.role)} | {_cell(s.criteria)} |" for s in gate.signoffs]
    if gate.checklist:
        out += ["", *_items(gate.checklist)]
    return out


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["", "| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out


def render_plan(plan: Plan) -> str:
    """Write ``plan`` as a canonical markdown runbook (see the module docstring)."""
    title = _fit(plan.title, lambda s: None if re.search(r"(^|\s)#+\s*$", s) else plain(s))
    out = [f"# {title}", "", f"**Go-live:** {plan.go_live_at or '-'}"]
    out += _meta_lines(
        [
            ("Release Version", _fit(plan.version, plain) if plan.version else ""),
            ("Time Zone", _fit(plan.timezone, plain)),
            ("Window Start", _off(plan.window_start)),
            ("Window End", _off(plan.window_end)),
        ]
    )
    for section in _SECTIONS:
        out += section(plan)
    return "\n".join(out) + "\n"


_ = split_list  # re-exported helpers used by tests


def _render_phases(plan: Plan) -> list[str]:
    if not plan.phases:
        return []
    out: list[str] = []
    out += ["", "## Timeline"]
    for phase in plan.phases:
        out += _phase(phase)
    return out


def _render_checklists(plan: Plan) -> list[str]:
    if not plan.checklists:
        return []
    out: list[str] = []
    out += ["", "## Checklists"]
    for cl in plan.checklists:
        out += _checklist(cl, 3)
    return out


def _render_gates(plan: Plan) -> list[str]:
    if not plan.gates:
        return []
    out: list[str] = []
    out += ["", "## Gates"]
    for gate in plan.gates:
        out += _gate(gate)
    return out


def _render_roles(plan: Plan) -> list[str]:
    if not plan.roles:
        return []
    out: list[str] = []
    out += ["", "## Team"]
    out += _table(
        ["Role", "Kind", "Duty", "Primary", "Backup"],
        [
            [
                _cell(r.name),
                _cell(r.kind),
                _cell(r.duty),
                _cell_list(r.primary),
                _cell_list(r.backup),
            ]
            for r in plan.roles
        ],
    )
    return out


def _render_people(plan: Plan) -> list[str]:
    if not plan.people:
        return []
    out: list[str] = []
    out += ["", "## Contacts"]
    out += _table(
        ["Name", "Email", "Phone", "Slack"],
        [[_cell(p.name), _cell(p.email), _cell(p.phone), _cell(p.slack)] for p in plan.people],
    )
    return out


def _render_escalation(plan: Plan) -> list[str]:
    if not plan.escalation:
        return []
    out: list[str] = []
    out += ["", "## Escalation"]
    out += _table(
        ["Level", "Title", "Roles", "Contacts", "After", "Until"],
        [
            [
                str(lv.level),
                _cell(lv.name),
                _cell_list(lv.roles),
                _cell_list(lv.contacts),
                _dur(lv.after),
                _dur(lv.until),
            ]
            for lv in plan.escalation
        ],
    )
    return out


def _render_rollback_criteria(plan: Plan) -> list[str]:
    if not plan.rollback_criteria:
        return []
    out: list[str] = []
    out += ["", "## Rollback Criteria"]
    out += _table(
        [
            "Metric",
            "Comparison",
            "Threshold",
            "Unit",
            "Duration",
            "Severity",
            "Text",
            "Automatic",
        ],
        [
            [
                _cell(c.metric),
                _cell(c.comparison),
                repr(float(c.threshold)),
                _cell(c.unit),
                _dur(c.duration),
                _cell(c.severity),
                _cell(c.text),
                "yes" if c.automatic else "no",
            ]
            for c in plan.rollback_criteria
        ],
    )
    return out


def _render_rollback_plan(plan: Plan) -> list[str]:
    if not plan.rollback_plan:
        return []
    out: list[str] = []
    out += ["", "## Rollback: Plan", "", *_items(plan.rollback_plan)]
    return out


def _render_comms_rules(plan: Plan) -> list[str]:
    if not plan.comms_rules:
        return []
    out: list[str] = []
    out += ["", "## Communications"]
    out += _table(
        ["Name", "At", "Every", "Milestone", "Channels", "Audience", "Template"],
        [
            [
                _cell(r.name),
                _off(r.at),
                _dur(r.interval),
                _cell(r.milestone),
                _cell_list(r.channels),
                _cell(r.audience),
                _cell(r.template),
            ]
            for r in plan.comms_rules
        ],
    )
    return out


def _render_templates(plan: Plan) -> list[str]:
    if not plan.templates:
        return []
    out: list[str] = []
    out += ["", "## Templates"]
    for t in plan.templates:
        out += ["", f"### Template: {_heading(t.name)}", ""]
        out += _meta_lines(
            [
                ("Key", _meta(t.key)),
                ("Channel", _meta(t.channel) if t.channel else ""),
                ("Subject", _meta(t.subject) if t.subject else ""),
                ("Placeholders", _meta_list(t.placeholders)),
            ]
        )
        out += ["", *_fence(t.body)]
    return out


def _render_notes(plan: Plan) -> list[str]:
    if not plan.notes:
        return []
    out: list[str] = []
    out += ["", "## Notes"]
    for n in plan.notes:
        out += ["", f"### Note: {_heading(n.title)}", "", *_fence(n.body)]
    return out


_SECTIONS = (
    _render_phases,
    _render_checklists,
    _render_gates,
    _render_roles,
    _render_people,
    _render_escalation,
    _render_rollback_criteria,
    _render_rollback_plan,
    _render_comms_rules,
    _render_templates,
    _render_notes,
)
