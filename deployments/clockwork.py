"""The clock as an actor: what falls due by time alone is recorded as events.

A phase starting or ending, T0, the deployment window opening or closing, a checklist
falling due with items still open, a gate reaching its time undecided, a rollback
decision clock running out — none of these is anybody's action, yet every page must
change when they happen. :func:`record_due` (run by beat's tick) records each such
moment once, as an event "by the clock", so every open war room and board updates by
itself, on time to the tick interval.

Each moment is keyed (kind, object, planned time) in :class:`ClockMark`; the key is
written in the same transaction as the event under the release's row lock, so two
workers, or a tick repeated after a restart, record it once. Moving T0 gives the
moments new keys: they are recorded again when the new times come. Moments that were
already past when the release was created are marked silently (importing last week's
runbook does not replay last week).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Q

from checklists import selectors as checklist_selectors
from checklists.selectors import checklist_due_offset
from deployments.models import ClockMark, ClockWatch, Release
from warroom import events
from warroom.audit import AuditEvent

logger = logging.getLogger(__name__)

CLOCK = "clock"  # the actor label of these events
# Releases whose T0 lies in this span around now are watched by the tick.
WATCH_BEFORE = timedelta(days=60)
WATCH_AFTER = timedelta(days=7)


@dataclass(frozen=True)
class Moment:
    """A point on the release's plan that changes what the pages show."""

    key: str
    at: datetime
    kind: str
    data: dict = field(default_factory=dict)
    # Recorded only when this holds at the time of recording (e.g. items still open).
    matters: bool = True


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def moments(release: Release, *, detail: bool = True) -> list[Moment]:
    """Every moment on the release's plan, in time order (one query per table).

    Without ``detail`` only the keys and times are right (no progress or gate states are
    read): enough to tell whether anything is due, for a fraction of the queries."""
    t0 = release.go_live_at
    found: list[Moment] = [Moment(f"release.t0:{_ts(t0)}", t0, "release.t0_reached")]
    for name, offset in (("opened", release.window_start), ("closed", release.window_end)):
        if offset is not None:
            at = t0 + offset
            found.append(Moment(f"window.{name}:{_ts(at)}", at, f"release.window_{name}"))
    phases = list(release.phases.all())
    for p in phases:
        data = {"phase": p.pk, "name": p.name}
        if p.start_offset is not None:
            at = t0 + p.start_offset
            found.append(Moment(f"phase.started:{p.pk}:{_ts(at)}", at, "phase.started", data))
        if p.end_offset is not None:
            at = t0 + p.end_offset
            found.append(Moment(f"phase.ended:{p.pk}:{_ts(at)}", at, "phase.ended", data))
    found += _checklist_moments(release, {p.pk: p for p in phases}, detail=detail)
    found += _gate_moments(release, detail=detail)
    call = checklist_selectors.open_rollback_call(release)
    if call is not None:
        data = {"call": call.pk, "reason": call.reason}
        found.append(
            Moment(f"rollback.expired:{call.pk}", call.decide_by, "rollback.expired", data)
        )
    return sorted(found, key=lambda m: m.at)


def _checklist_moments(release: Release, phases: dict, *, detail: bool = True) -> list[Moment]:
    per = checklist_selectors.checklist_progress(release) if detail else {}
    found = []
    for c in release.checklists.all():
        c.phase = phases.get(c.phase_id) if c.phase_id else None
        due = checklist_due_offset(c)
        if due is None:
            continue
        at = release.go_live_at + due
        p = per.get(c.pk)
        open_items = (p.total - p.closed) if p else 0
        data = {"checklist": c.pk, "name": c.name, "open": open_items}
        key = f"checklist.overdue:{c.pk}:{_ts(at)}"
        found.append(Moment(key, at, "checklist.overdue", data, matters=open_items > 0))
    return found


