"""Reading a section's blocks and handing them to the recognisers.

Inside a section, paragraphs are read line by line: ``**Key:** value`` lines
are metadata (Name, Phone, Duration, Audience, Decision Maker, ...), a bold
line alone is a *label* that names what follows (``**Participants:**``,
``**Go/No-Go Checklist:**``); a label carrying a time
(``**20:00 - 20:15 | Team Assembly**``, ``**T-4 hours:**``) opens a
sub-phase. Tables are recognised by their header (Time/Phase/Duration,
Role/Name/Backup, Level/Role, Metric/Warning/Critical, Time/Type/Channel,
Role/Criteria/Sign-Off, ...). Fences are message templates in comms sections,
``T+5 min: ...`` timelines in phases, or the verification commands of the
item they follow.

**Notes.** Success criteria, severity levels, on-call schedules, risk
registers, decision matrices, and any table or command block the plan has no
field for, are kept verbatim as :class:`PlanNote` with a warning.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import vocab
from .blocks import Block, ListItem, Section, split_cells
from .canonical import CanonicalReader
from .checklists import ChecklistsReader
from .comms import CommsReader, _channels
from .context import _APPROVAL, _GO_NO_GO, _LEVEL, _ROLE_SPLIT, _STAKEHOLDER, Ctx, _State
from .escalation import EscalationReader
from .gates import GatesReader
from .index import PlanIndex
from .phases import PhasesReader
from .plan import PlanCommsRule, PlanNote, PlanSignOff
from .recognise import is_placeholder, owner_line, threshold_action
from .roles import RolesReader
from .rollback import RollbackReader, _severity, read_criterion
from .text import _GROUP, cell_text, label_line, plain
from .times import _UNIT, Times, _unit_delta, clean_name, parse_duration, parse_offset, read_times

if TYPE_CHECKING:  # the blocks reader is handed the builder's times part
    from .times import TimesReader


@dataclass(frozen=True)
class _KeyValue:
    key: str  # as written
    k: str  # lower-cased
    value: str  # as written
    v: str  # plain text
    line: int


@dataclass(frozen=True)
class _Bullet:
    text: str  # plain text
    item: ListItem
    block: Block  # the list it is in
    label: str  # the label above it, lower-cased


@dataclass(frozen=True)
class _Table:
    """A table's header words (in English, see ``vocab.column``) and how to read a row."""

    head: list[str]
    #: the readers ask for the same columns once per row: each answer is found once
    found: dict[tuple[tuple[str, ...], tuple[str, ...]], int | None] = field(
        default_factory=dict, compare=False
    )

    def col(self, *names: str, exclude: tuple[str, ...] = ()) -> int | None:
        key = (names, exclude)
        if key in self.found:
            return self.found[key]
        at = next(
            (
                i
                for i, h in enumerate(self.head)
                if any(n in h for n in names) and not any(x in h for x in exclude)
            ),
            None,
        )
        self.found[key] = at
        return at

    def has(self, *names: str) -> bool:
        return self.col(*names) is not None

    @staticmethod
    def get(row: list[str], i: int | None) -> str:
        return row[i] if i is not None and i < len(row) else ""


_ROLE_COLUMNS: tuple[str, ...] = (
    "name",
    "primary",
    "person",
    "duty",
    "responsib",
    "backup",
    "contact",
)
_ROLE_COLUMNS += ("involvement", "kind")


def _is_escalation(t: _Table, st: _State) -> bool:
    return t.has("level") and (t.has("role") or t.has("title"))


def _is_threshold(t: _Table, st: _State) -> bool:
    return t.has("metric") and t.has("warning", "critical", "threshold", "comparison", "alert")


def _is_signoff(t: _Table, st: _State) -> bool:
    return t.has("role") and (
        t.has("criteria", "sign") or (st.ctx.cls == "gate" and t.has("status", "date"))
    )


def _is_roles(t: _Table, st: _State) -> bool:
    return t.has("role") and st.ctx.cls not in ("notes", "timeline") and t.has(*_ROLE_COLUMNS)


