"""Reads for the war room and the board, in a constant number of queries.

A release with 300 items costs the same queries as one with 3: counts come from
one aggregate, rows from one query per table with their relations joined.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Min, Q

from checklists import selectors as checklist_selectors
from checklists.selectors import ChecklistKind, Outcome, Progress, checklist_due_offset
from deployments.issues import issue_rows
from deployments.models import (
    EngineRequest,
    Phase,
    PipelineToken,
    Release,
    Step,
    StepRun,
    WarIssue,
)
from warroom import clock, events, sqlbatch
from warroom.audit import AuditEvent

RECENT_EVENTS = 12
#: The comms app's kind for "a message reached its audience" (the latest is shown).
UPDATE_SENT_KIND = "comms.update_sent"
MILESTONES_SHOWN = 8


def milestone_kinds() -> set[str]:
    """Kinds that tell the story of the night (phases, decisions, rollbacks), kept apart
    from the stream of ticks on the board."""
    return {name for name, kind in events.declared().items() if kind.milestone}


def hidden_on_board() -> set[str]:
    """Event kinds the board's "latest" list leaves out (refused attempts, say)."""
    return {name for name, kind in events.declared().items() if not kind.on_board}


@dataclass
class Milestone:
    name: str
    at: datetime
    offset: timedelta


@dataclass
class Alert:
    """Something nobody may miss until it is handled: it stays on every page of the
    release (war room, board, release list) and in the tab title."""

    kind: str  # "rollback" | "rollback_overdue" | "gate_late"
    text: str
    deadline: datetime | None = None  # counts down to it, then up past it


def alerts_of(now: datetime, open_call, gate_summaries, release: Release) -> list[Alert]:
    found = []
    if open_call is not None:
        if now < open_call.decide_by:
            text = f"Rollback trigger raised: {open_call.reason} — decide within"
            found.append(Alert("rollback", text, open_call.decide_by))
        else:
            text = f"Rollback decision overdue: {open_call.reason} —"
            found.append(Alert("rollback_overdue", text, open_call.decide_by))
    if release.is_closed:
        return found
    for g in gate_summaries:
        if g.gate.at_offset is None or g.decision is not None:
            continue
        due = release.go_live_at + g.gate.at_offset
        if due <= now:
            waiting = (
                f"awaiting {' + '.join(r.name for r in g.proposal.awaiting)}"
                if g.proposal
                else (f"{g.approved}/{g.required} sign-offs, {g.open_item_count} items open")
            )
            found.append(
                Alert("gate_late", f"{g.gate.name} is late and undecided ({waiting}) —", due)
            )
    return found


@dataclass
class Summary:
    """What the board shows: one release at a glance."""

    release: Release
    now: datetime
    phases: list[Phase]
    current: Phase | None
    progress: Progress
    per_checklist: dict[int, Progress]
    rag: str
    rag_reasons: list[str]
    next_milestone: Milestone | None
    eta: datetime | None
    recent: list[AuditEvent]
    open_call: object | None  # checklists' RollbackCall
    state: str  # "upcoming" | "in_progress" | "done"
    checklists: list = field(default_factory=list)  # checklists' Checklist rows
    gate_summaries: list = field(default_factory=list)
    next_change_at: datetime | None = None
    eta_slip: timedelta = timedelta(0)
    alerts: list[Alert] = field(default_factory=list)
    milestones: list[AuditEvent] = field(default_factory=list)
    issues: list = field(default_factory=list)  # open issues (deployments.issues.IssueRow)
    steps: StepsTile | None = None  # the engine's running (or last run) phase
    last_update: AuditEvent | None = None  # the latest message that reached its audience

    @property
    def overdue_checklist_ids(self) -> set[int]:
        """Checklists past their due time with items still open (shown red)."""
        offset = self.t_offset
        late = set()
        for c in self.checklists:
            due = checklist_due_offset(c)
            p = self.per_checklist.get(c.pk)
            if due is not None and due < offset and p is not None and p.closed < p.total:
                late.add(c.pk)
        return late

    @property
    def t_offset(self) -> timedelta:
        return self.now - self.release.go_live_at

    @property
    def before_t0(self) -> bool:
        return self.now < self.release.go_live_at

    @property
    def current_anchor(self) -> str:
        """Where the page's "Now" link goes: the current phase's checklists, else its
        place on the timeline."""
        if self.current is None:
            return ""
        if any(c.phase_id == self.current.pk for c in self.checklists):
            return f"phase-{self.current.pk}"
        return f"timeline-phase-{self.current.pk}"


