"""The checklists app's API: items, gates with their sign-offs and decisions, rollback calls."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from ninja import Field, Router, Schema
from ninja.responses import Status

from checklists import selectors, services
from checklists.models import ChecklistItem, Decision, Gate, RollbackCall
from warroom import clock, policies
from warroom.access import object_in, release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses
from warroom.clock import format_offset
from warroom.people.models import Role
from warroom.validation import (
    COMMENT_MAX,
    MITIGATION_MAX,
    MITIGATIONS_MAX,
    NOTE_MAX,
    RATIONALE_MAX,
    REASON_MAX,
)

router = Router()


# --- schemas -------------------------------------------------------------------------
class ItemOut(Schema):
    id: int
    text: str
    status: str
    note: str
    owner_role: str | None = Field(None, validation_alias="owner_role.name")
    assignee: str | None = Field(None, validation_alias="assignee.name")
    verification: str
    parent_id: int | None
    changed_by: str = Field(validation_alias="changed_by_label")
    changed_at: datetime | None


class ChecklistOut(Schema):
    id: int = Field(validation_alias="checklist.pk")
    name: str = Field(validation_alias="checklist.name")
    kind: str = Field(validation_alias="checklist.kind")
    phase_id: int | None = Field(validation_alias="checklist.phase_id")
    due: str
    due_at: datetime | None
    done: int = Field(validation_alias="progress.closed")
    total: int = Field(validation_alias="progress.total")
    items: list[ItemOut]

    @staticmethod
    def resolve_due(obj: selectors.ChecklistRows) -> str:
        return format_offset(obj.checklist.due_offset)

    @staticmethod
    def resolve_due_at(obj: selectors.ChecklistRows) -> datetime | None:
        return obj.checklist.release.at(obj.checklist.due_offset)


class SignOffOut(Schema):
    role: str = Field(validation_alias="role.name")
    role_id: int = Field(validation_alias="role.pk")
    criteria: str = Field(validation_alias="required.criteria")
    verdict: str
    signer: str = Field("", validation_alias="current.signer.name")
    on_behalf_of: str = Field("", validation_alias="current.on_behalf_of.name")
    at: datetime | None = Field(None, validation_alias="current.at")

    @staticmethod
    def resolve_verdict(obj: selectors.Requirement) -> str:
        return obj.verdict or "missing"


class VoteOut(Schema):
    role: str = Field(validation_alias="role.name")
    verdict: str
    by: str = Field(validation_alias="voter.name")
    comment: str
    at: datetime


class DecisionOut(Schema):
    """A decision and where it stands: proposed (awaiting the named roles), decided, or
    objected."""

    id: int = Field(validation_alias="decision.pk")
    gate_id: int = Field(validation_alias="decision.gate_id")
    outcome: str = Field(validation_alias="decision.outcome")
    state: str
    rationale: str = Field(validation_alias="decision.rationale")
    mitigations: list[str] = Field(validation_alias="decision.mitigations")
    new_date: datetime | None = Field(validation_alias="decision.new_date")
    decided_by: str = Field(validation_alias="decision.decided_by.username")
    at: datetime = Field(validation_alias="decision.at")
    votes: list[VoteOut]
    awaiting: list[str]
    snapshot_hash: str = Field(validation_alias="decision.snapshot_hash")
    snapshot: dict = Field(validation_alias="decision.snapshot")
    supersedes_id: int | None = Field(validation_alias="decision.supersedes_id")

    @staticmethod
    def resolve_awaiting(obj: selectors.DecisionState) -> list[str]:
        return [r.name for r in obj.awaiting]


class GateOut(Schema):
    id: int = Field(validation_alias="gate.pk")
    name: str = Field(validation_alias="gate.name")
    kind: str = Field(validation_alias="gate.kind")
    at: str
    consensus: str = Field(validation_alias="gate.consensus")
    decision_rule: str = Field(validation_alias="gate.decision_rule")
    deciders: list[str]
    signoffs: list[SignOffOut] = Field(validation_alias="requirements")
    blockers: list[str]
    can_go: bool
    decision: str = Field(validation_alias="outcome")
    decision_id: int | None = Field(None, validation_alias="decision.pk")
    latest: DecisionOut | None = None

    @staticmethod
    def resolve_at(obj: selectors.GateState) -> str:
        return format_offset(obj.gate.at_offset)

    @staticmethod
    def resolve_deciders(obj: selectors.GateState) -> list[str]:
        return [r.name for r in obj.gate.decision_roles.all()]


class RollbackCallOut(Schema):
    id: int
    reason: str
    raised_by: str = Field(validation_alias="raised_by_label")
    raised_at: datetime
    decide_by: datetime
    seconds_left: int
    choice: str
    rationale: str
    decided_at: datetime | None

    @staticmethod
    def resolve_seconds_left(obj: RollbackCall) -> int:
        if obj.decided_at is not None:
            return 0
        return max(0, int((obj.decide_by - clock.now()).total_seconds()))


# --- items -----------------------------------------------------------------------------
class ItemIn(BodyIn):
    status: Literal["todo", "done", "blocked", "na"]
    note: str | None = Field(None, max_length=NOTE_MAX)


@router.post(
    "/releases/{release_id}/items/{item_id}",
    response=responses({200: ItemOut}, WRITE_ERRORS),
    tags=["checklists"],
)
def set_item_status(request, release_id: int, item_id: int, payload: ItemIn):
    """Tick (done), untick (todo), block (note = reason) or mark n/a an item."""
    release, st = release_for(
        request.user, release_id, policies.Action.TICK, target={"item": item_id}
    )
    item = object_in(
        ChecklistItem.objects.select_related("checklist__release"),
        item_id,
        checklist__release=release,
    )
    return services.item_set_status(
        item=item, status=payload.status, note=payload.note, user=request.user, standing=st
    )


class OnDutyOut(Schema):
    name: str = Field(validation_alias="person.name")
    kind: str
    phone: str = Field(validation_alias="person.phone")
    slack: str = Field(validation_alias="person.slack_handle")
    email: str = Field(validation_alias="person.email")


class LateItemOut(Schema):
    item: ItemOut
    due_at: datetime | None
    late_by_s: int | None
    blocked: bool
    on_duty: list[OnDutyOut]

    @staticmethod
    def resolve_late_by_s(obj: selectors.LateItem) -> int | None:
        return int(obj.late_by.total_seconds()) if obj.late_by else None


@router.get(
    "/releases/{release_id}/late", response=responses({200: list[LateItemOut]}), tags=["checklists"]
)
def late_work(request, release_id: int):
    """Items past due or blocked, latest first, with the people on duty for each."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return selectors.late_work(release, clock.now())


