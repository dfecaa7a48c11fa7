"""Server-rendered fragments for htmx: rendered once per event, sent to every viewer.

The same partial templates build the pages; here they are rendered with
``hx-swap-oob`` so a websocket message swaps them in place. Viewer-specific
controls are shown or hidden by the page's own CSS (see ``controls_css``), so a
fragment never depends on who receives it.
"""

from __future__ import annotations

from dataclasses import replace

from django.template.loader import render_to_string

from checklists.models import ChecklistItem
from deployments import selectors
from deployments.models import Release
from warroom import policies
from warroom.audit import AuditEvent


def seq_marker(seq: int, *, full: bool = False) -> str:
    """Tells the client which event this message carries (``full``: the whole state)."""
    flag = " data-full" if full else ""
    return f'<span id="live-seq" data-seq="{seq}"{flag} hidden hx-swap-oob="true"></span>'


def render_item(release: Release, item: ChecklistItem, *, oob: bool = False) -> str:
    return render_to_string(
        "deployments/partials/item.html", {"item": item, "release": release, "oob": oob}
    )


def _checklist_progress(release, checklist_id, s: selectors.Summary) -> str:
    checklist = next((c for c in s.checklists if c.pk == checklist_id), None)
    if checklist is None:
        return ""
    p = s.per_checklist.get(checklist_id, selectors.Progress())
    return render_to_string(
        "deployments/partials/checklist_progress.html",
        {"checklist": checklist, "p": p, "oob": True},
    )


def render_event_fragments(event: AuditEvent) -> dict[str, str]:
    """The war-room and board fragments for one committed event."""
    release = Release.objects.get(pk=event.release_id)
    s = selectors.summary(release)
    common = {"release": release, "s": s, "oob": True}
    warroom = [
        seq_marker(event.seq),
        render_to_string("deployments/partials/summary.html", common),
        render_to_string("deployments/partials/timeline.html", common),
    ]
    line = render_to_string(
        "deployments/partials/event_line.html", {"e": event, "release": release}
    )
    warroom.append(f'<div hx-swap-oob="afterbegin:#event-list">{line}</div>')
    if event.kind == "item.status":
        item = (
            ChecklistItem.objects.select_related("owner_role", "assignee")
            .filter(pk=event.data.get("item"))
            .first()
        )
        if item is not None:
            warroom.append(render_item(release, item, oob=True))
            warroom.append(_checklist_progress(release, item.checklist_id, s))
    for g in _gates_touched(event, s):
        warroom.append(
            render_to_string(
                "checklists/partials/gate.html", {"g": g, "release": release, "oob": True}
            )
        )
    if event.kind.startswith("rollback."):
        warroom.append(
            render_to_string(
                "checklists/partials/rollback_call.html",
                {"call": s.open_call, "release": release, "oob": True},
            )
        )
    board = [seq_marker(event.seq)]
    if event.kind not in selectors.HIDDEN_ON_BOARD:
        # The board leaves refused attempts out of its "latest" list.
        board_s = replace(
            s, recent=[e for e in s.recent if e.kind not in selectors.HIDDEN_ON_BOARD]
        )
        board.append(
            render_to_string(
                "deployments/partials/board_summary.html",
                {"s": board_s, "release": release, "oob": True},
            )
        )
    return {"warroom": "".join(warroom), "board": "".join(board)}


def _gates_touched(event: AuditEvent, s: selectors.Summary) -> list:
    """Gates whose panel this event changes: a tick only touches the gate whose go/no-go
    checklist holds the item; sign-offs, decisions, rollback calls and issues touch all."""
    if event.kind == "item.status":
        checklist_id = event.data.get("checklist")
        return [g for g in s.gate_summaries if g.gate.checklist_id == checklist_id]
    if event.kind.startswith(("signoff.", "decision.", "rollback.", "issue.")):
        return s.gate_summaries
    return []


def render_sync(release: Release, variant: str) -> str:
    """Every live region at once, for a client that reconnected or saw a gap."""
    release.refresh_from_db()
    if variant == "board":
        s = selectors.summary(release, for_board=True)
        return seq_marker(release.last_seq, full=True) + render_to_string(
            "deployments/partials/board_summary.html", {"s": s, "release": release, "oob": True}
        )
    s = selectors.summary(release)
    checklists = selectors.warroom_checklists(release)
    for c in checklists:
        c.progress = s.per_checklist.get(c.pk, selectors.Progress())
    ctx = {"release": release, "s": s, "oob": True}
    parts = [
        seq_marker(release.last_seq, full=True),
        render_to_string("deployments/partials/summary.html", ctx),
        render_to_string("deployments/partials/timeline.html", ctx),
        render_to_string("deployments/partials/events.html", {**ctx, "events": s.recent}),
        render_to_string("checklists/partials/rollback_call.html", {**ctx, "call": s.open_call}),
    ]
    parts += [
        render_to_string("checklists/partials/gate.html", {**ctx, "g": g}) for g in s.gate_summaries
    ]
    for c in checklists:
        parts.append(_checklist_progress(release, c.pk, s))
        parts += [render_item(release, item, oob=True) for item in c.item_rows]
    return "".join(parts)


def controls_css(st: policies.Standing, release: Release) -> str:
    """CSS that shows this viewer the controls they may use (the server checks again)."""
    rules = []
    if st.is_superuser or st.is_release_manager:
        rules.append(".item .controls")
    else:
        if st.is_member:
            rules.append(".item.owner-none .controls")
        rules += [f".item.owner-{rid} .controls" for rid in sorted(st.role_ids)]
    authority = st.is_superuser or st.is_release_manager
    if st.is_superuser:
        rules += [".signoff-controls", ".decide"]
    else:
        rules += [f".signoff-role-{rid}" for rid in sorted(st.role_ids)]
        for g in release.gates.prefetch_related("decision_roles"):
            deciding = {r.pk for r in g.decision_roles.all()}
            if (deciding & st.role_ids) or (not deciding and st.is_release_manager):
                rules.append(f".decide-gate-{g.pk}")
                authority = True
    if authority:
        rules.append(".decide-rollback")
    if authority or st.is_member:
        rules.append(".raise-rollback")
    return ",".join(rules) + "{display:revert}" if rules else ""