def current_phase(release: Release, phases: list[Phase], now: datetime) -> Phase | None:
    """The active phase if one is marked so, else the phase whose planned slot holds now."""
    for phase in phases:
        if phase.status == Phase.Status.ACTIVE:
            return phase
    offset = now - release.go_live_at
    current, current_start = None, None
    for phase in phases:
        start, end = phase.start_offset, phase.end_offset
        if start is None or start > offset or (end is not None and offset >= end):
            continue
        # Phases nest (T-2h block and its 15-minute slots): the latest start wins.
        if current_start is None or start >= current_start:
            current, current_start = phase, start
    return current


def release_state(release: Release, now: datetime, first_phase: timedelta | None = None) -> str:
    """ "upcoming", "in_progress" or "done". A release is under way from the earliest of
    its first phase, its deployment window and T0 (the T-2h phase starts the night)."""
    if release.is_closed:
        return "done"
    if release.status == Release.Status.IN_PROGRESS:
        return "in_progress"
    starts = [timedelta(0)] + [o for o in (release.window_start, first_phase) if o is not None]
    start = release.go_live_at + min(starts)
    end = release.window_ends_at
    if now < start:
        return "upcoming"
    if end is not None and now >= end:
        return "done"
    return "in_progress"


def _next_milestone(release, phases, gates, checklists, now) -> Milestone | None:
    offset = now - release.go_live_at
    candidates: list[tuple[timedelta, str]] = [(timedelta(0), "Go-live (T0)")]
    candidates += [(p.start_offset, p.name) for p in phases if p.start_offset is not None]
    candidates += [(g.at_offset, g.name) for g in gates if g.at_offset is not None]
    candidates += [
        (c.due_offset, f"{c.name} due")
        for c in checklists
        if c.due_offset is not None and c.kind == ChecklistKind.PRE_DEPLOYMENT
    ]
    if release.window_end is not None:
        candidates.append((release.window_end, "Deployment window closes"))
    upcoming = sorted((o, n) for o, n in candidates if o > offset)
    if not upcoming:
        return None
    o, n = upcoming[0]
    return Milestone(n, release.go_live_at + o, o)


def next_change_at(release: Release, phases, gates, checklists, now: datetime) -> datetime | None:
    """The next moment the page changes by the clock alone: a phase starts or ends, a
    checklist or gate falls due, T0, the window opens or closes. Pages re-read their
    state then, so what they show never depends on the viewer's own clock."""
    boundaries = [timedelta(0), release.window_start, release.window_end]
    for p in phases:
        boundaries += [p.start_offset, p.end_offset]
    boundaries += [g.at_offset for g in gates]
    boundaries += [checklist_due_offset(c) for c in checklists]
    offset = now - release.go_live_at
    upcoming = [b for b in boundaries if b is not None and b > offset]
    return release.go_live_at + min(upcoming) if upcoming else None


def eta_slip(progress_by_list, checklists, offset: timedelta) -> timedelta:
    """How far behind the plan the night's work runs: the lateness of the oldest work of
    the deployment itself (phase and go/no-go checklists, not the weeks-before lists)
    that is past due with items still open."""
    slip = timedelta(0)
    for c in checklists:
        if c.kind == ChecklistKind.PRE_DEPLOYMENT:
            continue
        due = checklist_due_offset(c)
        p = progress_by_list.get(c.pk)
        if due is not None and due < offset and p and p.closed < p.total:
            slip = max(slip, offset - due)
    return slip


