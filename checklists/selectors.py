"""Reads of checklists, gates, sign-offs, decisions and rollback calls.

Each read costs a fixed number of queries, whatever the size of the release.
:func:`gate_states` lists, per gate, the blockers a person needs to see before
deciding: unchecked go/no-go items, missing or rejecting sign-offs, open critical
issues, a pending rollback decision (and red metrics, once metric gates exist).

Other apps read checklists only through this module (and change them only through
``checklists.services``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Count, Prefetch, Q

from checklists.models import (
    Checklist,
    ChecklistItem,
    Decision,
    DecisionVote,
    Gate,
    GateDecisionRole,
    ItemNote,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)
from warroom import sqlbatch
from warroom.audit import AuditEvent
from warroom.people.models import Assignment, Person, Role

OPEN_ITEMS_SHOWN = 5
ChecklistKind = Checklist.Kind
Outcome = Decision.Outcome


@dataclass
class Progress:
    total: int = 0
    done: int = 0
    na: int = 0
    blocked: int = 0

    @property
    def closed(self) -> int:
        return self.done + self.na

    @property
    def percent(self) -> int:
        return int(100 * self.closed / self.total) if self.total else 0

    def add(self, other: Progress) -> None:
        self.total += other.total
        self.done += other.done
        self.na += other.na
        self.blocked += other.blocked


def checklist_progress(release) -> dict[int, Progress]:
    """Progress per checklist id, from one aggregate query."""
    return _progress(ChecklistItem.objects.filter(checklist__release=release))


@dataclass
class ReleaseChecklists:
    """What a status update needs from here about each of a batch of releases (see
    :func:`release_checklist_reads`)."""

    checklists: dict[int, list[Checklist]]  # by release id, in order
    progress: dict[int, Progress]  # by checklist id, of those with items
    open_calls: dict[int, RollbackCall]  # by release id: as open_rollback_call
    gated: set[int]  # the releases that have a gate


def release_checklist_reads(release_ids: list[int]) -> list[sqlbatch.Statement]:
    """The statements that read, for each of ``release_ids``, its checklists in order,
    their progress (one aggregate), its raised rollback trigger still waiting for its
    decision (the latest raised) and whether it has gates — written out (the ORM took
    longer to build them than the database to run them), for the caller to run with its
    own in one round trip and hand to :func:`release_checklists`."""
    ids = ", ".join(["%s"] * len(release_ids))
    S = ChecklistItem.Status
    checklists, progress, calls, gates = _release_checklist_sql(connection.vendor)
    return [
        sqlbatch.Statement(checklists.replace("{ids}", ids), release_ids),
        sqlbatch.Statement(progress.replace("{ids}", ids), [S.DONE, S.NA, S.BLOCKED, *release_ids]),
        sqlbatch.Statement(calls.replace("{ids}", ids), release_ids),
        sqlbatch.Statement(gates.replace("{ids}", ids), release_ids),
    ]


def release_checklists(release_ids: list[int], results: list[sqlbatch.Result]) -> ReleaseChecklists:
    """The rows :func:`release_checklist_reads` read (their results, in order)."""
    checklists, progress, calls, gates = results
    found = ReleaseChecklists({pk: [] for pk in release_ids}, {}, {}, set())
    for row in checklists.rows:
        c = sqlbatch.instance(Checklist, row)
        found.checklists[c.release_id].append(c)
    for checklist_id, total, done, na, blocked in progress.rows:
        found.progress[checklist_id] = Progress(total, done, na, blocked)
    for row in calls.rows:
        call = sqlbatch.instance(RollbackCall, row)
        found.open_calls.setdefault(call.release_id, call)
    found.gated = {pk for (pk,) in gates.rows}
    return found


@functools.cache
def _release_checklist_sql(vendor: str) -> tuple[str, str, str, str]:
    q = sqlbatch.q
    checklist, item, call, gate = (
        q(m._meta.db_table) for m in (Checklist, ChecklistItem, RollbackCall, Gate)
    )
    release_id = q("release_id")
    count = "COUNT(CASE WHEN i.{status} = %s THEN 1 END)".format(status=q("status"))
    return (
        f"SELECT {sqlbatch.columns(Checklist)} FROM {checklist} WHERE {release_id} IN ({{ids}})"
        f" ORDER BY {release_id}, {q('order')}, {q('id')}",
        f"SELECT i.{q('checklist_id')}, COUNT(*), {count}, {count}, {count} FROM {item} i"
        f" INNER JOIN {checklist} c ON i.{q('checklist_id')} = c.{q('id')}"
        f" WHERE c.{release_id} IN ({{ids}}) GROUP BY i.{q('checklist_id')}",
        f"SELECT {sqlbatch.columns(RollbackCall)} FROM {call}"
        f" WHERE {release_id} IN ({{ids}}) AND {q('decided_at')} IS NULL"
        f" ORDER BY {release_id}, {q('raised_at')} DESC",
        f"SELECT DISTINCT {release_id} FROM {gate} WHERE {release_id} IN ({{ids}})",
    )


def _progress(items) -> dict[int, Progress]:
    S = ChecklistItem.Status
    rows = items.values("checklist_id").annotate(
        total=Count("id"),
        done=Count("id", filter=Q(status=S.DONE)),
        na=Count("id", filter=Q(status=S.NA)),
        blocked=Count("id", filter=Q(status=S.BLOCKED)),
    )
    return {r["checklist_id"]: Progress(r["total"], r["done"], r["na"], r["blocked"]) for r in rows}


def total_progress(per_checklist: dict[int, Progress]) -> Progress:
    total = Progress()
    for p in per_checklist.values():
        total.add(p)
    return total


def checklist_due_offset(c) -> timedelta | None:
    """When a checklist must be complete: its own due time, else its phase's end."""
    if c.due_offset is not None:
        return c.due_offset
    return c.phase.end_offset if c.phase is not None else None


