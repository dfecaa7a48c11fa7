"""Writes to checklists. Each service checks the policy, changes rows and records
the event in one transaction; a refusal is audited and changes nothing."""

from __future__ import annotations

import hashlib
from datetime import timedelta

from django.conf import settings
from django.db import transaction

from checklists.models import (
    ChecklistItem,
    Decision,
    Gate,
    ItemNote,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)
from checklists.selectors import GateState, gate_states
from warroom import clock, events, policies
from warroom.audit import canonical_json
from warroom.errors import Conflict, FieldError
from warroom.people.models import Assignment, Person, Role

MAX_NOTE = 4000


def item_set_status(
    *,
    item: ChecklistItem,
    status: str,
    user,
    note: str | None = None,
    standing: policies.Standing | None = None,
) -> ChecklistItem:
    """Tick, untick, block (a reason is required) or mark n/a a checklist item, or add a
    note to it (``status`` as it is, with a ``note``).

    Notes append: each is kept as an :class:`ItemNote` with who wrote it and when, and is
    recorded in the event. A block reason stays the item's standing note until the item
    is unblocked; a note added to a blocked item does not replace it. Raises
    :class:`FieldError` for a bad status or missing reason and :class:`policies.Refused`
    when ``user`` may not change this item. Setting the status an item already has,
    without a note or with the note it already has, changes nothing and records no event.
    """
    if status not in ChecklistItem.Status.values:
        raise FieldError("status", f"must be one of {', '.join(ChecklistItem.Status.values)}")
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise FieldError("note", f"is longer than {MAX_NOTE} characters")
    if status == ChecklistItem.Status.BLOCKED and not note:
        raise FieldError("note", "a blocked item needs a reason")
    release = item.checklist.release
    s = standing or policies.standing(user, release)
    policies.require(
        s, policies.Action.TICK, release, item=item, target={"item": item.pk, "status": status}
    )
    with transaction.atomic():
        current = ChecklistItem.objects.select_for_update().get(pk=item.pk)
        previous = current.status
        changed = status != previous
        if not changed and (not note or note == _latest_note(current)):
            return current  # a double tap, or the same note sent twice
        now, label = clock.now(), events.actor_label_for(user)
        fields = ["note"]
        if changed or status != ChecklistItem.Status.BLOCKED:
            # A status change sets the standing note (a block reason, or none); a note on
            # an item that is not blocked becomes its standing note. A blocked item keeps
            # its reason until it is unblocked.
            current.note = note
        if changed:
            current.status = status
            current.changed_by, current.changed_by_label, current.changed_at = user, label, now
            fields += ["status", "changed_by", "changed_by_label", "changed_at"]
        current.save(update_fields=fields)
        added = None
        if note:
            added = ItemNote.objects.create(
                item=current,
                text=note,
                status=status,
                changed=changed,
                author=user,
                author_label=label,
                at=now,
            )
        events.record(
            release,
            "item.status",
            actor=user,
            data={
                "item": current.pk,
                "checklist": current.checklist_id,
                "status": status,
                "from": previous,
                "note": note,
                "note_id": added.pk if added else None,
                "reason": current.note if status == ChecklistItem.Status.BLOCKED else "",
                "text": current.text[:200],
            },
        )
    return current


def _latest_note(item: ChecklistItem) -> str:
    """The text of the item's latest note (its standing note when it has no history)."""
    latest = ItemNote.objects.filter(item=item).order_by("-at", "-id").first()
    return latest.text if latest else item.note


def _lock_release(release) -> None:
    """Serialise decisions on one release: sign-offs, decisions and calls take this lock."""
    events.lock_head(release)