def _eta(
    release: Release,
    phases: list[Phase],
    current: Phase | None,
    now: datetime,
    slip: timedelta = timedelta(0),
):
    """Planned end, pushed back by late work or by the current phase running over."""
    ends = [p.end_offset for p in phases if p.end_offset is not None]
    if not ends:
        return release.window_ends_at
    planned_end = release.go_live_at + max(ends)
    if release.is_closed:
        return release.finished_at or planned_end
    delay = slip
    if current is not None and current.end_offset is not None:
        overrun = now - (release.go_live_at + current.end_offset)
        if overrun > delay and current.status != Phase.Status.DONE:
            delay = overrun
    return planned_end + delay


def _count(n: int, noun: str, tail: str) -> str:
    return f"{n} {noun}{'s' if n > 1 else ''} {tail}"


def overdue_items(progress_by_list, checklists, offset: timedelta) -> int:
    """Open items of checklists past their due time (their own, else their phase's end)."""
    overdue = 0
    for c in checklists:
        due = checklist_due_offset(c)
        p = progress_by_list.get(c.pk)
        if due is not None and due < offset and p and p.closed < p.total:
            overdue += p.total - p.closed
    return overdue


def rag_of(
    *,
    progress_by_list,
    checklists,
    release,
    now,
    open_critical: int,
    open_call,
    latest_outcomes,
    rejected_signoffs: int,
) -> tuple[str, list[str]]:
    """Red / Yellow / Green, with the reasons a person would give (red ones first)."""
    red = [
        reason
        for reason, holds in (
            ("rollback decision pending", open_call is not None),
            (_count(open_critical, "critical issue", "open"), open_critical > 0),
            ("NO-GO decided", Outcome.NO_GO in latest_outcomes),
            ("rolled back", release.status == Release.Status.ROLLED_BACK),
        )
        if holds
    ]
    blocked = sum(p.blocked for p in progress_by_list.values())
    overdue = overdue_items(progress_by_list, checklists, now - release.go_live_at)
    yellow = [
        _count(n, noun, tail)
        for n, noun, tail in (
            (blocked, "item", "blocked"),
            (overdue, "item", "overdue"),
            (rejected_signoffs, "sign-off", "rejected"),
        )
        if n > 0
    ]
    if red:
        return "red", red + yellow
    if yellow:
        return "yellow", yellow
    return "green", []


def summary(release: Release, *, now: datetime | None = None, for_board: bool = False) -> Summary:
    """Everything the board shows for ``release`` (a fixed number of queries)."""
    now = now or clock.now()
    f = status_facts(release, now=now)
    phases, checklists, gate_summaries = f.phases, f.checklists, f.gate_summaries
    gates = [g.gate for g in gate_summaries]
    current, open_call, per, slip = f.current, f.open_call, f.per_checklist, f.eta_slip
    progress, rag, reasons = f.progress, f.rag, f.rag_reasons
    open_issues = issue_rows(release, now, open_only=True)
    steps = steps_tile(release, phases, now)
    log = AuditEvent.objects.filter(release=release)
    if for_board:
        log = log.exclude(kind__in=hidden_on_board())
    recent = list(log.order_by("-seq")[:RECENT_EVENTS])
    milestones = list(
        AuditEvent.objects.filter(release=release, kind__in=milestone_kinds()).order_by("-seq")[
            :MILESTONES_SHOWN
        ]
    )
    last_update = (
        AuditEvent.objects.filter(release=release, kind=UPDATE_SENT_KIND).order_by("-seq").first()
    )
    return Summary(
        release=release,
        now=now,
        last_update=last_update,
        phases=phases,
        current=current,
        progress=progress,
        per_checklist=per,
        rag=rag,
        rag_reasons=reasons,
        next_milestone=_next_milestone(release, phases, gates, checklists, now),
        eta=f.eta,
        eta_slip=slip,
        alerts=alerts_of(now, open_call, gate_summaries, release),
        milestones=milestones,
        issues=open_issues,
        steps=steps,
        recent=recent,
        open_call=open_call,
        state=release_state(
            release,
            now,
            min((p.start_offset for p in phases if p.start_offset is not None), default=None),
        ),
        checklists=checklists,
        gate_summaries=gate_summaries,
        next_change_at=_earliest(
            next_change_at(release, phases, gates, checklists, now),
            # an open issue's response target passing marks it on the board
            *(
                r.issue.respond_by
                for r in open_issues
                if r.waiting and r.issue.respond_by and r.issue.respond_by > now
            ),
        ),
    )


