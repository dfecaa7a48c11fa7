"""The Plan: what a runbook says, as plain dataclasses (no Django).

``parse.py`` turns markdown into a Plan, ``instantiate.py`` turns a Plan plus a
go-live time into a Release, ``export.py`` writes a Plan back to markdown.

Every time in a Plan is an offset from T0 (``timedelta``; negative before
go-live), so a plan can be instantiated at any go-live time. Elements keep the
1-based source ``line`` they came from; it is excluded from equality so that
``parse(render(plan)) == plan`` can be checked on the content alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from .recognise import is_placeholder

ITEM_STATUSES = ("todo", "done", "blocked", "na")
SEVERITIES = ("immediate", "review", "investigate")
COMPARISONS = (">", ">=", "<", "<=", "==", "!=")


def _line() -> int:
    return field(default=0, compare=False)


@dataclass
class ParseWarning:
    line: int
    message: str


@dataclass
class PlanItem:
    """One checklist item (a ``- [ ]`` line, or a numbered group header)."""

    text: str
    done: bool = False  # "- [x]" in the source
    owner_role: str = ""  # role name as written, "" when none
    verification: str = ""  # commands / "Verification:" text, newline-joined
    children: list[PlanItem] = field(default_factory=list)  # sub-items of a group header
    line: int = _line()


@dataclass
class PlanChecklist:
    """A named list of items. ``due`` is when it must be complete (offset from T0)."""

    name: str
    items: list[PlanItem] = field(default_factory=list)
    due: timedelta | None = None
    kind: str = "phase"  # "pre_deployment" | "phase" | "go_no_go" | "post_deployment"
    line: int = _line()


@dataclass
class PlanPhase:
    """A block on the T-minus timeline."""

    name: str
    start: timedelta | None = None  # offset from T0
    duration: timedelta | None = None
    description: str = ""
    participants: list[str] = field(default_factory=list)  # role names
    checklists: list[PlanChecklist] = field(default_factory=list)
    line: int = _line()


@dataclass
class PlanPerson:
    """A contact: anyone with a name, or a placeholder such as "[TBD]"."""

    name: str
    email: str = ""
    phone: str = ""
    slack: str = ""
    line: int = _line()


@dataclass
class PlanRole:
    name: str
    duty: str = ""
    primary: list[str] = field(default_factory=list)  # person names (see Plan.people)
    backup: list[str] = field(default_factory=list)
    kind: str = "team"  # "team" | "stakeholder"
    line: int = _line()

    @property
    def unfilled(self) -> bool:
        """A seat the runbook names but leaves to fill ("[Name]", "TBD", "___")."""
        return not any(not is_placeholder(n) for n in self.primary)


@dataclass
class PlanEscalationLevel:
    level: int
    name: str
    roles: list[str] = field(default_factory=list)
    contacts: list[str] = field(default_factory=list)  # person names
    after: timedelta | None = None  # threshold: escalate after this long
    until: timedelta | None = None
    line: int = _line()


@dataclass
class PlanRollbackCriterion:
    metric: str
    comparison: str  # one of COMPARISONS; "" for a criterion in words only (no threshold)
    threshold: float
    unit: str = ""  # "%", "ms", "s", ...
    duration: timedelta | None = None  # "for 5+ minutes"
    severity: str = "immediate"  # one of SEVERITIES
    text: str = ""  # the source sentence, for people
    automatic: bool = False  # the runbook says to roll back without a decision
    line: int = _line()


@dataclass
class PlanCommsRule:
    """When to send what to whom: every ``interval`` within the window, or once at ``at``."""

    name: str
    at: timedelta | None = None
    interval: timedelta | None = None
    milestone: str = ""  # "go_live", "completion", "rollback", ... when event-driven
    channels: list[str] = field(default_factory=list)  # "slack", "email", "status_page", ...
    audience: str = ""
    template: str = ""  # PlanTemplate.key
    line: int = _line()


@dataclass
class PlanTemplate:
    key: str
    name: str
    subject: str = ""
    body: str = ""
    channel: str = ""
    placeholders: list[str] = field(default_factory=list)  # as written, e.g. "[X.Y.Z]"
    line: int = _line()


@dataclass
class PlanSignOff:
    role: str
    criteria: str = ""
    line: int = _line()


@dataclass
class PlanGate:
    """A go/no-go style decision point on the timeline."""

    name: str
    kind: str = "go_no_go"  # "go_no_go" | "final_approval"
    at: timedelta | None = None
    decision_roles: list[str] = field(default_factory=list)
    signoffs: list[PlanSignOff] = field(default_factory=list)
    checklist: list[PlanItem] = field(default_factory=list)
    consensus: str = "all"  # "all" | "quorum:N"
    line: int = _line()


@dataclass
class PlanNote:
    """Anything the model has no place for (success criteria, risks...), kept as text."""

    title: str
    body: str
    line: int = _line()


@dataclass
class Plan:
    title: str
    version: str = ""
    timezone: str = "UTC"
    go_live_at: str = ""  # as stated: "2026-03-14T22:00+01:00", or "02:00+08:00" (time only)
    window_start: timedelta | None = None  # deployment window, offsets from T0
    window_end: timedelta | None = None
    phases: list[PlanPhase] = field(default_factory=list)
    checklists: list[PlanChecklist] = field(default_factory=list)  # not tied to one phase
    roles: list[PlanRole] = field(default_factory=list)
    people: list[PlanPerson] = field(default_factory=list)
    escalation: list[PlanEscalationLevel] = field(default_factory=list)
    rollback_criteria: list[PlanRollbackCriterion] = field(default_factory=list)
    rollback_plan: list[PlanItem] = field(default_factory=list)  # steps run only on rollback
    comms_rules: list[PlanCommsRule] = field(default_factory=list)
    templates: list[PlanTemplate] = field(default_factory=list)
    gates: list[PlanGate] = field(default_factory=list)
    notes: list[PlanNote] = field(default_factory=list)
    warnings: list[ParseWarning] = field(default_factory=list, compare=False)

    def all_checklists(self) -> list[PlanChecklist]:
        return [*self.checklists, *(c for p in self.phases for c in p.checklists)]

    def item_count(self) -> int:
        def count(items: list[PlanItem]) -> int:
            return sum(1 + count(i.children) for i in items)

        return (
            sum(count(c.items) for c in self.all_checklists())
            + sum(count(g.checklist) for g in self.gates)
            + count(self.rollback_plan)
        )

    def summary(self) -> dict:
        """The figures ``import_runbook --json`` prints."""
        return {
            "phases": len(self.phases),
            "items": self.item_count(),
            "checklists": len(self.all_checklists()) + sum(1 for g in self.gates if g.checklist),
            "roles": len(self.roles),
            "contacts": len(self.people),
            "escalation_levels": len(self.escalation),
            "rollback_criteria": len(self.rollback_criteria),
            "comms_rules": len(self.comms_rules),
            "templates": len(self.templates),
            "signoffs": sum(len(g.signoffs) for g in self.gates),
            "warnings": [{"line": w.line, "message": w.message} for w in self.warnings],
        }