@dataclass
class OnDuty:
    """Someone who answers for an item now: the role's primary, then its backups."""

    person: Person
    kind: str  # "primary" | "backup"


@dataclass
class LateItem:
    """An item past its due time, or blocked, with who is on duty for it."""

    item: ChecklistItem
    due_at: datetime | None
    late_by: timedelta | None
    on_duty: list[OnDuty]

    @property
    def blocked(self) -> bool:
        return self.item.status == ChecklistItem.Status.BLOCKED


def late_work(release, now: datetime) -> list[LateItem]:
    """Items past due with work left, and blocked items — latest due first — each with
    the people on duty for its owner role (three queries)."""
    checklists = {c.pk: c for c in release.checklists.select_related("phase")}
    open_items = (
        ChecklistItem.objects.filter(checklist__release=release)
        .exclude(status__in=[ChecklistItem.Status.DONE, ChecklistItem.Status.NA])
        .select_related("owner_role", "assignee")
        .order_by("order", "id")
    )
    found = []
    for item in open_items:
        due = checklist_due_offset(checklists[item.checklist_id])
        due_at = release.go_live_at + due if due is not None else None
        late_by = now - due_at if due_at is not None and due_at < now else None
        if late_by is not None or item.status == ChecklistItem.Status.BLOCKED:
            found.append(LateItem(item, due_at, late_by, []))
    role_ids = {row.item.owner_role_id for row in found if row.item.owner_role_id}
    duty: dict[int, list[OnDuty]] = defaultdict(list)
    for a in (
        Assignment.objects.filter(role_id__in=role_ids)
        .select_related("person")
        .order_by("role_id", "-kind", "order", "id")  # primary before backup
    ):
        duty[a.role_id].append(OnDuty(a.person, a.kind))
    for row in found:
        row.on_duty = duty.get(row.item.owner_role_id, []) if row.item.owner_role_id else []
        if row.item.assignee is not None:
            row.on_duty = [OnDuty(row.item.assignee, "assignee"), *row.on_duty]
    return sorted(found, key=lambda r: (r.late_by is None, -(r.late_by or timedelta(0))))


@dataclass
class ChecklistRows:
    """A checklist as the war room shows it: its items in order and its progress."""

    checklist: Checklist
    items: list[ChecklistItem]
    progress: Progress

    @property
    def pk(self) -> int:
        return self.checklist.pk


def _with_notes(items):
    """Items with their notes (oldest first), in one more query whatever their number."""
    return items.prefetch_related(Prefetch("notes", queryset=ItemNote.objects.order_by("at", "id")))


def checklists_with_items(
    release, per_checklist: dict[int, Progress] | None = None
) -> list[ChecklistRows]:
    """Checklists with their items (owner, assignee, notes) and progress, in four queries."""
    checklists = list(release.checklists.select_related("phase").order_by("order", "id"))
    items = _with_notes(
        ChecklistItem.objects.filter(checklist__release=release)
        .select_related("owner_role", "assignee")
        .order_by("order", "id")
    )
    by_list: dict[int, list[ChecklistItem]] = defaultdict(list)
    for item in items:
        by_list[item.checklist_id].append(item)
    per = per_checklist if per_checklist is not None else checklist_progress(release)
    return [ChecklistRows(c, by_list.get(c.pk, []), per.get(c.pk, Progress())) for c in checklists]


