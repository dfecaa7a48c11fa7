"""Canonical form: the headings and tables ``export.render_plan`` writes.

``export.render_plan`` writes headings with an explicit type prefix ("Phase:",
"Checklist:", "Gate:", "Template:", "Note:") and tables with fixed headers;
under such a heading names and values are taken verbatim (backslash escapes
undone), so ``parse(render(plan)) == plan``.
"""

from __future__ import annotations

from dataclasses import dataclass

from .blocks import Section
from .checklists import ChecklistsReader, canonical_task
from .comms import CommsReader, _slug, placeholders
from .context import Ctx, _State
from .index import PlanIndex
from .phases import PhasesReader
from .plan import PlanChecklist, PlanGate, PlanItem, PlanNote, PlanSignOff, PlanTemplate
from .text import cell_text, label_line, meta_value, split_list, unescape
from .times import parse_duration, parse_offset


@dataclass(eq=False)
class CanonicalReader:
    """Builder part: sections under a canonical "Kind: name" heading."""

    index: PlanIndex
    comms: CommsReader
    phases: PhasesReader
    checklists: ChecklistsReader

    def canonical_ctx(self, sec: Section, ctx: Ctx, pref: tuple[str, str]) -> Ctx:
        kind, raw = pref
        name = unescape(raw.strip())
        ctx.explicit = kind
        ctx.title = name
        meta = self.section_meta(sec)
        if kind == "Phase":
            ctx.phase = self.phases.add_phase(
                name,
                parse_offset(meta.get("start", "")),
                parse_duration(meta.get("duration", "")),
                sec.line,
            )
            if "description" in meta:
                ctx.phase.description = meta_value(meta["description"])
            ctx.cls = "timeline"
        elif kind == "Checklist":
            cl = PlanChecklist(
                name=name,
                due=parse_offset(meta.get("due", "")),
                kind=meta_value(meta.get("kind", "phase")) or "phase",
                line=sec.line,
            )
            if ctx.phase is not None and sec.level > 2:
                ctx.phase.checklists.append(cl)
            else:
                ctx.phase = None
                self.index.plan.checklists.append(cl)
            self.index.checklists[("explicit", sec.line)] = cl
            ctx.cls = "checklist"
        elif kind == "Gate":
            gate = PlanGate(
                name=name,
                kind=meta_value(meta.get("kind", "go_no_go")) or "go_no_go",
                at=parse_offset(meta.get("at", "")),
                consensus=meta_value(meta.get("consensus", "all")) or "all",
                line=sec.line,
            )
            self.index.plan.gates.append(gate)
            self.index.gates[("explicit", sec.line)] = gate
            ctx.cls = "gate"
            ctx.phase = None
        elif kind == "Rollback":
            ctx.cls = "rollback_plan"
            ctx.phase = None
        elif kind == "Template":
            ctx.cls = "template"
        elif kind == "Note":
            ctx.cls = "note"
        return ctx

    def section_meta(self, sec: Section) -> dict[str, str]:
        meta: dict[str, str] = {}
        for b in sec.blocks:
            if b.kind != "para":
                continue
            for ln in b.text.split("\n"):
                kv = label_line(ln)
                if kv and kv[1]:
                    meta.setdefault(kv[0].lower(), kv[1])
        return meta

    def process_explicit(self, sec: Section, ctx: Ctx) -> None:
        """The body of a canonical section, read verbatim."""
        if ctx.explicit == "Template":
            self.explicit_template(sec, ctx)
        elif ctx.explicit == "Note":
            fence = next((b for b in sec.blocks if b.kind == "fence"), None)
            body = fence.text.removesuffix("\n") if fence else ""
            self.index.plan.notes.append(PlanNote(title=ctx.title, body=body, line=sec.line))
        else:
            self.explicit_items(sec, ctx)

    def explicit_template(self, sec: Section, ctx: Ctx) -> None:
        meta = self.section_meta(sec)
        fence = next((b for b in sec.blocks if b.kind == "fence"), None)
        tpl = PlanTemplate(
            key=meta_value(meta.get("key", "")) or _slug(ctx.title),
            name=ctx.title,
            subject=meta_value(meta.get("subject", "")),
            body=fence.text.removesuffix("\n") if fence else "",
            channel=meta_value(meta.get("channel", "")),
            line=sec.line,
        )
        tpl.placeholders = (
            split_list(meta["placeholders"])
            if "placeholders" in meta
            else placeholders(tpl.subject + "\n" + tpl.body)
        )
        self.index.plan.templates.append(tpl)
        self.comms.check_placeholders(tpl)

    def explicit_items(self, sec: Section, ctx: Ctx) -> None:
        """Items, participants, decision roles and sign-offs under Checklist/Gate/Phase/
        Rollback headings."""
        gate = self.index.gates.get(("explicit", sec.line)) if ctx.explicit == "Gate" else None
        target: list[PlanItem] | None = {
            "Checklist": lambda: self.index.checklists[("explicit", sec.line)].items,
            "Gate": lambda: gate.checklist if gate else None,
            "Rollback": lambda: self.index.plan.rollback_plan,
        }.get(ctx.explicit, lambda: None)()
        label = ""
        for b in sec.blocks:
            if b.kind == "para":
                label = _last_label(b.text, label)
            elif b.kind == "list":
                for it in b.items:
                    self.explicit_line(it, ctx, label, target, gate)
            elif b.kind == "table" and gate is not None:
                gate.signoffs += [
                    PlanSignOff(
                        role=cell_text(row[0]),
                        criteria=cell_text(row[1]) if len(row) > 1 else "",
                        line=ln,
                    )
                    for ln, row in b.rows
                ]

    def explicit_line(self, it, ctx: Ctx, label: str, target, gate: PlanGate | None) -> None:
        m = canonical_task(it.text)
        if m and target is not None:
            target.append(self.checklists.make_item(m, it, _State(ctx)))
        elif label == "participants" and ctx.phase is not None:
            ctx.phase.participants.append(unescape(it.text.strip()))
        elif label.startswith("decision") and gate is not None:
            gate.decision_roles.append(unescape(it.text.strip()))


def _last_label(text: str, label: str) -> str:
    """The last ``**Label**`` line of a paragraph (lower-cased), else ``label``."""
    for ln in text.split("\n"):
        kv = label_line(ln)
        if kv and not kv[1]:
            label = kv[0].lower()
    return label
