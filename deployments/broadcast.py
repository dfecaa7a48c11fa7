"""Server-rendered fragments for htmx, rendered once per event off the writer's path.

The core's live path (:mod:`warroom.live`) calls :class:`PageFragments` from its
publisher thread; the same partial templates build the pages, here rendered with
``hx-swap-oob`` so a websocket message swaps them in place. Which fragments an event
re-renders follows the regions its kind declares:

- ``summary``: the war room's summary strip and timeline;
- ``item``: the item's row, its checklist's progress and the gate whose go/no-go
  checklist holds it;
- ``gates``: every gate panel;
- ``rollback``: the rollback decision panel;
- ``progress``: every checklist's progress bar (with its overdue marker);
- ``all``: everything, as a reconnecting client gets it (T0 moved, an admin edit).

Every event adds its line to the war room's timeline of events; the board's summary
is re-rendered for the kinds it shows. Viewer-specific controls are shown or hidden
by the page's own CSS, so a fragment never depends on who receives it.
"""

from __future__ import annotations

from dataclasses import replace

from django.template.loader import render_to_string

from checklists import selectors as checklist_selectors
from checklists.selectors import Progress
from deployments import selectors
from deployments.models import Release
from warroom.audit import AuditEvent
from warroom.events import EventKind


def seq_marker(seq: int, s: selectors.Summary, *, full: bool = False) -> str:
    """Tells the client which event this message carries (``full``: the whole state) and
    when the clock alone next changes the page (``data-refresh-at``)."""
    return render_to_string(
        "deployments/partials/live_seq.html", {"seq": seq, "s": s, "full": full, "oob": True}
    )


def render_item(release: Release, item, *, oob: bool = False) -> str:
    return render_to_string(
        "checklists/partials/item.html", {"item": item, "release": release, "oob": oob}
    )


def _checklist_progress(checklist_id: int, s: selectors.Summary) -> str:
    checklist = next((c for c in s.checklists if c.pk == checklist_id), None)
    if checklist is None:
        return ""
    return render_to_string(
        "checklists/partials/checklist_progress.html",
        {
            "checklist": checklist,
            "p": s.per_checklist.get(checklist_id, Progress()),
            "overdue": checklist_id in s.overdue_checklist_ids,
            "oob": True,
        },
    )


def _gate_panels(release: Release, gates) -> list[str]:
    return [
        render_to_string("checklists/partials/gate.html", {"g": g, "release": release, "oob": True})
        for g in gates
    ]


def _item_region(release: Release, event: AuditEvent, s: selectors.Summary) -> list[str]:
    item = checklist_selectors.item_row(release, event.data.get("item"))
    if item is None:
        return []
    gates = [g for g in s.gate_summaries if g.gate.checklist_id == item.checklist_id]
    return [
        render_item(release, item, oob=True),
        _checklist_progress(item.checklist_id, s),
        *_gate_panels(release, gates),
    ]


def engine_context(release: Release, now=None) -> dict:
    """What the steps region needs: the engine's view and the step kinds to offer."""
    from deployments.executors import EXECUTORS

    return {"engine": selectors.engine_view(release, now), "step_kinds": list(EXECUTORS)}


def render_steps(release: Release) -> str:
    ctx = {"release": release, "oob": True, **engine_context(release)}
    return render_to_string("deployments/partials/steps.html", ctx)


def _warroom_regions(release: Release, event: AuditEvent, kind: EventKind, s) -> list[str]:
    ctx = {"release": release, "s": s, "oob": True}
    parts: list[str] = []
    if "summary" in kind.regions:
        parts += [
            render_to_string("deployments/partials/alerts.html", ctx),
            render_to_string("deployments/partials/summary.html", ctx),
            render_to_string("deployments/partials/timeline.html", ctx),
        ]
    if "steps" in kind.regions:
        parts.append(render_steps(release))
    if "item" in kind.regions:
        parts += _item_region(release, event, s)
    if "gates" in kind.regions:
        parts += _gate_panels(release, s.gate_summaries)
    if "progress" in kind.regions:
        parts += [_checklist_progress(c.pk, s) for c in s.checklists]
    if "rollback" in kind.regions:
        parts.append(
            render_to_string("checklists/partials/rollback_call.html", {**ctx, "call": s.open_call})
        )
    line = render_to_string(
        "deployments/partials/event_line.html", {"e": event, "release": release}
    )
    parts.append(f'<div hx-swap-oob="afterbegin:#event-list">{line}</div>')
    return parts


def _board_regions(release: Release, s: selectors.Summary) -> str:
    """The board's live regions: alerts and the pinned status line, then the tiles."""
    hidden = selectors.hidden_on_board()
    board_s = replace(s, recent=[e for e in s.recent if e.kind not in hidden])
    ctx = {"s": board_s, "release": release, "oob": True}
    return render_to_string("deployments/partials/board_top.html", ctx) + render_to_string(
        "deployments/partials/board_summary.html", ctx
    )


class PageFragments:
    """The war room's and board's live regions (see :class:`warroom.live.Fragments`)."""

    def event(self, event: AuditEvent, kind: EventKind) -> dict[str, str]:
        release = Release.objects.filter(pk=event.release_id).first()
        if release is None:
            return {}
        if "all" in kind.regions:
            release.refresh_from_db()
            return {
                "warroom": render_sync(release, "warroom"),
                "board": render_sync(release, "board"),
            }
        s = selectors.summary(release)
        warroom = [seq_marker(event.seq, s), *_warroom_regions(release, event, kind, s)]
        board = [seq_marker(event.seq, s)]
        if kind.on_board:
            board.append(_board_regions(release, s))
        return {"warroom": "".join(warroom), "board": "".join(board)}

    def presence(self, names: list[str]) -> str:
        return render_to_string(
            "deployments/partials/rollcall.html", {"present": names, "oob": True}
        )


def render_sync(release: Release, variant: str) -> str:
    """Every live region at once, for a client that reconnected or saw a gap (the caller
    reads the release fresh; :func:`deployments.pages.sync_fragments` caches this)."""
    if variant == "board":
        s = selectors.summary(release, for_board=True)
        return seq_marker(release.last_seq, s, full=True) + _board_regions(release, s)
    s = selectors.summary(release)
    rows = checklist_selectors.checklists_with_items(release, s.per_checklist)
    ctx = {"release": release, "s": s, "oob": True}
    parts = [
        seq_marker(release.last_seq, s, full=True),
        render_to_string("deployments/partials/alerts.html", ctx),
        render_to_string("deployments/partials/summary.html", ctx),
        render_to_string("deployments/partials/timeline.html", ctx),
        render_to_string("deployments/partials/events.html", {**ctx, "events": s.recent}),
        render_to_string("checklists/partials/rollback_call.html", {**ctx, "call": s.open_call}),
        render_steps(release),
        *_gate_panels(release, s.gate_summaries),
    ]
    for row in rows:
        parts.append(_checklist_progress(row.pk, s))
        parts += [render_item(release, item, oob=True) for item in row.items]
    return "".join(parts)
