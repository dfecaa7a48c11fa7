# ruff: noqa: RUF001, RUF002 - real runbooks use dashes, arrows and mojibake
"""Markdown runbook -> :class:`Plan`.

How it works
============

1. **Input.** Bytes are decoded as strict UTF-8 (the error names the line of the
   first bad byte); empty, binary (NUL), oversized (``MAX_BYTES``) input and
   documents without recognisable structure raise :class:`RunbookError`.
   Mojibake (UTF-8 read as cp1252 or Mac Roman, e.g. "ðŸ“…", "âœ“", "‚Üí") is
   repaired line by line with ftfy plus a Mac Roman round trip; lines that
   cannot be repaired are kept as they are.
2. **Blocks.** markdown-it-py (block rules only, which is what keeps this fast)
   turns the text into headings, paragraphs, lists, tables and fences, each
   with its source line. Headings make a section tree.
3. **Interpretation.** Each section is classified by heading keywords
   (timeline, checklist, roles, escalation, rollback, comms, gate, notes; a
   section without keywords inherits its parent's class). Inside a section,
   paragraphs are read line by line: ``**Key:** value`` lines are metadata
   (Name, Phone, Duration, Audience, Decision Maker, ...), a bold line alone is
   a *label* that names what follows (``**Participants:**``,
   ``**Go/No-Go Checklist:**``); a label carrying a time
   (``**20:00 - 20:15 | Team Assembly**``, ``**T-4 hours:**``) opens a
   sub-phase. Tables are recognised by their header (Time/Phase/Duration,
   Role/Name/Backup, Level/Role, Metric/Warning/Critical, Time/Type/Channel,
   Role/Criteria/Sign-Off, ...). Fences are message templates in comms
   sections, ``T+5 min: ...`` timelines in phases, or the verification
   commands of the item they follow.

Decisions
---------

* **Phases.** A heading or label with a clock window, a T-range, a duration in
  parentheses or a date is a phase; so is a single T-offset heading in a
  timeline section (``T-1:30: Verification Phase``). Enclosing sections are
  phases too: "T-2 Hours: Pre-Deployment (20:00 - 22:00 UTC)" is a phase *and*
  each "**20:00 - 20:15 | ...**" block inside it is a phase of its own, listed
  after it. Rows of a timeline table become phases unless a heading phase
  covers the same span (then the row only supplies the description). Lines
  of a ``T+5 min: ...`` code-block timeline and rows of a day's schedule table
  are phases as well. Plain bullets under a phase become its description.
* **Times** are offsets from T0. Clock times are converted with the
  document's anchor: a "T0 ... (22:00 - 02:00 UTC)" heading, a "Deployment
  Start" timeline row, a "Deployment Window: Saturday 22:00 UTC - ..." line or
  a "Go-Live Time: 10:00 AM MSK" line; a clock time is placed in the day that
  is nearest to its enclosing phase, so windows cross midnight. When a heading
  gives both a T-offset and a clock window that disagree, the clock wins and a
  warning names the line.
* **Checklists.** Every ``- [ ]`` / ``* [x]`` line outside code fences is one
  item, in the innermost section or label it stands in: a go/no-go label or
  section puts it in that gate's checklist, a phase in one of the phase's
  checklists, anything else in a plan-level checklist whose ``due`` is the
  nearest T-offset above it ("T-7 Days", "**48 hours before**") and whose kind
  comes from the words around it (pre/post). Bold group headers
  (``**[  ] 1. Blue Environment**``) are items whose children are the list
  that follows; a ``Verification:`` child also sets the header's verification.
  Nested checkbox lists are children. ``(Owner: Role)`` at the end of an item
  sets its owner; items in a role's section are owned by that role.
* **Notes.** Success criteria, severity levels, on-call schedules, risk
  registers, decision matrices, and any table or command block the plan has
  no field for, are kept verbatim as :class:`PlanNote` with a warning.
* **Canonical form.** ``export.render_plan`` writes headings with an explicit
  type prefix ("Phase:", "Checklist:", "Gate:", "Template:", "Note:") and
  tables with fixed headers; under such a heading names and values are taken
  verbatim (backslash escapes undone), so ``parse(render(plan)) == plan``.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import ftfy
from ftfy.badness import is_bad
from markdown_it import MarkdownIt

from .plan import (
    COMPARISONS,
    ParseWarning,
    Plan,
    PlanChecklist,
    PlanCommsRule,
    PlanEscalationLevel,
    PlanGate,
    PlanItem,
    PlanNote,
    PlanPerson,
    PlanPhase,
    PlanRole,
    PlanRollbackCriterion,
    PlanSignOff,
    PlanTemplate,
)

__all__ = ["MAX_BYTES", "PLACEHOLDER_FIELDS", "RunbookError", "parse_runbook"]

MAX_BYTES = 5 * 1024 * 1024

#: Template placeholders (lower-cased, without brackets) -> release field.
PLACEHOLDER_FIELDS: dict[str, str] = {
    "x.y.z": "version",
    "version": "version",
    "release version": "version",
    "vx.y.z": "version",
    "date": "date",
    "yyyy-mm-dd": "date",
    "go-live date": "date",
    "time": "time",
    "hh:mm": "time",
    "hh:mm utc": "time",
    "start time": "time",
    "go-live": "go_live",
    "go-live time": "go_live",
    "window": "window",
    "deployment window": "window",
    "maintenance window": "window",
    "link": "link",
    "zoom link": "link",
    "status page link": "link",
    "link to release notes": "link",
    "release name": "release_name",
    "release": "release_name",
    "product": "release_name",
    "phase": "phase",
    "phase name": "phase",
    "current phase": "phase",
    "next phase": "phase",
    "status": "status",
    "green/yellow/red": "status",
    "in progress / complete": "status",
    "on track | delayed | issue detected": "status",
    "eta": "eta",
    "next milestone time": "eta",
    "progress": "progress",
    "x%": "progress",
    "x": "progress",
}

CANONICAL_PREFIXES = ("Phase", "Checklist", "Gate", "Template", "Note")


class RunbookError(ValueError):
    """The runbook cannot be imported; ``line`` is the 1-based source line, if known."""

    def __init__(self, message: str, line: int | None = None):
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


# ----------------------------------------------------------------------------
# Input: decoding, limits, mojibake repair
# ----------------------------------------------------------------------------


def _decode(data: str | bytes) -> str:
    if isinstance(data, bytes | bytearray):
        raw = bytes(data)
        if len(raw) > MAX_BYTES:
            raise RunbookError(f"file is {len(raw)} bytes; the limit is {MAX_BYTES} bytes (5 MB)")
        if b"\x00" in raw:
            line = raw[: raw.index(b"\x00")].count(b"\n") + 1
            raise RunbookError("binary file (NUL byte): a runbook must be markdown text", line)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise RunbookError(
                f"invalid UTF-8 (byte 0x{raw[exc.start]:02x}); save the file as UTF-8", line
            ) from None
        text = text.removeprefix("\ufeff")
    else:
        text = data
        if len(text) > MAX_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_BYTES:
            raise RunbookError(f"text is larger than the limit of {MAX_BYTES} bytes (5 MB)")
        if "\x00" in text:
            line = text[: text.index("\x00")].count("\n") + 1
            raise RunbookError(
                "binary content (NUL character): a runbook must be markdown text", line
            )
    if not text.strip():
        raise RunbookError("empty file: nothing to import")
    return text


_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+(?:[ \t]?[^\x00-\x7f]+)*")


def _macroman_run(match: re.Match) -> str:
    run = match.group(0)
    try:
        fixed = run.encode("mac_roman").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return run
    return fixed


def _cp_continuation(ch: str) -> bool:
    for codec in ("cp1252", "cp1254"):
        try:
            b = ch.encode(codec)
        except UnicodeEncodeError:
            continue
        if len(b) == 1 and 0x80 <= b[0] <= 0xBF:
            return True
    return False


def _lost_bytes(match: re.Match) -> str:
    # "ğŸ‰": an emoji whose UTF-8 bytes were read as Windows-1254 and lost a byte
    # that code page does not define; the character cannot be known, so mark it.
    tail = match.group(1)
    keep = "".join(c for c in tail if not _cp_continuation(c))
    return "\ufffd" + keep


_BROKEN_EMOJI = re.compile(r"(?:ğŸ|ðŸ|âœ)(.{0,2})")


def _repair_line(line: str) -> str:
    try:
        if is_bad(line):
            line = ftfy.fix_encoding(line)
        if not line.isascii():
            line = _NON_ASCII_RUN.sub(_macroman_run, line)
        if "Ÿ" in line or "âœ" in line:
            line = _BROKEN_EMOJI.sub(_lost_bytes, line)
    except Exception:
        return line
    return line


def _repair(text: str) -> str:
    if text.isascii():
        return text
    return "\n".join(_repair_line(ln) if not ln.isascii() else ln for ln in text.split("\n"))


# ----------------------------------------------------------------------------
# Blocks: markdown-it tokens -> a small tree with source lines
# ----------------------------------------------------------------------------

_MD = MarkdownIt("commonmark").enable("table")
_MD.disable("inline")  # we read inline text ourselves; block parsing only


@dataclass
class Block:
    kind: str  # heading | para | list | table | fence | html
    line: int
    end: int = 0
    text: str = ""
    level: int = 0
    info: str = ""
    items: list[ListItem] = field(default_factory=list)
    ordered: bool = False
    header: list[str] = field(default_factory=list)
    rows: list[tuple[int, list[str]]] = field(default_factory=list)


@dataclass
class ListItem:
    text: str
    line: int
    children: list[Block] = field(default_factory=list)


def _blocks(tokens, i: int, stop: str | None) -> tuple[list[Block], int]:
    out: list[Block] = []
    n = len(tokens)
    while i < n:
        t = tokens[i]
        if stop and t.type == stop:
            return out, i + 1
        ln = t.map[0] + 1 if t.map else 0
        end = t.map[1] if t.map else 0
        if t.type == "heading_open":
            out.append(Block("heading", ln, end, tokens[i + 1].content, level=int(t.tag[1])))
            i += 3
        elif t.type == "paragraph_open":
            out.append(Block("para", ln, end, tokens[i + 1].content))
            i += 3
        elif t.type in ("fence", "code_block"):
            out.append(Block("fence", ln, end, t.content, info=t.info.strip()))
            i += 1
        elif t.type == "html_block":
            out.append(Block("html", ln, end, t.content))
            i += 1
        elif t.type in ("bullet_list_open", "ordered_list_open"):
            block = Block("list", ln, end, ordered=t.type == "ordered_list_open")
            close = t.type.replace("_open", "_close")
            i += 1
            while tokens[i].type != close:
                li = tokens[i]  # list_item_open
                children, i = _blocks(tokens, i + 1, "list_item_close")
                text = ""
                if children and children[0].kind == "para" and children[0].line == li.map[0] + 1:
                    text = children.pop(0).text
                block.items.append(ListItem(text, li.map[0] + 1, children))
            out.append(block)
            i += 1
        elif t.type == "table_open":
            block, i = _table(tokens, i, ln, end)
            out.append(block)
        elif t.type == "blockquote_open":
            inner, i = _blocks(tokens, i + 1, "blockquote_close")
            out.extend(inner)
        else:
            i += 1
    return out, i


def _table(tokens, i: int, line: int, end: int) -> tuple[Block, int]:
    block = Block("table", line, end)
    row: list[str] | None = None
    body_row = 0
    while tokens[i].type != "table_close":
        t = tokens[i]
        if t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content.strip())
        elif t.type == "tr_close" and row is not None:
            if not block.header:
                block.header = row
            else:
                block.rows.append((line + 2 + body_row, row))
                body_row += 1
            row = None
        i += 1
    return block, i + 1


@dataclass
class Section:
    title: str
    level: int
    line: int
    blocks: list[Block] = field(default_factory=list)
    children: list[Section] = field(default_factory=list)
    parent: Section | None = None


def _sections(blocks: list[Block]) -> Section:
    root = Section("", 0, 1)
    stack = [root]
    for b in blocks:
        if b.kind == "heading":
            while stack[-1].level >= b.level:
                stack.pop()
            sec = Section(b.text.strip(), b.level, b.line, parent=stack[-1])
            stack[-1].children.append(sec)
            stack.append(sec)
        else:
            stack[-1].blocks.append(b)
    return root


# ----------------------------------------------------------------------------
# Text helpers (shared with export.py, which must produce what these read back)
# ----------------------------------------------------------------------------

_UNESC = re.compile(r"\\([!-/:-@\[-`{-~])|&#124;")
_COMMENT = re.compile(r"<!--.*?-->", re.S)
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__")
_PLACEHOLDER_VALUES = re.compile(r"^(?:-|—|–|n/?a|)$", re.I)


def unescape(text: str) -> str:
    """Undo markdown backslash escapes (and ``&#124;`` used for pipes in cells)."""
    if "\\" not in text and "&#124;" not in text:
        return text
    return _UNESC.sub(lambda m: m.group(1) if m.group(1) is not None else "|", text)


def escape(text: str) -> str:
    """Backslash-escape every ASCII punctuation character (pipes become ``&#124;``)."""
    return "".join(
        "&#124;" if c == "|" else ("\\" + c if c.isascii() and not c.isalnum() and c > " " else c)
        for c in text
    )


def plain(text: str) -> str:
    """Display text: comments and bold markers removed, escapes undone, whitespace trimmed."""
    if "<!--" in text:
        text = _COMMENT.sub("", text)
    if "**" in text or "__" in text:
        text = _BOLD.sub(lambda m: m.group(1) or m.group(2), text)
    return unescape(" ".join(text.split()))


def cell_text(raw: str) -> str:
    """A table cell's value; "-", "n/a" and empty cells are empty."""
    value = plain(raw)
    return "" if _PLACEHOLDER_VALUES.match(raw.strip()) else value


def split_list(raw: str, seps: str = ";") -> list[str]:
    """Split on unescaped separators, then unescape each part."""
    parts, cur, i = [], [], 0
    while i < len(raw):
        c = raw[i]
        if raw.startswith("&#124;", i):
            cur.append("&#124;")
            i += 6
            continue
        if c == "\\" and i + 1 < len(raw):
            cur.append(raw[i : i + 2])
            i += 2
            continue
        if c in seps:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(c)
        i += 1
    parts.append("".join(cur))
    return [v for v in (cell_text(p) for p in parts) if v]


_OWNER = re.compile(r"\s*\((?:owner|owned by|assignee)\s*:\s*((?:\\.|[^()\\])+)\)\s*$", re.I)
_CHECKBOX = re.compile(r"^\[([ xX]|\s{2})\]\s?(.*)$", re.S)
_GROUP = re.compile(r"^\*\*\[\s*([xX]?)\s*\]\s*(.*?)\*\*\s*$")


def item_text(raw: str) -> tuple[str, str]:
    """(text, owner) of a checklist item's text after the checkbox."""
    raw = " ".join(raw.split())
    owner = ""
    m = _OWNER.search(raw)
    if m:
        owner = unescape(m.group(1).strip())
        raw = raw[: m.start()]
    return unescape(raw.strip()), owner


def meta_value(raw: str) -> str:
    return unescape(raw.strip())


_LABEL = re.compile(r"^(?:\*\*(.+?)\*\*|__(.+?)__)\s*(.*)$")


def label_line(line: str) -> tuple[str, str] | None:
    """``**Key:** value`` -> (key, raw value); ``**Label**`` -> (label, "")."""
    m = _LABEL.match(line.strip())
    if not m:
        return None
    key = (m.group(1) or m.group(2)).strip()
    rest = m.group(3)
    if key.endswith(":"):
        key = key[:-1].rstrip()
    elif rest.startswith(":"):
        rest = rest[1:]
    elif rest and not key.endswith(":"):
        # "**Assemble team** in war room": bold words inside prose, not a label
        return None
    return key, rest.strip()


def heading_prefix(text: str) -> tuple[str, str] | None:
    """Canonical headings: "Phase: name" -> ("Phase", raw name)."""
    for p in CANONICAL_PREFIXES:
        if text.startswith(p + ": "):
            return p, text[len(p) + 2 :]
    return None


# ----------------------------------------------------------------------------
# Times
# ----------------------------------------------------------------------------

_UNIT = r"(?i:(days?|d|hours?|hrs?|h|minutes?|mins?|m))\b"
_TOFF = re.compile(
    r"\bT\s*([+\-−–])\s*(?:(\d+)d\s*)?(\d+(?:\.\d+)?)?(?::(\d{2}))?\s*(?:" + _UNIT + ")?"
    r"|\bT\s*0\b|\bT-0\b"
)
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
_BEFORE_AFTER = re.compile(r"(\d+)\s*" + _UNIT + r"\s+(before|after|prior)", re.I)

DAY = timedelta(days=1)


def _unit_delta(value: float, unit: str | None) -> timedelta:
    u = (unit or "h").lower()
    if u.startswith("d"):
        return timedelta(days=value)
    if u.startswith("m"):
        return timedelta(minutes=value)
    return timedelta(hours=value)


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
        value = timedelta(days=int(days or 0))
        if mins is not None:
            value += timedelta(hours=int(num or 0), minutes=int(mins))
            u = ""
        elif num is not None:
            value += _unit_delta(float(num), unit) if unit or not days else timedelta()
            u = (unit or "")[:1].lower()
        else:
            u = "d"
        out.append(TOffset(sign * value, u, m.start(), m.end()))
    # "(T+5 to T+25 min)": a bare number takes the unit of its partner
    for a, b in itertools.pairwise(out):
        if (
            a.unit == ""
            and b.unit in "dm"
            and b.unit
            and re.fullmatch(r"\s*(?:to|-|–|—)\s*", text[a.end : b.start])
        ):
            m = _TOFF.match(text, a.start)
            if m and m.group(3) and m.group(4) is None:
                sign = -1 if m.group(1) != "+" else 1
                a.value = sign * _unit_delta(float(m.group(3)), b.unit)
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


def read_times(text: str) -> Times:
    t = Times()
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
    ba = _BEFORE_AFTER.search(text)
    if ba:
        sign = 1 if ba.group(3).lower() == "after" else -1
        t.before_after = sign * _unit_delta(float(ba.group(1)), ba.group(2))
    return t


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


# ----------------------------------------------------------------------------
# Classification
# ----------------------------------------------------------------------------

_CLASSES = [
    ("comms", re.compile(r"communicat|notif|announce|status update|message|templates?\b", re.I)),
    ("escalation", re.compile(r"escalat", re.I)),
    ("gate", re.compile(r"go\s*/?\s*-?no[\s-]*go|approv|sign[\s-]*off", re.I)),
    ("rollback", re.compile(r"rollback|roll back|threshold", re.I)),
    (
        "notes",
        re.compile(
            r"success|severity|on-?call schedule|risk|contingenc|mitigat|criteria|\bsla\b|"
            r"incident|decision matrix",
            re.I,
        ),
    ),
    (
        "roles",
        re.compile(
            r"\bteam\b|\broles?\b|responsib|contact|roster|assignment|people|staff|oversight", re.I
        ),
    ),
    (
        "timeline",
        re.compile(r"timeline|schedule|phases?\b|steps\b|execution|cutover|day-by-day|daily", re.I),
    ),
    (
        "checklist",
        re.compile(
            r"checklist|pre-?deploy|pre-?launch|pre-?flight|post-?deploy|post-?launch|validation|"
            r"activities|readiness|verification",
            re.I,
        ),
    ),
]

_GO_NO_GO = re.compile(r"go\s*/?\s*-?no[\s-]*go", re.I)
_APPROVAL = re.compile(r"approv|sign[\s-]*off", re.I)
_STAKEHOLDER = re.compile(r"executive|stakeholder|oversight|sponsor|leadership", re.I)
_PRE = re.compile(r"\bpre[\s-]|before|prior|prep", re.I)
_POST = re.compile(r"\bpost[\s-]|after|day-after|24-hour|follow-?up|close-?out|handover", re.I)
_GENERIC_LABEL = re.compile(
    r"^(checklist|tasks?|actions?|steps?|deliverables|items|validations?|todo|to-?do)$", re.I
)
_LEVEL = re.compile(r"^(?:level\s*(\d+)|L(\d+))\b\s*[:\-–—]?\s*(.*)$", re.I)
_ROLE_SPLIT = re.compile(r"\s*(?:/|\+|,|&|\band\b)\s*")
_PAREN_TAIL = re.compile(r"\s*\(([^()]*)\)\s*$")
_NUMBERING = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?|[A-Z]\.)\s+")