def _is_contacts(t: _Table, st: _State) -> bool:
    return not t.has("role") and t.has("name") and t.has("email", "phone", "slack")


def _is_comms(t: _Table, st: _State) -> bool:
    in_comms = st.ctx.cls == "comms" or st.comms is not None
    return in_comms and (t.has("time", "at", "when") or t.has("event"))


def _is_timeline(t: _Table, st: _State) -> bool:
    return (
        t.has("time", "at", "when")
        and t.has("phase", "activity", "step", "task")
        and st.ctx.cls not in ("notes",)
    )


def _is_days(t: _Table, st: _State) -> bool:
    return t.has("day") and t.has("date") and st.ctx.cls not in ("notes",)


#: labels in a roles section that are not roles ("Responsibilities:", "Template", "Critical Rules")
_NOT_A_ROLE = re.compile(
    r"responsib|contact|duties|trigger|response|escalat|when|how|deploy|launch|during|template|"
    r"\brules?\b|example|^(?:name|phone|email|slack|role|notes?)$",
    re.I,
)
#: "Video Call", "Slack Channel", "Status Page": where people meet or look, never a role
_CHANNEL_LABEL = re.compile(r"^(?:" + "|".join(map(re.escape, vocab.CHANNELS)) + r")$", re.I)
_ROLE_FIELDS = ("name", "primary", "backup", "phone", "email", "slack", "role", "duty")
_VERIFICATION = re.compile(r"verification\s*:", re.I)


