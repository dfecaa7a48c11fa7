"""Phases: headings, labels, timeline tables, day schedules, code timelines.

A heading or label with a clock window, a T-range, a duration in parentheses
or a date is a phase; so is a single T-offset heading in a timeline section
(``T-1:30: Verification Phase``). Enclosing sections are phases too: "T-2
Hours: Pre-Deployment (20:00 - 22:00 UTC)" is a phase *and* each "**20:00 -
20:15 | ...**" block inside it is a phase of its own, listed after it. Rows of
a timeline table become phases unless a heading phase covers the same span
(then the row only supplies the description). Lines of a ``T+5 min: ...``
code-block timeline and rows of a day's schedule table are phases as well.
Plain bullets under a phase become its description.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from .blocks import Block
from .context import _ROLE_SPLIT, Ctx, _State
from .index import PlanIndex
from .plan import PlanPhase
from .text import cell_text, plain
from .times import _DATE, _MONTHS, DAY, Times, TimesReader, parse_duration, read_times, t_offsets


@dataclass(eq=False)
class PhasesReader:
    """Builder part: phases."""

    index: PlanIndex
    times: TimesReader

    def is_phase_heading(self, title: str, t: Times, ctx: Ctx, own: str | None) -> bool:
        if ctx.cls in ("comms", "escalation", "roles", "rollback", "notes"):
            return False
        if own == "checklist" and not (t.clock is not None or t.offset_end or t.duration or t.date):
            return False
        if t.clock is not None or t.offset_end is not None or t.duration is not None:
            return True
        if t.date is not None and (ctx.cls == "timeline" or self.index.golive_date):
            return self.times.day_offset(t.date) is not None
        if t.offset is not None and t.offset.unit != "d":
            return ctx.cls in ("timeline",) or bool(re.search(r"phase", title, re.I))
        return False

    def add_phase(self, name: str, start, duration, line: int) -> PlanPhase:
        phase = PlanPhase(name=name, start=start, duration=duration, line=line)
        self.index.plan.phases.append(phase)
        return phase

    def timeline_table(self, b: Block, col, get, st: _State) -> None:
        c_time = col("time", "when")
        c_name = col("phase", "activity", "step", "task")
        c_dur = col("duration")
        c_desc = col("description", "details", "notes")
        c_owner = col("owner", "who", "responsible")
        day = st.ctx.day
        prev: timedelta | None = st.ctx.phase.start if st.ctx.phase else None
        for ln, row in b.rows:
            name = cell_text(get(row, c_name))
            t = read_times(get(row, c_time))
            if not name or (t.clock is None and t.offset is None):
                continue
            start = self.times.row_start(t, prev, day)
            duration = None
            if t.clock_end is not None and start is not None:  # a clock window: its length
                end = self.times.clock_offset(t.clock_end, start, day)
                while end < start:
                    end += DAY
                duration = end - start
            if c_dur is not None:
                duration = parse_duration(get(row, c_dur)) or duration
            prev = start
            phase = PlanPhase(
                name=name,
                start=start,
                duration=duration,
                description=cell_text(get(row, c_desc)),
                line=ln,
            )
            owner = cell_text(get(row, c_owner))
            if owner:
                phase.participants = [o for o in _ROLE_SPLIT.split(owner) if o]
            self.index.plan.phases.append(phase)
            if day is None and st.ctx.phase is None:
                self.index.row_phases.append((phase, "span"))

    def day_table(self, b: Block, col, get, st: _State) -> None:
        c_day, c_date = col("day"), col("date")
        c_name = col("focus", "phase", "theme")
        c_desc = col("activities", "description", "key")
        for ln, row in b.rows:
            dm = _DATE.search(f"{get(row, c_day)} {get(row, c_date)}")
            if not dm:
                continue
            md = (_MONTHS.index(dm.group(2).lower()[:3]) + 1, int(dm.group(3)))
            day = self.times.day_offset(md)
            phase = PlanPhase(
                name=cell_text(get(row, c_name)) or plain(get(row, c_date)),
                start=day,
                duration=DAY if day is not None else None,
                description=cell_text(get(row, c_desc)),
                line=ln,
            )
            self.index.plan.phases.append(phase)
            self.index.row_phases.append((phase, f"date:{md}"))

    def code_timeline(self, text: str, line: int, parent: PlanPhase) -> None:
        entries: list[tuple[timedelta, str, int]] = []
        for i, ln in enumerate(text.split("\n")):
            m = re.match(
                r"^\s*(T\s*[+-]\s*\d+(?::\d\d)?\s*(?:min(?:utes?)?|m|h|hours?)?)\s*:\s*(.+)$",
                ln,
                re.I,
            )
            if not m:
                continue
            off = t_offsets(m.group(1))
            if not off:
                continue
            value = off[0].value
            if off[0].unit == "h" and not re.search(r"h", m.group(1), re.I):
                value = value / 60  # bare "T+5:" inside a minutes timeline
            entries.append((value, " ".join(m.group(2).split()), line + 1 + i))
        end = (
            (parent.start + parent.duration)
            if parent.start is not None and parent.duration
            else None
        )
        for n, (start, title, at) in enumerate(entries):
            nxt = entries[n + 1][0] if n + 1 < len(entries) else end
            duration = nxt - start if nxt is not None and nxt > start else None
            self.index.plan.phases.append(
                PlanPhase(name=title, start=start, duration=duration, line=at)
            )

    def merge_row_phases(self) -> None:
        plan = self.index.plan
        heading_phases = [
            p for p in plan.phases if all(p is not rp for rp, _ in self.index.row_phases)
        ]
        if not heading_phases:
            return
        for phase, key in self.index.row_phases:
            target = None
            if key.startswith("date:"):
                md = eval(key[5:])
                target = self.index.date_phases.get(md)
            else:
                target = self.index.heading_phase_spans.get((phase.start, phase.duration))
                if target is phase:
                    target = None
            if target is None:
                continue
            if phase.description and not target.description:
                target.description = phase.description
            plan.phases = [p for p in plan.phases if p is not phase]
        # unmatched timeline rows: after the last phase that starts before them
        for phase, key in self.index.row_phases:
            if key != "span" or not any(p is phase for p in plan.phases) or phase.start is None:
                continue
            plan.phases = [p for p in plan.phases if p is not phase]
            idx = None
            for i, p in enumerate(plan.phases):
                if p.start is not None and p.start <= phase.start:
                    idx = i
            plan.phases.insert(0 if idx is None else idx + 1, phase)
