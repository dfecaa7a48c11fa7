"""The event kinds the releases app owns: how each reads, what it changes on screen."""

from __future__ import annotations

from collections.abc import Mapping

from warroom.events import declare

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
    regions={"summary"},
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