def _gate_moments(release: Release, *, detail: bool = True) -> list[Moment]:
    found = []
    if not detail:
        for gate in checklist_selectors.gates(release):
            if gate.at_offset is not None:
                at = release.go_live_at + gate.at_offset
                found.append(Moment(f"gate.late:{gate.pk}:{_ts(at)}", at, "gate.late"))
        return found
    for g in checklist_selectors.gate_states(release):
        if g.gate.at_offset is None:
            continue
        at = release.go_live_at + g.gate.at_offset
        data = {"gate": g.gate.pk, "name": g.gate.name, "blockers": g.blockers}
        key = f"gate.late:{g.gate.pk}:{_ts(at)}"
        found.append(Moment(key, at, "gate.late", data, matters=g.decision is None))
    return found


@dataclass
class Checked:
    """What one look at a release found: events recorded, and when its next moment is."""

    recorded: int
    next_at: datetime | None


def _unseen(release: Release) -> list[Moment]:
    seen = set(ClockMark.objects.filter(release=release).values_list("key", flat=True))
    return [m for m in moments(release, detail=False) if m.key not in seen]


def check(release: Release, now: datetime) -> Checked:
    """Record what has come by ``now`` (see :func:`record_due`); first without the
    release's lock, so a release with nothing due takes no write lock at all."""
    unseen = _unseen(release)
    if any(m.at <= now for m in unseen):
        recorded = record_due(release, now)
        unseen = _unseen(release)
    else:
        recorded = 0
    return Checked(recorded, min((m.at for m in unseen if m.at > now), default=None))


def record_due(release: Release, now: datetime) -> int:
    """Record the release's moments that have come by ``now`` and were not yet; return
    how many events were recorded."""
    recorded = 0
    with transaction.atomic():
        events.lock_head(release)
        release.refresh_from_db()
        seen = set(ClockMark.objects.filter(release=release).values_list("key", flat=True))
        for m in moments(release):
            if m.at > now or m.key in seen:
                continue
            ClockMark.objects.create(release=release, key=m.key, at=m.at, seen_at=now)
            if m.at < release.created_at or not m.matters:
                continue  # past before the release existed, or nothing left to say
            late_by = int((now - m.at).total_seconds())
            data = {**m.data, "due_at": m.at.isoformat(), "late_by_s": late_by}
            events.record(release, m.kind, actor_label=CLOCK, data=data)
            recorded += 1
    return recorded


def watched_releases(now: datetime):
    """Releases the clock keeps: not closed, T0 within the watched span around now."""
    closed = [Release.Status.DONE, Release.Status.ROLLED_BACK, Release.Status.CANCELLED]
    return Release.objects.exclude(status__in=closed).filter(
        go_live_at__gte=now - WATCH_AFTER, go_live_at__lte=now + WATCH_BEFORE
    )


# Per process: release -> (its state, its next moment, when we looked, epoch seconds). A
# release whose state has not moved (every change to it records an event, moving
# last_seq) and whose next moment has not come is not looked at again; at least every
# RECHECK anyway. What a look found is shared with the other processes through
# ClockWatch rows: a process that has not looked at a release yet (a worker process's
# first tick after many releases' T0 moved) reads them, all in one query.
_next_moment: dict[int, tuple[tuple, datetime | None, float]] = {}
RECHECK_SECONDS = 300.0


def _state(release: Release) -> tuple:
    return (release.created_at, release.go_live_at, release.last_seq)


#: Apps above this one in the layers: they change a release's plan only through this
#: app's and checklists' services, which record their own kinds, so their own events
#: (messages sent, pages) never move a moment.
ABOVE = frozenset({"notifications"})


def _moments_unmoved(release: Release, known: tuple, kinds: set[str] | None = None) -> bool:
    """Whether every event since ``known`` was one that cannot move a moment (``kinds``:
    the kinds of those events, when read already)."""
    if known[:2] != _state(release)[:2]:
        return False
    if kinds is None:
        kinds = _kinds_since({release.pk: known[2]}).get(release.pk, set())
    declared = events.declared()
    return all(k in declared and declared[k].owner in ABOVE for k in kinds)


#: Releases whose events since a sequence number are read in one query.
KINDS_CHUNK = 200


