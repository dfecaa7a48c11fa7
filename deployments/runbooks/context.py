# ruff: noqa: RUF001 - real runbooks use dashes, arrows and mojibake
"""Section classification and the reading context.

Each section is classified by heading keywords (timeline, checklist, roles,
escalation, rollback, comms, gate, notes; a section without keywords inherits
its parent's class). The keyword patterns here are shared by the recognisers.
:class:`Ctx` is what a section means, inherited down the tree; :class:`_State`
is the reading state inside one section.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum

from . import vocab
from .blocks import Block
from .plan import PlanCommsRule, PlanGate, PlanItem, PlanPerson, PlanPhase, PlanRole
from .times import Times


class SectionKind(StrEnum):
    """What a section holds, from its heading (inherited by sections without keywords)."""

    COMMS = "comms"
    ESCALATION = "escalation"
    GATE = "gate"
    ROLLBACK = "rollback"  # rollback criteria / triggers
    ROLLBACK_PLAN = "rollback_plan"  # steps that run only on rollback
    NOTES = "notes"
    ROLES = "roles"
    TIMELINE = "timeline"
    CHECKLIST = "checklist"
    TEMPLATE = "template"
    NOTE = "note"


_ROLLBACK_PLAN = vocab.phrase_rx(vocab.ROLLBACK_PLAN)
_ROLLBACK_TRIGGERS = vocab.phrase_rx(vocab.ROLLBACK_TRIGGERS)
_GATE_WORDS = vocab.phrase_rx(vocab.GATE)
_TASK_WORDS = vocab.phrase_rx(vocab.TASK_HEADINGS)
_TEAM_WORDS = re.compile(
    r"^(?:" + "|".join(re.escape(w) for w in vocab.TEAMS) + r")(?:\s+(?:team|tasks?))?$", re.I
)


def _words(pattern: str) -> re.Pattern[str]:
    """A case-insensitive pattern, behind a look-ahead for its first letters (``vocab.quick``)."""
    return vocab.quick(re.compile(pattern, re.I))


_CLASSES = [
    ("rollback_plan", _ROLLBACK_PLAN),
    ("rollback", _ROLLBACK_TRIGGERS),
    ("comms", _words(r"communicat|notif|announce|status update|message|templates?\b")),
    ("escalation", _words(r"escalat")),
    ("escalation", vocab.phrase_rx(vocab.ESCALATION)),
    ("gate", _words(r"go\s*/?\s*-?no[\s-]*go|approv|sign[\s-]*off")),
    ("gate", _GATE_WORDS),
    ("rollback", _words(r"rollback|roll back|threshold")),
    (
        "notes",
        _words(
            r"success|severity|on-?call schedule|risk|contingenc|mitigat|criteria|\bsla\b|"
            r"incident|decision matrix"
        ),
    ),
    (
        "roles",
        _words(r"\bteam\b|\broles?\b|responsib|contact|roster|assignment|people|staff|oversight"),
    ),
    (
        "timeline",
        _words(r"timeline|schedule|phases?\b|steps\b|execution|cutover|day-by-day|daily"),
    ),
    (
        "checklist",
        _words(
            r"checklist|pre-?deploy|pre-?launch|pre-?flight|post-?deploy|post-?launch|validation|"
            r"activities|readiness|verification"
        ),
    ),
]

_GO_NO_GO = _words(r"go\s*/?\s*-?no[\s-]*go")
_APPROVAL = _words(r"approv|sign[\s-]*off")
_STAKEHOLDER = _words(r"executive|stakeholder|oversight|sponsor|leadership")
_PRE = _words(r"\bpre[\s-]|before|prior|prep")
_POST = _words(r"\bpost[\s-]|after|day-after|24-hour|follow-?up|close-?out|handover")
_GENERIC_LABEL = re.compile(
    r"^(checklist|tasks?|actions?|steps?|deliverables|items|validations?|todo|to-?do)$", re.I
)
_LEVEL = re.compile(r"^(?:level\s*(\d+)|L(\d+))\b\s*[:\-–—]?\s*(.*)$", re.I)
_ROLE_SPLIT = re.compile(r"\s*(?:/|\+|,|&|\band\b)\s*")
_PAREN_TAIL = re.compile(r"\s*\(([^()]*)\)\s*$")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+")


@functools.lru_cache(maxsize=2048)
def classify(title: str) -> SectionKind | None:
    for name, rx in _CLASSES:
        if rx.search(title):
            return SectionKind(name)
    return None


def trigger_heading(title: str) -> bool:
    """ "Rollback triggers", "Rollback-Kriterien", "回滚条件"...: lines below are criteria."""
    return bool(_ROLLBACK_TRIGGERS.search(title))


def task_heading(title: str) -> bool:
    """A heading that names tasks, steps, a procedure or a checklist."""
    return bool(_TASK_WORDS.search(title))


def team_heading(title: str) -> bool:
    """``### QA``, ``### Support team``: a team named as the doer of what follows."""
    return bool(_TEAM_WORDS.match(title.strip()))


@dataclass
class Ctx:
    """What a section means, inherited down the tree."""

    cls: str | None = None
    phase: PlanPhase | None = None
    phase_times: Times | None = None
    due: timedelta | None = None
    kind_hint: str = ""
    role: PlanRole | None = None
    gate_kind: str = ""
    day: timedelta | None = None  # offset of the day's midnight (day-by-day plans)
    explicit: str = ""  # canonical heading prefix
    comms: PlanCommsRule | None = None
    title: str = ""
    line: int = 0
    tasks: bool = False  # the heading names tasks/steps: plain bullets are items
    triggers: bool = False  # a rollback triggers/criteria section: its lines are criteria
    owner: str = ""  # a section-level owner or a team heading: the doer of its items
    path: tuple[str, ...] = ()  # titles of the enclosing sections


@dataclass
class _State:
    """Reading state inside one section."""

    ctx: Ctx
    label: str = ""
    label_times: Times | None = None
    label_gate: tuple | None = None
    label_role: PlanRole | None = None
    sub: PlanPhase | None = None
    group: PlanItem | None = None
    group_depth_ok: bool = False
    last_item: PlanItem | None = None
    current_gate: PlanGate | None = None
    person: PlanPerson | None = None
    person_role: PlanRole | None = None
    seat_written: str = ""  # the name written for person_role's seat (maybe a placeholder)
    comms: PlanCommsRule | None = None
    subject: str = ""
    channel: str = ""
    severity: str = ""
    loose: list[Block] = field(default_factory=list)
    loose_para: bool = False
    pending_fences: list[Block] = field(default_factory=list)
    unparsed_criteria: list[tuple[int, str]] = field(default_factory=list)
    owner: str = ""  # "**Owner:** X" in this section
