# ruff: noqa: RUF001 - real runbooks use dashes, arrows and mojibake
"""Times: T-offsets, durations, clock times, dates and the T0 anchor.

Times are offsets from T0. Clock times are converted with the document's
anchor: a "T0 ... (22:00 - 02:00 UTC)" heading, a "Deployment Start" timeline
row, a "Deployment Window: Saturday 22:00 UTC - ..." line or a "Go-Live Time:
10:00 AM MSK" line; a clock time is placed in the day that is nearest to its
enclosing phase, so windows cross midnight. When a heading gives both a
T-offset and a clock window that disagree, the clock wins and a warning names
the line.

The functions read what a piece of text says about time; :class:`TimesReader`
is the builder's part that finds the anchor and resolves clock times, dates
and spans against it.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from . import vocab
from .index import PlanIndex
from .plan import PlanPhase
from .recognise import named_day, relative_offset, stated_go_live, unit_delta, unknown_unit
from .text import plain


def _unit_rx() -> str:
    """One capture group matching a time unit word of any vocabulary language; a Latin
    or Cyrillic word must end there, a CJK one need not (no spaces in CJK text)."""
    cjk = [w for w in vocab.UNIT_WORDS if re.match(r"[\u3040-\u30ff\u4e00-\u9fff]", w)]
    latin = [w for w in vocab.UNIT_WORDS if w not in cjk]
    words = "|".join(re.escape(w) for w in latin)
    return f"((?i:{words})(?![^\\W\\d_])|{'|'.join(cjk)})"


_UNIT = _unit_rx()
_TOFF = re.compile(
    r"\bT\s*([+\-−–])\s*(?:(\d+)d\s*)?(\d+(?:\.\d+)?)?(?::(\d{2}))?\s*(?:" + _UNIT + ")?"
    r"|\bT\s*0\b|\bT-0\b"
)
_DIGIT = re.compile(r"\d")
_CLOCK = r"(\d{1,2}):(\d{2})\s*(am|pm|AM|PM)?"
_WINDOW = re.compile(
    _CLOCK + r"\s*(?:[A-Z]{2,4}\s*)?(?:-|–|—|to)\s*(?:[A-Z][a-z]+day\s+)?" + _CLOCK
)
_CLOCK_RE = re.compile(r"(?<![\d:T+\-])" + _CLOCK + r"(?![\d:])")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*" + _UNIT, re.I)
_PAREN_DURATION = re.compile(r"\(\s*(\d+(?:\.\d+)?)\s*" + _UNIT + r"\s*\)", re.I)
_TZ = re.compile(
    r"\b(UTC|GMT|MSK|CET|CEST|EET|EEST|BST|IST|JST|AEST|AEDT|EST|EDT|CST|CDT|MST|MDT|PST|PDT|SGT)\b"
)
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_DATE = re.compile(
    r"\b(?:(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s+)?"
    r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})\b(?:,?\s*(\d{4}))?",
    re.I,
)

DAY = timedelta(days=1)
_HAS_CLOCK = re.compile(r"\d:\d\d")
_GO_LIVE_DASH = re.compile(r"go-live", re.I)
_GO_LIVE_LABEL = "**Go-live:**"  # at the start of a line
_GO_LIVE_ANY = vocab.quick(
    re.compile(r"go-?live", re.I)
)  # the lines find_anchor reads besides clock lines


def _unit_delta(value: float, unit: str | None) -> timedelta:
    """``(7, "days")`` -> 7 days; ``(2, "Wochen")`` -> 2 weeks; no unit means hours."""
    code = vocab.unit_of(unit or "h") or "h"
    return unit_delta(value, code)


def parse_duration(text: str) -> timedelta | None:
    """ "2 hours", "30 min", "1d 2h 30m", "2:00" -> timedelta."""
    text = text.strip()
    m = re.fullmatch(r"(?:(\d+)d)?\s*(\d+):(\d{2})", text)
    if m:
        return timedelta(days=int(m.group(1) or 0), hours=int(m.group(2)), minutes=int(m.group(3)))
    total, found = timedelta(), False
    for dm in _DURATION.finditer(text):
        total += _unit_delta(float(dm.group(1)), dm.group(2))
        found = True
    return total if found else None


@dataclass
class TOffset:
    value: timedelta
    unit: str  # "d" | "h" | "m" | "" (explicit H:MM / zero)
    start: int
    end: int
    counted: str = ""  # the unit as written: "w" | "d" | "h" | "m" | "" (H:MM, none)


def t_offsets(text: str) -> list[TOffset]:
    out = []
    for m in _TOFF.finditer(text):
        if m.group(1) is None:
            out.append(TOffset(timedelta(), "", m.start(), m.end()))
            continue
        sign = -1 if m.group(1) != "+" else 1
        days, num, mins, unit = m.group(2), m.group(3), m.group(4), m.group(5)
        if num is None and days is None:
            continue
        if unit is None and mins is None and unknown_unit(text[m.start() :]):
            continue  # "T-7 jours": a unit nobody taught us; warned about, never guessed
        value = timedelta(days=int(days or 0))
        counted = ""
        if mins is not None:
            value += timedelta(hours=int(num or 0), minutes=int(mins))
            u = ""
        elif num is not None:
            value += _unit_delta(float(num), unit) if unit or not days else timedelta()
            u = counted = (vocab.unit_of(unit) or "") if unit else ""
            u = "d" if u == "w" else u
        else:
            u = counted = "d"
        out.append(TOffset(sign * value, u, m.start(), m.end(), counted))
    # "(T+5 to T+25 min)": a bare number takes the unit of its partner
    for a, b in itertools.pairwise(out):
        if (
            a.unit == ""
            and b.unit in "dm"
            and b.unit
            and re.fullmatch(r"\s*(?:to|-|–|—)\s*", text[a.end : b.start])
        ):
            bare = _TOFF.match(text, a.start)
            if bare and bare.group(3) and bare.group(4) is None:
                sign = -1 if bare.group(1) != "+" else 1
                a.value = sign * _unit_delta(float(bare.group(3)), b.unit)
    return out


def format_offset(value: timedelta) -> str:
    """timedelta -> "T-2:00", "T+0:30", "T-7d", "T+1d 2:30"."""
    sign = "-" if value < timedelta() else "+"
    total = abs(int(value.total_seconds())) // 60
    days, rem = divmod(total, 24 * 60)
    hours, minutes = divmod(rem, 60)
    if days and not rem:
        return f"T{sign}{days}d"
    body = f"{hours}:{minutes:02d}"
    return f"T{sign}{days}d {body}" if days else f"T{sign}{body}"


def parse_offset(text: str) -> timedelta | None:
    offs = t_offsets(text)
    return offs[0].value if offs else None


def format_duration(value: timedelta) -> str:
    total = int(value.total_seconds()) // 60
    days, rem = divmod(total, 24 * 60)
    hours, minutes = divmod(rem, 60)
    parts = [f"{days}d"] if days else []
    if hours:
        parts.append(f"{hours}h")
    if minutes or not parts:
        parts.append(f"{minutes}m")
    return " ".join(parts)


def _clock_minutes(h: str, m: str, ampm: str | None) -> int | None:
    hour, minute = int(h), int(m)
    if ampm:
        if hour > 12:
            return None
        hour = hour % 12 + (12 if ampm.lower() == "pm" else 0)
    if hour > 24 or minute > 59:
        return None
    return (hour % 24) * 60 + minute


@dataclass
class Times:
    """What a heading or label says about time."""

    offset: TOffset | None = None
    offset_end: TOffset | None = None
    clock: int | None = None  # minutes of day
    clock_end: int | None = None
    duration: timedelta | None = None
    date: tuple[int, int] | None = None  # (month, day)
    before_after: timedelta | None = None
    spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.offset or self.clock is not None or self.duration or self.date)

    @property
    def ranged(self) -> bool:
        return bool(self.offset_end or self.clock_end is not None or self.duration or self.date)


@functools.lru_cache(maxsize=4096)
def read_times(text: str) -> Times:
    """What ``text`` says about time (cached: headings and labels repeat; never mutated)."""
    return _read_times(text)


def _read_times(text: str) -> Times:
    t = Times()
    if not _DIGIT.search(text):
        return t  # every offset, clock, duration and date is written with a digit
    offs = t_offsets(text)
    if offs:
        t.offset = offs[0]
        t.spans.append((offs[0].start, offs[0].end))
        if len(offs) > 1 and re.fullmatch(r"\s*(?:to|-|–|—)\s*", text[offs[0].end : offs[1].start]):
            t.offset_end = offs[1]
            t.spans[-1] = (offs[0].start, offs[1].end)
    w = _WINDOW.search(text)
    if w:
        t.clock = _clock_minutes(w.group(1), w.group(2), w.group(3) or w.group(6))
        t.clock_end = _clock_minutes(w.group(4), w.group(5), w.group(6))
        t.spans.append(w.span())
    else:
        c = _CLOCK_RE.search(text)
        if c and not any(s <= c.start() < e for s, e in t.spans):
            t.clock = _clock_minutes(c.group(1), c.group(2), c.group(3))
            t.spans.append(c.span())
    d = _PAREN_DURATION.search(text)
    if d:
        t.duration = _unit_delta(float(d.group(1)), d.group(2))
        t.spans.append(d.span())
    dm = _DATE.search(text)
    if dm and (dm.group(1) or dm.group(4) or text[: dm.start()].strip() == ""):
        t.date = (_MONTHS.index(dm.group(2).lower()[:3]) + 1, int(dm.group(3)))
        t.spans.append(dm.span())
    rel = relative_offset(text)
    if rel is not None:
        t.before_after = rel.value
        if t.offset is None:
            t.offset = TOffset(rel.value, "d", rel.start, rel.end, rel.unit)
            t.spans.append((rel.start, rel.end))
    return t


def day_span(title: str, t: Times) -> tuple[timedelta, timedelta] | None:
    """A section named after a day or week on the T-minus clock ("Week -2", "T-7 days",
    "Day 0 / Go-live night", "Vorwoche", "Día -1", "1週間前") -> (start, length); None for
    a heading with a clock time, a range, or an offset in hours or minutes."""
    if t.clock is not None or t.ranged:
        return None
    if t.offset is not None:
        off = t.offset
        if off.counted not in ("d", "w") or off.value % DAY:
            return None
        return off.value, (7 * DAY if off.counted == "w" else DAY)
    return named_day(plain(title))


_NAME_TRIM = re.compile(r"^[\s:|\-–—,.]+|[\s:|\-–—,]+$")


def clean_name(text: str, times: Times | None = None) -> str:
    """Heading text without its times: "T-2 Hours: X (20:00 - 22:00 UTC)" -> "X"."""
    raw = text
    times = times or read_times(text)
    spans = sorted(times.spans, key=lambda s: s[0])
    if spans:
        out, pos = [], 0
        for s, e in spans:
            if s < pos:
                continue
            out.append(text[pos:s])
            pos = e
        out.append(text[pos:])
        text = "".join(out)
        # leftovers of "(20:00 - 22:00 UTC)" and "T-2 Hours:"
        text = re.sub(r"\(\s*(?:[A-Z]{2,4})?\s*\)", "", text)
        text = re.sub(r"^\s*(?:hours?|days?|minutes?|mins?)\b", "", text, flags=re.I)
        text = re.sub(r"\(\s*\)", "", text)
    text = _NAME_TRIM.sub("", plain(text))
    if re.fullmatch(r"\(([^()]*)\)", text):
        text = text[1:-1].strip()
    return text or plain(raw)


def parse_offset_or_duration(text: str) -> timedelta | None:
    text = plain(text)
    if not text:
        return None
    return parse_offset(text) if text.startswith("T") else parse_duration(text)


@dataclass(eq=False)
class TimesReader:
    """Builder part: the T0 anchor and clock/date -> offset resolution."""

    index: PlanIndex

    # -- anchors ----------------------------------------------------------------

    def find_anchor(self) -> None:
        candidates: list[tuple[int, int, str | None]] = []  # (priority, minutes, tz)
        clocks = set(self.index.clock_lines())
        lines = self.index.lines
        for n in sorted(clocks.union(self.index.lines_with(_GO_LIVE_ANY))):
            ln = lines[n]
            if n not in clocks:
                gl = _GO_LIVE_DASH.search(ln) if self.index.golive_date is None else None
                if gl:
                    dm = _DATE.search(ln, gl.start())
                    if dm:
                        self.index.golive_date = (
                            _MONTHS.index(dm.group(2).lower()[:3]) + 1,
                            int(dm.group(3)),
                        )
                continue
            low = ln.lower()
            tz = _TZ.search(ln)
            tzv = tz.group(1) if tz else None
            c = _CLOCK_RE.search(ln)
            w = _WINDOW.search(ln)
            first = (
                _clock_minutes(w.group(1), w.group(2), w.group(3) or w.group(6))
                if w
                else (_clock_minutes(c.group(1), c.group(2), c.group(3)) if c else None)
            )
            if first is None:
                continue
            if re.match(r"\s*#+\s*T\s*[-+]?\s*0\b", ln) or (re.search(r"\bT0\b", ln) and w):
                candidates.append((0, first, tzv))
            elif re.search(
                r"deployment start|go-?live time|launch time|deploy(?:ment)? start", low
            ):
                candidates.append((1, first, tzv))
            elif re.search(r"deployment window|primary window|maintenance window", low):
                candidates.append((2, first, tzv))
            elif re.search(r"go-?live", low) and re.search(
                r"\d:\d\d\s*(am|pm)?\s*[A-Z]{2,4}", ln, re.I
            ):
                candidates.append((3, first, tzv))
            gl = re.search(r"go-?live", low)
            if self.index.golive_date is None and gl:
                dm = _DATE.search(ln, gl.start())
                if dm:
                    self.index.golive_date = (
                        _MONTHS.index(dm.group(2).lower()[:3]) + 1,
                        int(dm.group(3)),
                    )
        if candidates:
            candidates.sort(key=lambda c: c[0])
            self.index.anchor = candidates[0][1]
            zone = next((c[2] for c in candidates if c[2]), None)
            if zone:
                self.index.plan.timezone = zone
                self.index.tz_found = True
        if not self.index.tz_found:
            for n in self.index.clock_lines():
                tz = _TZ.search(lines[n])
                if tz:
                    self.index.plan.timezone = tz.group(1)
                    break

    def clock_offset(
        self, minutes: int, near: timedelta | None = None, day: timedelta | None = None
    ) -> timedelta:
        if self.index.anchor is None:
            self.index.anchor = minutes
        base = timedelta(minutes=minutes - self.index.anchor)
        if day is not None:
            return day + timedelta(minutes=minutes)
        if near is None:
            while base > timedelta(hours=12):
                base -= DAY
            while base <= timedelta(hours=-12):
                base += DAY
            return base
        best = min((base + k * DAY for k in range(-2, 3)), key=lambda v: abs(v - near))
        return best

    def day_offset(self, md: tuple[int, int]) -> timedelta | None:
        if not self.index.golive_date or self.index.anchor is None:
            return None
        year = 2001
        try:
            d = date(year, *md)
            g = date(year, *self.index.golive_date)
        except ValueError:
            return None
        diff = (d - g).days
        if diff > 180:
            diff -= 365
        elif diff < -180:
            diff += 365
        return diff * DAY - timedelta(minutes=self.index.anchor)

    # -- resolving times ----------------------------------------------------------

    def check_units(self, text: str, line: int) -> None:
        """Warn about a T-offset whose unit is not understood (it is left out, not guessed)."""
        word = unknown_unit(plain(text))
        if word:
            self.index.warn(
                line,
                f"time unit '{word}' not understood in '{plain(text)}': no time taken from it "
                "(write minutes, hours, days or weeks)",
            )

    def stated_go_live(self) -> None:
        """``Go-live: 2026-03-14 22:00 CET`` / ``Launch time: 02:00 TST`` -> plan.go_live_at."""
        found = stated_go_live(
            self.index.lines,
            sorted({*self.index.clock_lines(), *self.index.lines_starting(_GO_LIVE_LABEL)}),
        )
        if found is None:
            return
        stamp = f"{found.date}T{found.time}" if found.date else found.time
        if found.utc_offset_min is not None:
            sign = "-" if found.utc_offset_min < 0 else "+"
            hours, minutes = divmod(abs(found.utc_offset_min), 60)
            stamp += f"{sign}{hours:02d}:{minutes:02d}"
        self.index.plan.go_live_at = stamp
        self.index.go_live_line = found.line

    def row_start(
        self, t: Times, near: timedelta | None, day: timedelta | None
    ) -> timedelta | None:
        """When a schedule table's row starts: its clock time placed near ``near`` (the row
        before it, or the enclosing phase), else its T-offset; None when it says neither."""
        if t.clock is not None:
            return self.clock_offset(t.clock, near, day)
        return t.offset.value if t.offset is not None else None

    def span(
        self, t: Times, line: int, day: timedelta | None, phase: PlanPhase | None
    ) -> tuple[timedelta | None, timedelta | None]:
        """(start, duration) of a heading/label: its T-offsets, else its clock window placed
        near the enclosing phase (the clock wins over a disagreeing offset, with a warning),
        else its date as a whole day."""
        if t.date is not None:
            day = self.day_offset(t.date)
        start = t.offset.value if t.offset is not None else None
        end = t.offset_end.value if t.offset is not None and t.offset_end is not None else None
        if t.clock is not None:
            start, end = self.clock_span(t, line, start, end, day, phase)
        elif t.date is not None and day is not None and start is None:
            start, end = day, day + DAY
        duration = t.duration
        if end is not None and start is not None:
            span = end - start
            if duration is not None and duration != span:
                self.index.warn(
                    line,
                    f"conflicting times: duration {format_duration(duration)} "
                    f"but the span is {format_duration(span)}",
                )
            duration = span if duration is None else duration
        return start, duration

    def clock_span(
        self,
        t: Times,
        line: int,
        start: timedelta | None,
        end: timedelta | None,
        day: timedelta | None,
        phase: PlanPhase | None,
    ) -> tuple[timedelta, timedelta | None]:
        assert t.clock is not None
        near = start if start is not None else (phase.start if phase else None)
        cstart = self.clock_offset(t.clock, near, day)
        if start is not None and cstart != start:
            self.index.warn(
                line,
                f"conflicting times: {format_offset(start)} but the clock time is "
                f"{format_offset(cstart)} from T0; using the clock time",
            )
        if t.clock_end is None:
            return cstart, end
        cend = self.clock_offset(t.clock_end, cstart, day)
        while cend < cstart:
            cend += DAY
        return cstart, cend

    def window(self, v: str, line: int) -> None:
        w = _WINDOW.search(v)
        offs = t_offsets(v)
        if len(offs) >= 2:
            self.index.plan.window_start, self.index.plan.window_end = offs[0].value, offs[1].value
        elif w:
            a = _clock_minutes(w.group(1), w.group(2), w.group(3) or w.group(6))
            b = _clock_minutes(w.group(4), w.group(5), w.group(6))
            if a is None or b is None:
                return
            start = self.clock_offset(a)
            end = self.clock_offset(b, start)
            while end <= start:
                end += DAY
            if self.index.plan.window_start is None:
                self.index.plan.window_start, self.index.plan.window_end = start, end
            tz = _TZ.search(v)
            if tz and not self.index.tz_found:
                self.index.plan.timezone = tz.group(1)
                self.index.tz_found = True