def classify(title: str) -> str | None:
    for name, rx in _CLASSES:
        if rx.search(title):
            return name
    return None


def _channels(text: str) -> list[str]:
    out = []
    for part in re.split(r"\s*(?:,|/|\+|;|\band\b)\s*", text):
        p = re.sub(r"\(.*?\)|#[\w-]+", "", part).strip().lower()
        if not p:
            continue
        slug = re.sub(r"[^a-z0-9]+", "_", p).strip("_")
        if "status" in slug:
            slug = "status_page"
        elif "mail" in slug:
            slug = "email"
        elif "slack" in slug:
            slug = "slack"
        elif "in_app" in slug:
            slug = "in_app"
        if slug and slug not in out:
            out.append(slug)
    return out


_MILESTONES = [
    ("rollback", re.compile(r"rollback|roll back", re.I)),
    ("go_decision", re.compile(r"go[\s/-]*(?:no[\s-]*go)?\s*decision|go decision", re.I)),
    ("issue", re.compile(r"issue|incident", re.I)),
    ("completion", re.compile(r"complete|completion|success|final status|finished|done", re.I)),
    ("go_live", re.compile(r"start|started|begin|go-?live|launch", re.I)),
]


def milestone(text: str) -> str:
    for name, rx in _MILESTONES:
        if rx.search(text):
            return name
    return ""


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "template"


