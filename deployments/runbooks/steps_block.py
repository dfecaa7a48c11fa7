"""The runbook's automated steps: fenced ``warroom-steps`` blocks, read and written back.

A runbook section (any heading, e.g. ``## Automated steps``) holds one or more fenced
blocks with the info string ``warroom-steps``; each non-blank line is one step as a
JSON object::

    ```warroom-steps
    {"phase": "Execution", "kind": "flags", "title": "Canary", "config": {"set": {"f:pct": 10}}}
    {"phase": "Execution", "kind": "manual", "title": "Promote", "owner_role": "DevOps Lead"}
    {"phase": "Execution", "kind": "flags", "title": "Off", "rollback": true, "config": ...}
    ```

(README's "Automated steps" has a full example.)

Keys: ``phase`` (a phase of the runbook, by name), ``kind``, ``title``, ``config``
(the kind's settings), and optionally ``confirm`` (a person confirms before it
starts), ``attempts``, ``retry_delay_s``, ``timeout_s``, ``rollback``, ``owner_role``,
``dry_run`` (always a dry run: it says what it would do and contacts nothing).
Steps run in the order written. The parser keeps the section as a note; the import
service reads the blocks out of the plan's notes (:func:`read`, errors name the source
line), removes them (:func:`strip`) and attaches the steps after the release is made
(:func:`attach`). The exporter writes the release's steps back as one such section
(:func:`render`), so importing an export gives the same steps.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from deployments.runbooks.errors import RunbookError
from warroom.errors import FieldError

INFO = "warroom-steps"
SECTION = "Automated steps"
FENCE = re.compile(r"^(`{3,}|~{3,})\s*" + re.escape(INFO) + r"\s*$")
KEYS = {
    "phase", "kind", "title", "config", "confirm", "attempts", "retry_delay_s", "timeout_s",
    "rollback", "owner_role", "dry_run",
}  # fmt: skip


@dataclass(frozen=True)
class StepSpec:
    line: int
    fields: dict


def _blocks(body: str):
    """(line offset within body, text) of each step line in the body's warroom-steps fences."""
    inside: str | None = None
    for n, raw in enumerate(body.splitlines()):
        stripped = raw.strip()
        if inside is None:
            m = FENCE.match(stripped)
            if m:
                inside = m.group(1)
        elif stripped.startswith(inside[0] * len(inside)) and not stripped.strip(inside[0]):
            inside = None
        elif stripped:
            yield n, stripped


def holds_steps(body: str) -> bool:
    return any(FENCE.match(line.strip()) for line in body.splitlines())


def read(plan) -> list[StepSpec]:
    """Every step of the plan's ``warroom-steps`` blocks, checked (a RunbookError names
    the source line and the field)."""
    phases = {p.name for p in plan.phases}
    found = []
    for note in plan.notes:
        if not holds_steps(note.body):
            continue
        for offset, text in _blocks(note.body):
            line = note.line + offset  # a note's line is its body's first line
            try:
                fields = json.loads(text)
            except json.JSONDecodeError as exc:
                raise RunbookError(f"{INFO}: not a JSON object ({exc.msg})", line) from None
            if not isinstance(fields, dict):
                raise RunbookError(f"{INFO}: each line is one step as a JSON object", line)
            extra = sorted(set(fields) - KEYS)
            if extra:
                raise RunbookError(f"{INFO}: unknown key {extra[0]!r}", line)
            if fields.get("phase") not in phases:
                raise RunbookError(
                    f"{INFO}: phase {fields.get('phase')!r} is not a phase of this runbook", line
                )
            found.append(StepSpec(line, fields))
    return found


def strip(plan) -> None:
    """Take the steps sections out of the plan's notes (the steps are attached instead)."""
    plan.notes = [n for n in plan.notes if not holds_steps(n.body)]
    plan.warnings = [
        w for w in plan.warnings if not (INFO in w.message or f"'{SECTION}'" in w.message)
    ]


def build(release, specs: list[StepSpec]) -> list:
    """Unsaved, validated steps for ``release`` (a RunbookError names line and field)."""
    from deployments import engine

    phases = {p.name: p for p in release.phases.all()}
    roles = {r.name: r for r in release.roles.all()}
    steps = []
    for n, spec in enumerate(specs, start=1):
        f = spec.fields
        try:
            role = None
            if f.get("owner_role"):
                role = roles.get(f["owner_role"])
                if role is None:
                    raise FieldError("owner_role", f"no role called {f['owner_role']!r}")
            step = engine.build_step(
                phase=phases[f["phase"]],
                kind=f.get("kind", ""),
                title=f.get("title", ""),
                config=f.get("config") or {},
                order=n,
                requires_confirmation=bool(f.get("confirm")),
                timeout_s=f.get("timeout_s"),
                max_attempts=f.get("attempts", 1),
                retry_delay_s=f.get("retry_delay_s"),
                is_rollback=bool(f.get("rollback")),
                owner_role=role,
                dry_run=bool(f.get("dry_run")),
            )
        except FieldError as exc:
            raise RunbookError(f"{INFO}: {exc}", spec.line) from None
        steps.append(step)
    return steps


def specs_of(release) -> list[StepSpec]:
    """The release's steps as the block's objects, in plan order."""
    from deployments.models import Step

    steps = Step.objects.filter(phase__release=release).select_related("phase", "owner_role")
    specs = []
    for s in sorted(steps, key=Step.plan_position):
        fields: dict = {"phase": s.phase.name, "kind": s.kind, "title": s.title}
        if s.config:
            fields["config"] = s.config
        if s.requires_confirmation and s.kind != "manual":
            fields["confirm"] = True
        if s.max_attempts != 1:
            fields["attempts"] = s.max_attempts
        if s.retry_delay:
            fields["retry_delay_s"] = s.retry_delay.total_seconds()
        if s.timeout:
            fields["timeout_s"] = s.timeout.total_seconds()
        if s.is_rollback:
            fields["rollback"] = True
        if s.owner_role:
            fields["owner_role"] = s.owner_role.name
        if s.dry_run:
            fields["dry_run"] = True
        specs.append(StepSpec(0, fields))
    return specs


def render(release) -> str:
    """The release's steps as a runbook section (empty when it has none)."""
    lines = [json.dumps(spec.fields, ensure_ascii=False) for spec in specs_of(release)]
    if not lines:
        return ""
    return f"\n## {SECTION}\n\n```{INFO}\n" + "\n".join(lines) + "\n```\n"