class NudgeOut(Schema):
    seq: int
    to: list[str]

    @staticmethod
    def resolve_to(obj) -> list[str]:
        return obj.data["to"]


@router.post(
    "/releases/{release_id}/items/{item_id}/nudges",
    response=responses({201: NudgeOut}, WRITE_ERRORS),
    tags=["checklists"],
)
def nudge(request, release_id: int, item_id: int):
    """Nudge the people on duty for a late or blocked item (once per item per 2 minutes)."""
    release, st = release_for(
        request.user, release_id, policies.Action.NUDGE, target={"item": item_id}
    )
    item = object_in(
        ChecklistItem.objects.select_related("checklist__release"),
        item_id,
        checklist__release=release,
    )
    return Status(201, services.item_nudge(item=item, user=request.user, standing=st))


# --- gates: sign-offs and decisions --------------------------------------------------
def _gate(release, gate_id: int) -> Gate:
    return object_in(Gate.objects.select_related("release"), gate_id, release=release)


def _gate_state(gate: Gate) -> selectors.GateState:
    return selectors.gate_states(gate.release, [gate.pk])[0]


@router.get(
    "/releases/{release_id}/gates/{gate_id}", response=responses({200: GateOut}), tags=["gates"]
)
def get_gate(request, release_id: int, gate_id: int):
    """A gate with its sign-offs, what blocks GO, and its decision."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return _gate_state(_gate(release, gate_id))


class SignOffIn(BodyIn):
    role_id: int
    verdict: Literal["approve", "reject"]
    comment: str = Field("", max_length=COMMENT_MAX)


@router.post(
    "/releases/{release_id}/gates/{gate_id}/signoffs",
    response=responses({200: GateOut}, WRITE_ERRORS),
    tags=["gates"],
)
def sign_off(request, release_id: int, gate_id: int, payload: SignOffIn):
    """Approve or reject the gate for a role you hold (a backup signs on behalf)."""
    release, st = release_for(
        request.user, release_id, policies.Action.SIGN_OFF, target={"gate": gate_id}
    )
    gate = _gate(release, gate_id)
    role = object_in(Role.objects.all(), payload.role_id, release=release)
    services.signoff_record(
        gate=gate,
        role=role,
        verdict=payload.verdict,
        comment=payload.comment,
        user=request.user,
        standing=st,
    )
    return _gate_state(gate)


@router.get(
    "/releases/{release_id}/gates/{gate_id}/decisions",
    response=responses({200: list[DecisionOut]}),
    tags=["gates"],
)
def list_decisions(request, release_id: int, gate_id: int):
    """Every decision at the gate, oldest first, each with the snapshot it was made on."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return selectors.gate_decisions(_gate(release, gate_id))