_PLACEHOLDER = re.compile(r"\[(?![ xX]?\])([^\[\]\n]{1,60})\]")


def placeholders(text: str) -> list[str]:
    out: list[str] = []
    for m in _PLACEHOLDER.finditer(text):
        if text[m.end() : m.end() + 1] == "(":  # a markdown link
            continue
        if m.group(0) not in out:
            out.append(m.group(0))
    return out


def placeholder_field(ph: str) -> str | None:
    key = ph.strip("[]").strip().lower()
    key = re.sub(r"\s+", " ", key)
    return PLACEHOLDER_FIELDS.get(key)


# rollback criteria: "Error rate > 1% for 5+ minutes", "If P95 latency > 2000ms → ROLLBACK"
_CMP = r"(>=|<=|≥|≤|==|!=|>|<|=)"
_CRITERION = re.compile(
    r"^(?:if\s+)?(?P<metric>[A-Za-z][\w\s()/.\-]*?)\s*(?:(?P<cmp>"
    + _CMP[1:-1]
    + r")|(?P<word>exceeds|above|over|below|under|drops(?:\s+by)?))\s*"
    r"(?P<num>\d+(?:\.\d+)?)\s*(?:-\s*\d+(?:\.\d+)?\s*)?(?P<unit>%|ms|s\b|seconds?\b|sec\b|req/s|rps)?",
    re.I,
)
_FOR = re.compile(r"for\s+(?:more\s+than\s+|over\s+|>\s*)?(\d+(?:\.\d+)?)\+?\s*" + _UNIT, re.I)


def read_criterion(text: str) -> PlanRollbackCriterion | None:
    s = plain(text)
    s2 = re.sub(r"^[^:]{1,40}:\s+(?=\S)", "", s) if re.match(r"^[^:]{1,40}:\s", s) else s
    m = _CRITERION.search(s2)
    if not m:
        return None
    cmp = m.group("cmp")
    if cmp is None:
        word = m.group("word").lower()
        cmp = "<" if word.startswith(("below", "under")) else ">"
    cmp = {"≥": ">=", "≤": "<=", "=": "=="}.get(cmp, cmp)
    if cmp not in COMPARISONS:
        return None
    unit = (m.group("unit") or "").lower()
    threshold = float(m.group("num"))
    if unit.startswith("sec") or unit == "s":
        unit = "s"
    tail = s2[m.end() :]
    duration = None
    fm = _FOR.search(tail)
    if fm:
        duration = _unit_delta(float(fm.group(1)), fm.group(2))
    metric = m.group("metric").strip()
    return PlanRollbackCriterion(
        metric=metric, comparison=cmp, threshold=threshold, unit=unit, duration=duration, text=s
    )


def _severity(text: str, default: str = "immediate") -> str:
    t = text.lower()
    if "investigat" in t or "medium" in t or "warning" in t or "alert threshold" in t:
        return "investigate"
    if "review" in t or "high priority" in t:
        return "review"
    if "immediate" in t or "critical" in t or "automatic" in t:
        return "immediate"
    return default


# ----------------------------------------------------------------------------
# The builder
# ----------------------------------------------------------------------------


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