@dataclass
class StatusFacts:
    """What a status update says about a release (phase, RAG with its reasons, progress,
    ETA) and the rows they come from: the part of :class:`Summary` read with only the
    queries it needs, since the comms workers compose one per message."""

    phases: list[Phase]
    checklists: list
    gate_summaries: list
    per_checklist: dict[int, Progress]
    progress: Progress
    current: Phase | None
    open_call: object | None
    eta_slip: timedelta
    rag: str
    rag_reasons: list[str]
    eta: datetime | None
    # The open issues, oldest first, where the read took them: status_facts_of does (a
    # status update lists them); the board reads its own, with their response targets.
    open_issues: list[WarIssue] | None = None


def status_facts(release: Release, *, now: datetime | None = None) -> StatusFacts:
    """The facts of a status update, as the board computes them (without its event lists,
    issues, steps and alerts)."""
    now = now or clock.now()
    checklists = list(release.checklists.all())
    return _status_facts(
        release,
        now,
        phases=list(release.phases.all()),
        checklists=checklists,
        gate_summaries=checklist_selectors.gate_states(release),
        per=checklist_selectors.checklist_progress(release),
        open_call=checklist_selectors.open_rollback_call(release),
        open_critical=release.issues.blocking_go().count(),
    )


def status_facts_of(
    releases: list[Release], *, now: datetime | None = None
) -> dict[int, StatusFacts]:
    """:func:`status_facts` of many releases at once (the comms workers' batch), by release
    id, with each release's open issues (a status update lists them): one statement per
    table for them all, written out and sent in one round trip on PostgreSQL (the ORM
    took longer to build them than the database to run them), and the gates' states read
    per release only for the releases that have gates."""
    now = now or clock.now()
    ids = [r.pk for r in releases]
    if not ids:
        return {}
    marks = ", ".join(["%s"] * len(ids))
    phases_sql, issues_sql = _status_sql(connection.vendor)
    checklist_reads = checklist_selectors.release_checklist_reads(ids)
    phase_result, issue_result, *checklist_results = sqlbatch.run(
        [
            sqlbatch.Statement(phases_sql.replace("{ids}", marks), ids),
            sqlbatch.Statement(issues_sql.replace("{ids}", marks), [*ids, WarIssue.Status.OPEN]),
            *checklist_reads,
        ]
    )
    phases: dict[int, list[Phase]] = {pk: [] for pk in ids}
    for row in phase_result.rows:
        phase = sqlbatch.instance(Phase, row)
        phases[phase.release_id].append(phase)
    issues: dict[int, list[WarIssue]] = {pk: [] for pk in ids}
    for row in issue_result.rows:
        issue = sqlbatch.instance(WarIssue, row)
        issues[issue.release_id].append(issue)
    found = checklist_selectors.release_checklists(ids, checklist_results)
    facts = {}
    for r in releases:
        checklists, per = found.checklists[r.pk], found.progress
        facts[r.pk] = _status_facts(
            r,
            now,
            phases=phases[r.pk],
            checklists=checklists,
            gate_summaries=checklist_selectors.gate_states(r) if r.pk in found.gated else [],
            per={c.pk: per[c.pk] for c in checklists if c.pk in per},
            open_call=found.open_calls.get(r.pk),
            # open critical issues: those that block GO (WarIssue.objects.blocking_go())
            open_critical=sum(i.severity == WarIssue.Severity.CRITICAL for i in issues[r.pk]),
        )
        facts[r.pk].open_issues = issues[r.pk]
    return facts


