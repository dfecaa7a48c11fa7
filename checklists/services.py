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
    DecisionVote,
    Gate,
    ItemNote,
    RequiredSignOff,
    RollbackCall,
    SignOff,
)
from checklists.selectors import (
    DECIDED,
    PROPOSED,
    GateState,
    decision_state,
    gate_states,
    late_work,
)
from warroom import clock, events, policies
from warroom.audit import AuditEvent, canonical_json
from warroom.errors import Conflict, FieldError
from warroom.people.models import Assignment, Person, Role
from warroom.validation import (
    COMMENT_MAX,
    MITIGATION_MAX,
    MITIGATIONS_MAX,
    NOTE_MAX,
    RATIONALE_MAX,
    REASON_MAX,
    clean_text,
    fingerprint,
)

MAX_NOTE = NOTE_MAX


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
    note = clean_text((note or "").strip(), field="note", max_length=NOTE_MAX)
    if status == ChecklistItem.Status.BLOCKED and not note:
        raise FieldError("note", "a blocked item needs a reason")
    release = item.checklist.release
    s = standing or policies.standing(user, release)
    policies.require(
        s, policies.Action.TICK, release, item=item, target={"item": item.pk, "status": status}
    )
    with transaction.atomic():
        # With the owner and assignee the caller's answer shows: read now, under the lock,
        # the answer needs no query after the commit (when the hub is fanning the event
        # out in this process and every query would take turns with it).
        current = (
            ChecklistItem.objects.select_for_update(of=("self",))
            .select_related("owner_role", "assignee")
            .get(pk=item.pk)
        )
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


NUDGE_AGAIN_AFTER = timedelta(minutes=2)


