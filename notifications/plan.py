"""When a comms rule falls due: its triggers and its time schedule.

A rule has an offset trigger (once, at T0 + ``at_offset``), a repeating trigger (every
``interval`` inside the deployment window, from ``at_offset`` when given, else one
interval after the window opens) or an event trigger (``event_kinds``, or the kinds its
imported ``milestone`` names). The time schedule is a pure function of the release's
times, so ``next_due_at`` can be recomputed after T0 moves.
"""

from __future__ import annotations

from datetime import datetime, timedelta

#: What the importer's milestone words mean as event kinds.
MILESTONE_KINDS: dict[str, tuple[str, ...]] = {
    "go_live": ("release.t0_reached",),
    "go_decision": ("decision.recorded",),
    "rollback": ("rollback.raised", "rollback.decided"),
    "issue": ("issue.opened",),
    "completion": ("release.window_closed", "release.closed"),
    "phase_started": ("phase.started",),
    "phase_completed": ("phase.ended",),
}


def triggers(rule) -> tuple[str, ...]:
    """The event kinds that fire ``rule`` (none for a time-only rule)."""
    if rule.event_kinds:
        return tuple(rule.event_kinds)
    if rule.interval is not None or (rule.at_offset is not None and not rule.milestone):
        return ()
    return MILESTONE_KINDS.get(rule.milestone, ())


def is_timed(rule) -> bool:
    return not triggers(rule) and (rule.interval is not None or rule.at_offset is not None)


def window(release) -> tuple[datetime, datetime]:
    """The deployment window (T0 to T0 + 6h when the runbook gives none)."""
    t0 = release.go_live_at
    start = t0 + (release.window_start if release.window_start is not None else timedelta(0))
    end = t0 + (release.window_end if release.window_end is not None else timedelta(hours=6))
    return start, end


def occurrences(rule, release) -> tuple[datetime | None, timedelta | None, datetime | None]:
    """``(first, step, last)`` of a timed rule; ``step`` is None for a one-off."""
    t0 = release.go_live_at
    if rule.interval is None or rule.interval <= timedelta(0):
        at = t0 + rule.at_offset if rule.at_offset is not None else None
        return at, None, at
    start, end = window(release)
    first = t0 + rule.at_offset if rule.at_offset is not None else start + rule.interval
    first = max(first, start)
    return first, rule.interval, end


def latest_due(rule, release, now: datetime) -> datetime | None:
    """The latest occurrence at or before ``now`` (catch-up sends only this one)."""
    first, step, last = occurrences(rule, release)
    if first is None or first > now:
        return None
    if step is None or last is None:
        return first
    n = int((min(now, last) - first) / step)
    return first + n * step


def next_after(rule, release, moment: datetime) -> datetime | None:
    """The first occurrence strictly after ``moment``, or None when there is none."""
    first, step, last = occurrences(rule, release)
    if first is None or last is None:
        return None
    if first > moment:
        return first
    if step is None:
        return None
    n = int((moment - first) / step) + 1
    at = first + n * step
    return at if at <= last else None