def item_row(release, item_id) -> ChecklistItem | None:
    """One item of ``release`` with what its row shows (owner, assignee, notes), or None."""
    return _with_notes(
        ChecklistItem.objects.select_related("owner_role", "assignee", "checklist").filter(
            pk=item_id, checklist__release=release
        )
    ).first()


def items_matching(release, text: str, *, limit: int = 5) -> list[ChecklistItem]:
    """The release's items whose text contains ``text`` (case-insensitive), open first."""
    found = ChecklistItem.objects.filter(checklist__release=release, text__icontains=text)
    return list(
        found.select_related("checklist").order_by("checklist__order", "order", "id")[: limit + 1]
    )


def open_items_of(release, *, role_ids: set[int], person_id: int | None) -> list[ChecklistItem]:
    """The release's open items owned by one of ``role_ids`` or assigned to the person,
    with their checklist, its phase and its gate (for when each is due): one query."""
    mine = Q(owner_role_id__in=role_ids)
    if person_id is not None:
        mine |= Q(assignee_id=person_id)
    return list(
        ChecklistItem.objects.filter(mine, checklist__release=release)
        .exclude(status__in=[ChecklistItem.Status.DONE, ChecklistItem.Status.NA])
        .select_related("checklist__phase", "checklist__gate", "owner_role", "assignee")
        .order_by("checklist__order", "checklist_id", "order", "id")
    )


def gates(release) -> list[Gate]:
    return list(Gate.objects.filter(release=release).order_by("order", "id"))


def awaited_sign_offs(release) -> list[tuple[Gate, Role]]:
    """(gate, role) for each required sign-off nobody has approved yet (its current
    sign-off is missing, or is not an approval), gates in order: one query."""
    return awaited_sign_offs_of([release.pk])[release.pk]


def awaited_sign_offs_of(release_ids: list[int]) -> dict[int, list[tuple[Gate, Role]]]:
    """:func:`awaited_sign_offs` of each of ``release_ids``, by release id: one statement,
    written out (the ORM took longer to build it than the database to run it)."""
    found: dict[int, list[tuple[Gate, Role]]] = {pk: [] for pk in release_ids}
    if not release_ids:
        return found
    sql = _awaited_sql(connection.vendor).replace("{ids}", ", ".join(["%s"] * len(release_ids)))
    (result,) = sqlbatch.run([sqlbatch.Statement(sql, [*release_ids, SignOff.Verdict.APPROVE])])
    width = len(Gate._meta.concrete_fields)
    gates: dict[int, Gate] = {}
    for row in result.rows:
        gate = gates.get(row[0]) or gates.setdefault(row[0], sqlbatch.instance(Gate, row[:width]))
        found[gate.release_id].append((gate, sqlbatch.instance(Role, row[width:])))
    return found


@functools.cache
def _awaited_sql(vendor: str) -> str:
    """Each required sign-off of the releases whose current sign-off (one nothing
    supersedes) is not an approval, or that has none: its gate's and role's columns, gates
    in order."""
    q = sqlbatch.q
    table = {m: q(m._meta.db_table) for m in (RequiredSignOff, Gate, Role, SignOff)}
    return (
        f"SELECT {sqlbatch.columns(Gate, 'g')}, {sqlbatch.columns(Role, 'o')}"
        f" FROM {table[RequiredSignOff]} r"
        f" INNER JOIN {table[Gate]} g ON r.{q('gate_id')} = g.{q('id')}"
        f" INNER JOIN {table[Role]} o ON r.{q('role_id')} = o.{q('id')}"
        f" WHERE g.{q('release_id')} IN ({{ids}}) AND NOT EXISTS (SELECT 1 FROM {table[SignOff]} s"
        f" LEFT OUTER JOIN {table[SignOff]} later ON later.{q('supersedes_id')} = s.{q('id')}"
        f" WHERE s.{q('required_id')} = r.{q('id')} AND later.{q('id')} IS NULL"
        f" AND s.{q('verdict')} = %s)"
        f" ORDER BY g.{q('order')}, r.{q('gate_id')}, r.{q('order')}, r.{q('id')}"
    )