class _Builder:
    def __init__(self, text: str, source_name: str):
        self.text = text
        self.lines = text.split("\n")
        self.source_name = source_name
        self.plan = Plan(title="")
        self.warnings: list[ParseWarning] = []
        self.anchor: int | None = None  # T0 as minutes of day
        self.golive_date: tuple[int, int] | None = None
        self.tz_found = False
        self.phase_lines: dict[int, int] = {}
        self.row_phases: list[tuple[PlanPhase, str]] = []  # (phase, merge key)
        self.heading_phase_spans: dict[tuple, PlanPhase] = {}
        self.date_phases: dict[tuple[int, int], PlanPhase] = {}
        self.checklists: dict[tuple, PlanChecklist] = {}
        self.gates: dict[tuple, PlanGate] = {}
        self.people_index: dict[str, PlanPerson] = {}
        self.interval_sentences: list[PlanCommsRule] = []
        self.meta_seen: set[str] = set()

    def warn(self, line: int, message: str) -> None:
        self.warnings.append(ParseWarning(line, message))

    # -- anchors ----------------------------------------------------------------

    def find_anchor(self) -> None:
        candidates: list[tuple[int, int, str | None]] = []  # (priority, minutes, tz)
        for ln in self.lines:
            low = ln.lower()
            if not re.search(r"\d:\d\d", ln):
                if self.golive_date is None and "go-live" in low:
                    dm = _DATE.search(ln, low.index("go-live"))
                    if dm:
                        self.golive_date = (
                            _MONTHS.index(dm.group(2).lower()[:3]) + 1,
                            int(dm.group(3)),
                        )
                continue
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
            if self.golive_date is None and gl:
                dm = _DATE.search(ln, gl.start())
                if dm:
                    self.golive_date = (
                        _MONTHS.index(dm.group(2).lower()[:3]) + 1,
                        int(dm.group(3)),
                    )
        if candidates:
            candidates.sort(key=lambda c: c[0])
            self.anchor = candidates[0][1]
            tz = next((c[2] for c in candidates if c[2]), None)
            if tz:
                self.plan.timezone = tz
                self.tz_found = True
        if not self.tz_found:
            for ln in self.lines:
                if re.search(r"\d:\d\d", ln):
                    tz = _TZ.search(ln)
                    if tz:
                        self.plan.timezone = tz.group(1)
                        break

    def clock_offset(
        self, minutes: int, near: timedelta | None = None, day: timedelta | None = None
    ) -> timedelta:
        if self.anchor is None:
            self.anchor = minutes
        base = timedelta(minutes=minutes - self.anchor)
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
        if not self.golive_date or self.anchor is None:
            return None
        year = 2001
        try:
            d = date(year, *md)
            g = date(year, *self.golive_date)
        except ValueError:
            return None
        diff = (d - g).days
        if diff > 180:
            diff -= 365
        elif diff < -180:
            diff += 365
        return diff * DAY - timedelta(minutes=self.anchor)

    # -- resolving times ----------------------------------------------------------

    def span(self, t: Times, line: int, ctx: Ctx) -> tuple[timedelta | None, timedelta | None]:
        """(start, duration) of a heading/label."""
        start = end = None
        day = ctx.day
        if t.date is not None:
            day = self.day_offset(t.date)
        if t.offset is not None:
            start = t.offset.value
            if t.offset_end is not None:
                end = t.offset_end.value
        if t.clock is not None:
            near = start if start is not None else (ctx.phase.start if ctx.phase else None)
            cstart = self.clock_offset(t.clock, near, day)
            if start is not None and cstart != start:
                self.warn(
                    line,
                    f"conflicting times: {format_offset(start)} but the clock time is "
                    f"{format_offset(cstart)} from T0; using the clock time",
                )
            start = cstart
            if t.clock_end is not None:
                end = self.clock_offset(t.clock_end, start, day)
                if day is not None and end < start:
                    end += DAY
                while end < start:
                    end += DAY
        elif t.date is not None and day is not None and start is None:
            start, end = day, day + DAY
        duration = t.duration
        if end is not None and start is not None:
            span = end - start
            if duration is not None and duration != span:
                self.warn(
                    line,
                    f"conflicting times: duration {format_duration(duration)} "
                    f"but the span is {format_duration(span)}",
                )
            duration = span if duration is None else duration
        return start, duration

    # -- entry -------------------------------------------------------------------

    def build(self) -> Plan:
        tokens = _MD.parse(self.text)
        blocks, _ = _blocks(tokens, 0, None)
        root = _sections(blocks)
        self.find_anchor()
        for sec in root.children:
            if sec.level == 1 and not self.plan.title:
                self.plan.title = plain(sec.title)
                break
        self.plan.title = self.plan.title or self.source_name or "Untitled runbook"
        self.walk(root, Ctx())
        self.finish()
        return self.plan

    def walk(self, sec: Section, parent: Ctx) -> None:
        ctx = self.section_ctx(sec, parent)
        self.process_blocks(sec, ctx)
        for child in sec.children:
            self.walk(child, ctx)

    def section_ctx(self, sec: Section, parent: Ctx) -> Ctx:
        if sec.level == 0:
            return Ctx(title="")
        ctx = Ctx(
            cls=parent.cls,
            phase=parent.phase,
            phase_times=parent.phase_times,
            due=parent.due,
            kind_hint=parent.kind_hint,
            role=None,
            gate_kind="",
            day=parent.day,
            title=plain(sec.title),
            line=sec.line,
        )
        pref = heading_prefix(sec.title)
        if pref:
            return self.canonical_ctx(sec, ctx, pref)
        if sec.level == 1:
            return ctx
        title = sec.title
        own = classify(title)
        if own and not (parent.cls == "comms" and own in ("roles", "timeline", "checklist")):
            ctx.cls = own
        if _LEVEL.match(_NUMBERING.sub("", plain(title))):
            own = ctx.cls = "escalation"
        if _PRE.search(title):
            ctx.kind_hint = "pre_deployment"
        elif _POST.search(title):
            ctx.kind_hint = "post_deployment"
        t = read_times(title)
        if t.date is not None:
            d = self.day_offset(t.date)
            if d is not None:
                ctx.day = d
        gate_kind = self.gate_kind(title) if ctx.cls == "gate" else ""
        if gate_kind:
            ctx.gate_kind = gate_kind
        if self.is_phase_heading(title, t, ctx, own):
            start, duration = self.span(t, sec.line, ctx)
            ctx.phase = self.add_phase(clean_name(title, t), start, duration, sec.line)
            ctx.phase_times = t
            if t.date is not None:
                self.date_phases[t.date] = ctx.phase
            self.heading_phase_spans.setdefault((start, duration), ctx.phase)
            if ctx.cls not in ("gate",):
                ctx.cls = "timeline"
        elif t.offset is not None and not t.ranged:
            ctx.due = t.offset.value
            if not ctx.kind_hint or ctx.kind_hint == "phase":
                ctx.kind_hint = (
                    "pre_deployment" if t.offset.value < timedelta() else "post_deployment"
                )
            if ctx.cls in (None, "timeline", "checklist"):
                ctx.cls = "checklist"
                ctx.phase = None
        elif ctx.cls == "roles" and sec.level >= 3 and own is None and self.looks_like_role(sec):
            ctx.role = self.add_role(title, sec.line, stakeholder=bool(_STAKEHOLDER.search(title)))
        elif own == "checklist":
            ctx.phase = (
                None
                if parent.cls not in ("timeline",) or (own == "checklist" and ctx.due)
                else ctx.phase
            )
        lm = _LEVEL.match(_NUMBERING.sub("", plain(title)))
        if lm and ctx.cls in ("escalation", "roles", None):
            self.add_level(lm, sec.line)
        if ctx.cls == "comms":
            ctx.comms = self.comms_heading(title, t, sec.line)
        return ctx

    def canonical_ctx(self, sec: Section, ctx: Ctx, pref: tuple[str, str]) -> Ctx:
        kind, raw = pref
        name = unescape(raw.strip())
        ctx.explicit = kind
        ctx.title = name
        meta = self.section_meta(sec)
        if kind == "Phase":
            ctx.phase = self.add_phase(
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
                self.plan.checklists.append(cl)
            self.checklists[("explicit", sec.line)] = cl
            ctx.cls = "checklist"
        elif kind == "Gate":
            gate = PlanGate(
                name=name,
                kind=meta_value(meta.get("kind", "go_no_go")) or "go_no_go",
                at=parse_offset(meta.get("at", "")),
                consensus=meta_value(meta.get("consensus", "all")) or "all",
                line=sec.line,
            )
            self.plan.gates.append(gate)
            self.gates[("explicit", sec.line)] = gate
            ctx.cls = "gate"
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

    def gate_kind(self, title: str) -> str:
        if _GO_NO_GO.search(title):
            return "go_no_go"
        if _APPROVAL.search(title):
            if re.search(r"final|go-?live|launch|release", title, re.I):
                return "final_approval"
            return "go_no_go" if _PRE.search(title) else "final_approval"
        return ""

    def is_phase_heading(self, title: str, t: Times, ctx: Ctx, own: str | None) -> bool:
        if ctx.cls in ("comms", "escalation", "roles", "rollback", "notes"):
            return False
        if own == "checklist" and not (t.clock is not None or t.offset_end or t.duration or t.date):
            return False
        if t.clock is not None or t.offset_end is not None or t.duration is not None:
            return True
        if t.date is not None and (ctx.cls == "timeline" or self.golive_date):
            return self.day_offset(t.date) is not None
        if t.offset is not None and t.offset.unit != "d":
            return ctx.cls in ("timeline",) or bool(re.search(r"phase", title, re.I))
        return False

    def looks_like_role(self, sec: Section) -> bool:
        for b in sec.blocks:
            if b.kind == "para" and re.search(
                r"\*\*(name|role|phone|email|slack)\s*:?\*\*", b.text, re.I
            ):
                return True
            if b.kind == "list" and any(
                re.match(r"(\*\*)?(name|phone|email|slack)\s*:", it.text, re.I) for it in b.items
            ):
                return True
        return bool(_NUMBERING.match(sec.title))

    # -- plan element constructors -----------------------------------------------

    def add_phase(self, name: str, start, duration, line: int) -> PlanPhase:
        phase = PlanPhase(name=name, start=start, duration=duration, line=line)
        self.plan.phases.append(phase)
        return phase

    def role_name(self, text: str) -> tuple[str, str]:
        name = _NUMBERING.sub("", plain(text))
        qual = ""
        m = _PAREN_TAIL.search(name)
        if m and m.start() > 0:
            qual = m.group(1).strip()
            name = name[: m.start()].strip()
        return name, qual

    def find_role(self, name: str) -> PlanRole | None:
        key = name.lower()
        for r in self.plan.roles:
            if r.name.lower() == key:
                return r
        return None

    def add_role(
        self, text: str, line: int, *, stakeholder: bool = False, raw: bool = False
    ) -> PlanRole:
        name, qual = (text, "") if raw else self.role_name(text)
        role = self.find_role(name)
        if role is None:
            role = PlanRole(
                name=name, duty=qual, kind="stakeholder" if stakeholder else "team", line=line
            )
            self.plan.roles.append(role)
        return role

    def add_person(self, name: str, line: int, email="", phone="", slack="") -> PlanPerson:
        placeholder = bool(re.fullmatch(r"\[.*\]|_+|tbd|-+|\?+|n/?a", name.strip(), re.I))
        if not placeholder:
            p = self.people_index.get(name.lower())
            if p is not None:
                p.email = p.email or email
                p.phone = p.phone or phone
                p.slack = p.slack or slack
                return p
        p = PlanPerson(name=name, email=email, phone=phone, slack=slack, line=line)
        self.plan.people.append(p)
        if not placeholder:
            self.people_index[name.lower()] = p
        return p

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
        level = next((lv for lv in self.plan.escalation if lv.level == num), None)
        if level is None:
            level = PlanEscalationLevel(level=num, name=text, line=line)
            self.plan.escalation.append(level)
        level.name = level.name or text
        level.after = level.after if level.after is not None else after
        level.until = level.until if level.until is not None else until
        if not level.roles and text:
            for r in _ROLE_SPLIT.split(re.sub(r"\s+[-–—]\s+.*$", "", text)):
                r = self.role_name(r)[0] if r else r
                if r and r not in level.roles:
                    level.roles.append(r)
        return level

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

    def gate(self, ctx: Ctx, name: str, kind: str, line: int, at: timedelta | None) -> PlanGate:
        key = (ctx.title, kind, line if kind == "final_approval" and name != ctx.title else 0)
        g = self.gates.get(key)
        if g is None:
            g = PlanGate(name=name, kind=kind, at=at, line=line)
            self.plan.gates.append(g)
            self.gates[key] = g
        return g

    # -- blocks ----------------------------------------------------------------

    def process_blocks(self, sec: Section, ctx: Ctx) -> None:
        if ctx.explicit:
            self.process_explicit(sec, ctx)
            return
        st = _State(ctx)
        leftovers: list[Block] = []
        for b in sec.blocks:
            if b.kind == "para":
                self.paragraph(b, st)
            elif b.kind == "list":
                self.list_block(b, st)
            elif b.kind == "table":
                if not self.table(b, st):
                    leftovers.append(b)
            elif b.kind == "fence":
                if not self.fence(b, st):
                    leftovers.append(b)
            elif b.kind == "html" and not b.text.lstrip().startswith("<!--"):
                st.loose.append(b)
        leftovers.extend(st.pending_fences)
        leftovers.extend(Block("para", ln, ln, t) for ln, t in st.unparsed_criteria)
        if ctx.cls == "notes" and ctx.phase is None and st.loose:
            leftovers.extend(st.loose)
        leftovers.sort(key=lambda b: b.line)
        if leftovers:
            self.note(sec, ctx, leftovers)

    def note(self, sec: Section, ctx: Ctx, blocks: list[Block]) -> None:
        body = "\n".join("\n".join(self.lines[b.line - 1 : b.end]).rstrip() for b in blocks).strip(
            "\n"
        )
        if not body.strip():
            return
        title = ctx.title or self.plan.title
        self.plan.notes.append(PlanNote(title=title, body=body, line=blocks[0].line))
        what = ", ".join(
            sorted({{"fence": "code block", "table": "table"}.get(b.kind, "text") for b in blocks})
        )
        self.warn(blocks[0].line, f"kept '{title}' as a note ({what} with no place in the plan)")

    # paragraphs: line by line
    def paragraph(self, b: Block, st: _State) -> None:
        st.loose_para = True
        for offset, ln in enumerate(b.text.split("\n")):
            line = b.line + offset
            if not ln.strip():
                continue
            gm = _GROUP.match(ln.strip())
            if gm:
                self.group_header(gm, line, st)
                continue
            kv = label_line(ln)
            if kv is None:
                self.prose(ln, line, st)
                continue
            key, value = kv
            if value:
                self.key_value(key, value, line, st)
            else:
                self.label(key, line, st)
        st.loose_para = False

    def prose(self, ln: str, line: int, st: _State) -> None:
        s = plain(ln)
        if re.match(r"verification\s*:", s, re.I) and st.last_item is not None:
            self.add_verification(st.last_item, s.split(":", 1)[1].strip().strip("`"))
            return
        st.loose.append(Block("para", line, line, ln))

    def label(self, key: str, line: int, st: _State) -> None:
        ctx = st.ctx
        t = read_times(key)
        st.label = plain(key)
        st.label_times = t
        st.label_gate = None
        st.label_role = None
        lk = st.label.lower()
        if ctx.cls == "rollback" or "rollback trigger" in lk:
            st.severity = _severity(key)
        if (
            (t.clock is not None or t.offset is not None)
            and ctx.cls not in ("comms", "escalation", "roles", "rollback", "notes")
            and (t.clock is not None or not _GO_NO_GO.search(key))
            and (ctx.phase is not None or ctx.cls == "timeline")
        ):
            near = Ctx(phase=ctx.phase, day=ctx.day)
            start, duration = self.span(t, line, near)
            st.sub = self.add_phase(clean_name(key, t), start, duration, line)
            st.label = ""
            st.label_times = None
            return
        if _GO_NO_GO.search(key) or (ctx.cls == "gate" and _APPROVAL.search(key)):
            kind = ctx.gate_kind or self.gate_kind(key) or "go_no_go"
            if re.search(r"\bfinal\b", key, re.I) and kind != "final_approval":
                kind = "final_approval"
            name = st.label
            if ctx.cls == "gate" and kind == ctx.gate_kind:
                name = ctx.title
            elif st.sub is not None and _GO_NO_GO.search(st.sub.name):
                name = st.sub.name
            at = (
                t.offset.value
                if t.offset
                else (st.sub.start if st.sub else (ctx.phase.start if ctx.phase else ctx.due))
            )
            if t.clock is not None:
                at = self.clock_offset(t.clock, at)
            st.label_gate = (name, kind, at)
            m = re.match(r"^(.*?)\s+(?:approval|sign[\s-]*off)$", st.label, re.I)
            if m and ctx.cls == "gate":
                g = self.gate(ctx, name, kind, line, at)
                g.signoffs.append(PlanSignOff(role=m.group(1).strip(), line=line))
            return
        lm = _LEVEL.match(st.label)
        if lm and ctx.cls in ("escalation", "roles", None):
            self.add_level(lm, line)
            return
        if (
            ctx.cls == "roles"
            and not re.search(
                r"responsib|contact|duties|trigger|response|escalat|when|how|deploy|launch|during",
                lk,
            )
            and not re.match(r"(name|phone|email|slack|role)$", lk)
        ):
            st.label_role = self.add_role(key, line, stakeholder=bool(_STAKEHOLDER.search(key)))
        if ctx.cls == "comms":
            rule = (
                self.comms_heading(key, t, line) if re.search(r"every|t[+-]\d", key, re.I) else None
            )
            if rule:
                st.comms = rule
                base = ctx.comms
                if st.channel and not rule.channels:
                    rule.channels = _channels(st.channel)
                if base is not None:
                    rule.audience = rule.audience or base.audience
                    rule.channels = rule.channels or base.channels
                    rule.name = f"{base.name}: {rule.name}"

    def key_value(self, key: str, value: str, line: int, st: _State) -> None:
        ctx = st.ctx
        k = key.lower()
        v = plain(value)
        phase = st.sub or ctx.phase
        role = st.label_role or ctx.role
        if k == "release version" or (k in ("version", "release") and not self.meta_seen):
            if k == "release version" or not self.plan.version:
                self.plan.version = v
            self.meta_seen.add(k)
            return
        if k in ("time zone", "timezone"):
            self.plan.timezone = v
            return
        if k in ("deployment window", "primary window", "maintenance window", "window"):
            self.window(v, line)
            return
        if k in ("window start", "window end"):
            off = parse_offset(v)
            if k == "window start":
                self.plan.window_start = off
            else:
                self.plan.window_end = off
            return
        if role is not None and k in (
            "name",
            "primary",
            "backup",
            "phone",
            "email",
            "slack",
            "role",
            "duty",
        ):
            self.role_field(role, k, v, line, st)
            return
        if k == "duration" and phase is not None:
            phase.duration = parse_duration(v)
            return
        if k in ("participants", "attendees", "owner", "owners") and phase is not None:
            for p in _ROLE_SPLIT.split(v):
                if p and p not in phase.participants:
                    phase.participants.append(self.role_name(p)[0])
            return
        if re.match(r"decision makers?|decision authority|approvers?", k):
            g = st.current_gate or self.last_gate_in(ctx)
            roles = [self.role_name(r)[0] for r in _ROLE_SPLIT.split(v) if r.strip()]
            if g is None:
                at = st.sub.start if st.sub else (ctx.phase.start if ctx.phase else ctx.due)
                g = self.gate(ctx, ctx.title or "Go/No-Go", "go_no_go", line, at)
            for r in roles:
                if r not in g.decision_roles:
                    g.decision_roles.append(r)
            return
        if _GO_NO_GO.search(key):
            t = read_times(value)
            at = t.offset.value if t.offset else None
            st.label = plain(key)
            st.label_times = t
            st.label_gate = (plain(key), "go_no_go", at)
            return
        if ctx.cls == "comms" or st.comms is not None:
            self.comms_field(k, v, value, line, st)
            return
        lm = _LEVEL.match(plain(key))
        if lm and ctx.cls in ("escalation", "roles", None):
            self.add_level(lm, line, rest=value)
            return
        if ctx.cls in ("roles",) and re.search(
            r"lead|manager|engineer|admin|owner|on-call|dba|officer", k
        ):
            r = self.add_role(key, line)
            self.role_people(r, value, line)
            return
        if ctx.cls == "rollback" or "rollback" in k:
            crit = read_criterion(value)
            if crit:
                crit.severity = st.severity or _severity(ctx.title)
                crit.line = line
                self.plan.rollback_criteria.append(crit)
                return
        st.loose.append(Block("para", line, line, f"**{key}:** {value}"))

    def role_field(self, role: PlanRole, k: str, v: str, line: int, st: _State) -> None:
        if k in ("role", "duty"):
            role.duty = v
            return
        if k in ("name", "primary"):
            if st.person is None or st.person_role is not role:
                st.person = self.add_person(v or "[TBD]", line)
                st.person_role = role
                if st.person.name not in role.primary:
                    role.primary.append(st.person.name)
            return
        if k == "backup":
            role.backup.append(v)
            return
        if st.person is None or st.person_role is not role:
            st.person = self.add_person("", line)
            st.person_role = role
        setattr(st.person, k, v)

    def role_people(self, role: PlanRole, value: str, line: int) -> None:
        parts = [p.strip() for p in re.split(r"\s+-\s+", plain(value)) if p.strip()]
        if not parts:
            return
        name = parts[0]
        phone = next((p for p in parts[1:] if re.search(r"phone|\d{3}|\[.*\]", p, re.I)), "")
        p = self.add_person(name, line, phone=phone)
        if p.name not in role.primary:
            role.primary.append(p.name)

    def last_gate_in(self, ctx: Ctx) -> PlanGate | None:
        for (title, _kind, _x), g in reversed(self.gates.items()):
            if title == ctx.title:
                return g
        return None

    def window(self, v: str, line: int) -> None:
        w = _WINDOW.search(v)
        offs = t_offsets(v)
        if len(offs) >= 2:
            self.plan.window_start, self.plan.window_end = offs[0].value, offs[1].value
        elif w:
            a = _clock_minutes(w.group(1), w.group(2), w.group(3) or w.group(6))
            b = _clock_minutes(w.group(4), w.group(5), w.group(6))
            if a is None or b is None:
                return
            start = self.clock_offset(a)
            end = self.clock_offset(b, start)
            while end <= start:
                end += DAY
            if self.plan.window_start is None:
                self.plan.window_start, self.plan.window_end = start, end
            tz = _TZ.search(v)
            if tz and not self.tz_found:
                self.plan.timezone = tz.group(1)
                self.tz_found = True

    # -- items -----------------------------------------------------------------

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

    def plain_bullet(self, text: str, it: ListItem, b: Block, st: _State) -> None:
        ctx = st.ctx
        lab = (st.label or "").lower()
        line = it.line
        if (
            "→ rollback" in text.lower()
            or "-> rollback" in text.lower()
            or ctx.cls == "rollback"
            or "rollback trigger" in lab
        ):
            crit = read_criterion(re.sub(r"\s*(→|->)\s*rollback.*$", "", text, flags=re.I))
            if crit:
                crit.severity = st.severity or _severity(lab or ctx.title)
                crit.text = text
                crit.line = line
                self.plan.rollback_criteria.append(crit)
                return
            if ctx.cls == "rollback" or "→ rollback" in text.lower():
                st.unparsed_criteria.append((line, text))
                return
        if re.match(r"verification\s*:", text, re.I) and st.last_item is not None:
            self.add_verification(st.last_item, text.split(":", 1)[1].strip().strip("`"))
            return
        phase = st.sub or ctx.phase
        if lab in ("participants", "attendees", "team") and phase is not None:
            name = self.role_name(text)[0]
            if name and name not in phase.participants:
                phase.participants.append(name)
            return
        role = st.label_role or ctx.role
        if role is not None and ctx.cls in ("roles", "escalation"):
            kv = re.match(r"^(name|phone|email|slack)\s*:\s*(.*)$", text, re.I)
            if kv:
                self.role_field(role, kv.group(1).lower(), kv.group(2).strip(), line, st)
                return
            if lab in ("contact", "contacts"):
                return
        if ctx.cls in ("roles",) and role is None:
            kv = re.match(r"^\*\*(.+?):?\*\*:?\s*(.*)$", it.text.strip())
            if kv and kv.group(2):
                r = self.add_role(kv.group(1).rstrip(":"), line)
                self.role_people(r, kv.group(2), line)
                return
        lm = _LEVEL.match(text)
        esc = ctx.cls == "escalation" or "escalat" in lab
        if esc or (lm and ctx.cls in ("roles", None)):
            if lm:
                self.add_level(lm, line)
                return
            if b.ordered and esc and (not st.label or "path" in lab or "level" in lab):
                num = b.items.index(it) + 1
                self.add_level(re.match(r"(\d+)()(.*)", f"{num}\x00"), line, rest=text)  # type: ignore[arg-type]
                return
        if ctx.cls == "comms" or st.comms is not None:
            ev = re.search(r"every\s+(\d+)\s*" + _UNIT, text, re.I)
            if ev:
                self.interval_sentences.append(
                    PlanCommsRule(
                        name=text, interval=_unit_delta(float(ev.group(1)), ev.group(2)), line=line
                    )
                )
                return
        if phase is not None and ctx.cls not in ("notes",):
            phase.description = f"{phase.description}; {text}" if phase.description else text
            return
        st.loose.append(Block("para", line, line, it.text))

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

    # -- tables -------------------------------------------------------------------

    def table(self, b: Block, st: _State) -> bool:
        ctx = st.ctx
        head = [plain(h).lower() for h in b.header]
        for ln, _row in b.rows:
            raw = self.lines[ln - 1] if ln - 1 < len(self.lines) else ""
            cells = len(split_cells(raw))
            if cells < len(b.header):
                self.warn(
                    ln,
                    f"table row has {cells} cells but the header has {len(b.header)}; "
                    "missing cells left empty",
                )

        def col(*names: str, exclude: tuple[str, ...] = ()) -> int | None:
            for i, h in enumerate(head):
                if any(n in h for n in names) and not any(x in h for x in exclude):
                    return i
            return None

        def get(row: list[str], i: int | None) -> str:
            return row[i] if i is not None and i < len(row) else ""

        c_level = col("level")
        c_role = col("role")
        c_metric = col("metric")
        if c_level is not None and (c_role is not None or col("title") is not None):
            self.escalation_table(b, col, get)
            return True
        if c_metric is not None and (
            col("warning", "critical", "threshold", "comparison") is not None
        ):
            self.threshold_table(b, col, get, st)
            return True
        if c_role is not None and (
            col("criteria", "sign") is not None
            or (ctx.cls == "gate" and col("status", "date") is not None)
        ):
            self.signoff_table(b, col, get, st)
            return True
        if (
            c_role is not None
            and ctx.cls not in ("notes", "timeline")
            and col(
                "name",
                "primary",
                "person",
                "duty",
                "responsib",
                "backup",
                "contact",
                "involvement",
                "kind",
            )
            is not None
        ):
            self.roles_table(b, col, get, ctx)
            return True
        if (
            c_role is None
            and col("name") is not None
            and col("email", "phone", "slack") is not None
        ):
            for ln, row in b.rows:
                self.add_person(
                    cell_text(get(row, col("name"))) or "[TBD]",
                    ln,
                    email=cell_text(get(row, col("email"))),
                    phone=cell_text(get(row, col("phone"))),
                    slack=cell_text(get(row, col("slack"))),
                )
            return True
        c_time = col("time", "at", "when")
        if (ctx.cls == "comms" or st.comms is not None) and (
            c_time is not None or col("event") is not None
        ):
            self.comms_table(b, col, get, st)
            return True
        if (
            c_time is not None
            and col("phase", "activity", "step", "task") is not None
            and ctx.cls not in ("notes",)
        ):
            self.timeline_table(b, col, get, st)
            return True
        if col("day") is not None and col("date") is not None and ctx.cls not in ("notes",):
            self.day_table(b, col, get, st)
            return True
        return False

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
            level = next((lv for lv in self.plan.escalation if lv.level == num), None)
            if level is None:
                level = PlanEscalationLevel(level=num, name=cell_text(get(row, c_title)), line=ln)
                self.plan.escalation.append(level)
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
                p = self.add_person(
                    name or "[TBD]",
                    ln,
                    email=cell_text(get(row, col("email"))),
                    phone=cell_text(get(row, col("phone"))),
                    slack=cell_text(get(row, col("slack"))),
                )
                level.contacts.append(p.name)

    def threshold_table(self, b: Block, col, get, st: _State) -> None:
        c_metric = col("metric")
        if col("comparison") is not None:  # canonical
            for ln, row in b.rows:
                try:
                    threshold = float(get(row, col("threshold")))
                except ValueError:
                    self.warn(ln, "rollback criterion without a numeric threshold; row skipped")
                    continue
                self.plan.rollback_criteria.append(
                    PlanRollbackCriterion(
                        metric=cell_text(get(row, c_metric)),
                        comparison=cell_text(get(row, col("comparison"))),
                        threshold=threshold,
                        unit=cell_text(get(row, col("unit"))),
                        duration=parse_duration(cell_text(get(row, col("duration"))))
                        if cell_text(get(row, col("duration")))
                        else None,
                        severity=cell_text(get(row, col("severity"))) or "immediate",
                        text=cell_text(get(row, col("text"))),
                        line=ln,
                    )
                )
            return
        cols = [
            (i, h)
            for i, h in enumerate(plain(x).lower() for x in b.header)
            if re.search(r"warning|critical|threshold|alert", h)
        ]
        for ln, row in b.rows:
            metric = cell_text(get(row, c_metric))
            for i, h in cols:
                value = cell_text(get(row, i))
                crit = read_criterion(f"{metric} {value}") if value else None
                if crit is None:
                    continue
                crit.severity = (
                    "immediate"
                    if "critical" in h
                    else ("review" if "warning" in h else "investigate")
                )
                crit.text = f"{metric} {value} ({b.header[i].strip()})"
                crit.line = ln
                self.plan.rollback_criteria.append(crit)

    def signoff_table(self, b: Block, col, get, st: _State) -> None:
        ctx = st.ctx
        kind = ctx.gate_kind or self.gate_kind(st.label or ctx.title) or "final_approval"
        name = ctx.title if ctx.cls == "gate" else (st.label or ctx.title)
        g = (
            st.current_gate
            if ctx.explicit == "Gate"
            else self.gate(ctx, name, kind, b.line, ctx.due)
        )
        for ln, row in b.rows:
            role = cell_text(get(row, col("role")))
            if role:
                g.signoffs.append(
                    PlanSignOff(role=role, criteria=cell_text(get(row, col("criteria"))), line=ln)
                )

    def roles_table(self, b: Block, col, get, ctx: Ctx) -> None:
        stakeholder = bool(_STAKEHOLDER.search(ctx.title))
        c_role = col("role")
        c_duty = col("duty", "responsib", "involvement", "purpose")
        c_name = col("name", "person", "primary", exclude=("duty",))
        c_backup = col("backup")
        c_kind = col("kind")
        for ln, row in b.rows:
            raw_role = get(row, c_role)
            if not cell_text(raw_role):
                continue
            if c_kind is not None:
                role = PlanRole(name=cell_text(raw_role), line=ln)
                role.kind = cell_text(get(row, c_kind)) or "team"
                role.duty = cell_text(get(row, c_duty))
                role.primary = split_list(get(row, c_name))
                role.backup = split_list(get(row, c_backup))
                self.plan.roles.append(role)
                continue
            role = self.add_role(raw_role, ln, stakeholder=stakeholder)
            duty = cell_text(get(row, c_duty))
            if duty and not role.duty:
                role.duty = duty
            names = split_list(get(row, c_name), ";,") if c_name is not None else []
            contact = {k: cell_text(get(row, col(k))) for k in ("email", "phone", "slack")}
            c_contact = col("contact", exclude=("support",))
            if c_contact is not None and "@" in get(row, c_contact):
                contact["email"] = cell_text(get(row, c_contact))
            if not names and any(contact.values()):
                names = [contact["email"] or contact["phone"] or contact["slack"]]
            for n in names:
                p = self.add_person(n, ln, **contact)
                if p.name not in role.primary:
                    role.primary.append(p.name)
            for bk in split_list(get(row, c_backup), ";,") if c_backup is not None else []:
                if bk not in role.backup:
                    role.backup.append(bk)

    def comms_table(self, b: Block, col, get, st: _State) -> None:
        c_time = col("time", "at", "when")
        c_name = col("type", "update", "event", "name", "message")
        for ln, row in b.rows:
            name = cell_text(get(row, c_name)) or cell_text(get(row, c_time))
            rule = PlanCommsRule(name=name, line=ln)
            if col("every") is not None:  # canonical
                rule.at = parse_offset(get(row, c_time)) if cell_text(get(row, c_time)) else None
                rule.interval = (
                    parse_duration(cell_text(get(row, col("every"))))
                    if cell_text(get(row, col("every")))
                    else None
                )
                rule.milestone = cell_text(get(row, col("milestone")))
                rule.channels = split_list(get(row, col("channels")))
            else:
                tv = get(row, c_time)
                if tv:
                    t = read_times(tv)
                    if t.offset is not None:
                        rule.at = t.offset.value
                    elif t.clock is not None:
                        rule.at = self.clock_offset(t.clock, None, st.ctx.day)
                if rule.at is None:
                    rule.milestone = milestone(name)
                rule.channels = _channels(cell_text(get(row, col("channel", "method"))))
            rule.audience = cell_text(get(row, col("audience", "recipient")))
            rule.template = cell_text(get(row, col("template")))
            self.plan.comms_rules.append(rule)

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
            start = duration = None
            if t.offset is not None:
                start = t.offset.value
            if t.clock is not None:
                start = self.clock_offset(t.clock, prev, day)
                if t.clock_end is not None:
                    end = self.clock_offset(t.clock_end, start, day)
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
            self.plan.phases.append(phase)
            if day is None and st.ctx.phase is None:
                self.row_phases.append((phase, "span"))

    def day_table(self, b: Block, col, get, st: _State) -> None:
        c_day, c_date = col("day"), col("date")
        c_name = col("focus", "phase", "theme")
        c_desc = col("activities", "description", "key")
        for ln, row in b.rows:
            dm = _DATE.search(f"{get(row, c_day)} {get(row, c_date)}")
            if not dm:
                continue
            md = (_MONTHS.index(dm.group(2).lower()[:3]) + 1, int(dm.group(3)))
            day = self.day_offset(md)
            phase = PlanPhase(
                name=cell_text(get(row, c_name)) or plain(get(row, c_date)),
                start=day,
                duration=DAY if day is not None else None,
                description=cell_text(get(row, c_desc)),
                line=ln,
            )
            self.plan.phases.append(phase)
            self.row_phases.append((phase, f"date:{md}"))

    # -- fences -------------------------------------------------------------------

    def fence(self, b: Block, st: _State) -> bool:
        ctx = st.ctx
        text = b.text.removesuffix("\n")
        lab = (st.label or "").lower()
        phase = st.sub or ctx.phase
        if ctx.cls == "comms" or st.comms is not None or "template" in lab or "message" in lab:
            if "example" in lab:
                return False
            self.template(text, b.line, st)
            return True
        if phase is not None and re.search(
            r"^\s*T\s*[+-]\s*\d+\s*(?:min|m|h|hours?)?\s*:", text, re.M | re.I
        ):
            self.code_timeline(text, b.line, phase)
            return True
        if st.last_item is not None:
            self.add_verification(st.last_item, text)
            return True
        # a command block before any item goes to the next item in this section
        st.pending_fences.append(b)
        return True

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
        for i, (start, name, ln) in enumerate(entries):
            nxt = entries[i + 1][0] if i + 1 < len(entries) else end
            duration = nxt - start if nxt is not None and nxt > start else None
            self.plan.phases.append(PlanPhase(name=name, start=start, duration=duration, line=ln))

    # -- comms --------------------------------------------------------------------

    def comms_heading(self, title: str, t: Times, line: int) -> PlanCommsRule | None:
        ev = re.search(r"every\s+(\d+)\s*" + _UNIT, title, re.I)
        series = re.findall(r"T\+(\d+)\s*min", title, re.I)
        name = (
            clean_name(re.sub(r"(?:\bT\s*[+-]\s*\d+\s*min,?\s*)+(?:etc\.?)?", "", title), t)
            if series
            else clean_name(title, t)
        )
        name = re.sub(r"\(?\s*every\s+\d+\s*\w+\s*\)?", "", name, flags=re.I).strip(" :-") or plain(
            title
        )
        if ev:
            return self.add_rule(
                PlanCommsRule(
                    name=name, interval=_unit_delta(float(ev.group(1)), ev.group(2)), line=line
                )
            )
        if len(series) >= 2:
            step = int(series[1]) - int(series[0])
            return self.add_rule(
                PlanCommsRule(name=name, interval=timedelta(minutes=step), line=line)
            )
        if t.offset is not None:
            rule = PlanCommsRule(name=name, at=t.offset.value, line=line)
            if t.offset.value == timedelta():
                rule.milestone = milestone(name) or "go_live"
            return self.add_rule(rule)
        ms = (
            milestone(title)
            if re.search(r"post-|if needed|issue|rollback|complete|success", title, re.I)
            else ""
        )
        if ms:
            return self.add_rule(PlanCommsRule(name=name, milestone=ms, line=line))
        return None

    def add_rule(self, rule: PlanCommsRule) -> PlanCommsRule:
        self.plan.comms_rules.append(rule)
        return rule

    def comms_field(self, k: str, v: str, raw: str, line: int, st: _State) -> None:
        rule = st.comms or st.ctx.comms
        if k in ("audience", "recipients", "to"):
            if rule:
                rule.audience = v
            return
        if k in ("channel", "channels", "method"):
            if rule:
                rule.channels = _channels(v)
            st.channel = v
            return
        if k == "subject":
            st.subject = v
            return
        if k in ("timing", "when"):
            return
        st.loose.append(Block("para", line, line, f"**{k}:** {raw}"))

    def template(self, text: str, line: int, st: _State) -> None:
        ctx = st.ctx
        subject = st.subject
        body = text
        m = re.match(r"^\s*subject\s*:\s*(.*)\n?", body, re.I)
        if m and not subject:
            subject = m.group(1).strip()
            body = body[m.end() :].lstrip("\n")
        lab = (
            st.label
            if st.label and not re.fullmatch(r"(message|template|message template)", st.label, re.I)
            else ""
        )
        name = f"{ctx.title}: {lab}" if lab and ctx.title else (lab or ctx.title or "Template")
        key = _slug(name)
        n, base = 2, key
        while any(t.key == key for t in self.plan.templates):
            key, n = f"{base}-{n}", n + 1
        rule = st.comms or ctx.comms
        channel = (
            (rule.channels[0] if rule and rule.channels else "")
            if not st.channel
            else _channels(st.channel)[0]
            if _channels(st.channel)
            else ""
        )
        tpl = PlanTemplate(
            key=key,
            name=name,
            subject=subject,
            body=body,
            channel=channel,
            placeholders=placeholders(subject + "\n" + body),
            line=line,
        )
        self.plan.templates.append(tpl)
        if rule is not None and not rule.template:
            rule.template = key
        self.check_placeholders(tpl)

    def check_placeholders(self, tpl: PlanTemplate) -> None:
        unknown = [p for p in tpl.placeholders if placeholder_field(p) is None]
        if unknown:
            self.warn(
                tpl.line,
                f"template '{tpl.name}': placeholders with no release field: {', '.join(unknown)}",
            )

    # -- canonical sections -----------------------------------------------------------

    def process_explicit(self, sec: Section, ctx: Ctx) -> None:
        kind = ctx.explicit
        meta = self.section_meta(sec)
        if kind == "Template":
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
            self.plan.templates.append(tpl)
            self.check_placeholders(tpl)
            return
        if kind == "Note":
            fence = next((b for b in sec.blocks if b.kind == "fence"), None)
            self.plan.notes.append(
                PlanNote(
                    title=ctx.title,
                    body=fence.text.removesuffix("\n") if fence else "",
                    line=sec.line,
                )
            )
            return
        target: list[PlanItem] | None = None
        gate: PlanGate | None = None
        if kind == "Checklist":
            target = next(
                v for k, v in self.checklists.items() if k == ("explicit", sec.line)
            ).items
        elif kind == "Gate":
            gate = self.gates[("explicit", sec.line)]
            target = gate.checklist
        label = ""
        for b in sec.blocks:
            if b.kind == "para":
                for ln in b.text.split("\n"):
                    kv = label_line(ln)
                    if kv and not kv[1]:
                        label = kv[0].lower()
            elif b.kind == "list":
                for it in b.items:
                    m = _CHECKBOX.match(it.text)
                    if m and target is not None:
                        st = _State(ctx)
                        target.append(self.make_item(m, it, st))
                    elif label == "participants" and ctx.phase is not None:
                        ctx.phase.participants.append(unescape(it.text.strip()))
                    elif label.startswith("decision") and gate is not None:
                        gate.decision_roles.append(unescape(it.text.strip()))
            elif b.kind == "table" and gate is not None:
                head = [plain(h).lower() for h in b.header]
                for ln, row in b.rows:
                    gate.signoffs.append(
                        PlanSignOff(
                            role=cell_text(row[0]),
                            criteria=cell_text(row[1]) if len(row) > 1 else "",
                            line=ln,
                        )
                    )
                _ = head

    # -- finish -------------------------------------------------------------------------

    def finish(self) -> None:
        plan = self.plan
        self.merge_row_phases()
        for rule in self.interval_sentences:
            if not any(r.interval == rule.interval for r in plan.comms_rules):
                rule.name = (
                    re.sub(r"\s*every\s+\d+\s*\w+.*$", "", rule.name, flags=re.I).strip()
                    or rule.name
                )
                plan.comms_rules.append(rule)
        plan.escalation.sort(key=lambda lv: lv.level)
        self.empty_check()
        plan.warnings = sorted(self.warnings, key=lambda w: w.line)

    def merge_row_phases(self) -> None:
        plan = self.plan
        heading_phases = [p for p in plan.phases if all(p is not rp for rp, _ in self.row_phases)]
        if not heading_phases:
            return
        for phase, key in self.row_phases:
            target = None
            if key.startswith("date:"):
                md = eval(key[5:])
                target = self.date_phases.get(md)
            else:
                target = self.heading_phase_spans.get((phase.start, phase.duration))
                if target is phase:
                    target = None
            if target is None:
                continue
            if phase.description and not target.description:
                target.description = phase.description
            plan.phases = [p for p in plan.phases if p is not phase]
        # unmatched timeline rows: after the last phase that starts before them
        for phase, key in self.row_phases:
            if key != "span" or not any(p is phase for p in plan.phases) or phase.start is None:
                continue
            plan.phases = [p for p in plan.phases if p is not phase]
            idx = None
            for i, p in enumerate(plan.phases):
                if p.start is not None and p.start <= phase.start:
                    idx = i
            plan.phases.insert(0 if idx is None else idx + 1, phase)

    def empty_check(self) -> None:
        p = self.plan
        if not (
            p.phases
            or p.all_checklists()
            or p.roles
            or p.gates
            or p.escalation
            or p.rollback_criteria
            or p.comms_rules
            or p.templates
        ):
            raise RunbookError(
                "nothing to import: found no phases, checklists, roles, escalation levels, "
                "rollback criteria, communication rules or templates — the importer looks for "
                'headings with times ("T-2 Hours: ...", "20:00 - 20:15 | ..."), '
                "'- [ ]' checklist "
                "items, team/escalation tables and sections such as 'Rollback Criteria'"
            )


def parse_offset_or_duration(text: str) -> timedelta | None:
    text = plain(text)
    if not text:
        return None
    return parse_offset(text) if text.startswith("T") else parse_duration(text)


def split_cells(raw: str) -> list[str]:
    s = raw.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    return re.split(r"(?<!\\)\|", s)


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
    comms: PlanCommsRule | None = None
    subject: str = ""
    channel: str = ""
    severity: str = ""
    loose: list[Block] = field(default_factory=list)
    loose_para: bool = False
    pending_fences: list[Block] = field(default_factory=list)
    unparsed_criteria: list[tuple[int, str]] = field(default_factory=list)


def parse_runbook(text: str | bytes, *, source_name: str = "") -> Plan:
    """Parse a markdown runbook into a :class:`Plan`; raise :class:`RunbookError` on bad input."""
    decoded = _decode(text)
    repaired = _repair(decoded.replace("\r\n", "\n").replace("\r", "\n"))
    return _Builder(repaired, source_name).build()
