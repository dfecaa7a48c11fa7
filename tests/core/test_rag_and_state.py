"""Red / Yellow / Green and where a release stands, on a frozen clock.

Each row is a moment of the night and what the board must say then. The team release
(tests/factories.py): T0 at 22:00, window T-2h..T+6h, phases Pre-Deployment (T-2h, 2h),
Deployment Execution (T0, 2h), Validation (T+2h, 1h); the "T-1 Day" checklist is due
at T-1d, phase checklists fall due at their phase's end.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from checklists import services
from deployments import selectors
from deployments.models import Release, WarIssue
from tests.factories import team_release
from warroom import clock

T0 = datetime(2026, 12, 19, 22, 0, tzinfo=UTC)


def at(**offset) -> datetime:
    return T0 + timedelta(**offset)


def _release(**kw) -> Release:
    fields = {
        "go_live_at": T0,
        "window_start": timedelta(hours=-2),
        "window_end": timedelta(hours=6),
    }
    return Release(name="Orbit", **{**fields, **kw})


# --- release_state ---------------------------------------------------------------------
STATE_CASES = [
    # (what, now, release fields, first phase offset, expected)
    ("a day before", at(days=-1), {}, timedelta(hours=-2), "upcoming"),
    ("the window opens at T-2h", at(hours=-2), {}, timedelta(hours=-2), "in_progress"),
    ("a first phase earlier than the window", at(hours=-3), {}, timedelta(hours=-3), "in_progress"),
    (
        "no window, no phases: T0 starts it",
        at(minutes=-1),
        {"window_start": None},
        None,
        "upcoming",
    ),
    ("no window, no phases, at T0", T0, {"window_start": None}, None, "in_progress"),
    ("the window has closed", at(hours=6), {}, timedelta(hours=-2), "done"),
    ("closed early as done", at(hours=1), {"status": Release.Status.DONE}, None, "done"),
    ("rolled back", at(hours=1), {"status": Release.Status.ROLLED_BACK}, None, "done"),
    (
        "started by a GO before its slot",
        at(days=-1),
        {"status": "in_progress"},
        None,
        "in_progress",
    ),
]


@pytest.mark.parametrize(
    ("now", "fields", "first_phase", "expected"),
    [c[1:] for c in STATE_CASES],
    ids=[c[0] for c in STATE_CASES],
)
def test_release_state(now, fields, first_phase, expected):
    assert selectors.release_state(_release(**fields), now, first_phase) == expected


# --- rag_of, each reason on its own ----------------------------------------------------
def checklist(pk, *, due=None, phase_end=None):
    phase = SimpleNamespace(end_offset=phase_end) if phase_end is not None else None
    return SimpleNamespace(pk=pk, due_offset=due, phase=phase)


def progress(total, done=0, blocked=0):
    return selectors.Progress(total=total, done=done, blocked=blocked)


BASE = {
    "progress_by_list": {1: progress(3)},
    "checklists": [checklist(1, phase_end=timedelta(hours=2))],
    "open_critical": 0,
    "open_call": None,
    "latest_outcomes": set(),
    "rejected_signoffs": 0,
}
RAG_CASES = [
    ("on track", {}, "green", []),
    ("a pending rollback decision", {"open_call": object()}, "red", ["rollback decision pending"]),
    ("one critical issue", {"open_critical": 1}, "red", ["1 critical issue open"]),
    ("two critical issues", {"open_critical": 2}, "red", ["2 critical issues open"]),
    ("NO-GO decided", {"latest_outcomes": {"no_go"}}, "red", ["NO-GO decided"]),
    ("rolled back", {"status": Release.Status.ROLLED_BACK}, "red", ["rolled back"]),
    (
        "one blocked item",
        {"progress_by_list": {1: progress(3, blocked=1)}},
        "yellow",
        ["1 item blocked"],
    ),
    ("a rejected sign-off", {"rejected_signoffs": 1}, "yellow", ["1 sign-off rejected"]),
    ("two rejected sign-offs", {"rejected_signoffs": 2}, "yellow", ["2 sign-offs rejected"]),
    (
        "a checklist past its own due time",
        {"checklists": [checklist(1, due=timedelta(0))]},
        "yellow",
        ["3 items overdue"],
    ),
    ("a phase checklist past its phase's end", {"now": at(hours=3)}, "yellow", ["3 items overdue"]),
    (
        "done items are not overdue",
        {"now": at(hours=3), "progress_by_list": {1: progress(3, 3)}},
        "green",
        [],
    ),
    (
        "red reasons come first, yellow ones follow",
        {"open_critical": 1, "rejected_signoffs": 1},
        "red",
        ["1 critical issue open", "1 sign-off rejected"],
    ),
]


@pytest.mark.parametrize(
    ("change", "rag", "reasons"), [c[1:] for c in RAG_CASES], ids=[c[0] for c in RAG_CASES]
)
def test_rag_of(change, rag, reasons):
    change = dict(change)
    release = _release(status=change.pop("status", Release.Status.IN_PROGRESS))
    now = change.pop("now", at(hours=1))
    assert selectors.rag_of(**{**BASE, **change}, release=release, now=now) == (rag, reasons)


# --- the whole summary through a night, on the frozen clock ----------------------------
@pytest.mark.django_db
def test_the_board_through_the_night_on_a_frozen_clock():
    team = team_release(go_live_at=T0)
    release = team.release
    with clock.frozen_at(at(hours=-3)):
        s = selectors.summary(release)
        # The T-1 Day list is a day overdue with three items open.
        assert (s.state, s.rag, s.rag_reasons) == ("upcoming", "yellow", ["3 items overdue"])
        assert s.current is None and s.next_change_at == at(hours=-2)
    for item in release.checklists.get(name="T-1 Day").items.all():
        services.item_set_status(item=item, status="done", user=team["qa"])
    with clock.frozen_at(at(hours=-1)):
        s = selectors.summary(release)
        assert (s.state, s.rag, s.current.name) == ("in_progress", "green", "Pre-Deployment")
        assert s.next_milestone.name == "Go/No-Go" and s.next_change_at == at(minutes=-30)
    with clock.frozen_at(at(minutes=5)):
        s = selectors.summary(release)
        # Pre-Deployment ended at T0 with its four items open, and the Go/No-Go list (two
        # items) was due at T-30m: both are overdue now.
        assert (s.current.name, s.rag, s.rag_reasons) == (
            "Deployment Execution",
            "yellow",
            ["6 items overdue"],
        )
        assert s.overdue_checklist_ids == {
            release.checklists.get(name="Environment verification").pk,
            team.gate().checklist_id,
        }
    WarIssue.objects.create(
        release=release, title="Payments 500s", severity="critical", opened_at=at(minutes=6)
    )
    with clock.frozen_at(at(minutes=7)):
        s = selectors.summary(release)
        assert s.rag == "red" and s.rag_reasons[0] == "1 critical issue open"
    with clock.frozen_at(at(hours=7)):
        assert selectors.summary(release).state == "done"


@pytest.mark.django_db
def test_the_facts_of_many_releases_read_together_are_each_release_s_own():
    """The comms workers' batch read: each release's facts as its own read gives them."""
    calm, troubled = team_release(go_live_at=T0), team_release(go_live_at=T0)
    for item in troubled.release.checklists.get(name="T-1 Day").items.all()[:1]:
        services.item_set_status(
            item=item, status="blocked", note="waiting for DNS", user=troubled["qa"]
        )
    WarIssue.objects.create(
        release=troubled.release, title="Payments 500s", severity="critical", opened_at=at()
    )
    WarIssue.objects.create(
        release=troubled.release, title="Slow search", severity="high", opened_at=at()
    )
    releases = [calm.release, troubled.release]

    def facts(f):
        return (
            f.rag,
            f.rag_reasons,
            f.eta,
            f.current.name if f.current else None,
            (f.progress.total, f.progress.closed, f.progress.blocked),
            [p.name for p in f.phases],
            [c.name for c in f.checklists],
            [g.gate.name for g in f.gate_summaries],
            f.per_checklist,
        )

    with clock.frozen_at(at(minutes=5)):
        together = selectors.status_facts_of(releases)
        alone = {r.pk: selectors.status_facts(r) for r in releases}
    assert {pk: facts(f) for pk, f in together.items()} == {pk: facts(f) for pk, f in alone.items()}
    assert together[troubled.release.pk].rag_reasons == [
        "1 critical issue open",
        "1 item blocked",
        "9 items overdue",
    ]
    assert together[calm.release.pk].rag_reasons == ["9 items overdue"]
    assert [
        i.title for i in selectors.open_issues_of([r.pk for r in releases])[troubled.release.pk]
    ] == ["Payments 500s", "Slow search"]
