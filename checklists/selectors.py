"""Reads of checklists, gates, sign-offs, decisions and rollback calls.

Each read costs a fixed number of queries, whatever the size of the release.
:func:`gate_states` lists, per gate, the blockers a person needs to see before
deciding: unchecked go/no-go items, missing or rejecting sign-offs, open critical
issues, a pending rollback decision (and red metrics, once metric gates exist).

Other apps read checklists only through this module (and change them only through
``checklists.services``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Prefetch, Q

from checklists.models import (
    Checklist,
    ChecklistItem,
    Decision,
    Gate,
    GateDecisionRole,
    ItemNote,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)

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
    S = ChecklistItem.Status
    rows = (
        ChecklistItem.objects.filter(checklist__release=release)
        .values("checklist_id")
        .annotate(
            total=Count("id"),
            done=Count("id", filter=Q(status=S.DONE)),
            na=Count("id", filter=Q(status=S.NA)),
            blocked=Count("id", filter=Q(status=S.BLOCKED)),
        )
    )
    return {r["checklist_id"]: Progress(r["total"], r["done"], r["na"], r["blocked"]) for r in rows}


def total_progress(per_checklist: dict[int, Progress]) -> Progress:
    total = Progress()
    for p in per_checklist.values():
        total.add(p)
    return total


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


def latest_outcomes(release) -> set[str]:
    """The outcomes standing at the release's gates (superseded decisions left out)."""
    return set(
        Decision.objects.filter(gate__release=release, superseded_by=None).values_list(
            "outcome", flat=True
        )
    )


def rejected_signoff_count(release) -> int:
    return SignOff.objects.filter(
        required__gate__release=release, superseded_by=None, verdict=SignOff.Verdict.REJECT
    ).count()


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
class GateState:
    gate: Gate
    requirements: list[Requirement]
    decision: Decision | None
    open_items: list[ChecklistItem]
    open_item_count: int
    item_total: int
    open_critical: int
    rollback_pending: bool
    decision_role_ids: set[int] = field(default_factory=set)

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
    decisions = {
        d.gate_id: d
        for d in Decision.objects.filter(gate_id__in=ids, superseded_by=None).select_related(
            "decided_by"
        )
    }
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
    states = []
    for g in gates:
        items = open_items.get(g.checklist_id, []) if g.checklist_id else []
        states.append(
            GateState(
                gate=g,
                requirements=required_by_gate.get(g.pk, []),
                decision=decisions.get(g.pk),
                open_items=items[:OPEN_ITEMS_SHOWN],
                open_item_count=len(items),
                item_total=totals.get(g.checklist_id, 0) if g.checklist_id else 0,
                open_critical=open_critical,
                rollback_pending=rollback_pending,
                decision_role_ids={r.pk for r in g.decision_roles.all()},
            )
        )
    return states
