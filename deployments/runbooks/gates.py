"""Gates: go/no-go decisions and final approvals, with their sign-offs.

A gate's kind comes from the words of its heading or label (go/no-go,
approval, sign-off); its decision makers come from "Decision Maker(s)" lines
and its sign-offs from Role/Criteria tables or "X Approval" labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from .blocks import Block
from .context import _APPROVAL, _GATE_WORDS, _GO_NO_GO, _PRE, Ctx, _State
from .index import PlanIndex
from .plan import PlanGate, PlanSignOff
from .text import cell_text


@dataclass(eq=False)
class GatesReader:
    """Builder part: gates and sign-offs."""

    index: PlanIndex

    def gate_kind(self, title: str) -> str:
        if _GO_NO_GO.search(title):
            return "go_no_go"
        if _APPROVAL.search(title):
            if re.search(r"final|go-?live|launch|release", title, re.I):
                return "final_approval"
            return "go_no_go" if _PRE.search(title) else "final_approval"
        if _GATE_WORDS.search(title):
            return "go_no_go"
        return ""

    def gate(self, ctx: Ctx, name: str, kind: str, line: int, at: timedelta | None) -> PlanGate:
        # same-named gates under different phases or sections stay apart
        key = (
            ctx.path,
            ctx.title,
            kind,
            line if kind == "final_approval" and name != ctx.title else 0,
        )
        g = self.index.gates.get(key)
        if g is None:
            g = PlanGate(name=name, kind=kind, at=at, line=line)
            self.index.plan.gates.append(g)
            self.index.gates[key] = g
        return g

    def last_gate_in(self, ctx: Ctx) -> PlanGate | None:
        for key, g in reversed(self.index.gates.items()):
            if key[:2] == (ctx.path, ctx.title):
                return g
        return None

    def signoff_table(self, b: Block, col, get, st: _State) -> None:
        ctx = st.ctx
        kind = ctx.gate_kind or self.gate_kind(st.label or ctx.title) or "final_approval"
        name = ctx.title if ctx.cls == "gate" else (st.label or ctx.title)
        g = (st.current_gate if ctx.explicit == "Gate" else None) or self.gate(
            ctx, name, kind, b.line, ctx.due
        )
        for ln, row in b.rows:
            role = cell_text(get(row, col("role")))
            if role:
                g.signoffs.append(
                    PlanSignOff(role=role, criteria=cell_text(get(row, col("criteria"))), line=ln)
                )