def item_nudge(*, item: ChecklistItem, user, standing: policies.Standing | None = None):
    """Tell the people on duty for a late or blocked item that the room is waiting.

    Records ``item.nudged`` naming whom (the primary, then the backups of the item's
    owner role, and its assignee); their open war rooms show it to them. The same item
    is nudged at most once every two minutes: a second nudge within that is a 409.
    """
    release = item.checklist.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.NUDGE, release, target={"item": item.pk})
    now = clock.now()
    row = next((r for r in late_work(release, now) if r.item.pk == item.pk), None)
    if row is None:
        raise FieldError("item", "this item is neither late nor blocked")
    if not row.on_duty:
        raise FieldError("item", "nobody holds the item's role: fill the seat first")
    with transaction.atomic():
        _lock_release(release)
        recent = AuditEvent.objects.filter(
            release=release, kind="item.nudged", data__item=item.pk, at__gte=now - NUDGE_AGAIN_AFTER
        ).first()
        if recent is not None:
            raise Conflict(
                "item",
                f"{recent.actor_label} nudged them {int((now - recent.at).total_seconds())} s ago",
            )
        return events.record(
            release,
            "item.nudged",
            actor=user,
            data={
                "item": item.pk,
                "text": item.text,
                "to": [d.person.name for d in row.on_duty],
                "to_person_ids": [d.person.pk for d in row.on_duty],
                "late_by_s": int(row.late_by.total_seconds()) if row.late_by else None,
                "blocked": row.blocked,
            },
        )


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
    comment = clean_text((comment or "").strip(), field="comment", max_length=COMMENT_MAX)
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
    signer = _person_of(user, st)
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
        _one_role_per_person(gate, signer, role)
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
    rationale = clean_text((rationale or "").strip(), field="rationale", max_length=RATIONALE_MAX)
    if not rationale:
        raise FieldError("rationale", "a decision needs a rationale")
    cleaned = [
        clean_text(m.strip(), field=f"mitigations.{n}", max_length=MITIGATION_MAX)
        for n, m in enumerate(mitigations or [])
        if m and m.strip()
    ]
    if len(cleaned) > MITIGATIONS_MAX:
        raise FieldError("mitigations", f"are {len(cleaned)}; the limit is {MITIGATIONS_MAX}")
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
    confirm_open: bool = False,
) -> Decision:
    """Decide GO, CONDITIONAL GO or NO-GO at ``gate``, with a snapshot of its state.

    GO needs every blocker cleared. CONDITIONAL GO needs mitigations naming each
    rejecting role, and — while items or sign-offs stand open — ``confirm_open``, the
    decider's acknowledgement of what stands open. NO-GO may carry a new (future) date.
    A gate holds one decision; changing it (or re-proposing after an objection)
    supersedes it explicitly.

    When the gate names several decision roles and each must confirm, this records a
    proposal, confirmed by the proposer's own role; the decision stands once every
    role has confirmed (:func:`decision_vote_record`).
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
        if outcome == Decision.Outcome.CONDITIONAL_GO and state.blockers and not confirm_open:
            raise FieldError(
                "confirm_open",
                "CONDITIONAL GO while these stand open — confirm to decide over them: "
                + "; ".join(state.blockers),
            )
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
        role = _deciding_role(gate, st, decided=set())
        if role is not None and st.person is not None:
            _one_role_per_person(gate, st.person, role)
        if role is not None and _needs_each(gate):
            _vote(decision, role, DecisionVote.Verdict.CONFIRM, "", user, st, now)
        settled = decision_state(decision, gate, list(decision.votes.all()))
        if settled.state == DECIDED:
            _decided(release, decision, user, now, supersedes=current)
        else:
            events.record(
                release,
                "decision.proposed",
                actor=user,
                data={
                    **_decision_data(decision),
                    "awaiting": [r.name for r in settled.awaiting],
                    "open": state.blockers,
                    "supersedes": current.pk if current else None,
                },
            )
    return decision


def decision_vote_record(
    *,
    decision: Decision,
    verdict: str,
    user,
    comment: str = "",
    standing: policies.Standing | None = None,
) -> DecisionVote:
    """Confirm or object to a proposed decision, for a decision role you hold.

    One person answers for one role of a decision. An objection needs a reason and
    ends the proposal; the last confirmation makes the decision stand (a GO is checked
    again then: it cannot stand over a blocker that appeared since it was proposed).
    """
    if verdict not in DecisionVote.Verdict.values:
        raise FieldError("verdict", f"must be one of {', '.join(DecisionVote.Verdict.values)}")
    comment = clean_text((comment or "").strip(), field="comment", max_length=COMMENT_MAX)
    if verdict == DecisionVote.Verdict.OBJECT and not comment:
        raise FieldError("comment", "an objection needs a reason")
    gate = decision.gate
    release = gate.release
    st = standing or policies.standing(user, release)
    policies.require(
        st,
        policies.Action.DECIDE,
        release,
        gate=gate,
        target={"gate": gate.pk, "decision": decision.pk, "verdict": verdict},
    )
    now = clock.now()
    with transaction.atomic():
        _lock_release(release)
        decision = Decision.objects.select_related("gate").get(pk=decision.pk)
        votes = list(decision.votes.select_related("voter"))
        settled = decision_state(decision, gate, votes)
        superseded = Decision.objects.filter(supersedes=decision).exists()
        if settled.state != PROPOSED or superseded:
            raise Conflict("decision", f"decision {decision.pk} is not waiting for answers")
        if any(v.voter_id == getattr(st.person, "pk", None) for v in votes):
            raise Conflict(
                "decision",
                "you have answered for this decision already; another decision role "
                "needs another person",
            )
        role = _deciding_role(gate, st, decided={v.role_id for v in votes})
        if role is None:
            raise Conflict("decision", "the decision roles you hold have answered already")
        _one_role_per_person(gate, _person_of(user, st), role)
        if verdict == DecisionVote.Verdict.CONFIRM and decision.outcome == Decision.Outcome.GO:
            _check_gate_allows(gate_states(release, [gate.pk])[0], decision.outcome, [])
        vote = _vote(decision, role, verdict, comment, user, st, now)
        settled = decision_state(decision, gate, [*votes, vote])
        events.record(
            release,
            "decision.voted",
            actor=user,
            data={
                **_decision_data(decision),
                "role": role.name,
                "verdict": verdict,
                "comment": comment,
                "awaiting": [r.name for r in settled.awaiting],
            },
        )
        if settled.state == DECIDED:
            _decided(release, decision, decision.decided_by, now, supersedes=decision.supersedes)
    return vote


def _needs_each(gate: Gate) -> bool:
    return gate.decision_rule == Gate.DecisionRule.EACH and gate.decision_roles.count() > 1


def _deciding_role(gate: Gate, st: policies.Standing, *, decided: set[int]) -> Role | None:
    """The gate's decision role ``st`` answers for: one they hold (as primary first, then
    as backup) that has not answered yet."""
    roles = [r for r in gate.decision_roles.all() if r.pk not in decided]
    for held in (st.primary_role_ids, st.backup_role_ids):
        for role in roles:
            if role.pk in held:
                return role
    return None


def _one_role_per_person(gate: Gate, person: Person, role: Role) -> None:
    """Separation of duties: one person signs or answers for one role of a gate.

    Conflict (409) when ``person`` stands signed (a sign-off not superseded) or has
    answered a decision still open to change for another role of ``gate`` — whether
    they hold it as primary or as backup: a backup for two roles cannot approve twice.
    """
    signed = SignOff.objects.filter(
        required__gate=gate, superseded_by=None, signer=person
    ).values_list("required__role_id", "required__role__name")
    answered = DecisionVote.objects.filter(
        decision__gate=gate, decision__superseded_by=None, voter=person
    ).values_list("role_id", "role__name")
    others = sorted({name for pk, name in (*signed, *answered) if pk != role.pk})
    if others:
        raise Conflict(
            "role",
            f"{person.name} has already signed or answered for {', '.join(others)} at "
            f"{gate.name}; one person answers for one role of a gate, so another holder "
            f"of {role.name} must",
        )


def _person_of(user, st: policies.Standing) -> Person:
    """The person who signs or answers: theirs, or (a superuser without one) a new one."""
    person = st.person or Person.objects.filter(user=user).first()
    if person is None:
        person = Person.objects.create(user=user, name=user.get_full_name() or user.username)
    return person


def _vote(decision, role, verdict, comment, user, st, now) -> DecisionVote:
    return DecisionVote.objects.create(
        decision=decision,
        role=role,
        verdict=verdict,
        comment=comment,
        voted_by=user,
        voter=_person_of(user, st),
        at=now,
    )


def _decision_data(decision: Decision) -> dict:
    return {
        "decision": decision.pk,
        "gate": decision.gate.name,
        "gate_id": decision.gate_id,
        "outcome": decision.outcome,
        "outcome_label": decision.get_outcome_display(),
        "rationale": decision.rationale,
        "mitigations": decision.mitigations,
        "new_date": decision.new_date.isoformat() if decision.new_date else None,
        "snapshot_hash": decision.snapshot_hash,
    }


def _decided(release, decision: Decision, user, now, *, supersedes: Decision | None) -> None:
    """The decision stands: record it, and a GO at the go/no-go gate starts the release."""
    if (
        decision.outcome != Decision.Outcome.NO_GO
        and decision.gate.kind == Gate.Kind.GO_NO_GO
        and release.status == release.Status.PLANNED
    ):
        release.status = release.Status.IN_PROGRESS
        release.started_at = now
        release.save(update_fields=["status", "started_at"])
    confirmed_by = [
        f"{v.voter.name} ({v.role.name})"
        for v in decision.votes.select_related("voter", "role")
        if v.verdict == DecisionVote.Verdict.CONFIRM
    ]
    events.record(
        release,
        "decision.recorded",
        actor=user,
        data={
            **_decision_data(decision),
            "confirmed_by": confirmed_by,
            "supersedes": supersedes.pk if supersedes else None,
        },
    )


class DecisionConflict(Conflict):
    """The gate already holds a decision the caller did not mean to supersede."""

    def __init__(self, current: Decision):
        super().__init__(
            "supersedes",
            f"{current.gate.name} already holds {current.get_outcome_display()} "
            f"(decision {current.pk}); supersede it explicitly to change it",
        )
        self.current = current


def rollback_raise(
    *,
    release,
    reason: str,
    user,
    criterion=None,
    standing: policies.Standing | None = None,
    system: str = "",
) -> RollbackCall:
    """Raise a rollback trigger: starts the decision clock shown on the board.

    ``system`` names the part of Warroom raising it by itself (the metric watcher,
    with ``user`` None): no person's permission applies."""
    if not (system and user is None):
        st = standing or policies.standing(user, release)
        # The attempt is recorded, not what it said (a refusal must not carry a payload).
        policies.require(
            st,
            policies.Action.RAISE_ROLLBACK,
            release,
            target={"breach": fingerprint(reason or "")},
        )
    reason = clean_text((reason or "").strip(), field="reason", max_length=REASON_MAX)
    if not reason:
        raise FieldError("reason", "say what was breached")
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
            raised_by_label=system or events.actor_label_for(user),
            raised_at=now,
            decide_by=now + timedelta(seconds=settings.ROLLBACK_DECISION_SECONDS),
        )
        events.record(
            release,
            "rollback.raised",
            actor=user,
            actor_label=system or None,
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
    rationale = clean_text((rationale or "").strip(), field="rationale", max_length=RATIONALE_MAX)
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
