"""What a message says: a rule's template with its placeholders filled, and the
status update composed from live state at send time (the seeds' "DEPLOYMENT STATUS
UPDATE")."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime

from deployments import selectors as release_selectors
from deployments.runbooks.comms import placeholder_field, placeholders
from warroom import clock

RAG_WORDS = {"green": "Green", "yellow": "Yellow", "red": "Red"}


@dataclass
class Content:
    """A message as every transport needs it."""

    subject: str
    text: str
    status_update: bool = False
    rag: str = ""

    @property
    def html(self) -> str:
        parts = [f"<h2>{html.escape(self.subject)}</h2>"]
        for para in self.paragraphs:  # escaping leaves the newlines as they are
            parts.append("<p>" + html.escape(para).replace("\n", "<br>") + "</p>")
        return "\n".join(parts)

    @property
    def paragraphs(self) -> list[str]:
        return [p.strip() for p in self.text.split("\n\n") if p.strip()]


def _when(moment: datetime | None, release) -> str:
    if moment is None:
        return "—"
    return f"{moment:%Y-%m-%d %H:%M} UTC ({clock.format_offset(moment - release.go_live_at)})"


def field_values(release, now: datetime | None = None) -> dict[str, str]:
    """What each placeholder field reads as now."""
    s = release_selectors.status_facts(release, now=now)
    t0 = release.go_live_at
    return {
        "version": release.version or "",
        "date": f"{t0:%Y-%m-%d}",
        "time": f"{t0:%H:%M} UTC",
        "go_live": f"{t0:%Y-%m-%d %H:%M} UTC",
        "window": (
            f"{release.window_starts_at:%Y-%m-%d %H:%M} to {release.window_ends_at:%H:%M} UTC"
            if release.window_start is not None and release.window_end is not None
            else f"{t0:%Y-%m-%d %H:%M} UTC"
        ),
        "link": "",
        "release_name": release.name,
        "phase": s.current.name if s.current else "—",
        "status": RAG_WORDS.get(s.rag, s.rag),
        "eta": _when(s.eta, release),
        "progress": f"{s.progress.percent}%",
    }


def fill(text: str, values: dict[str, str]) -> str:
    for ph in placeholders(text):
        name = placeholder_field(ph)
        if name and values.get(name):
            text = text.replace(ph, values[name])
    return text


def render_template(release, rule) -> tuple[str, str]:
    """The rule's subject and body with the placeholders known now filled in."""
    template = rule.template
    if template is None:
        return rule.name, ""
    subject = template.subject or rule.name
    if not placeholders(subject + template.body):
        return subject, template.body
    values = field_values(release)
    return fill(subject, values), fill(template.body, values)


def status_update(release, now: datetime | None = None) -> Content:
    """The status update from live state: phase, RAG with reasons, progress, completed /
    in progress / next, open issues, ETA."""
    return status_updates([release], now)[release.pk]


def status_updates(releases: list, now: datetime | None = None) -> dict[int, Content]:
    """:func:`status_update` of each of ``releases``, by release id, read from live state
    in one go: a fixed number of queries for them all (a worker's batch), one round trip
    on PostgreSQL while none of them has gates."""
    now = now or clock.now()
    facts = release_selectors.status_facts_of(releases, now=now)
    return {r.pk: _status_update(r, now, facts[r.pk]) for r in releases}


def _status_update(release, now: datetime, s) -> Content:
    offset = now - release.go_live_at
    done, running, upcoming = [], [], []
    for p in s.phases:
        if p.start_offset is None:
            continue
        end = p.end_offset
        if p.status == "done" or (end is not None and end <= offset and p != s.current):
            done.append(p.name)
        elif p == s.current or p.status == "active":
            running.append(p.name)
        elif p.start_offset > offset:
            upcoming.append(f"{p.name} at {clock.format_offset(p.start_offset)}")
    issues = [f"[{i.severity}] {i.title}" for i in s.open_issues or []]
    rag = RAG_WORDS.get(s.rag, s.rag)
    subject = f"Deployment status update — {release.name} {release.version}".strip()
    sections = [
        (
            "Status",
            [
                f"Time: {now:%H:%M} UTC ({clock.format_offset(offset)})",
                f"Phase: {s.current.name if s.current else '—'}",
                f"Status: {rag}" + (f" — {'; '.join(s.rag_reasons)}" if s.rag_reasons else ""),
                f"Progress: {s.progress.percent}% ({s.progress.closed}/{s.progress.total} items)",
                f"ETA: {_when(s.eta, release)}",
            ],
        ),
        ("Completed", done or ["—"]),
        ("In progress", running or ["—"]),
        ("Next", upcoming[:3] or ["—"]),
        ("Open issues", issues or ["None"]),
    ]
    if release.status_line:
        sections[0][1].append(f"Note: {release.status_line}")
    text = "\n\n".join(
        f"{title}:\n" + "\n".join(f"- {line}" for line in lines) for title, lines in sections
    )
    return Content(subject, text, status_update=True, rag=s.rag)


def content_of(message, release) -> Content:
    if message.status_update and not message.composed:
        return status_update(release)
    return Content(message.subject, message.body, status_update=message.status_update)