def _kinds_since(since: dict[int, int]) -> dict[int, set[str]]:
    """The kinds of each release's events after its sequence number ``since[pk]``: one
    query per :data:`KINDS_CHUNK` releases."""
    found: dict[int, set[str]] = {}
    items = list(since.items())
    for start in range(0, len(items), KINDS_CHUNK):
        after = Q()
        for pk, seq in items[start : start + KINDS_CHUNK]:
            after |= Q(release_id=pk, seq__gt=seq)
        rows = AuditEvent.objects.filter(after).order_by().values_list("release_id", "kind")
        for pk, kind in rows.distinct():
            found.setdefault(pk, set()).add(kind)
    return found


def _waiting(watched: list[Release], now: datetime) -> tuple[dict, dict[int, set[str]]]:
    """The releases whose next moment has not come and that were looked at lately (what
    is known of each), and the kinds of the events since of those with new events and
    their times unmoved — read for them all in one query (a comms worker's batch moves
    many releases' sequences at once)."""
    waiting = {}
    for release in watched:
        known = _next_moment.get(release.pk)
        if (
            known is not None
            and (known[1] is None or known[1] > now)
            and time.time() - known[2] < RECHECK_SECONDS
        ):
            waiting[release.pk] = known
    moved = {}
    for release in watched:
        state, known = _state(release), waiting.get(release.pk)
        if known is not None and known[0] != state and known[0][:2] == state[:2]:
            moved[release.pk] = known[0][2]
    return waiting, _kinds_since(moved)


def _read_shared(watched: list[Release]) -> None:
    """What other processes found of the watched releases this one has not looked at:
    one query."""
    unknown = {r.pk: r for r in watched if r.pk not in _next_moment}
    if not unknown:
        return
    for w in ClockWatch.objects.filter(release_id__in=list(unknown)):
        release = unknown[w.release_id]
        state = (release.created_at, w.go_live_at, w.last_seq)
        _next_moment[w.release_id] = (state, w.next_at, w.looked_at)


def _write_shared(looked: list[int]) -> None:
    """What this tick's looks found, for the other processes: one statement."""
    rows = [
        ClockWatch(
            release_id=pk,
            go_live_at=_next_moment[pk][0][1],
            last_seq=_next_moment[pk][0][2],
            next_at=_next_moment[pk][1],
            looked_at=_next_moment[pk][2],
        )
        for pk in looked
        if pk in _next_moment
    ]
    if rows:
        ClockWatch.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["release"],
            update_fields=["go_live_at", "last_seq", "next_at", "looked_at"],
        )


def record_all_due(now: datetime) -> int:
    """The tick's job: every watched release whose next moment may have come, each in
    its own transaction."""
    total = 0
    watched = list(watched_releases(now).order_by("pk"))
    _read_shared(watched)
    waiting, kinds = _waiting(watched, now)
    looked: list[int] = []
    for release in watched:
        known = waiting.get(release.pk)
        if known is not None:
            if known[0] == _state(release):
                continue
            if _moments_unmoved(release, known[0], kinds.get(release.pk, set())):
                _next_moment[release.pk] = (_state(release), known[1], known[2])
                continue
        try:
            found = check(release, now)
        except Exception:
            _next_moment.pop(release.pk, None)
            logger.exception("clock events of release %s failed; next tick retries", release.pk)
            continue
        total += found.recorded
        if found.recorded:
            _next_moment.pop(release.pk, None)  # its sequence moved: look again next tick
        else:
            _next_moment[release.pk] = (_state(release), found.next_at, time.time())
            looked.append(release.pk)
    try:
        _write_shared(looked)
    except Exception:  # each process still has its own; the others look for themselves
        logger.exception("the clock's findings of %d releases were not shared", len(looked))
    if len(_next_moment) > 4 * len(watched) + 100:
        keep = {r.pk for r in watched}
        for pk in [pk for pk in _next_moment if pk not in keep]:
            del _next_moment[pk]
    return total
