"""The event kinds the releases app owns: how each reads, what it changes on screen."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare, subscribe

OWNER = "deployments"


def _created(d: Mapping, who: str) -> str:
    return f"{who} created the release" + (f" from {d['source']}" if d.get("source") else "")


def _edited(d: Mapping, who: str) -> str:
    parts = []
    if "name" in d:
        parts.append(f"renamed it “{d['name'].get('to', '')}”")
    if "go_live_at" in d:
        parts.append(f"moved T0 to {d['go_live_at'].get('to', '')}")
    return f"{who} " + (" and ".join(parts) or "edited the release")


def _decides(d: Mapping) -> str:
    gates = d.get("decides") or []
    return f" (decides {', '.join(gates)})" if gates else ""


def _assigned(d: Mapping, who: str) -> str:
    return (
        f"{who} made {d.get('person', '')} {d.get('kind', 'primary')} for {d.get('role', '')}"
        + _decides(d)
    )


def _pinned(d: Mapping, who: str) -> str:
    if not d.get("text"):
        return f"{who} unpinned the status line"
    return f"{who} pinned the status: “{d['text']}”"


STATUS_PINNED = declare("release.status_pinned", describe=_pinned, regions={"summary"}, owner=OWNER)
RELEASE_CREATED = declare(
    "release.created", describe=_created, regions={"summary"}, milestone=True, owner=OWNER
)
RELEASE_EDITED = declare("release.edited", describe=_edited, regions={"all"}, owner=OWNER)
BOARD_LINK_ROTATED = declare(
    "board.link_rotated",
    describe=lambda d, who: f"{who} rotated the board link",
    owner=OWNER,
)
STEP_REQUESTED = declare(
    "step.requested",
    describe=lambda d, who: (
        f"{who} asked to run “{d.get('title', '')}” (attempt {d.get('attempt', 1)})"
    ),
    regions={"summary", "steps"},
    owner=OWNER,
)
PEOPLE_ASSIGNED = declare(
    "people.assigned", describe=_assigned, regions={"summary", "gates"}, owner=OWNER
)
PEOPLE_UNASSIGNED = declare(
    "people.unassigned",
    describe=lambda d, who: (
        f"{who} took {d.get('person', '')} off {d.get('role', '')}" + _decides(d)
    ),
    regions={"summary", "gates"},
    owner=OWNER,
)


# --- the clock's events (recorded by beat's tick: deployments.clockwork) -------------
def _late(d: Mapping) -> str:
    late = int(d.get("late_by_s") or 0)
    return f" (noticed {late // 60} min late: the clock was not running)" if late >= 120 else ""


def _phase(verb: str):
    return lambda d, who: f"{d.get('name', 'A phase')} {verb}, as planned{_late(d)}"


CLOCK_REGIONS = {"summary", "progress"}
T0_REACHED = declare(
    "release.t0_reached",
    describe=lambda d, who: f"T0: go-live time reached{_late(d)}",
    regions=CLOCK_REGIONS,
    milestone=True,
    owner=OWNER,
)
WINDOW_OPENED = declare(
    "release.window_opened",
    describe=lambda d, who: f"The deployment window opened{_late(d)}",
    regions=CLOCK_REGIONS,
    milestone=True,
    owner=OWNER,
)
WINDOW_CLOSED = declare(
    "release.window_closed",
    describe=lambda d, who: f"The deployment window closed{_late(d)}",
    regions=CLOCK_REGIONS,
    milestone=True,
    owner=OWNER,
)
PHASE_STARTED = declare(
    "phase.started", describe=_phase("started"), regions=CLOCK_REGIONS, milestone=True, owner=OWNER
)
PHASE_ENDED = declare(
    "phase.ended", describe=_phase("ended"), regions=CLOCK_REGIONS, milestone=True, owner=OWNER
)
CHECKLIST_OVERDUE = declare(
    "checklist.overdue",
    describe=lambda d, who: (
        f"{d.get('name', 'A checklist')} is overdue with {d.get('open', 0)} item"
        f"{'' if d.get('open') == 1 else 's'} open"
    ),
    regions=CLOCK_REGIONS,
    owner=OWNER,
)
GATE_LATE = declare(
    "gate.late",
    describe=lambda d, who: f"{d.get('name', 'A gate')} is due and undecided{_late(d)}",
    regions={"summary", "gates"},
    owner=OWNER,
)


# --- war-room issues (deployments.issues) --------------------------------------------
def _reported(d: Mapping, who: str) -> str:
    where = f" in {d['component']}" if d.get("component") else ""
    return f"{who} reported a {d.get('priority', '')} issue{where}: “{d.get('title', '')}”"


def _answered(verb: str):
    def describe(d: Mapping, who: str) -> str:
        mins = int(d.get("after_s") or 0) // 60
        late = " (past its response target)" if d.get("breached") else ""
        return f"{who} {verb} “{d.get('title', '')}” after {mins} min{late}"

    return describe


# --- the execution engine (deployments.engine, deployments.watch) ---------------------
def _step(verb: str):
    def describe(d: Mapping, who: str) -> str:
        dry = " (dry run)" if d.get("dry_run") else ""
        attempt = f", attempt {d['attempt']}" if (d.get("attempt") or 1) > 1 else ""
        tail = f": {d['message']}" if d.get("message") and verb in {"failed", "succeeded"} else ""
        return f"“{d.get('title', 'A step')}” {verb}{attempt}{dry}{tail}"

    return describe


ENGINE_REGIONS = {"summary", "steps"}
STEP_ATTACHED = declare(
    "step.attached",
    describe=lambda d, who: (
        f"{who} attached {'rollback ' if d.get('rollback') else ''}step “{d.get('title', '')}”"
        f" ({d.get('kind', '')}: {d.get('does', '')})"
    ),
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
STEP_REORDERED = declare(
    "step.reordered",
    describe=lambda d, who: f"{who} reordered the steps of {d.get('name', 'a phase')}",
    regions=ENGINE_REGIONS,
    on_board=False,
    owner=OWNER,
)
STEP_AWAITING = declare(
    "step.awaiting",
    describe=lambda d, who: f"“{d.get('title', 'A step')}” waits for a person to confirm it",
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
STEP_CONFIRMED = declare(
    "step.confirmed",
    describe=lambda d, who: (
        f"{who} confirmed “{d.get('title', '')}”" + (f": {d['note']}" if d.get("note") else "")
    ),
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
STEP_STARTED = declare(
    "step.started", describe=_step("started"), regions=ENGINE_REGIONS, owner=OWNER
)
STEP_TAKEN_OVER = declare(
    "step.taken_over",
    describe=lambda d, who: (
        f"“{d.get('title', 'A step')}” was taken over by another worker (its worker stopped)"
    ),
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
STEP_SUCCEEDED = declare(
    "step.succeeded", describe=_step("succeeded"), regions=ENGINE_REGIONS, owner=OWNER
)
STEP_FAILED = declare(
    "step.failed", describe=_step("failed"), regions=ENGINE_REGIONS, milestone=True, owner=OWNER
)
STEP_RETRIED = declare(
    "step.retried",
    describe=lambda d, who: (
        f"“{d.get('title', 'A step')}” will be tried again (attempt {d.get('attempt', 2)})"
        + (f" in {d['delay_s']:g} s" if d.get("delay_s") else "")
    ),
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
STEP_SKIPPED = declare(
    "step.skipped",
    describe=lambda d, who: f"{who} skipped “{d.get('title', '')}”: {d.get('reason', '')}",
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
PHASE_RUN_STARTED = declare(
    "phase.run_started",
    describe=lambda d, who: (
        f"{who} started the steps of {d.get('name', 'a phase')}"
        + (" as a dry run" if d.get("dry_run") else "")
    ),
    regions=ENGINE_REGIONS,
    milestone=True,
    owner=OWNER,
)
PHASE_RUN_FINISHED = declare(
    "phase.run_finished",
    describe=lambda d, who: (
        f"Every step of {d.get('name', 'a phase')} is done"
        + (" (dry run)" if d.get("dry_run") else "")
    ),
    regions=ENGINE_REGIONS,
    milestone=True,
    owner=OWNER,
)


def _note(d: Mapping) -> str:
    return f": {d['note']}" if d.get("note") else ""


STEPS_PAUSED = declare(
    "steps.paused",
    describe=lambda d, who: (
        f"{who} paused the steps{_note(d)}"
        + (f" ({', '.join(d['running'])} finishes first)" if d.get("running") else "")
    ),
    regions={"summary", "steps"},
    milestone=True,
    owner=OWNER,
)
STEPS_RESUMED = declare(
    "steps.resumed",
    describe=lambda d, who: (
        f"{who} resumed the steps after {int(d.get('paused_s') or 0) // 60} min{_note(d)}"
    ),
    regions={"summary", "steps"},
    milestone=True,
    owner=OWNER,
)
STEPS_ABORTED = declare(
    "steps.aborted",
    describe=lambda d, who: (
        f"{who} aborted the steps{_note(d)} ({d.get('skipped', 0)} queued skipped"
        + (f"; {', '.join(d['running'])} finishes, nothing follows" if d.get("running") else "")
        + ")"
    ),
    regions={"summary", "steps"},
    milestone=True,
    owner=OWNER,
)
SHAPE_NAMES = {"canary": "a canary", "blue_green": "a blue-green rollout"}
STEPS_SHAPE_INSERTED = declare(
    "steps.shape_inserted",
    describe=lambda d, who: (
        f"{who} added {SHAPE_NAMES.get(d.get('shape', ''), 'a rollout shape')} to"
        f" {d.get('name', 'a phase')}: {' → '.join(d.get('steps') or [])}"
        + (f" (rollback: {', '.join(d['rollback'])})" if d.get("rollback") else "")
    ),
    regions=ENGINE_REGIONS,
    owner=OWNER,
)
PIPELINE_TOKEN_CREATED = declare(
    "pipeline_token.created",
    describe=lambda d, who: (
        f"{who} made a CI/CD token for the {d.get('name', '')} pipeline ({d.get('prefix', '')}…)"
    ),
    regions={"steps"},
    on_board=False,
    owner=OWNER,
)
PIPELINE_TOKEN_REVOKED = declare(
    "pipeline_token.revoked",
    describe=lambda d, who: (
        f"{who} revoked the {d.get('name', '')} pipeline's token ({d.get('prefix', '')}…)"
    ),
    regions={"steps"},
    on_board=False,
    owner=OWNER,
)
METRIC_BREACHED = declare(
    "metric.breached",
    describe=lambda d, who: (
        f"Rollback criterion breached: {d.get('rule') or 'a metric'}"
        + (f" (measured {d['value']:g})" if isinstance(d.get("value"), int | float) else "")
        + (" — rolling back automatically" if d.get("automatic") else "")
    ),
    regions={"summary", "gates", "steps"},
    milestone=True,
    owner=OWNER,
)
ROLLBACK_STARTED = declare(
    "rollback.started",
    describe=lambda d, who: (
        f"{who} started the rollback plan ({len(d.get('steps') or [])} steps):"
        f" {d.get('reason', '')}"
    ),
    regions={"summary", "gates", "rollback", "steps"},
    milestone=True,
    owner=OWNER,
)
ROLLBACK_COMPLETED = declare(
    "rollback.completed",
    describe=lambda d, who: "The rollback plan completed",
    regions={"summary", "rollback", "steps"},
    milestone=True,
    owner=OWNER,
)
RELEASE_CLOSED = declare(
    "release.closed",
    describe=lambda d, who: (
        f"{who} closed the release as {d.get('status_label', '').lower()}"
        + (f": {d['note']}" if d.get("note") else "")
    ),
    regions={"all"},
    milestone=True,
    owner=OWNER,
)


@subscribe("rollback.decided", after_commit=True)
def _roll_back_when_decided(event) -> None:
    """A "roll back" decision runs the rollback plan."""
    if event.data.get("choice") != "roll_back":
        return
    from deployments import engine
    from deployments.models import Release

    release = Release.objects.get(pk=event.release_id)
    reason = f"decided: {event.data.get('rationale', '')}"
    engine.rollback_start(release, reason=reason, user=event.actor, actor_label=event.actor_label)


ISSUE_REGIONS = {"summary"}
ISSUE_REPORTED = declare(
    "issue.reported", describe=_reported, regions=ISSUE_REGIONS, milestone=True, owner=OWNER
)
ISSUE_ACKNOWLEDGED = declare(
    "issue.acknowledged", describe=_answered("acknowledged"), regions=ISSUE_REGIONS, owner=OWNER
)
ISSUE_RESOLVED = declare(
    "issue.resolved",
    describe=_answered("resolved"),
    regions=ISSUE_REGIONS,
    milestone=True,
    owner=OWNER,
)
ISSUE_TARGETS = declare(
    "issue.targets_changed",
    describe=lambda d, who: (
        f"{who} set the response targets: " + ", ".join(f"{k} {v} min" for k, v in d.items())
    ),
    owner=OWNER,
)