@dataclass(eq=False)
class BlocksReader:
    """Builder part: paragraphs, labels, key/value lines, bullets, tables and fences."""

    index: PlanIndex
    times: TimesReader
    roles: RolesReader
    escalation: EscalationReader
    gates: GatesReader
    rollback: RollbackReader
    comms: CommsReader
    phases: PhasesReader
    checklists: ChecklistsReader
    canonical: CanonicalReader

    def process_blocks(self, sec: Section, ctx: Ctx) -> None:
        """Read a section's blocks; what none of the readers took is kept as one note."""
        if ctx.explicit:
            self.canonical.process_explicit(sec, ctx)
            return
        st = _State(ctx)
        steps_before = len(self.index.plan.rollback_plan)
        leftovers = [b for b in sec.blocks if not self.block(b, st)]
        self.rollback.prose_steps(st, steps_before)
        leftovers += st.pending_fences
        leftovers += [Block("para", ln, ln, t) for ln, t in st.unparsed_criteria]
        leftovers += st.loose  # nothing vanishes: prose the plan has no field for is a note
        leftovers.sort(key=lambda b: b.line)
        if leftovers:
            self.note(sec, ctx, leftovers)

    def block(self, b: Block, st: _State) -> bool:
        """Read one block; False when it is left over (kept as a note)."""
        if b.kind == "para":
            self.paragraph(b, st)
        elif b.kind == "list":
            self.checklists.list_block(b, st)
        elif b.kind == "table":
            return self.table(b, st)
        elif b.kind == "fence":
            return self.fence(b, st)
        elif b.kind == "html" and not b.text.lstrip().startswith("<!--"):
            st.loose.append(b)
        return True

    def note(self, sec: Section, ctx: Ctx, blocks: list[Block]) -> None:
        body = "\n".join(
            "\n".join(self.index.lines[b.line - 1 : b.end]).rstrip() for b in blocks
        ).strip("\n")
        if not body.strip():
            return
        title = ctx.title or self.index.plan.title
        self.index.plan.notes.append(PlanNote(title=title, body=body, line=blocks[0].line))
        what = ", ".join(
            sorted({{"fence": "code block", "table": "table"}.get(b.kind, "text") for b in blocks})
        )
        self.index.warn(
            blocks[0].line, f"kept '{title}' as a note ({what} with no place in the plan)"
        )

    # paragraphs: line by line
    def paragraph(self, b: Block, st: _State) -> None:
        st.loose_para = True
        for offset, ln in enumerate(b.text.split("\n")):
            line = b.line + offset
            s = ln.strip()
            if not s:
                continue
            gm = _GROUP.match(s) if s.startswith("**[") else None
            if gm:
                self.checklists.group_header(gm, line, st)
                continue
            if self.line_task(ln, line, st) or self.line_owner(ln, st):
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

    def line_task(self, ln: str, line: int, st: _State) -> bool:
        """A bare ``[ ] x`` / ``☐ x`` line inside a paragraph is an item (or a signer or
        decision line in a gate, a trigger in a rollback section)."""
        task = self.checklists.task_of(ln.strip(), st)
        if task is None:
            return False
        if not self.checklists.special_line(task.text, line, st):
            item = self.checklists.make_item(task, ListItem(task.text, line), st)
            self.checklists.target_items(st, line).append(item)
            st.last_item = item
        return True

    def line_owner(self, ln: str, st: _State) -> bool:
        """``**Owner:** X`` / ``Owner: X`` on its own line: the doer of the section's items."""
        if st.ctx.explicit:
            return False
        who = owner_line(ln)
        if who is None or (st.last_item is not None and not st.loose_para):
            return False
        st.owner = "" if is_placeholder(who) else self.roles.role_name(who)[0]
        phase = st.sub or st.ctx.phase
        if phase is not None and st.owner and st.owner not in phase.participants:
            phase.participants.append(st.owner)
        return True

    def prose(self, ln: str, line: int, st: _State) -> None:
        s = plain(ln)
        if line == self.index.go_live_line:
            return  # "Go-live: ..." was read with the document: it prefills T0
        if self.checklists.special_line(s, line, st) or self.escalation.chain_line(s, line, st):
            return
        if st.last_item is not None and _VERIFICATION.match(s):
            self.checklists.add_verification(st.last_item, s.split(":", 1)[1].strip().strip("`"))
            return
        st.loose.append(Block("para", line, line, ln))

    def label(self, key: str, line: int, st: _State) -> None:
        """A bold line alone names what follows: a sub-phase when it has a time, a gate,
        an escalation level, a role in a roles section, a comms rule in a comms section."""
        t = read_times(key)
        st.label = plain(key)
        st.label_times = t
        st.label_gate = None
        st.label_role = None
        if st.ctx.cls == "rollback" or "rollback trigger" in st.label.lower():
            st.severity = _severity(key)
        if self.label_phase(key, t, line, st) or self.label_gate_kind(key, t, line, st):
            return
        lm = _LEVEL.match(st.label)
        if lm and st.ctx.cls in ("escalation", "roles", None):
            self.escalation.add_level(lm, line)
            return
        if (
            st.ctx.cls == "roles"
            and not _NOT_A_ROLE.search(st.label)
            and not _CHANNEL_LABEL.match(st.label)
        ):
            st.label_role = self.roles.add_role(
                key, line, stakeholder=bool(_STAKEHOLDER.search(key))
            )
        if st.ctx.cls == "comms" and re.search(r"every|t[+-]\d", key, re.I):
            self.label_comms(key, t, line, st)

    def label_phase(self, key: str, t: Times, line: int, st: _State) -> bool:
        ctx = st.ctx
        timed = t.clock is not None or (t.offset is not None and not _GO_NO_GO.search(key))
        if (
            not timed
            or ctx.cls in ("comms", "escalation", "roles", "rollback", "notes")
            or (ctx.phase is None and ctx.cls != "timeline")
        ):
            return False
        start, duration = self.times.span(t, line, ctx.day, ctx.phase)
        st.sub = self.phases.add_phase(clean_name(key, t), start, duration, line)
        st.label = ""
        st.label_times = None
        return True

    def label_gate_kind(self, key: str, t: Times, line: int, st: _State) -> bool:
        ctx = st.ctx
        if not (_GO_NO_GO.search(key) or (ctx.cls == "gate" and _APPROVAL.search(key))):
            return False
        kind = ctx.gate_kind or self.gates.gate_kind(key) or "go_no_go"
        if re.search(r"\bfinal\b", key, re.I):
            kind = "final_approval"
        name = st.label
        if ctx.cls == "gate" and kind == ctx.gate_kind:
            name = ctx.title
        elif st.sub is not None and _GO_NO_GO.search(st.sub.name):
            name = st.sub.name
        at = st.sub.start if st.sub else (ctx.phase.start if ctx.phase else ctx.due)
        at = t.offset.value if t.offset else at
        if t.clock is not None:
            at = self.times.clock_offset(t.clock, at)
        st.label_gate = (name, kind, at)
        m = re.match(r"^(.*?)\s+(?:approval|sign[\s-]*off)$", st.label, re.I)
        if m and ctx.cls == "gate":
            g = self.gates.gate(ctx, name, kind, line, at)
            g.signoffs.append(PlanSignOff(role=m.group(1).strip(), line=line))
        return True

    def label_comms(self, key: str, t: Times, line: int, st: _State) -> None:
        rule = self.comms.comms_heading(key, t, line)
        if not rule:
            return
        st.comms = rule
        base = st.ctx.comms
        if st.channel and not rule.channels:
            rule.channels = _channels(st.channel)
        if base is not None:
            rule.audience = rule.audience or base.audience
            rule.channels = rule.channels or base.channels
            rule.name = f"{base.name}: {rule.name}"

    def key_value(self, key: str, value: str, line: int, st: _State) -> None:
        """A ``**Key:** value`` line: the first recogniser that takes it wins; else a note."""
        kv = _KeyValue(key, key.lower(), value, plain(value), line)
        for recognise in _KEY_VALUE_RECOGNISERS:
            if recognise(self, kv, st):
                return
        st.loose.append(Block("para", line, line, f"**{key}:** {value}"))

    # -- key/value recognisers, in order (each returns True when it took the line) --------

    def kv_release_meta(self, kv: _KeyValue, st: _State) -> bool:
        k, v = kv.k, kv.v
        if k == "release version" or (k in ("version", "release") and not self.index.meta_seen):
            if k == "release version" or not self.index.plan.version:
                self.index.plan.version = v
            self.index.meta_seen.add(k)
            return True
        if k in ("go-live", "go live", "go-live time", "launch time"):
            return True  # read with the document (stated_go_live): prefills T0
        if k in ("time zone", "timezone"):
            self.index.plan.timezone = v
            return True
        if k in ("deployment window", "primary window", "maintenance window", "window"):
            self.times.window(v, kv.line)
            return True
        if k in ("window start", "window end"):
            setattr(self.index.plan, k.replace(" ", "_"), parse_offset(v))
            return True
        return False

    def kv_role_field(self, kv: _KeyValue, st: _State) -> bool:
        role = st.label_role or st.ctx.role
        if role is None or kv.k not in _ROLE_FIELDS:
            return False
        self.roles.role_field(role, kv.k, kv.v, kv.line, st)
        return True

    def kv_phase_field(self, kv: _KeyValue, st: _State) -> bool:
        phase = st.sub or st.ctx.phase
        if phase is None:
            return False
        if kv.k == "duration":
            phase.duration = parse_duration(kv.v)
            return True
        if kv.k in ("participants", "attendees", "owner", "owners"):
            for p in _ROLE_SPLIT.split(kv.v):
                if p and p not in phase.participants:
                    phase.participants.append(self.roles.role_name(p)[0])
            return True
        return False

    def kv_decider(self, kv: _KeyValue, st: _State) -> bool:
        if not re.match(r"decision makers?|decision authority|approvers?", kv.k):
            return False
        ctx = st.ctx
        g = st.current_gate or self.gates.last_gate_in(ctx)
        roles = [self.roles.role_name(r)[0] for r in _ROLE_SPLIT.split(kv.v) if r.strip()]
        if not roles or all(is_placeholder(r) for r in roles):
            roles = [self.roles.add_role(kv.key, kv.line).name]  # the authority, its seat unfilled
        if g is None:
            at = st.sub.start if st.sub else (ctx.phase.start if ctx.phase else ctx.due)
            g = self.gates.gate(ctx, ctx.title or "Go/No-Go", "go_no_go", kv.line, at)
        for r in roles:
            if r not in g.decision_roles:
                g.decision_roles.append(r)
        return True

    def kv_gate_label(self, kv: _KeyValue, st: _State) -> bool:
        if not _GO_NO_GO.search(kv.key):
            return False
        t = read_times(kv.value)
        st.label = plain(kv.key)
        st.label_times = t
        st.label_gate = (plain(kv.key), "go_no_go", t.offset.value if t.offset else None)
        return True

    def kv_comms(self, kv: _KeyValue, st: _State) -> bool:
        if st.ctx.cls != "comms" and st.comms is None:
            return False
        self.comms.comms_field(kv.k, kv.v, kv.value, kv.line, st)
        return True

    def kv_level(self, kv: _KeyValue, st: _State) -> bool:
        lm = _LEVEL.match(plain(kv.key))
        if not lm or st.ctx.cls not in ("escalation", "roles", None):
            return False
        self.escalation.add_level(lm, kv.line, rest=kv.value)
        return True

    def kv_role_person(self, kv: _KeyValue, st: _State) -> bool:
        if st.ctx.cls != "roles" or not re.search(
            r"lead|manager|engineer|admin|owner|on-call|dba|officer", kv.k
        ):
            return False
        self.roles.role_people(self.roles.add_role(kv.key, kv.line), kv.value, kv.line)
        return True

    def kv_criterion(self, kv: _KeyValue, st: _State) -> bool:
        if st.ctx.cls != "rollback" and "rollback" not in kv.k:
            return False
        crit = read_criterion(kv.value)
        if crit is None:
            return False
        crit.severity = st.severity or _severity(st.ctx.title)
        crit.line = kv.line
        self.index.plan.rollback_criteria.append(crit)
        return True

    def plain_bullet(self, text: str, it: ListItem, b: Block, st: _State) -> None:
        """A bullet without a checkbox: the first recogniser that takes it wins; what none
        takes is the enclosing phase's description, or a note."""
        bullet = _Bullet(text, it, b, (st.label or "").lower())
        for recognise in _BULLET_RECOGNISERS:
            if recognise(self, bullet, st):
                return
        phase = st.sub or st.ctx.phase
        if phase is not None and st.ctx.cls not in ("notes",):
            phase.description = f"{phase.description}; {text}" if phase.description else text
            return
        st.loose.append(Block("para", it.line, it.line, it.text))

    # -- bullet recognisers, in order (each returns True when it took the bullet) ----------

    def bullet_criterion(self, bl: _Bullet, st: _State) -> bool:
        """``Error rate > 1% for 5 min → rollback`` anywhere, or a threshold line in a rollback
        section, is a rollback criterion; ``Disk > 80% → notify the DBA`` is an alert (not
        taken here: kept as a note)."""
        if self.rollback.rollback_arrow(bl.text, bl.item.line, st, severity_of=bl.label):
            return True
        split = threshold_action(bl.text)
        if split is not None:
            if read_criterion(split[0]) is not None:
                self.index.warn(
                    bl.item.line,
                    f"alert threshold '{split[0]}' does not say to roll back ('{split[1]}'): "
                    "kept as a note, not a rollback criterion",
                )
            return False  # a threshold whose action is not a rollback: an alert
        if not (st.ctx.cls == "rollback" or "rollback trigger" in bl.label):
            return False
        crit = read_criterion(bl.text)
        if crit:
            crit.severity = st.severity or _severity(bl.label or st.ctx.title)
            crit.text = bl.text
            crit.line = bl.item.line
            self.index.plan.rollback_criteria.append(crit)
            return True
        if not self.rollback.worded_criterion(bl.text, bl.label, bl.item.line, st):
            st.unparsed_criteria.append((bl.item.line, bl.text))
        return True

    def bullet_verification(self, bl: _Bullet, st: _State) -> bool:
        if st.last_item is None or not _VERIFICATION.match(bl.text):
            return False
        self.checklists.add_verification(st.last_item, bl.text.split(":", 1)[1].strip().strip("`"))
        return True

    def bullet_participant(self, bl: _Bullet, st: _State) -> bool:
        phase = st.sub or st.ctx.phase
        if bl.label not in ("participants", "attendees", "team") or phase is None:
            return False
        name = self.roles.role_name(bl.text)[0]
        if name and name not in phase.participants:
            phase.participants.append(name)
        return True

    def bullet_role(self, bl: _Bullet, st: _State) -> bool:
        role = st.label_role or st.ctx.role
        line = bl.item.line
        if role is not None and st.ctx.cls in ("roles", "escalation"):
            kv = re.match(r"^(name|phone|email|slack)\s*:\s*(.*)$", bl.text, re.I)
            if kv:
                self.roles.role_field(role, kv.group(1).lower(), kv.group(2).strip(), line, st)
                return True
            return bl.label in ("contact", "contacts")
        if st.ctx.cls == "roles" and role is None:
            # "**DBA:** Tom Berg" or "DBA: Tom Berg (+44 20 7946 0000)" (not "Phone: …")
            kv = re.match(r"^\*\*(.+?):?\*\*:?\s*(.*)$", bl.item.text.strip()) or _role_line(
                bl.text
            )
            if kv and _CHANNEL_LABEL.match(plain(kv.group(1).rstrip(":"))):
                return False  # "**Video Call**: [INSERT LINK]": a place, kept as a note
            if kv and kv.group(2):
                self.roles.role_people(
                    self.roles.add_role(kv.group(1).rstrip(":"), line), kv.group(2), line
                )
                return True
        return False

    def bullet_chain(self, bl: _Bullet, st: _State) -> bool:
        return self.escalation.chain_line(bl.text, bl.item.line, st)

    def bullet_level(self, bl: _Bullet, st: _State) -> bool:
        lm = _LEVEL.match(bl.text)
        esc = st.ctx.cls == "escalation" or "escalat" in bl.label
        if lm and (esc or st.ctx.cls in ("roles", None)):
            self.escalation.add_level(lm, bl.item.line)
            return True
        listed = not st.label or "path" in bl.label or "level" in bl.label
        if esc and bl.block.ordered and listed:
            num = bl.block.items.index(bl.item) + 1
            lm = re.match(r"(\d+)()(.*)", f"{num}\x00")
            assert lm is not None
            self.escalation.add_level(lm, bl.item.line, rest=bl.text)
            return True
        return False

    def bullet_interval(self, bl: _Bullet, st: _State) -> bool:
        if st.ctx.cls != "comms" and st.comms is None:
            return False
        ev = re.search(r"every\s+(\d+)\s*" + _UNIT, bl.text, re.I)
        if not ev:
            return False
        every = _unit_delta(float(ev.group(1)), ev.group(2))
        self.index.interval_sentences.append(
            PlanCommsRule(name=bl.text, interval=every, line=bl.item.line)
        )
        return True

    # -- tables -------------------------------------------------------------------

    def table(self, b: Block, st: _State) -> bool:
        """A table is read by the first reader whose columns it has; False: none (a note)."""
        self.check_cells(b)
        t = _Table([vocab.column(plain(h)) for h in b.header])
        for matches, read in _TABLE_READERS:
            if matches(t, st):
                read(self, b, t, st)
                return True
        return self.checklists.task_table(b, st) or self.late_table(b, t, st)

    def late_table(self, b: Block, t: _Table, st: _State) -> bool:
        """Tables tried after task tables: comms schedules, timelines, day plans."""
        for matches, read in _LATE_TABLE_READERS:
            if matches(t, st):
                read(self, b, t, st)
                return True
        return False

    def check_cells(self, b: Block) -> None:
        for ln, row in b.rows:
            if b.info == "html":  # cells as the markup gave them, not one source line
                cells = len(row)
            else:
                raw = self.index.lines[ln - 1] if ln - 1 < len(self.index.lines) else ""
                cells = len(split_cells(raw))
            if cells < len(b.header):
                self.index.warn(
                    ln,
                    f"table row has {cells} cells but the header has {len(b.header)}; "
                    "missing cells left empty",
                )

    def contacts_table(self, b: Block, t: _Table, st: _State) -> None:
        """Name | Email | Phone | Slack rows: people; a placeholder name beside a real phone or
        email keeps the contact under that placeholder (no one is invented)."""
        c_name, c_email, c_phone, c_slack = (t.col(k) for k in ("name", "email", "phone", "slack"))
        for ln, row in b.rows:
            name = cell_text(t.get(row, c_name))
            contact = {
                "email": cell_text(t.get(row, c_email)),
                "phone": cell_text(t.get(row, c_phone)),
                "slack": cell_text(t.get(row, c_slack)),
            }
            if is_placeholder(name):
                self.roles.seat_contact(name, ln, **contact)
            else:
                self.roles.add_person(name, ln, **contact)

    # -- fences -------------------------------------------------------------------

    def fence(self, b: Block, st: _State) -> bool:
        ctx = st.ctx
        text = b.text.removesuffix("\n")
        lab = (st.label or "").lower()
        phase = st.sub or ctx.phase
        if ctx.cls == "comms" or st.comms is not None or "template" in lab or "message" in lab:
            if "example" in lab:
                return False
            self.comms.template(text, b.line, st)
            return True
        if self.checklists.fenced_checklist(b, st):
            st.loose.append(b)  # the drawing, kept as a note
            return True
        if phase is not None and re.search(
            r"^\s*T\s*[+-]\s*\d+\s*(?:min|m|h|hours?)?\s*:", text, re.M | re.I
        ):
            self.phases.code_timeline(text, b.line, phase)
            return True
        if st.last_item is not None:
            self.checklists.add_verification(st.last_item, text)
            return True
        # a command block before any item goes to the next item in this section
        st.pending_fences.append(b)
        return True