def signoff_record(
    *,
    gate: Gate,
    role: Role,
    verdict: str,
    user,
    comment: str = "",
    standing: policies.Standing | None = None,
) -> SignOff:
    """Approve or reject ``gate`` for ``role``. A later sign-off supersedes the earlier one.

    A backup signing for the role is recorded "on behalf of" the primary.
    Raises FieldError (bad verdict, rejection without a reason, role not required
    here) and policies.Refused (the user does not hold the role).
    """
    if verdict not in SignOff.Verdict.values:
        raise FieldError("verdict", f"must be one of {', '.join(SignOff.Verdict.values)}")
    comment = (comment or "").strip()
    if verdict == SignOff.Verdict.REJECT and not comment:
        raise FieldError("comment", "a rejection needs a reason")
    required = RequiredSignOff.objects.filter(gate=gate, role=role).first()
    if required is None:
        raise FieldError("role", f"no sign-off from {role.name} is required at {gate.name}")
    release = gate.release
    st = standing or policies.standing(user, release)
    policies.require(
        st,
        policies.Action.SIGN_OFF,
        release,
        role=role,
        target={"gate": gate.pk, "role": role.name, "verdict": verdict},
    )
    signer = st.person or Person.objects.filter(user=user).first()
    if signer is None:  # a superuser without a person record
        signer = Person.objects.create(user=user, name=user.get_full_name() or user.username)
    on_behalf_of = None
    if role.pk not in st.primary_role_ids:
        primary = (
            Assignment.objects.filter(role=role, kind=Assignment.Kind.PRIMARY)
            .select_related("person")
            .first()
        )
        on_behalf_of = primary.person if primary and primary.person_id != signer.pk else None
    with transaction.atomic():
        _lock_release(release)
        previous = SignOff.objects.filter(required=required, superseded_by=None).first()
        signoff = SignOff.objects.create(
            required=required,
            verdict=verdict,
            comment=comment,
            signed_by=user,
            signer=signer,
            on_behalf_of=on_behalf_of,
            at=clock.now(),
            supersedes=previous,
        )
        events.record(
            release,
            "signoff.recorded",
            actor=user,
            data={
                "signoff": signoff.pk,
                "gate": gate.name,
                "gate_id": gate.pk,
                "role": role.name,
                "verdict": verdict,
                "comment": comment,
                "on_behalf_of": on_behalf_of.name if on_behalf_of else "",
                "supersedes": previous.pk if previous else None,
            },
        )
    return signoff


def _snapshot(state: GateState, now) -> dict:
    items = (
        ChecklistItem.objects.filter(checklist_id=state.gate.checklist_id).order_by("order", "id")
        if state.gate.checklist_id
        else []
    )
    return {
        "gate": {
            "id": state.gate.pk,
            "name": state.gate.name,
            "consensus": state.gate.consensus,
            "quorum": state.gate.quorum,
        },
        "at": now.isoformat(),
        "items": [{"id": i.pk, "text": i.text, "status": i.status} for i in items],
        "signoffs": [
            {
                "role": r.role.name,
                "criteria": r.required.criteria,
                "verdict": r.verdict or "missing",
                "by": r.current.signer.name if r.current else "",
                "on_behalf_of": r.current.on_behalf_of.name
                if r.current and r.current.on_behalf_of
                else "",
                "comment": r.current.comment if r.current else "",
                "at": r.current.at.isoformat() if r.current else "",
            }
            for r in state.requirements
        ],
        "blockers": state.blockers,
        "open_critical_issues": state.open_critical,
        # Metric gates arrive with the execution engine; until then criteria are unmeasured.
        "metrics": [
            {"criterion": str(c), "state": "not measured"}
            for c in state.gate.release.rollback_criteria.filter(enabled=True)
        ],
    }


def _valid_decision(
    outcome: str, rationale: str, mitigations: list[str] | None, new_date, now
) -> tuple[str, list[str]]:
    """The decision's rationale and mitigations, cleaned; FieldError naming what is wrong."""
    if outcome not in Decision.Outcome.values:
        raise FieldError("outcome", f"must be one of {', '.join(Decision.Outcome.values)}")
    rationale = (rationale or "").strip()
    if not rationale:
        raise FieldError("rationale", "a decision needs a rationale")
    cleaned = [m.strip() for m in (mitigations or []) if m and m.strip()]
    if outcome == Decision.Outcome.CONDITIONAL_GO and not cleaned:
        raise FieldError("mitigations", "a CONDITIONAL GO needs at least one mitigation")
    if new_date is not None:
        if new_date.tzinfo is None:
            raise FieldError("new_date", "needs a time zone (e.g. 2026-12-20T22:00Z)")
        if outcome != Decision.Outcome.NO_GO:
            raise FieldError("new_date", "only a NO-GO sets a new date")
        if new_date <= now:
            raise FieldError("new_date", "is in the past")
    return rationale, cleaned


def _check_gate_allows(state: GateState, outcome: str, words: list[str]) -> None:
    """GO needs every blocker cleared; CONDITIONAL GO must name each rejecting role."""
    if outcome == Decision.Outcome.GO and state.blockers:
        raise FieldError("outcome", "GO is blocked: " + "; ".join(state.blockers))
    if outcome == Decision.Outcome.CONDITIONAL_GO:
        text = " ".join(words).lower()
        unnamed = [r.role.name for r in state.rejecting if r.role.name.lower() not in text]
        if unnamed:
            raise FieldError(
                "mitigations", "name how you address the rejection by " + ", ".join(unnamed)
            )


