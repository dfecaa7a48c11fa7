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

from . import vocab
from .blocks import Block, ListItem, Section, split_cells
from .comms import _channels
from .context import _APPROVAL, _GO_NO_GO, _LEVEL, _ROLE_SPLIT, _STAKEHOLDER, Ctx, _State
from .plan import PlanCommsRule, PlanNote, PlanSignOff
from .recognise import is_placeholder, owner_line
from .rollback import _severity, read_criterion
from .text import _GROUP, cell_text, label_line, plain
from .times import _UNIT, _unit_delta, clean_name, parse_duration, parse_offset, read_times


class ReaderMixin:
    """Builder part: paragraphs, labels, key/value lines, bullets, tables and fences."""

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
        if st.loose:  # nothing vanishes: prose the plan has no field for is a note
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
        task = self.task_of(ln.strip(), st)
        if task is None:
            return False
        if not self.special_line(task.text, line, st):
            item = self.make_item(task, ListItem(task.text, line), st)
            self.target_items(st, line).append(item)
            st.last_item = item
        return True

    def line_owner(self, ln: str, st: _State) -> bool:
        """``**Owner:** X`` / ``Owner: X`` on its own line: the doer of the section's items."""
        if st.ctx.explicit:
            return False
        who = owner_line(ln)
        if who is None or (st.last_item is not None and not st.loose_para):
            return False
        st.owner = "" if is_placeholder(who) else self.role_name(who)[0]
        phase = st.sub or st.ctx.phase
        if phase is not None and st.owner and st.owner not in phase.participants:
            phase.participants.append(st.owner)
        return True

    def prose(self, ln: str, line: int, st: _State) -> None:
        s = plain(ln)
        if line == self.go_live_line:
            return  # "Go-live: ..." was read with the document: it prefills T0
        if self.special_line(s, line, st) or self.chain_line(s, line, st):
            return
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
            start, duration = self.span(t, line, ctx.day, ctx.phase)
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
        if k in ("go-live", "go live", "go-live time", "launch time"):
            return  # read with the document (stated_go_live): prefills T0
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
            if not roles or all(is_placeholder(r) for r in roles):
                roles = [self.add_role(key, line).name]  # the authority, its seat unfilled
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
        if self.chain_line(text, line, st):
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

    # -- tables -------------------------------------------------------------------

    def table(self, b: Block, st: _State) -> bool:
        ctx = st.ctx
        head = [vocab.column(plain(h)) for h in b.header]
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
        if self.task_table(b, st):
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
        if self.fenced_checklist(b, st):
            st.loose.append(b)  # the drawing, kept as a note
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
