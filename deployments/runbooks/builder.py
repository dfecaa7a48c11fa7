"""The builder: section tree -> :class:`Plan`.

The builder walks the section tree. Each section gets a :class:`Ctx` from its
heading and its parent's: a class from the heading keywords, a phase when the
heading carries a time window, a due offset when it carries a single T-offset
("T-7 Days"), a role in a roles section, a gate kind in a go/no-go or
approval section. Headings in canonical form are read by ``canonical.py``.
The section's blocks are then read by ``reader.py``.

Everything the passes share is one typed :class:`~.index.PlanIndex` (the plan
being built, the warnings, the T0 anchor, the lookup tables). The builder
composes one small class per structure (times, owners, roles, escalation,
gates, rollback, comms, phases, checklists, canonical, the blocks reader): each
is given the index and only the parts it calls, so every call is typed and a
part's dependencies are its constructor's arguments. The one call back (a plain
bullet inside a checklist is read by the blocks reader) is wired here.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import timedelta

from .blocks import MAX_NESTING, Section, _blocks, _sections, block_tokens, nested_too_deep
from .canonical import CanonicalReader
from .checklists import ChecklistsReader
from .comms import CommsReader
from .context import (
    _LEVEL,
    _NUMBERING,
    _POST,
    _PRE,
    _STAKEHOLDER,
    Ctx,
    SectionKind,
    classify,
    task_heading,
    team_heading,
    trigger_heading,
)
from .errors import RunbookError
from .escalation import EscalationReader
from .gates import GatesReader
from .index import PlanIndex
from .owners import OwnersReader
from .phases import PhasesReader
from .plan import Plan
from .reader import BlocksReader
from .recognise import (
    front_matter,
    has_task_marks,
    marks_mean_done,
    rollback_bare,
    step_heading,
)
from .roles import RolesReader
from .rollback import RollbackReader
from .text import heading_prefix, plain
from .times import Times, TimesReader, clean_name, day_span, read_times

#: a numbered heading that names one of these is a section of its own, not a step
_NOT_STEP_KINDS = (
    SectionKind.GATE,
    SectionKind.ROLLBACK,
    SectionKind.ROLLBACK_PLAN,
    SectionKind.ROLES,
    SectionKind.ESCALATION,
    SectionKind.COMMS,
    SectionKind.NOTES,
)


class _Builder:
    """Builds one :class:`Plan` from one runbook text, composing the readers of each
    structure over one :class:`PlanIndex`."""

    def __init__(self, text: str, source_name: str):
        self.index = index = PlanIndex(text, source_name)
        self.times = TimesReader(index)
        self.owners = OwnersReader(index)
        self.roles = RolesReader(index)
        self.escalation = EscalationReader(index, self.roles)
        self.gates = GatesReader(index)
        self.rollback = RollbackReader(index)
        self.comms = CommsReader(index, self.times)
        self.phases = PhasesReader(index, self.times)
        self.checklists = ChecklistsReader(
            index, self.owners, self.roles, self.gates, self.rollback, self.times
        )
        self.canonical = CanonicalReader(index, self.comms, self.phases, self.checklists)
        self.reader = BlocksReader(
            index,
            self.times,
            self.roles,
            self.escalation,
            self.gates,
            self.rollback,
            self.comms,
            self.phases,
            self.checklists,
            self.canonical,
        )
        self.checklists.read_bullet = self.reader.plain_bullet

    # -- entry -------------------------------------------------------------------

    def build(self) -> Plan:
        meta, self.index.text = front_matter(self.index.text)
        self.index.has_boxes = has_task_marks(self.index.text)
        self.index.marks_mean_done = marks_mean_done(self.index.text)
        tokens = block_tokens(self.index.text)
        if (deep := nested_too_deep(tokens)) is not None:
            self.index.warn(
                deep,
                f"lists or quotes nest too deep here (markdown reads {MAX_NESTING} levels): "
                "what nests deeper, and may be what follows, was not read",
            )
        blocks, _ = _blocks(tokens, 0, None)
        root = _sections(blocks)
        self.times.find_anchor()
        self.times.stated_go_live()
        self.index.plan.title = plain(meta.get("title") or meta.get("name") or "")
        for sec in root.children:
            if sec.level == 1 and not self.index.plan.title:
                self.index.plan.title = plain(sec.title)
                break
        self.index.plan.title = (
            self.index.plan.title or self.index.source_name or "Untitled runbook"
        )
        self.index.heading_count = sum(1 for b in blocks if b.kind == "heading" and b.level > 1)
        self.walk(root, Ctx())
        self.finish()
        return self.index.plan

    def walk(self, sec: Section, parent: Ctx) -> None:
        if self.step_section(sec, parent):
            for child in sec.children:
                self.walk(child, parent)
            return
        ctx = self.section_ctx(sec, parent)
        self.reader.process_blocks(sec, ctx)
        for child in sec.children:
            self.walk(child, ctx)

    def step_section(self, sec: Section, parent: Ctx) -> bool:
        """``### Step 1: Snapshot all indices`` under a phase, a checklist, a procedure or a
        rollback plan: the heading is one task of the enclosing section, its body the
        task's verification, an ``Owner: X`` line under it its owner."""
        if sec.level < 2 or parent.explicit or heading_prefix(sec.title):
            return False
        text = step_heading(plain(sec.title))
        if not text:
            return False
        numbered = sec.title.lstrip()[:1].isdigit()  # "### 3. X" rather than "### Step 3: X"
        if numbered and classify(text) in _NOT_STEP_KINDS:
            return False  # "### 3. Rollback" names a section; "### Paso 2: Migrar contactos" a step
        steps = parent.cls in ("timeline", "checklist", "rollback_plan") or parent.tasks
        if parent.cls in ("gate", "rollback", "roles", "escalation", "comms", "notes"):
            return False
        if not steps and (numbered or parent.cls is not None):
            return False
        if not parent.title:  # "## Step 1: X" with no heading above: the document's steps
            parent = replace(parent, title=self.index.plan.title)
        leftovers = self.checklists.heading_step(sec, parent, text)
        if leftovers:
            self.reader.note(sec, parent, leftovers)
        return True

    def section_ctx(self, sec: Section, parent: Ctx) -> Ctx:
        """What a section means: inherited from its parent, then what its heading says
        (its kind, the doers it names, its time: a phase, a due offset or a day)."""
        if sec.level == 0:
            return Ctx(title="")
        ctx = self.inherited(sec, parent)
        pref = heading_prefix(sec.title)
        if pref:
            return self.canonical.canonical_ctx(sec, ctx, pref)
        if sec.level == 1:
            return ctx
        title = sec.title
        self.times.check_units(title, sec.line)
        own = self.heading_kind(title, ctx, parent)
        t = read_times(title)
        if t.date is not None:
            d = self.times.day_offset(t.date)
            ctx.day = d if d is not None else ctx.day
        if ctx.cls == "gate":
            ctx.gate_kind = self.gates.gate_kind(title) or ctx.gate_kind
        self.heading_time(sec, ctx, parent, own, t)
        lm = _LEVEL.match(_NUMBERING.sub("", plain(title)))
        if lm and ctx.cls in ("escalation", "roles", None):
            self.escalation.add_level(lm, sec.line)
        if ctx.cls == "comms":
            ctx.comms = self.comms.comms_heading(title, t, sec.line)
        return ctx

    def inherited(self, sec: Section, parent: Ctx) -> Ctx:
        return Ctx(
            cls=parent.cls,
            phase=parent.phase,
            phase_times=parent.phase_times,
            due=parent.due,
            kind_hint=parent.kind_hint,
            day=parent.day,
            title=plain(sec.title),
            line=sec.line,
            tasks=parent.tasks,
            triggers=parent.triggers,
            owner=parent.owner,
            path=(*parent.path, parent.title),
        )

    def heading_kind(self, title: str, ctx: Ctx, parent: Ctx) -> SectionKind | str | None:
        """Set ``ctx``'s kind, task/trigger flags, doer and pre/post hint from the heading's
        words; return the kind the heading itself names (None: inherited)."""
        text = plain(title)
        ctx.tasks = ctx.tasks or task_heading(text)
        if team_heading(text):
            ctx.owner = text
        own = classify(title)
        if rollback_bare(title):
            own = SectionKind.ROLLBACK_PLAN  # "## Rollback", "## Откат": the procedure
        if own == "rollback" and parent.cls == "rollback_plan" and not trigger_heading(title):
            own = SectionKind.ROLLBACK_PLAN  # "Rollback Methods" inside "Rollback Procedures"
        ctx.triggers = (parent.triggers or trigger_heading(title)) and own in (None, "rollback")
        if own and not (parent.cls == "comms" and own in ("roles", "timeline", "checklist")):
            ctx.cls = own
        if _LEVEL.match(_NUMBERING.sub("", text)):
            own = ctx.cls = SectionKind.ESCALATION
        if _PRE.search(title):
            ctx.kind_hint = "pre_deployment"
        elif _POST.search(title):
            ctx.kind_hint = "post_deployment"
        return own

    def heading_time(
        self, sec: Section, ctx: Ctx, parent: Ctx, own: SectionKind | str | None, t: Times
    ) -> None:
        """A heading with a window is a phase; one with a single offset makes its items due
        then; a role heading in a roles section is a role."""
        title = sec.title
        day = self.day_section(sec, ctx, parent, own, t)
        if day is not None:
            start, length = day
            ctx.phase = self.phases.add_phase(plain(title), start, length, sec.line)
            self.index.day_phases.add(id(ctx.phase))
            ctx.phase_times = t
            self.index.heading_phase_spans.setdefault((start, length), ctx.phase)
            ctx.cls = SectionKind.TIMELINE
        elif self.phases.is_phase_heading(title, t, ctx, own):
            self.heading_phase(sec, ctx, t)
        elif t.offset is not None and not t.ranged:
            ctx.due = t.offset.value
            if not ctx.kind_hint or ctx.kind_hint == "phase":
                before = t.offset.value < timedelta()
                ctx.kind_hint = "pre_deployment" if before else "post_deployment"
            if ctx.cls in (None, "timeline", "checklist"):
                ctx.cls, ctx.phase = SectionKind.CHECKLIST, None
        elif (
            ctx.cls == "roles"
            and sec.level >= 3
            and own is None
            and self.roles.looks_like_role(sec)
        ):
            ctx.role = self.roles.add_role(
                title, sec.line, stakeholder=bool(_STAKEHOLDER.search(title))
            )
        elif own == "checklist" and (parent.cls != "timeline" or ctx.due):
            ctx.phase = None

    @staticmethod
    def day_section(
        sec: Section, ctx: Ctx, parent: Ctx, own: SectionKind | str | None, t: Times
    ) -> tuple[timedelta, timedelta] | None:
        """(start, length) when the section is a day or week of the go-live ("Week -2",
        "T-7 days", "Day 0 / Go-live night", "Vorwoche", "Día -1"): a phase on the T-minus
        clock. A day heading inside a checklist ("Pre-Deployment Checklist > T-7 Days") or
        one that names a checklist itself stays a checklist due then."""
        if own not in (None, SectionKind.TIMELINE) or parent.cls not in (None, "timeline"):
            return None
        return day_span(sec.title, t)

    def heading_phase(self, sec: Section, ctx: Ctx, t: Times) -> None:
        start, duration = self.times.span(t, sec.line, ctx.day, ctx.phase)
        ctx.phase = self.phases.add_phase(clean_name(sec.title, t), start, duration, sec.line)
        ctx.phase_times = t
        if t.date is not None:
            self.index.date_phases[t.date] = ctx.phase
        self.index.heading_phase_spans.setdefault((start, duration), ctx.phase)
        if ctx.cls != "gate":
            ctx.cls = SectionKind.TIMELINE

    # -- finish -------------------------------------------------------------------------

    def finish(self) -> None:
        plan = self.index.plan
        self.phases.merge_row_phases()
        for rule in self.index.interval_sentences:
            if not any(r.interval == rule.interval for r in plan.comms_rules):
                rule.name = (
                    re.sub(r"\s*every\s+\d+\s*\w+.*$", "", rule.name, flags=re.I).strip()
                    or rule.name
                )
                plan.comms_rules.append(rule)
        plan.escalation.sort(key=lambda lv: lv.level)
        self.owners.check_owners()
        self.empty_check()
        plan.warnings = sorted(self.index.warnings, key=lambda w: w.line)

    def empty_check(self) -> None:
        """No tasks: a warning when the document has headings (its text is kept as notes);
        refused only when nothing at all was recognised."""
        p = self.index.plan
        if p.all_checklists() or p.gates or p.rollback_plan:
            return
        if (
            p.phases
            or p.roles
            or p.escalation
            or p.rollback_criteria
            or p.comms_rules
            or p.templates
        ):
            return
        if self.index.heading_count and p.notes:
            self.index.warn(
                1,
                "no tasks found: headings and text are kept as notes; the importer looks for "
                "'- [ ]' or '☐' items, numbered steps under a procedure heading and task tables",
            )
            return
        raise RunbookError(
            "nothing to import: found no tasks, phases, roles, escalation levels, "
            "rollback criteria, communication rules or templates — the importer looks for "
            "'- [ ]' or '☐' items, numbered steps under a 'Steps' or 'Procedure' heading, "
            'task tables, headings with times ("T-2 Hours: ...", "T-7 Tage") and sections '
            "such as 'Team', 'Escalation' or 'Rollback Criteria'"
        )
