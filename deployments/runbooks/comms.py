"""Communications: comms rules (at a time, every N minutes, on a milestone) and templates.

Fences in a comms section are message templates; their ``[placeholders]`` are
mapped to release fields by ``PLACEHOLDER_FIELDS`` and unknown ones are
reported as warnings.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from .blocks import Block
from .context import _State
from .index import PlanIndex
from .plan import PlanCommsRule, PlanTemplate
from .text import cell_text, plain, split_list
from .times import (
    _UNIT,
    Times,
    TimesReader,
    _unit_delta,
    clean_name,
    parse_duration,
    parse_offset,
    read_times,
)

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


@dataclass(eq=False)
class CommsReader:
    """Builder part: comms rules and message templates."""

    index: PlanIndex
    times: TimesReader

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
        self.index.plan.comms_rules.append(rule)
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
        while any(t.key == key for t in self.index.plan.templates):
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
        self.index.plan.templates.append(tpl)
        if rule is not None and not rule.template:
            rule.template = key
        self.check_placeholders(tpl)

    def check_placeholders(self, tpl: PlanTemplate) -> None:
        unknown = [p for p in tpl.placeholders if placeholder_field(p) is None]
        if unknown:
            self.index.warn(
                tpl.line,
                f"template '{tpl.name}': placeholders with no release field: {', '.join(unknown)}",
            )

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
                        rule.at = self.times.clock_offset(t.clock, None, st.ctx.day)
                if rule.at is None:
                    rule.milestone = milestone(name)
                rule.channels = _channels(cell_text(get(row, col("channel", "method"))))
            rule.audience = cell_text(get(row, col("audience", "recipient")))
            rule.template = cell_text(get(row, col("template")))
            self.index.plan.comms_rules.append(rule)