@functools.cache
def _status_sql(vendor: str) -> tuple[str, str]:
    """The releases' phases in order, and their open issues oldest first."""
    q = sqlbatch.q
    release_id = q("release_id")
    return (
        f"SELECT {sqlbatch.columns(Phase)} FROM {q(Phase._meta.db_table)}"
        f" WHERE {release_id} IN ({{ids}}) ORDER BY {release_id}, {q('order')}, {q('id')}",
        f"SELECT {sqlbatch.columns(WarIssue)} FROM {q(WarIssue._meta.db_table)}"
        f" WHERE {release_id} IN ({{ids}}) AND {q('status')} = %s ORDER BY {q('id')}",
    )


def open_issues_of(release_ids: list[int]) -> dict[int, list[WarIssue]]:
    """Each release's open issues, oldest first (one query for them all)."""
    found: dict[int, list[WarIssue]] = {pk: [] for pk in release_ids}
    rows = WarIssue.objects.filter(release_id__in=release_ids, status=WarIssue.Status.OPEN)
    for issue in rows.order_by("id"):
        found[issue.release_id].append(issue)
    return found


def _status_facts(
    release: Release,
    now: datetime,
    *,
    phases: list[Phase],
    checklists: list,
    gate_summaries: list,
    per: dict[int, Progress],
    open_call,
    open_critical: int,
) -> StatusFacts:
    """The facts from the rows they come from (no queries)."""
    phase_by_id = {p.pk: p for p in phases}
    for c in checklists:
        c.phase = phase_by_id.get(c.phase_id) if c.phase_id else None
    current = current_phase(release, phases, now)
    slip = eta_slip(per, checklists, now - release.go_live_at)
    rag, reasons = rag_of(
        progress_by_list=per,
        checklists=checklists,
        release=release,
        now=now,
        open_critical=open_critical,
        open_call=open_call,
        latest_outcomes=checklist_selectors.standing_outcomes(gate_summaries),
        rejected_signoffs=sum(len(g.rejecting) for g in gate_summaries),
    )
    return StatusFacts(
        rag=rag,
        rag_reasons=reasons,
        eta=_eta(release, phases, current, now, slip),
        eta_slip=slip,
        current=current,
        progress=checklist_selectors.total_progress(per),
        phases=phases,
        checklists=checklists,
        gate_summaries=gate_summaries,
        per_checklist=per,
        open_call=open_call,
    )


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((m for m in moments if m is not None), default=None)


@dataclass
class ReleaseRow:
    """A release as a list shows it: the release and where it stands now."""

    release: Release
    state: str


@dataclass
class ReleaseDetail(ReleaseRow):
    """A release with everything the war room shows of it."""

    summary: Summary
    checklists: list[checklist_selectors.ChecklistRows]


def release_detail(release: Release, *, now: datetime | None = None) -> ReleaseDetail:
    s = summary(release, now=now)
    return ReleaseDetail(
        release, s.state, s, checklist_selectors.checklists_with_items(release, s.per_checklist)
    )


def releases_by_state(now: datetime | None = None, user=None) -> dict[str, list[Release]]:
    """Releases the user can see, grouped as upcoming / in progress / done."""
    now = now or clock.now()
    qs = Release.objects.all()
    if user is not None and not user.is_superuser:
        qs = qs.filter(Q(roles__assignments__person__user=user) | Q(created_by=user)).distinct()
    groups: dict[str, list[Release]] = {"in_progress": [], "upcoming": [], "done": []}
    for release in qs.annotate(first_phase=Min("phases__start_offset")).order_by("go_live_at"):
        groups[release_state(release, now, release.first_phase)].append(release)
    groups["done"].reverse()
    return groups


@dataclass
class NextItem:
    """One of a viewer's open items, with when it is due (None: no due time)."""

    item: object  # checklists' ChecklistItem, with its checklist, phase and gate
    due: timedelta | None
    release: Release

    @property
    def due_at(self) -> datetime | None:
        return self.release.at(self.due)

    def overdue(self, now: datetime) -> bool:
        return self.due is not None and now - self.release.go_live_at > self.due