def decision_record(
    *,
    gate: Gate,
    outcome: str,
    rationale: str,
    user,
    mitigations: list[str] | None = None,
    new_date=None,
    supersedes: int | None = None,
    standing: policies.Standing | None = None,
) -> Decision:
    """Record GO, CONDITIONAL GO or NO-GO at ``gate`` with a snapshot of its state.

    GO needs every blocker cleared. CONDITIONAL GO needs mitigations, and each
    rejecting role must be named in them. NO-GO may carry a new (future) date.
    A gate holds one decision; changing it means superseding it explicitly.
    """
    release = gate.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.DECIDE, release, gate=gate, target={"gate": gate.pk, "outcome": outcome}
    )
    now = clock.now()
    rationale, mitigations = _valid_decision(outcome, rationale, mitigations, new_date, now)
    with transaction.atomic():
        _lock_release(release)
        current = Decision.objects.filter(gate=gate, superseded_by=None).first()
        if current is not None and supersedes != current.pk:
            raise DecisionConflict(current)
        if current is None and supersedes is not None:
            raise FieldError("supersedes", "there is no decision to supersede")
        state = gate_states(release, [gate.pk])[0]
        _check_gate_allows(state, outcome, [rationale, *mitigations])
        snapshot = _snapshot(state, now)
        decision = Decision.objects.create(
            gate=gate,
            outcome=outcome,
            rationale=rationale,
            mitigations=mitigations,
            new_date=new_date,
            decided_by=user,
            at=now,
            snapshot=snapshot,
            snapshot_hash=hashlib.sha256(canonical_json(snapshot).encode()).hexdigest(),
            supersedes=current,
        )
        if (
            outcome != Decision.Outcome.NO_GO
            and gate.kind == Gate.Kind.GO_NO_GO
            and release.status == release.Status.PLANNED
        ):
            release.status = release.Status.IN_PROGRESS
            release.started_at = now
            release.save(update_fields=["status", "started_at"])
        events.record(
            release,
            "decision.recorded",
            actor=user,
            data={
                "decision": decision.pk,
                "gate": gate.name,
                "gate_id": gate.pk,
                "outcome": outcome,
                "outcome_label": decision.get_outcome_display(),
                "rationale": rationale,
                "mitigations": mitigations,
                "new_date": new_date.isoformat() if new_date else None,
                "snapshot_hash": decision.snapshot_hash,
                "supersedes": current.pk if current else None,
            },
        )
    return decision


class DecisionConflict(Conflict):
    """The gate already holds a decision the caller did not mean to supersede."""

    def __init__(self, current: Decision):
        super().__init__(
            "supersedes",
            f"{current.gate.name} was already decided "
            f"{current.get_outcome_display()} (decision {current.pk}); "
            "supersede it explicitly to change it",
        )
        self.current = current


def rollback_raise(
    *, release, reason: str, user, criterion=None, standing: policies.Standing | None = None
) -> RollbackCall:
    """Raise a rollback trigger: starts the decision clock shown on the board."""
    reason = (reason or "").strip()
    if not reason:
        raise FieldError("reason", "say what was breached")
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.RAISE_ROLLBACK, release, target={"reason": reason})
    now = clock.now()
    with transaction.atomic():
        _lock_release(release)
        if RollbackCall.objects.filter(release=release, decided_at=None).exists():
            raise FieldError("reason", "a rollback decision is already pending")
        call = RollbackCall.objects.create(
            release=release,
            reason=reason,
            criterion=criterion,
            raised_by=user,
            raised_by_label=events.actor_label_for(user),
            raised_at=now,
            decide_by=now + timedelta(seconds=settings.ROLLBACK_DECISION_SECONDS),
        )
        events.record(
            release,
            "rollback.raised",
            actor=user,
            data={
                "call": call.pk,
                "reason": reason,
                "decide_by": call.decide_by.isoformat(),
            },
        )
    return call


def rollback_decide(
    *,
    call: RollbackCall,
    choice: str,
    rationale: str,
    user,
    standing: policies.Standing | None = None,
) -> RollbackCall:
    """Decide a raised trigger: roll back, fix forward or continue, with why."""
    if choice not in RollbackCall.Choice.values:
        raise FieldError("choice", f"must be one of {', '.join(RollbackCall.Choice.values)}")
    rationale = (rationale or "").strip()
    if not rationale:
        raise FieldError("rationale", "a rollback decision needs a rationale")
    release = call.release
    st = standing or policies.standing(user, release)
    policies.require(
        st, policies.Action.ROLL_BACK, release, target={"call": call.pk, "choice": choice}
    )
    now = clock.now()
    with transaction.atomic():
        _lock_release(release)
        call = RollbackCall.objects.get(pk=call.pk)
        if call.decided_at is not None:
            raise FieldError("choice", f"this trigger was already decided: {call.choice}")
        call.choice, call.rationale = choice, rationale
        call.decided_by, call.decided_at = user, now
        call.save(update_fields=["choice", "rationale", "decided_by", "decided_at"])
        events.record(
            release,
            "rollback.decided",
            actor=user,
            data={
                "call": call.pk,
                "choice": choice,
                "choice_label": call.get_choice_display(),
                "rationale": rationale,
                "late": now > call.decide_by,
            },
        )
    return call
