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


def _assigned(d: Mapping, who: str) -> str:
    return f"{who} made {d.get('person', '')} {d.get('kind', 'primary')} for {d.get('role', '')}"


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
        f"{who} asked to run “{d.get('title', '')}” (attempt {d.get('attempt')})"
    ),
    regions={"summary"},
    owner=OWNER,
)
PEOPLE_ASSIGNED = declare("people.assigned", describe=_assigned, regions={"summary"}, owner=OWNER)