def item_due_offset(checklist) -> timedelta | None:
    """When an item must be done: its gate's time for a go/no-go item, else its
    checklist's due time (its own, else its phase's end)."""
    # The reverse one-to-one raises RelatedObjectDoesNotExist (an AttributeError) when
    # the checklist belongs to no gate.
    gate = getattr(checklist, "gate", None)
    if gate is not None and gate.at_offset is not None:
        return gate.at_offset
    return checklist_due_offset(checklist)


def next_items_for(release: Release, *, role_ids: set[int], person_id: int | None) -> list:
    """The viewer's open items (owned by a role they hold, or assigned to them), due
    soonest first; items with no due time last, in checklist order. One query."""
    if not role_ids and person_id is None:
        return []
    rows = []
    items = checklist_selectors.open_items_of(release, role_ids=role_ids, person_id=person_id)
    for item in items:
        rows.append(NextItem(item, item_due_offset(item.checklist), release))
    never = timedelta.max
    rows.sort(key=lambda r: r.due if r.due is not None else never)  # stable: checklist order
    return rows


@dataclass
class DecisionNeeded:
    """A gate waiting for a decision role the viewer holds."""

    gate: object  # checklists' GateState
    due_at: datetime | None
    late_by: timedelta | None
    proposal: bool  # a proposal is waiting for their answer (else nothing decided yet)


def decisions_needed(release: Release, st, now: datetime) -> list[DecisionNeeded]:
    """Gates whose decision needs this person now: undecided gates due within the hour
    (or late), and proposals awaiting a decision role they hold and have not answered."""
    if release.is_closed or not st.role_ids:
        return []
    found = []
    person_id = getattr(st.person, "pk", None)
    for g in checklist_selectors.gate_states(release):
        mine = g.decision_role_ids & st.role_ids
        if not mine:
            continue
        if g.proposal is not None:
            answered = any(v.voter_id == person_id for v in g.proposal.votes)
            waiting_on_me = {r.pk for r in g.proposal.awaiting} & mine
            if answered or not waiting_on_me:
                continue
        elif g.decision is not None:
            continue
        due_at = release.at(g.gate.at_offset)
        if g.proposal is None and (due_at is None or due_at - now > DECISION_HEADS_UP):
            continue
        late = now - due_at if due_at is not None and due_at < now else None
        found.append(DecisionNeeded(g, due_at, late, g.proposal is not None))
    return found


# How long before a gate's time its deciders see "your decision is needed".
DECISION_HEADS_UP = timedelta(hours=1)


# --- the execution engine's view: steps by phase with their latest run ---------------------
@dataclass
class StepView:
    step: Step
    run: StepRun | None
    does: str
    elapsed: timedelta | None = None

    @property
    def state(self) -> str:
        return self.run.status if self.run is not None else "not_run"

    @property
    def state_label(self) -> str:
        return self.run.get_status_display() if self.run is not None else "Not run"

    @property
    def tail(self) -> str:
        text = (self.run.log or self.run.error) if self.run is not None else ""
        return "\n".join(text.splitlines()[-4:])


@dataclass
class PhaseSteps:
    phase: Phase
    steps: list[StepView]


@dataclass
class EngineView:
    phases: list[PhaseSteps]
    rollback: list[StepView]
    all_phases: list[Phase]
    # The request that paused the steps, while they are paused.
    paused_by: EngineRequest | None = None
    # CI/CD pipeline tokens (names and prefixes; never the secrets).
    tokens: list[PipelineToken] = field(default_factory=list)

    @property
    def any(self) -> bool:
        return bool(self.rollback or any(p.steps for p in self.phases))


