"""The war room's and board's bodies: rendered once per state of a release, then reused.

What these pages show depends only on the release's recorded events (its audit head),
its T0 and the clock's boundaries (a phase starting, a checklist falling due). The
parts that depend on the viewer (which controls show, "my items") stay outside the
body. So a body is rendered once per (release, audit head, T0) and served from the
cache until the clock next changes it — or a minute has passed, for the countdowns
and the ETA — instead of running the summary's queries and 300 item rows per viewer.
When a whole team opens the war room at T-0, only the first request renders: the
others (each request has its own thread under ASGI) wait for that rendering instead
of rendering the same body side by side.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.core.cache import cache
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from checklists import selectors as checklist_selectors
from deployments import broadcast, selectors
from deployments.models import Release
from warroom import clock

FRESH_FOR = timedelta(seconds=60)  # countdown texts and the ETA move with the minute
KEEP_FOR = 600  # seconds a body stays in the cache at most (a new event makes a new key)


# One lock per body being rendered in this process (the cache is per process too).
_rendering: dict[str, threading.RLock] = {}
_rendering_guard = threading.Lock()


def _fresh(key: str, now: datetime) -> str | None:
    hit = cache.get(key)
    if hit is not None and now.timestamp() < hit[0]:
        return mark_safe(hit[1])  # rendered by our own templates, escaped there
    return None


def _cached(release: Release, name: str, render: Callable[[datetime], tuple[str, datetime | None]]):
    key = (
        f"page:{name}:{release.pk}:{release.last_seq}:{release.last_hash[:16]}:"
        f"{release.go_live_at.timestamp()}"
    )
    html = _fresh(key, clock.now())
    if html is not None:
        return html
    # A miss: one request renders, those asking for the same body meanwhile wait for it.
    with _rendering_guard:
        lock = _rendering.setdefault(key, threading.RLock())
    with lock:
        try:
            now = clock.now()
            html = _fresh(key, now)
            if html is not None:
                return html
            html, next_change = render(now)
            fresh_until = now + FRESH_FOR
            if next_change is not None:
                fresh_until = min(fresh_until, next_change)
            cache.set(key, (fresh_until.timestamp(), html), KEEP_FOR)
            return html
        finally:
            with _rendering_guard:
                if _rendering.get(key) is lock:
                    del _rendering[key]


def gate_deciders(release: Release) -> dict[int, set[int]]:
    """Each gate's decision roles (gate id -> role ids), as of the release's audit head."""
    key = f"deciders:{release.pk}:{release.last_seq}:{release.last_hash[:16]}"
    found = cache.get(key)
    if found is None:
        found = {g.pk: set() for g in checklist_selectors.gates(release)}
        for gate_id, role_id in checklist_selectors.gate_decision_roles(release):
            found[gate_id].add(role_id)
        cache.set(key, found, KEEP_FOR)
    return found


@dataclass
class PhaseGroup:
    """Checklists that follow each other under one phase (or under none: "Before T0")."""

    phase: object | None
    label: str
    rows: list = field(default_factory=list)


def phase_groups(rows: list, gate_checklists: set[int]) -> list[PhaseGroup]:
    """The war room's checklists grouped by phase, in their order; checklists of no phase
    are grouped as pre-deployment or go/no-go checklists."""
    groups: list[PhaseGroup] = []
    for row in rows:
        phase = row.checklist.phase
        if phase is None:
            label = "Go/no-go checklists" if row.pk in gate_checklists else "Before go-live"
        else:
            label = phase.name
        if not groups or groups[-1].phase != phase or groups[-1].label != label:
            groups.append(PhaseGroup(phase, label))
        groups[-1].rows.append(row)
    return groups


def warroom_body(release: Release) -> str:
    """Everything in the war room's main column and sides, for every viewer alike."""

    def render(now: datetime) -> tuple[str, datetime | None]:
        s = selectors.summary(release, now=now)
        rows = checklist_selectors.checklists_with_items(release, s.per_checklist)
        gate_lists = {g.gate.checklist_id for g in s.gate_summaries if g.gate.checklist_id}
        ctx = {
            "release": release,
            "s": s,
            "gates": s.gate_summaries,
            "groups": phase_groups(rows, gate_lists),
            **broadcast.engine_context(release, now),
        }
        return render_to_string("deployments/partials/warroom_body.html", ctx), s.next_change_at

    return _cached(release, "warroom", render)


def _board_body(release: Release, now: datetime) -> tuple[str, datetime | None]:
    """The board's tiles (RAG, phase, progress, next milestone, gates, latest events)."""
    s = selectors.summary(release, now=now, for_board=True)
    html = render_to_string("deployments/partials/board_body.html", {"release": release, "s": s})
    return html, s.next_change_at


# Where a cached page has what differs per request: the server's clock (for the page's
# clocks) and the CSRF token (per visitor). Neither contains characters HTML escapes.
NOW_MARK = "@@warroom-server-now@@"
CSRF_MARK = "@@warroom-csrf-token@@"


def board_page(request: HttpRequest, release: Release, *, ws_url: str, sync_url: str) -> str:
    """The whole board page, rendered once per state of the release and way in (signed in,
    or the board link): a repeat visit costs no template rendering, only the clock and
    the visitor's CSRF token filled in. The board shows nothing that depends on who looks
    (no top bar, no controls), so every visitor of the same way in gets the same bytes.
    """

    def render(now: datetime) -> tuple[str, datetime | None]:
        body, next_change = _board_body(release, now)
        ctx = {
            "release": release,
            "body": mark_safe(body),  # rendered by our own templates, escaped there
            "ws_url": ws_url,
            "sync_url": sync_url,
            "server_now_mark": NOW_MARK,
            "csrf_token": CSRF_MARK,
        }
        return render_to_string("deployments/board.html", ctx), next_change

    way_in = hashlib.sha256(f"{ws_url} {sync_url}".encode()).hexdigest()[:16]
    html = _cached(release, f"board-page:{way_in}", render)
    return html.replace(NOW_MARK, clock.now().isoformat(), 1).replace(
        CSRF_MARK, get_token(request), 1
    )


def sync_fragments(release: Release, variant: str) -> str:
    """Every live region of the war room or board (for a reconnect or a gap), read fresh.

    A server restart reconnects every viewer at once: they all get one rendering.
    """
    release.refresh_from_db()
    variant = "board" if variant == "board" else "warroom"

    def render(now: datetime) -> tuple[str, datetime | None]:
        return broadcast.render_sync(release, variant), None

    return _cached(release, f"sync-{variant}", render)
