# ruff: noqa: RUF001 - real runbooks use dashes, arrows and mojibake
"""Escalation levels: "Level 1: ..." / "L2 ..." headings, labels, lists and tables."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .blocks import Block
from .context import _PAREN_TAIL, _ROLE_SPLIT
from .index import PlanIndex
from .plan import PlanEscalationLevel
from .recognise import chain
from .roles import RolesReader
from .text import cell_text, plain, split_list
from .times import _UNIT, _unit_delta, parse_offset_or_duration


@dataclass(eq=False)
class EscalationReader:
    """Builder part: escalation levels."""

    index: PlanIndex
    roles: RolesReader

    def chain_line(self, text: str, line: int, st) -> bool:
        """``On-call → Team lead → CTO`` in an escalation section (or a line that says
        "escalat..."): one level per step, after the levels already read."""
        if st.ctx.cls not in ("escalation", "roles") and "escalat" not in text.lower():
            return False
        body = re.sub(r"^[^:→>]{0,40}:\s*", "", text) if ":" in text.split("→")[0] else text
        steps = chain(body)
        if not steps:
            return False
        start = max((lv.level for lv in self.index.plan.escalation), default=0)
        for n, step in enumerate(steps, start + 1):
            name, qual = self.roles.role_name(step)
            level = PlanEscalationLevel(level=n, name=name, line=line)
            level.roles.append(name)
            after = re.search(r"(\d+)\s*" + _UNIT, qual)
            if after:
                level.after = _unit_delta(float(after.group(1)), after.group(2))
            self.index.plan.escalation.append(level)
        return True

    def add_level(self, m: re.Match, line: int, rest: str | None = None) -> PlanEscalationLevel:
        num = int(m.group(1) or m.group(2))
        text = plain(m.group(3) if rest is None else rest)
        after = until = None
        pm = _PAREN_TAIL.search(text)
        if pm:
            inner = pm.group(1)
            rng = re.search(r"(\d+)\s*[-–]\s*(\d+)\s*" + _UNIT, inner, re.I)
            plus = re.search(r"(\d+)\+\s*" + _UNIT, inner, re.I)
            if rng:
                after = _unit_delta(float(rng.group(1)), rng.group(3))
                until = _unit_delta(float(rng.group(2)), rng.group(3))
                text = text[: pm.start()].strip()
            elif plus:
                after = _unit_delta(float(plus.group(1)), plus.group(2))
                text = text[: pm.start()].strip()
        level = next((lv for lv in self.index.plan.escalation if lv.level == num), None)
        if level is None:
            level = PlanEscalationLevel(level=num, name=text, line=line)
            self.index.plan.escalation.append(level)
        level.name = level.name or text
        level.after = level.after if level.after is not None else after
        level.until = level.until if level.until is not None else until
        if not level.roles and text:
            for r in _ROLE_SPLIT.split(re.sub(r"\s+[-–—]\s+.*$", "", text)):
                r = self.roles.role_name(r)[0] if r else r
                if r and r not in level.roles:
                    level.roles.append(r)
        return level

    def escalation_table(self, b: Block, col, get) -> None:
        c_level, c_role, c_name = (
            col("level"),
            col("role"),
            col("name", "contact", exclude=("contacts",)),
        )
        c_title, c_roles, c_contacts = col("title"), col("roles"), col("contacts")
        for ln, row in b.rows:
            m = re.search(r"\d+", get(row, c_level))
            if not m:
                continue
            num = int(m.group(0))
            level = next((lv for lv in self.index.plan.escalation if lv.level == num), None)
            if level is None:
                level = PlanEscalationLevel(level=num, name=cell_text(get(row, c_title)), line=ln)
                self.index.plan.escalation.append(level)
            if c_title is not None:
                level.after = parse_offset_or_duration(get(row, col("after")))
                level.until = parse_offset_or_duration(get(row, col("until")))
            if c_roles is not None:
                level.roles.extend(split_list(get(row, c_roles)))
                level.contacts.extend(split_list(get(row, c_contacts)))
                continue
            role = cell_text(get(row, c_role))
            if role and role not in level.roles:
                level.roles.append(role)
            name = cell_text(get(row, c_name))
            if name or col("phone", "email", "slack") is not None:
                contact = {
                    "email": cell_text(get(row, col("email"))),
                    "phone": cell_text(get(row, col("phone"))),
                    "slack": cell_text(get(row, col("slack"))),
                }
                p = self.roles.add_person(name, ln, role=role, **contact)
                if p is None:  # "[TBD]" beside "dba-oncall@example.com": the seat is
                    p = self.roles.shared_contact(ln, **contact)  # unfilled, the address is kept
                if p is not None and p.name not in level.contacts:
                    level.contacts.append(p.name)