_KEY_VALUE_RECOGNISERS = (
    BlocksReader.kv_release_meta,
    BlocksReader.kv_role_field,
    BlocksReader.kv_phase_field,
    BlocksReader.kv_decider,
    BlocksReader.kv_gate_label,
    BlocksReader.kv_comms,
    BlocksReader.kv_level,
    BlocksReader.kv_role_person,
    BlocksReader.kv_criterion,
)
_BULLET_RECOGNISERS = (
    BlocksReader.bullet_criterion,
    BlocksReader.bullet_verification,
    BlocksReader.bullet_participant,
    BlocksReader.bullet_role,
    BlocksReader.bullet_chain,
    BlocksReader.bullet_level,
    BlocksReader.bullet_interval,
)
# what a contact's own lines are labelled with ("Name: ___", "Teléfono: …"): not roles
_CONTACT_FIELDS = frozenset(
    {"name", "phone", "mobile", "tel", "telephone", "email", "e-mail", "slack", "pager"}
    | {"role", "duty", "backup", "primary", "contact", "date", "signature"}
)


def _role_line(text: str) -> re.Match[str] | None:
    """``Release Manager: Priya Shah``, a role and who holds it, on a plain bullet."""
    m = re.match(r"^([^:*\[\]]{2,40}?)\s*:\s+(\S.*)$", text)
    if m is None:
        return None
    label = m.group(1).strip().lower()
    return None if {label, vocab.column(label)} & _CONTACT_FIELDS else m


_TableReader = tuple[
    Callable[[_Table, _State], bool], Callable[[BlocksReader, Block, _Table, _State], None]
]
_TABLE_READERS: tuple[_TableReader, ...] = (
    (_is_escalation, lambda self, b, t, st: self.escalation.escalation_table(b, t.col, t.get)),
    (
        _is_threshold,
        lambda self, b, t, st: self.rollback.threshold_table(b, t.head, t.col, t.get, st),
    ),
    (_is_signoff, lambda self, b, t, st: self.gates.signoff_table(b, t.col, t.get, st)),
    (_is_roles, lambda self, b, t, st: self.roles.roles_table(b, t.col, t.get, st.ctx)),
    (_is_contacts, BlocksReader.contacts_table),
)
_LATE_TABLE_READERS: tuple[_TableReader, ...] = (
    (_is_comms, lambda self, b, t, st: self.comms.comms_table(b, t.col, t.get, st)),
    (_is_timeline, lambda self, b, t, st: self.phases.timeline_table(b, t.col, t.get, st)),
    (_is_days, lambda self, b, t, st: self.phases.day_table(b, t.col, t.get, st)),
)