def gate_decision_roles(release) -> list[tuple[int, int]]:
    """(gate id, role id) for every decision role of the release's gates."""
    return list(
        GateDecisionRole.objects.filter(gate__release=release)
        .order_by()
        .values_list("gate_id", "role_id")
    )


def open_rollback_call(release) -> RollbackCall | None:
    """The raised rollback trigger still waiting for its decision, if any."""
    return RollbackCall.objects.filter(release=release, decided_at=None).first()


def standing_outcomes(states: list[GateState]) -> set[str]:
    """The outcomes standing at the gates (proposals and superseded decisions left out)."""
    return {g.decision.outcome for g in states if g.decision is not None}


@dataclass
class Requirement:
    required: RequiredSignOff
    current: SignOff | None = None

    @property
    def role(self):
        return self.required.role

    @property
    def verdict(self) -> str:
        return self.current.verdict if self.current else ""


@dataclass
class Holder:
    """Someone holding a role, with who put them there and when (from the audit log)."""

    name: str
    kind: str
    assigned_by: str = ""
    assigned_at: datetime | None = None


@dataclass
class RoleHolders:
    name: str
    holders: list[Holder]


PROPOSED, DECIDED, OBJECTED = "proposed", "decided", "objected"


@dataclass
class DecisionState:
    """A decision with the answers of the gate's decision roles."""

    decision: Decision
    state: str  # proposed | decided | objected
    votes: list[DecisionVote]
    awaiting: list  # the decision roles (people.Role) still to confirm

    @property
    def objection(self) -> DecisionVote | None:
        return next((v for v in self.votes if v.verdict == DecisionVote.Verdict.OBJECT), None)

    @property
    def confirmations(self) -> list[DecisionVote]:
        return [v for v in self.votes if v.verdict == DecisionVote.Verdict.CONFIRM]


def decision_state(decision: Decision, gate: Gate, votes: list[DecisionVote]) -> DecisionState:
    """Where a decision stands. A gate with several decision roles and the rule "each"
    is decided once every role has confirmed; one objection ends the proposal. A
    decision recorded without votes (one decider, "any one of", or from before votes
    existed) stands as decided."""
    roles = list(gate.decision_roles.all())
    if any(v.verdict == DecisionVote.Verdict.OBJECT for v in votes):
        return DecisionState(decision, OBJECTED, votes, [])
    if not votes or gate.decision_rule == Gate.DecisionRule.ANY or len(roles) <= 1:
        return DecisionState(decision, DECIDED, votes, [])
    confirmed = {v.role_id for v in votes}
    awaiting = [r for r in roles if r.pk not in confirmed]
    return DecisionState(decision, PROPOSED if awaiting else DECIDED, votes, awaiting)


@dataclass
class GateState:
    gate: Gate
    requirements: list[Requirement]
    decision: Decision | None  # the decision standing (decided), if any
    open_items: list[ChecklistItem]
    open_item_count: int
    item_total: int
    open_critical: int
    rollback_pending: bool
    decision_role_ids: set[int] = field(default_factory=set)
    latest: DecisionState | None = None  # the newest decision, whatever its state
    # Who holds each decision role, and people holding several roles of the gate (they
    # answer for one only: separation of duties).
    deciders: list[RoleHolders] = field(default_factory=list)
    overlaps: list[str] = field(default_factory=list)
    unfilled_seats: list[str] = field(default_factory=list)  # decision or on-call roles

    @property
    def proposal(self) -> DecisionState | None:
        """A decision proposed and waiting for the other decision roles."""
        return self.latest if self.latest and self.latest.state == PROPOSED else None

    @property
    def objected(self) -> DecisionState | None:
        return self.latest if self.latest and self.latest.state == OBJECTED else None

    @property
    def name(self) -> str:
        return self.gate.name

    @property
    def approved(self) -> int:
        return sum(1 for r in self.requirements if r.verdict == SignOff.Verdict.APPROVE)

    @property
    def required(self) -> int:
        return len(self.requirements)

    @property
    def missing(self) -> list[Requirement]:
        return [r for r in self.requirements if r.current is None]

    @property
    def rejecting(self) -> list[Requirement]:
        return [r for r in self.requirements if r.verdict == SignOff.Verdict.REJECT]

    @property
    def needed_approvals(self) -> int:
        if self.gate.consensus == Gate.Consensus.QUORUM and self.gate.quorum:
            return min(self.gate.quorum, self.required)
        return self.required

    @property
    def consensus_met(self) -> bool:
        return self.approved >= self.needed_approvals and not self.rejecting

    @property
    def blockers(self) -> list[str]:
        """Why GO is not possible right now, in words."""
        reasons: list[str] = []
        if self.open_item_count:
            reasons.append(
                f"{self.open_item_count} go/no-go item{'s' if self.open_item_count > 1 else ''}"
                " unchecked"
            )
        if self.approved < self.needed_approvals:
            names = ", ".join(r.role.name for r in self.missing)
            short = self.needed_approvals - self.approved
            if self.gate.consensus == Gate.Consensus.QUORUM:
                reasons.append(
                    f"{short} more approval{'s' if short > 1 else ''} needed"
                    f" for quorum (not yet signed: {names or 'none'})"
                )
            elif names:
                reasons.append(f"sign-off missing: {names}")
        for r in self.rejecting:
            comment = r.current.comment if r.current else ""
            reasons.append(f"{r.role.name} rejected: {comment or 'no comment'}")
        if self.open_critical:
            reasons.append(
                f"{self.open_critical} critical issue{'s' if self.open_critical > 1 else ''} open"
            )
        if self.rollback_pending:
            reasons.append("a rollback decision is pending")
        if self.unfilled_seats:
            reasons.append(f"nobody holds: {', '.join(self.unfilled_seats)}")
        return reasons

    @property
    def can_go(self) -> bool:
        return not self.blockers

    @property
    def outcome(self) -> str:
        return self.decision.outcome if self.decision else ""

    @property
    def outcome_label(self) -> str:
        return self.decision.get_outcome_display() if self.decision else ""


