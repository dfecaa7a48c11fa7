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
from datetime import timedelta

from .blocks import Block, ListItem
from .context import _GENERIC_LABEL, _POST, _PRE, Ctx, _State
from .plan import PlanChecklist, PlanItem, PlanPhase
from .text import _CHECKBOX, item_text, plain
from .times import Times, read_times


class ChecklistsMixin:
    """Builder part: checklists, items, group headers and verifications."""

    def checklist(
        self,
        ctx: Ctx,
        label: str,
        sub: PlanPhase | None,
        line: int,
        label_times: Times | None = None,
    ) -> PlanChecklist:
        phase = sub or ctx.phase
        name = label if label and not _GENERIC_LABEL.match(label) else ""
        if ctx.role is not None:
            name = f"{ctx.role.name}: {label}" if label else ctx.role.name
        if not name:
            if sub is not None:
                name = sub.name
            elif phase is not None and phase.line == ctx.line:
                name = phase.name
            else:
                name = ctx.title
        key = (id(phase) if phase else None, ctx.title, name)
        cl = self.checklists.get(key)
        if cl is None:
            due, kind = ctx.due, ctx.kind_hint or "phase"
            if label_times is not None:
                if label_times.offset is not None:
                    due = label_times.offset.value
                elif label_times.before_after is not None:
                    due = label_times.before_after
            if label:
                if _PRE.search(label):
                    kind = "pre_deployment"
                elif _POST.search(label):
                    kind = "post_deployment"
            if due is not None and kind == "phase":
                kind = "pre_deployment" if due < timedelta() else "post_deployment"
            if phase is not None:
                cl = PlanChecklist(name=name, kind="phase", line=line)
                phase.checklists.append(cl)
            else:
                cl = PlanChecklist(name=name, due=due, kind=kind, line=line)
                self.plan.checklists.append(cl)
            self.checklists[key] = cl
        return cl

    def target_items(self, st: _State, line: int) -> list[PlanItem]:
        ctx = st.ctx
        if st.label_gate is not None or (ctx.cls == "gate" and ctx.gate_kind):
            if st.label_gate is not None:
                name, kind, at = st.label_gate
            else:
                name, kind = ctx.title, ctx.gate_kind
                at = ctx.due if ctx.phase is None else ctx.phase.start
            g = self.gate(ctx, name, kind, line, at)
            st.current_gate = g
            return g.checklist
        cl = self.checklist(ctx, st.label, st.sub, line, st.label_times)
        return cl.items

    def list_block(self, b: Block, st: _State, nested_label: str | None = None) -> None:
        for it in b.items:
            m = _CHECKBOX.match(it.text)
            if m:
                item = self.make_item(m, it, st)
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
        if st.group is not None and b.items and _CHECKBOX.match(b.items[0].text):
            st.group = None

    def make_item(self, m: re.Match, it: ListItem, st: _State) -> PlanItem:
        text, owner = item_text(m.group(2))
        role = st.label_role or st.ctx.role
        item = PlanItem(
            text=text,
            done=m.group(1).lower() == "x",
            owner_role=owner or (role.name if role else ""),
            line=it.line,
        )
        if (
            st.group is not None
            and re.match(r"verification\s*:", text, re.I)
            and not st.group.verification
        ):
            st.group.verification = text.split(":", 1)[1].strip().strip("`")
        for child in it.children:
            if child.kind == "list":
                for sub in child.items:
                    sm = _CHECKBOX.match(sub.text)
                    if sm:
                        saved = st.group
                        st.group = None
                        item.children.append(self.make_item(sm, sub, st))
                        st.group = saved
                    else:
                        self.nested_plain(sub, item, st)
            elif child.kind == "fence":
                self.add_verification(item, child.text.removesuffix("\n"))
            elif child.kind == "para":
                for ln in child.text.split("\n"):
                    s = plain(ln)
                    if re.match(r"verification\s*:", s, re.I):
                        self.add_verification(item, s.split(":", 1)[1].strip().strip("`"))
        return item

    def nested_plain(self, sub: ListItem, item: PlanItem, st: _State) -> None:
        # a plain bullet under an item may still hold checkboxes deeper down
        for child in sub.children:
            if child.kind == "list":
                for deeper in child.items:
                    dm = _CHECKBOX.match(deeper.text)
                    if dm:
                        item.children.append(self.make_item(dm, deeper, st))

    def add_verification(self, item: PlanItem, text: str) -> None:
        item.verification = f"{item.verification}\n{text}" if item.verification else text

    def plain_item(self, it: ListItem, b: Block, st: _State) -> None:
        text = plain(it.text)
        has_boxes = any(
            c.kind == "list" and any(_CHECKBOX.match(x.text) for x in c.items) for c in it.children
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
        role = st.label_role or st.ctx.role
        item = PlanItem(
            text=text,
            done=gm.group(1).lower() == "x",
            owner_role=owner or (role.name if role else ""),
            line=line,
        )
        self.target_items(st, line).append(item)
        st.group = item
        st.group_depth_ok = True
        st.last_item = item
