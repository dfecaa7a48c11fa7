"""The plan index: everything the importer's passes fill and read while building one plan.

One typed structure instead of attributes scattered over the builder's parts: the plan being
built, the warnings, the T0 anchor and go-live date found in the document, and the lookup
tables that let a later section find what an earlier one made (checklists and gates by the
section path they stand in, phases by span and date, people by name). The builder owns one
index per runbook and hands it to each of its parts (``reader``, ``phases``, ``checklists``,
``gates``, ``roles``, ``escalation``, ``rollback``, ``comms``, ``owners``, ``times``): small
classes that read and write it and hold the few other parts they call, nothing else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from .plan import (
    ParseWarning,
    Plan,
    PlanChecklist,
    PlanCommsRule,
    PlanGate,
    PlanPerson,
    PlanPhase,
)

# "22:00": from its colon, a character the regex engine looks for fast (a digit before it, two
# after); only the lines matter, not where on them
_CLOCK = re.compile(r":(?<=\d:)\d\d")


@dataclass
class PlanIndex:
    """The plan under construction and the lookups the passes share."""

    text: str
    source_name: str = ""
    lines: list[str] = field(default_factory=list)
    plan: Plan = field(default_factory=lambda: Plan(title=""))
    warnings: list[ParseWarning] = field(default_factory=list)
    # -- time: T0 as minutes of the day, the go-live date (month, day), the zone -------------
    anchor: int | None = None
    golive_date: tuple[int, int] | None = None
    tz_found: bool = False
    go_live_line: int = 0  # the "Go-live: ..." line read with the document
    # -- the document's marks ----------------------------------------------------------------
    marks_mean_done: bool = False  # open and ticked marks both used: a tick means done
    has_boxes: bool = False  # tasks are drawn with boxes: plain bullets are not tasks
    heading_count: int = 0
    meta_seen: set[str] = field(default_factory=set)
    # -- lookups -----------------------------------------------------------------------------
    phase_lines: dict[int, int] = field(default_factory=dict)
    row_phases: list[tuple[PlanPhase, str]] = field(default_factory=list)  # (phase, merge key)
    heading_phase_spans: dict[tuple[timedelta | None, timedelta | None], PlanPhase] = field(
        default_factory=dict
    )
    date_phases: dict[tuple[int, int], PlanPhase] = field(default_factory=dict)
    day_phases: set[int] = field(default_factory=set)  # ids of day/week phases
    checklists: dict[tuple[Any, ...], PlanChecklist] = field(default_factory=dict)
    gates: dict[tuple[Any, ...], PlanGate] = field(default_factory=dict)
    people_index: dict[str, PlanPerson] = field(default_factory=dict)
    interval_sentences: list[PlanCommsRule] = field(default_factory=list)

    _clock_lines: list[int] | None = None
    _joined: str | None = None  # the lines as one text, for whole-text scans

    def __post_init__(self) -> None:
        self.lines = self.text.split("\n")

    def lines_with(self, rx: re.Pattern[str]) -> list[int]:
        """Indexes (0-based) of the lines ``rx`` finds something on, in order: one scan of
        the whole text instead of one search per line."""
        src = self.joined()
        out: list[int] = []
        line, pos = 0, 0
        for m in rx.finditer(src):
            line += src.count("\n", pos, m.start())
            pos = m.start()
            if not out or out[-1] != line:
                out.append(line)
        return out

    def lines_starting(self, prefix: str) -> list[int]:
        """Indexes (0-based) of the lines starting with ``prefix``, in order: found with
        ``str.find`` over the whole text (a regex with "^" is tried at every character)."""
        src = self.joined()
        out: list[int] = []
        line, pos = 0, 0
        i = src.find(prefix)
        while i >= 0:
            if i == 0 or src[i - 1] == "\n":
                line += src.count("\n", pos, i)
                pos = i
                out.append(line)
            i = src.find(prefix, i + 1)
        return out

    def joined(self) -> str:
        """The lines as one text, for whole-text scans."""
        if self._joined is None:
            self._joined = "\n".join(self.lines)
        return self._joined

    def clock_lines(self) -> list[int]:
        """Indexes of the lines holding a clock time ("22:00"): the only lines an anchor,
        a go-live time or a zone can be read from."""
        if self._clock_lines is None:
            self._clock_lines = self.lines_with(_CLOCK)
        return self._clock_lines

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ParseWarning(line, message))