def engine_view(release: Release, now: datetime | None = None) -> EngineView:
    """The release's steps, phase by phase, and its rollback plan in the order it runs,
    each with its latest run (three queries)."""
    from deployments.executors import EXECUTORS

    now = now or clock.now()
    phases = list(release.phases.all())
    steps = list(
        Step.objects.filter(phase__release=release).select_related("phase").order_by("order", "id")
    )
    latest: dict[int, StepRun] = {}
    for run in StepRun.objects.filter(step__phase__release=release).order_by("attempt"):
        latest[run.step_id] = run

    def view(step) -> StepView:
        run = latest.get(step.pk)
        elapsed = None
        if run is not None and run.started_at is not None:
            elapsed = (run.finished_at or now) - run.started_at
        executor = EXECUTORS.get(step.kind)
        return StepView(step, run, executor.describe(step.config) if executor else "", elapsed)

    by_phase = [
        PhaseSteps(p, [view(s) for s in steps if s.phase_id == p.pk and not s.is_rollback])
        for p in phases
    ]
    # The rollback plan runs last step first (as deployments.engine.rollback_plan).
    undo = sorted((s for s in steps if s.is_rollback), key=Step.plan_position, reverse=True)
    rollback = [view(s) for s in undo]
    paused_by = None
    if release.paused_at is not None:
        paused_by = (
            EngineRequest.objects.filter(release=release, action=EngineRequest.Action.PAUSE)
            .order_by("-requested_at", "-id")
            .first()
        )
    tokens = list(PipelineToken.objects.filter(release=release))
    return EngineView([p for p in by_phase if p.steps], rollback, phases, paused_by, tokens)


@dataclass
class StepsTile:
    """The board's steps tile: the phase the engine runs now (or ran last), how many of
    its steps are done, the one under way, and the phase's elapsed time against its plan."""

    title: str  # the phase's name, or "Rollback plan"
    done: int
    total: int
    current: StepView | None  # running, queued or waiting for a person
    failed: StepView | None
    elapsed: timedelta | None
    planned: timedelta | None
    paused: bool
    dry_run: bool

    @property
    def state(self) -> str:
        if self.failed is not None:
            return "failed"
        if self.paused:
            return "paused"
        if self.current is not None:
            return self.current.state
        return "done" if self.done == self.total else "idle"

    @property
    def over_plan(self) -> bool:
        return bool(self.elapsed and self.planned and self.elapsed > self.planned)


def steps_tile(release: Release, phases: list[Phase], now: datetime) -> StepsTile | None:
    """The steps tile for the board (two queries), or None before any step has run."""
    from deployments.executors import EXECUTORS

    latest = (
        StepRun.objects.filter(step__phase__release=release)
        .select_related("step")
        .order_by("-pk")
        .first()
    )
    if latest is None:
        return None
    rollback = latest.step.is_rollback
    scope = Step.objects.filter(phase__release=release, is_rollback=rollback)
    if not rollback:
        scope = scope.filter(phase_id=latest.step.phase_id)
    steps = list(scope.select_related("phase").order_by("order", "id"))
    runs: dict[int, StepRun] = {}
    for run in StepRun.objects.filter(step__in=steps).order_by("attempt"):
        runs[run.step_id] = run

    def view(step: Step) -> StepView:
        run = runs.get(step.pk)
        elapsed = None
        if run is not None and run.started_at is not None:
            elapsed = (run.finished_at or now) - run.started_at
        executor = EXECUTORS.get(step.kind)
        return StepView(step, run, executor.describe(step.config) if executor else "", elapsed)

    views = [view(s) for s in steps]
    done = sum(1 for v in views if v.state in ("succeeded", "skipped"))
    current = next((v for v in views if v.state in ("running", "pending", "awaiting")), None)
    failed = next((v for v in views if v.state == "failed"), None)
    if rollback:
        title, started, finished, planned = "Rollback plan", release.rollback_started_at, None, None
    else:
        phase = next((p for p in phases if p.pk == latest.step.phase_id), latest.step.phase)
        title, started, finished = phase.name, phase.started_at, phase.finished_at
        planned = phase.duration
    if latest.dry_run:
        started = min((v.run.started_at for v in views if v.run and v.run.started_at), default=None)
        finished = (
            None
            if current
            else max(
                (v.run.finished_at for v in views if v.run and v.run.finished_at), default=None
            )
        )
    elapsed = ((finished or now) - started) if started else None
    return StepsTile(
        title, done, len(views), current, failed, elapsed, planned,
        paused=release.paused_at is not None, dry_run=latest.dry_run,
    )  # fmt: skip
