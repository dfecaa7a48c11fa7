"""Checklists and their items.

Every ``- [ ]`` / ``* [x]`` line outside code fences is one item, in the
innermost section or label it stands in: a go/no-go label or section puts it
in that gate's checklist, a phase in one of the phase's checklists, anything
else in a plan-level checklist whose ``due`` is the nearest T-offset above it
("T-7 Days", "**48 hours before**") and whose kind comes from the words around
it (pre/post). Bold group headers (``**[  ] 1. Blue Environment**``) are items
whose children are the list that follows; a ``Verification:`` child also sets
the header's verification. Nested checkbox lists are children. ``(Owner:
Role)`` at the end of an item sets its owner; items in a role's section are
owned by that role.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from . import vocab
from .blocks import Block, ListItem, Section
from .context import _GENERIC_LABEL, _POST, _PRE, Ctx, _State
from .gates import GatesReader
from .index import PlanIndex
from .owners import OwnersReader
from .plan import PlanChecklist, PlanItem, PlanPhase, PlanSignOff
from .recognise import (
    Task,
    bare_signer,
    decider,
    decision_options,
    is_placeholder,
    owner_line,
    rollback_bare,
    signer,
    split_owner,
    strip_markup,
    task_marker,
)
from .roles import RolesReader
from .rollback import RollbackReader, read_criterion
from .text import _CHECKBOX, cell_text, item_text, plain
from .times import Times, TimesReader, format_offset, read_times


def canonical_task(text: str) -> Task | None:
    """The one form ``export.render_plan`` writes: ``[ ]`` / ``[x]``."""
    m = _CHECKBOX.match(text)
    return Task(m.group(2), m.group(1).lower() == "x") if m else None


_TASK_COL = vocab.phrase_rx(vocab.TASK_COLUMNS)
_ACTIVITY_COL = vocab.phrase_rx(vocab.ACTIVITY_COLUMNS)
_OWNER_COL = vocab.phrase_rx(vocab.OWNER_COLUMNS)
_WHEN_COL = vocab.phrase_rx(vocab.WHEN_COLUMNS)
_STATUS_COL = vocab.phrase_rx(vocab.STATUS_COLUMNS)
_DONE_STATUS = re.compile(
    r"^(?:done|complete[d]?|erledigt|fertig|hecho|terminado|completo|concluído|xong|đã xong|"
    r"hoàn thành|完成|已完成|完了|完成済み?|完了済み?|済み?|готово|выполнено|✅|✔|☑|\[x\])$",
    re.I,
)


_BOX_CELL = re.compile(r"\s*(?:\[[ xX]?\]|[☐□⬜☑✅✔]?)\s*")
_SPAN_COLUMN = re.compile(
    r"duration|phase|dauer|duración|duração|thời lượng|时长|所要|длительность"
)
_CLOCK = re.compile(r"\d:\d\d")
_STEP_NOT_ITEM = re.compile(r"^(?:verification|note|owner|tip|warning)\s*:", re.I)
# "Duration: 2 h", "**Lead:** Ana", "Error rate > 5% → roll back": a fact about the phase
_PHASE_FACT = re.compile(r"^\W*[^\s:\uff1a][^:\uff1a]{0,40}(?::(?:\s|\*|$)|\uff1a)|[<>≥≤→]|->|=>")


def _plain_step(text: str) -> bool:
    """A plain bullet under a phase heading that reads as a task, not a fact."""
    return not _PHASE_FACT.search(text)


_VERIFICATION = re.compile(r"verification\s*:", re.I)


def _column(head: list[str], rx: re.Pattern[str]) -> int | None:
    return next((i for i, h in enumerate(head) if rx.search(h)), None)


def task_columns(head: list[str], rows: list[list[str]]) -> dict[str, int | None] | None:
    """The columns of a task table (Task/Owner/When/Status, or a checkbox column), or None."""
    box = next(
        (
            i
            for i in range(len(head))
            if rows
            and all(i < len(r) and _BOX_CELL.fullmatch(r[i]) for r in rows)
            and any(i < len(r) and r[i].strip() for r in rows)
        ),
        None,
    )
    task = _column(head, _TASK_COL)
    owner = _column(head, _OWNER_COL)
    status = _column(head, _STATUS_COL)
    if task is None or (owner is None and status is None and box is None):
        return None
    if any(_SPAN_COLUMN.search(h) for h in head):
        return None
    return {
        "task": task,
        "owner": owner,
        "when": _column(head, _WHEN_COL),
        "status": status,
        "box": box,
    }


def _due_and_kind(ctx: Ctx, label: str, times: Times | None) -> tuple[timedelta | None, str]:
    """When a plan-level checklist is due and whether it comes before or after go-live."""
    due, kind = ctx.due, ctx.kind_hint or "phase"
    if times is not None and times.offset is not None:
        due = times.offset.value
    elif times is not None and times.before_after is not None:
        due = times.before_after
    if label and _PRE.search(label):
        kind = "pre_deployment"
    elif label and _POST.search(label):
        kind = "post_deployment"
    if due is not None and kind == "phase":
        kind = "pre_deployment" if due < timedelta() else "post_deployment"
    return due, kind


#: sections where an emoji-marked line is a statement, not work ("✅ No data loss")
_NOT_TASKS = ("notes", "roles", "escalation", "comms")


@dataclass(eq=False)
class ChecklistsReader:
    """Builder part: checklists, items, group headers and verifications."""

    index: PlanIndex
    owners: OwnersReader
    roles: RolesReader
    gates: GatesReader
    rollback: RollbackReader
    times: TimesReader

    #: a bullet without a checkbox is read by the blocks reader, which is built from this
    #: part: the builder hands its ``plain_bullet`` here once both exist
    read_bullet: Callable[[str, ListItem, Block, _State], None] | None = None

    def plain_bullet(self, text: str, it: ListItem, b: Block, st: _State) -> None:
        """A bullet without a checkbox: read by the blocks reader (:attr:`read_bullet`)."""
        assert self.read_bullet is not None, "the builder connects the blocks reader"
        self.read_bullet(text, it, b, st)

    def checklist(
        self,
        ctx: Ctx,
        label: str,
        sub: PlanPhase | None,
        line: int,
        label_times: Times | None = None,
    ) -> PlanChecklist:
        """The checklist items go to: one per phase or section and label (sections with the
        same title under different parents stay apart)."""
        phase = sub or ctx.phase
        name = self.checklist_name(ctx, label, sub, phase)
        key = (id(phase) if phase else None, ctx.path, ctx.title, name)
        cl = self.index.checklists.get(key)
        if cl is not None:
            return cl
        if phase is not None:
            # a day or week of the go-live: its tasks are due when the day starts
            due = phase.start if id(phase) in self.index.day_phases else None
            cl = PlanChecklist(name=name, kind="phase", due=due, line=line)
            phase.checklists.append(cl)
        else:
            due, kind = _due_and_kind(ctx, label, label_times)
            cl = PlanChecklist(name=name, due=due, kind=kind, line=line)
            self.index.plan.checklists.append(cl)
        self.index.checklists[key] = cl
        return cl

    @staticmethod
    def checklist_name(ctx: Ctx, label: str, sub: PlanPhase | None, phase) -> str:
        if ctx.role is not None:
            return f"{ctx.role.name}: {label}" if label else ctx.role.name
        if label and not _GENERIC_LABEL.match(label):
            return label
        if sub is not None:
            return sub.name
        if phase is not None and phase.line == ctx.line:
            return phase.name
        return ctx.title

    def target_items(self, st: _State, line: int) -> list[PlanItem]:
        ctx = st.ctx
        if ctx.cls == "rollback_plan":
            return self.index.plan.rollback_plan
        if st.label_gate is not None or (ctx.cls == "gate" and ctx.gate_kind):
            if st.label_gate is not None:
                name, kind, at = st.label_gate
            else:
                name, kind = ctx.title, ctx.gate_kind
                at = ctx.due if ctx.phase is None else ctx.phase.start
            g = self.gates.gate(ctx, name, kind, line, at)
            st.current_gate = g
            return g.checklist
        cl = self.checklist(ctx, st.label, st.sub, line, st.label_times)
        return cl.items

    def task_of(self, text: str, st: _State) -> Task | None:
        if st.ctx.explicit:
            return canonical_task(text)
        task = task_marker(text, marks_mean_done=self.index.marks_mean_done)
        if task is not None and not task.boxed and st.ctx.cls in _NOT_TASKS:
            return None  # "✅ Error rate < 1%" under Success Criteria is a criterion
        return task

    def in_gate(self, st: _State) -> bool:
        return st.label_gate is not None or (st.ctx.cls == "gate" and bool(st.ctx.gate_kind))

    def special_line(self, text: str, line: int, st: _State) -> bool:
        """A checkbox or bare line that is not work to tick: a signer line or the decision
        options of a gate, a rollback trigger. True when it was taken."""
        if st.ctx.explicit:
            return False
        s = plain(text)
        if self.rollback.rollback_arrow(s, line, st):
            return True  # "[ ] Error rate > 1% → rollback": a criterion, not work to tick
        if self.in_gate(st) and self.gate_line(s, line, st):
            return True
        if st.ctx.triggers and st.ctx.cls == "rollback":
            self.trigger_line(s, text, line, st)
            return True
        return False

    def gate_line(self, s: str, line: int, st: _State) -> bool:
        """``GO / NO-GO`` (the decision), ``Decision maker: ___`` (its authority, maybe a
        seat to fill), ``QA Lead: ____ Date: ____`` (a required sign-off)."""
        if decision_options(s):
            self.target_items(st, line)  # the gate exists; its decision is the options
            return True
        who = decider(s)
        g = st.current_gate or self.gates.last_gate_in(st.ctx)
        if who is not None and g is not None:
            name = who or "Decision maker"
            if who == "":
                self.roles.add_role(name, line, raw=True)
            if name not in g.decision_roles:
                g.decision_roles.append(name)
            return True
        role = signer(s)
        if not role and (st.current_gate is not None or st.ctx.cls == "gate"):
            role = bare_signer(s, {r.name.casefold() for r in self.index.plan.roles})
        if not role:
            return False
        self.target_items(st, line)
        if st.current_gate is None:
            return False
        st.current_gate.signoffs.append(PlanSignOff(role=role, line=line))
        return True

    def trigger_line(self, s: str, text: str, line: int, st: _State) -> None:
        crit = read_criterion(s)
        if crit is not None:
            crit.line = line
            self.index.plan.rollback_criteria.append(crit)
            return
        st.unparsed_criteria.append((line, text))
        self.index.warn(line, f"rollback trigger without a measurable threshold: '{s}'")

    def list_block(self, b: Block, st: _State, nested_label: str | None = None) -> None:
        for it in b.items:
            task = self.task_of(it.text, st)
            if task is not None and self.special_line(task.text, it.line, st):
                continue
            if task is None and self.step_item(it, b, st):
                task = Task(it.text, False)
            if task is not None:
                item = self.make_item(task, it, st)
                if st.group is not None:
                    st.group.children.append(item)
                else:
                    self.target_items(st, it.line).append(item)
                    while st.pending_fences:
                        fb = st.pending_fences.pop(0)
                        item.verification = "\n".join(
                            x for x in (fb.text.removesuffix("\n"), item.verification) if x
                        )
                st.last_item = item
                continue
            self.plain_item(it, b, st)
        if st.group is not None and b.items and self.task_of(b.items[0].text, st):
            st.group = None

    def task_table(self, b: Block, st: _State) -> bool:
        """A row per task: its text, owner, due time and status (done when it says so).

        A row's time is a T-offset or a clock time (``21:30``, ``21:30 UTC``), placed near
        the row before it as timeline rows are: the item is due then. A clock schedule whose
        rows are activities (``Time | Activity | Owner``) is a timeline: its rows are phases.
        """
        head = [plain(h).lower() for h in b.header]
        rows = [r for _, r in b.rows]
        cols = task_columns(head, rows)
        if cols is None or st.ctx.explicit:
            return False
        w, task_col = cols["when"], cols["task"]
        clocked = w is not None and any(w < len(r) and _CLOCK.search(r[w]) for r in rows)
        if clocked and task_col is not None and _ACTIVITY_COL.search(head[task_col]):
            return False  # a day's schedule of activities: its rows are phases

        def cell(row: list[str], key: str) -> str:
            i = cols[key]
            return cell_text(row[i]) if i is not None and i < len(row) else ""

        prev = st.ctx.phase.start if st.ctx.phase else None
        for ln, row in b.rows:
            text = cell(row, "task")
            if not text:
                continue
            when = read_times(cell(row, "when")) if w is not None else None
            due = self.times.row_start(when, prev, st.ctx.day) if when is not None else None
            prev = due if due is not None else prev
            status = cell(row, "status") or (row[cols["box"]] if cols["box"] is not None else "")
            task = Task(text, bool(_DONE_STATUS.match(status.strip())))
            item = self.make_item(task, ListItem(text, ln), st)
            written = cell(row, "owner")
            if written:
                item.owner_role = self.owners.owner_for(written, "", ln)
            self.table_target(st, ln, due).append(item)
        return True

    def table_target(self, st: _State, line: int, due: timedelta | None) -> list[PlanItem]:
        """The checklist a task row goes to: one per due time ("Cutover (T-0:30)")."""
        if due is None or st.ctx.cls == "rollback_plan":
            return self.target_items(st, line)
        label = f"{st.ctx.title} ({format_offset(due)})"
        cl = self.checklist(st.ctx, label, st.sub, line, Times(before_after=due))
        cl.due = due
        return cl.items

    def fenced_checklist(self, b: Block, st: _State) -> bool:
        """A plain-text checklist drawn in a fence without a language: its task lines are
        items, the drawing is kept as a note."""
        if b.info or st.ctx.explicit:
            return False
        found = False
        for n, raw in enumerate(b.text.split("\n")):
            ln = re.sub(r"^[\s│|┃║>*+-]+", "", raw).rstrip(" │|┃║")
            task = task_marker(ln, marks_mean_done=self.index.marks_mean_done)
            if task is None or not re.match(r"(?:\d+[.)]\s*)?[\[☐□⬜◻▢❏❑]", ln):
                continue  # "✓ Error rate stable" in a fence is output, not a task
            found = True
            line = b.line + 1 + n
            if not self.special_line(task.text, line, st):
                item = self.make_item(task, ListItem(task.text, line), st)
                self.target_items(st, line).append(item)
        return found

    def step_item(self, it: ListItem, b: Block, st: _State) -> bool:
        """A plain or numbered bullet under a heading that names tasks or steps is an item."""
        ctx = st.ctx
        # where tasks are drawn with boxes a plain bullet is not one, but a numbered list
        # right under a procedure heading ("Cutover Steps", "Ablauf", "上线步骤") still is;
        # one under a bold "**Steps:**" label or in a rollback procedure of such a document
        # stays as written there (a note, as the seeds expect)
        # "## Rollback" / "## Откат" alone: its bullets, numbered or not, are the procedure
        bare = ctx.cls == "rollback_plan" and rollback_bare(ctx.title)
        procedure = not st.label and ((b.ordered and ctx.cls != "rollback_plan") or bare)
        boxes = self.index.has_boxes and not procedure
        # numbered steps right under a phase heading ("## Cutover day", "## День перехода");
        # in a document that draws no boxes at all, its plain bullets too ("## Cutover
        # night" / "- Switch DNS"), unless they read as "Label: value" or a threshold
        under_phase = ctx.cls == "timeline" and ctx.phase is not None
        phase_steps = under_phase and (
            procedure or (not self.index.has_boxes and not st.label and _plain_step(it.text))
        )
        if ctx.explicit or boxes or not (ctx.tasks or phase_steps or ctx.cls == "rollback_plan"):
            return False
        if ctx.cls not in (None, "checklist", "timeline", "rollback_plan"):
            return False
        if st.label and not _GENERIC_LABEL.match(st.label) and ctx.cls != "rollback_plan":
            return False
        text = plain(it.text)
        if not text or text.endswith(":") or any(c.kind == "list" for c in it.children):
            return False
        if bare and not b.ordered and read_criterion(text) is not None:
            return False  # "- Error rate > 5%" under "## Rollback": a trigger, not a step
        return not _STEP_NOT_ITEM.match(text)

    def heading_step(self, sec: Section, ctx: Ctx, text: str) -> list[Block]:
        """A task written as a heading (``### Step 1: X``): an item of ``ctx``'s checklist;
        its owner from an ``Owner: X`` line, its text, lists and code as verification.
        Returns the blocks with no place in the item (tables), to keep as a note."""
        st = _State(ctx)
        item = self.make_item(Task(text, False), ListItem(text, sec.line), st)
        self.target_items(st, sec.line).append(item)
        leftovers: list[Block] = []
        for b in sec.blocks:
            if b.kind == "fence":
                self.add_verification(item, b.text.removesuffix("\n"))
            elif b.kind == "para":
                self.step_para(b, item)
            elif b.kind == "list":
                self.step_list(b, item, st)
            elif b.kind == "table":
                leftovers.append(b)
        return leftovers

    def step_para(self, b: Block, item: PlanItem) -> None:
        for n, ln in enumerate(b.text.split("\n")):
            s = plain(ln)
            if not s:
                continue
            if self.sub_owner(s, item, b.line + n):
                if item.owner_role:
                    item.owner_role = self.owners.owner_for(item.owner_role, "", b.line + n)
                continue
            s = re.sub(r"^verification\s*:\s*", "", s, flags=re.I)
            self.add_verification(item, s)

    def step_list(self, b: Block, item: PlanItem, st: _State) -> None:
        for it in b.items:
            task = self.task_of(it.text, st)
            if task is not None:  # "- [ ] health green" under a step: a sub-task
                item.children.append(self.make_item(task, it, st))
            elif not self.sub_owner(plain(it.text), item, it.line):
                self.add_verification(item, plain(it.text))

    def default_owner(self, st: _State) -> str:
        role = st.label_role or st.ctx.role
        return st.owner or st.ctx.owner or (role.name if role else "")

    def make_item(self, task: Task, it: ListItem, st: _State) -> PlanItem:
        first, *more = task.text.split("\n") if not st.ctx.explicit else [task.text]
        text, owner = item_text(first)
        if not st.ctx.explicit:
            text = strip_markup(text)
            if not owner:
                text, owner = split_owner(text)
            owner = self.owners.owner_for(owner, self.default_owner(st), it.line)
        else:
            role = st.label_role or st.ctx.role
            owner = owner or (role.name if role else "")
        item = PlanItem(text=text, done=task.done, owner_role=owner, line=it.line)
        for n, ln in enumerate(more, 1):  # lazy continuation lines of the item's paragraph
            if not self.sub_owner(plain(ln), item, it.line + n):
                item.text = f"{item.text} {plain(ln)}".strip()
        if st.group is not None and _VERIFICATION.match(text) and not st.group.verification:
            st.group.verification = text.split(":", 1)[1].strip().strip("`")
        for child in it.children:
            if child.kind == "list":
                self.child_list(child, item, st)
            elif child.kind == "fence":
                self.add_verification(item, child.text.removesuffix("\n"))
            elif child.kind == "para":
                self.child_para(child, item, st)
        return item

    def child_list(self, child: Block, item: PlanItem, st: _State) -> None:
        for sub in child.items:
            sm = self.task_of(sub.text, st)
            if sm:
                saved = st.group
                st.group = None
                item.children.append(self.make_item(sm, sub, st))
                st.group = saved
            elif not st.ctx.explicit and self.sub_owner(plain(sub.text), item, sub.line):
                continue
            else:
                self.nested_plain(sub, item, st)

    def child_para(self, child: Block, item: PlanItem, st: _State) -> None:
        for n, ln in enumerate(child.text.split("\n")):
            s = plain(ln)
            if _VERIFICATION.match(s):
                self.add_verification(item, s.split(":", 1)[1].strip().strip("`"))
            elif not st.ctx.explicit:
                self.sub_owner(s, item, child.line + n)

    def sub_owner(self, text: str, item: PlanItem, line: int) -> bool:
        """An ``Owner: X`` line under an item sets its owner."""
        who = owner_line(text)
        if who is None:
            return False
        if is_placeholder(who):
            self.index.warn(line, f"owner '{who}' is a placeholder: the item has no owner yet")
            item.owner_role = ""
        else:
            item.owner_role = who
        return True

    def nested_plain(self, sub: ListItem, item: PlanItem, st: _State) -> None:
        # a plain bullet under an item may still hold checkboxes deeper down
        for child in sub.children:
            if child.kind == "list":
                for deeper in child.items:
                    dm = self.task_of(deeper.text, st)
                    if dm:
                        item.children.append(self.make_item(dm, deeper, st))

    def add_verification(self, item: PlanItem, text: str) -> None:
        item.verification = f"{item.verification}\n{text}" if item.verification else text

    def plain_item(self, it: ListItem, b: Block, st: _State) -> None:
        text = plain(it.text)
        has_boxes = any(
            c.kind == "list" and any(self.task_of(x.text, st) for x in c.items) for c in it.children
        )
        if has_boxes:
            saved = (st.label, st.label_times)
            label = re.sub(r"[:\s]+$", "", text)
            st.label = label
            lt = read_times(label)
            st.label_times = lt if (lt.offset or lt.before_after) else saved[1]
            for c in it.children:
                if c.kind == "list":
                    self.list_block(c, st)
            st.label, st.label_times = saved
            return
        self.plain_bullet(text, it, b, st)
        for c in it.children:
            if c.kind == "fence" and st.last_item is None:
                st.loose.append(c)

    def group_header(self, gm: re.Match, line: int, st: _State) -> None:
        text, owner = item_text(gm.group(2))
        item = PlanItem(
            text=text,
            done=gm.group(1).lower() == "x",
            owner_role=owner or self.default_owner(st),
            line=line,
        )
        self.target_items(st, line).append(item)
        st.group = item
        st.group_depth_ok = True
        st.last_item = item