class DecisionIn(BodyIn):
    outcome: Literal["go", "conditional_go", "no_go"]
    rationale: str = Field(pattern=FILLED, max_length=RATIONALE_MAX)
    mitigations: list[Annotated[str, Field(max_length=MITIGATION_MAX)]] = Field(
        [], max_length=MITIGATIONS_MAX
    )
    new_date: datetime | None = None
    supersedes: int | None = None
    confirm_open: bool = Field(
        False, description="CONDITIONAL GO over open blockers: the decider has seen them"
    )


@router.post(
    "/releases/{release_id}/gates/{gate_id}/decisions",
    response=responses({201: DecisionOut}, WRITE_ERRORS),
    tags=["gates"],
)
def decide(request, release_id: int, gate_id: int, payload: DecisionIn):
    """Decide GO, CONDITIONAL GO or NO-GO at the gate (its decision authority)."""
    release, st = release_for(
        request.user, release_id, policies.Action.DECIDE, target={"gate": gate_id}
    )
    decision = services.decision_record(
        gate=_gate(release, gate_id),
        outcome=payload.outcome,
        rationale=payload.rationale,
        mitigations=payload.mitigations,
        new_date=payload.new_date,
        supersedes=payload.supersedes,
        confirm_open=payload.confirm_open,
        user=request.user,
        standing=st,
    )
    return Status(201, selectors.decision_with_state(decision))


class VoteIn(BodyIn):
    verdict: Literal["confirm", "object"]
    comment: str = Field("", max_length=COMMENT_MAX)


@router.post(
    "/releases/{release_id}/gates/{gate_id}/decisions/{decision_id}/votes",
    response=responses({201: DecisionOut}, WRITE_ERRORS),
    tags=["gates"],
)
def vote(request, release_id: int, gate_id: int, decision_id: int, payload: VoteIn):
    """Confirm or object to a proposed decision, for a decision role you hold."""
    release, st = release_for(
        request.user, release_id, policies.Action.DECIDE, target={"gate": gate_id}
    )
    gate = _gate(release, gate_id)
    decision = object_in(Decision.objects.select_related("gate__release"), decision_id, gate=gate)
    services.decision_vote_record(
        decision=decision,
        verdict=payload.verdict,
        comment=payload.comment,
        user=request.user,
        standing=st,
    )
    return Status(201, selectors.decision_with_state(decision))


# --- rollback calls ------------------------------------------------------------------
class RollbackRaiseIn(BodyIn):
    reason: str = Field(pattern=FILLED, max_length=REASON_MAX, description="What was breached")


class RollbackDecideIn(BodyIn):
    choice: Literal["roll_back", "fix_forward", "continue"]
    rationale: str = Field(pattern=FILLED, max_length=RATIONALE_MAX)


@router.post(
    "/releases/{release_id}/rollback-calls",
    response=responses({201: RollbackCallOut}, WRITE_ERRORS),
    tags=["rollback"],
)
def raise_rollback(request, release_id: int, payload: RollbackRaiseIn):
    """Raise a rollback trigger: starts the decision clock on every page."""
    release, st = release_for(
        request.user, release_id, policies.Action.RAISE_ROLLBACK, target={"api": request.path}
    )
    call = services.rollback_raise(
        release=release, reason=payload.reason, user=request.user, standing=st
    )
    return Status(201, call)


@router.post(
    "/releases/{release_id}/rollback-calls/{call_id}/decision",
    response=responses({200: RollbackCallOut}, WRITE_ERRORS),
    tags=["rollback"],
)
def decide_rollback(request, release_id: int, call_id: int, payload: RollbackDecideIn):
    """Decide a raised trigger: roll back, fix forward or continue, with why."""
    release, st = release_for(
        request.user, release_id, policies.Action.ROLL_BACK, target={"call": call_id}
    )
    call = object_in(RollbackCall.objects.select_related("release"), call_id, release=release)
    return services.rollback_decide(
        call=call,
        choice=payload.choice,
        rationale=payload.rationale,
        user=request.user,
        standing=st,
    )