def _decision_chains(gate_ids: list[int]) -> dict[int, list[tuple[Decision, list]]]:
    """Each gate's decisions, oldest first, with their votes (two queries)."""
    decisions = list(
        Decision.objects.filter(gate_id__in=gate_ids)
        .select_related("decided_by", "decided_by__person")
        .order_by("at", "id")
    )
    votes: dict[int, list[DecisionVote]] = defaultdict(list)
    for v in DecisionVote.objects.filter(decision__in=decisions).select_related("role", "voter"):
        votes[v.decision_id].append(v)
    chains: dict[int, list[tuple[Decision, list]]] = defaultdict(list)
    for d in decisions:
        chains[d.gate_id].append((d, votes.get(d.pk, [])))
    return chains


def _standing_decision(chain, gate: Gate) -> Decision | None:
    """The newest decision that was decided (a pending proposal leaves it standing)."""
    for d, votes in reversed(chain):
        if decision_state(d, gate, votes).state == DECIDED:
            return d
    return None


def _latest_state(chain, gate: Gate) -> DecisionState | None:
    if not chain:
        return None
    d, votes = chain[-1]
    return decision_state(d, gate, votes)


def gate_decisions(gate: Gate) -> list[DecisionState]:
    """Every decision at ``gate``, oldest first, each with its answers and state."""
    return [decision_state(d, gate, votes) for d, votes in _decision_chains([gate.pk])[gate.pk]]


def decision_with_state(decision: Decision) -> DecisionState:
    """One decision with its answers and where it stands."""
    gate = Gate.objects.prefetch_related("decision_roles").get(pk=decision.gate_id)
    votes = list(decision.votes.select_related("role", "voter"))
    return decision_state(decision, gate, votes)


def gate_states(release, gate_ids: list[int] | None = None) -> list[GateState]:
    """The state of every gate of ``release`` (or of ``gate_ids``), constant queries."""
    gates_qs = Gate.objects.filter(release=release).prefetch_related("decision_roles")
    if gate_ids is not None:
        gates_qs = gates_qs.filter(pk__in=gate_ids)
    gates = list(gates_qs.order_by("order", "id"))
    if not gates:
        return []
    ids = [g.pk for g in gates]
    required_by_gate: dict[int, list[Requirement]] = defaultdict(list)
    req_by_id: dict[int, Requirement] = {}
    for req in RequiredSignOff.objects.filter(gate_id__in=ids).select_related("role"):
        requirement = Requirement(req)
        required_by_gate[req.gate_id].append(requirement)
        req_by_id[req.pk] = requirement
    for so in SignOff.objects.filter(required__gate_id__in=ids, superseded_by=None).select_related(
        "signer", "on_behalf_of"
    ):
        req_by_id[so.required_id].current = so
    chains = _decision_chains(ids)
    checklist_ids = {g.checklist_id for g in gates if g.checklist_id}
    open_items: dict[int, list[ChecklistItem]] = defaultdict(list)
    totals: dict[int, int] = defaultdict(int)
    for item in ChecklistItem.objects.filter(checklist_id__in=checklist_ids).only(
        "id", "checklist_id", "text", "status", "owner_role_id"
    ):
        totals[item.checklist_id] += 1
        if not item.is_closed:
            open_items[item.checklist_id].append(item)
    # The release's issues, through the reverse relation: checklists import no other app.
    open_critical = release.issues.blocking_go().count()
    rollback_pending = RollbackCall.objects.filter(release=release, decided_at=None).exists()
    holders = _holders(release, gates, required_by_gate)
    unfilled = _unfilled_seats(release)
    states = []
    for g in gates:
        items = open_items.get(g.checklist_id, []) if g.checklist_id else []
        states.append(
            GateState(
                gate=g,
                requirements=required_by_gate.get(g.pk, []),
                decision=_standing_decision(chains.get(g.pk, []), g),
                latest=_latest_state(chains.get(g.pk, []), g),
                open_items=items[:OPEN_ITEMS_SHOWN],
                open_item_count=len(items),
                item_total=totals.get(g.checklist_id, 0) if g.checklist_id else 0,
                open_critical=open_critical,
                rollback_pending=rollback_pending,
                decision_role_ids={r.pk for r in g.decision_roles.all()},
                deciders=[
                    RoleHolders(r.name, holders.get(r.pk, [])) for r in g.decision_roles.all()
                ],
                overlaps=_overlaps(g, required_by_gate.get(g.pk, []), holders),
                unfilled_seats=[
                    name
                    for role_id, name, on_call in unfilled
                    if g.kind == Gate.Kind.GO_NO_GO
                    and (on_call or role_id in {r.pk for r in g.decision_roles.all()})
                ],
            )
        )
    return states


def _holders(release, gates, required_by_gate) -> dict[int, list[Holder]]:
    """Holders of every decision and sign-off role of ``gates`` (two queries)."""
    role_ids = {r.pk for g in gates for r in g.decision_roles.all()}
    role_ids |= {req.required.role_id for reqs in required_by_gate.values() for req in reqs}
    # Who assigned whom: the latest "people.assigned" of each (role, person). Assignments
    # through the runbook have none (they came with the import).
    assigned: dict[tuple[str, str], tuple[str, datetime | None]] = {}
    for label, at, data in (
        AuditEvent.objects.filter(release=release, kind="people.assigned")
        .order_by("seq")
        .values_list("actor_label", "at", "data")
    ):
        assigned[(data.get("role", ""), data.get("person", ""))] = (label, at)
    found: dict[int, list[Holder]] = defaultdict(list)
    for a in (
        Assignment.objects.filter(role_id__in=role_ids)
        .select_related("person", "role")
        .order_by("role_id", "-kind", "order", "id")  # primaries first
    ):
        by, when = assigned.get((a.role.name, a.person.name), ("", None))  # from the runbook
        found[a.role_id].append(Holder(a.person.name, a.kind, by, when))
    return found


def _overlaps(gate, requirements, holders: dict[int, list[Holder]]) -> list[str]:
    """ "Rita Manager holds Release Manager and VP Engineering (backup)" for each person
    holding more than one role of the gate."""
    roles = {r.pk: r.name for r in gate.decision_roles.all()}
    roles.update({req.required.role_id: req.role.name for req in requirements})
    held: dict[str, list[str]] = defaultdict(list)
    for role_id, name in roles.items():
        for h in holders.get(role_id, []):
            held[h.name].append(name + (" (backup)" if h.kind == "backup" else ""))
    return [
        f"{person} holds {' and '.join(names)} — answers for one of them only"
        for person, names in sorted(held.items())
        if len(names) > 1
    ]


ON_CALL_WORDS = ("on-call", "on call", "oncall")


def _unfilled_seats(release) -> list[tuple[int, str, bool]]:
    """(role id, name, is an on-call seat) for roles nobody real holds as primary — an
    on-call role is held when its schedule has a shift (through the reverse relation)."""
    found = []
    roles = Role.objects.filter(release=release).prefetch_related("assignments__person")
    for role in roles.annotate(shift_count=Count("schedules__shifts")):
        on_call = any(w in role.name.lower() for w in ON_CALL_WORDS)
        held = any(
            a.kind == "primary" and not a.person.is_placeholder for a in role.assignments.all()
        )
        if not held and not (on_call and role.shift_count):
            found.append((role.pk, role.name, on_call))
    return found
