"""The JSON API (django-ninja; OpenAPI at /api/openapi.json).

Authenticated with ``Authorization: Bearer <token>`` (``manage.py create_token``)
or the browser session. Errors: 400 names the field, 403 says why (and is
audited), 404 for an unknown release or item.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404
from ninja import NinjaAPI, Schema
from ninja.errors import ValidationError
from ninja.responses import Status
from ninja.security import HttpBearer, django_auth

from checklists import services as checklist_services
from checklists.gates import gate_states
from checklists.models import ChecklistItem, Gate, RollbackCall
from deployments import selectors
from deployments import services as release_services
from deployments.models import Release, Step
from warroom import http as warroom_http
from warroom import policies
from warroom.audit import AuditEvent, verify_chain
from warroom.auth import user_for_token
from warroom.clock import format_offset
from warroom.errors import FieldError
from warroom.people.models import Role


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = user_for_token(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Warroom API",
    version="1",
    auth=[BearerToken(), django_auth],
    description="Releases on a T-minus clock, checklists, sign-offs and decisions.",
)
warroom_http.install(api)  # JSON strings every database can store (warroom/http.py)


@api.exception_handler(ValidationError)
def validation_error(request, exc: ValidationError):
    problems = []
    for err in exc.errors:
        loc = [str(p) for p in err.get("loc", ()) if p not in ("body", "payload", "query", "path")]
        problems.append({"field": ".".join(loc) or "body", "message": err.get("msg", "invalid")})
    first = problems[0] if problems else {"field": "body", "message": "invalid"}
    return api.create_response(
        request,
        {"detail": f"{first['field']}: {first['message']}", "errors": problems},
        status=400,
    )


@api.exception_handler(FieldError)
def field_error(request, exc: FieldError):
    return api.create_response(
        request,
        {"detail": str(exc), "errors": [{"field": exc.field, "message": exc.message}]},
        status=409 if exc.__class__.__name__ == "DecisionConflict" else 400,
    )


@api.exception_handler(policies.Refused)
def refused(request, exc: policies.Refused):
    return api.create_response(
        request, {"detail": exc.reason, "action": str(exc.action)}, status=403
    )


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": str(exc) or "not found"}, status=404)


# --- schemas -------------------------------------------------------------------
ItemStatus = Literal["todo", "done", "blocked", "na"]


class ItemIn(Schema):
    status: ItemStatus
    note: str | None = None


class ItemOut(Schema):
    id: int
    text: str
    status: str
    note: str
    owner_role: str | None
    assignee: str | None
    verification: str
    parent_id: int | None
    changed_by: str
    changed_at: datetime | None


class ChecklistOut(Schema):
    id: int
    name: str
    kind: str
    phase_id: int | None
    due: str
    due_at: datetime | None
    done: int
    total: int
    items: list[ItemOut]


class PhaseOut(Schema):
    id: int
    name: str
    start: str
    starts_at: datetime | None
    duration_minutes: int | None
    status: str


class ReleaseSummaryOut(Schema):
    id: int
    name: str
    version: str
    status: str
    state: str
    go_live_at: datetime
    window_starts_at: datetime | None
    window_ends_at: datetime | None
    last_seq: int


class SignOffOut(Schema):
    role: str
    role_id: int
    criteria: str
    verdict: str
    signer: str
    on_behalf_of: str
    at: datetime | None


class GateOut(Schema):
    id: int
    name: str
    kind: str
    at: str
    consensus: str
    signoffs: list[SignOffOut]
    blockers: list[str]
    can_go: bool
    decision: str
    decision_id: int | None


class ReleaseOut(ReleaseSummaryOut):
    rag: str
    progress_percent: int
    current_phase: str | None
    phases: list[PhaseOut]
    checklists: list[ChecklistOut]
    gates: list[GateOut]


def _release_for(request, release_id: int, action=policies.Action.VIEW) -> tuple:
    release = get_object_or_404(Release, pk=release_id)
    st = policies.standing(request.user, release)
    policies.require(st, action, release, target={"api": request.path})
    return release, st


def _summary_out(r: Release, state: str) -> dict:
    return {
        "id": r.pk,
        "name": r.name,
        "version": r.version,
        "status": r.status,
        "state": state,
        "go_live_at": r.go_live_at,
        "window_starts_at": r.window_starts_at,
        "window_ends_at": r.window_ends_at,
        "last_seq": r.last_seq,
    }


def _item_out(i: ChecklistItem) -> dict:
    return {
        "id": i.pk,
        "text": i.text,
        "status": i.status,
        "note": i.note,
        "owner_role": i.owner_role.name if i.owner_role else None,
        "assignee": i.assignee.name if i.assignee else None,
        "verification": i.verification,
        "parent_id": i.parent_id,
        "changed_by": i.changed_by_label,
        "changed_at": i.changed_at,
    }


def _gate_out(g) -> dict:
    return {
        "id": g.gate.pk,
        "name": g.gate.name,
        "kind": g.gate.kind,
        "at": format_offset(g.gate.at_offset),
        "consensus": g.gate.consensus,
        "signoffs": [
            {
                "role": r.role.name,
                "role_id": r.role.pk,
                "criteria": r.required.criteria,
                "verdict": r.verdict or "missing",
                "signer": r.current.signer.name if r.current else "",
                "on_behalf_of": r.current.on_behalf_of.name
                if r.current and r.current.on_behalf_of
                else "",
                "at": r.current.at if r.current else None,
            }
            for r in g.requirements
        ],
        "blockers": g.blockers,
        "can_go": g.can_go,
        "decision": g.outcome,
        "decision_id": g.decision.pk if g.decision else None,
    }


# --- releases ------------------------------------------------------------------
@api.get("/releases", response=list[ReleaseSummaryOut], tags=["releases"])
def list_releases(request):
    groups = selectors.releases_by_state(user=request.user)
    return [_summary_out(r, state) for state, rows in groups.items() for r in rows]


@api.get("/releases/{release_id}", response=ReleaseOut, tags=["releases"])
def get_release(request, release_id: int):
    release, _ = _release_for(request, release_id)
    s = selectors.summary(release)
    checklists = selectors.warroom_checklists(release)
    out = _summary_out(release, s.state)
    out.update(
        rag=s.rag,
        progress_percent=s.progress.percent,
        current_phase=s.current.name if s.current else None,
        phases=[
            {
                "id": p.pk,
                "name": p.name,
                "start": format_offset(p.start_offset),
                "starts_at": release.at(p.start_offset),
                "duration_minutes": int(p.duration.total_seconds() // 60) if p.duration else None,
                "status": p.status,
            }
            for p in s.phases
        ],
        checklists=[
            {
                "id": c.pk,
                "name": c.name,
                "kind": c.kind,
                "phase_id": c.phase_id,
                "due": format_offset(c.due_offset),
                "due_at": release.at(c.due_offset),
                "done": s.per_checklist.get(c.pk, selectors.Progress()).closed,
                "total": len(c.item_rows),
                "items": [_item_out(i) for i in c.item_rows],
            }
            for c in checklists
        ],
        gates=[_gate_out(g) for g in s.gate_summaries],
    )
    return out


class ReleaseEditIn(Schema):
    name: str | None = None
    go_live_at: datetime | None = None


@api.patch("/releases/{release_id}", response=ReleaseSummaryOut, tags=["releases"])
def edit_release(request, release_id: int, payload: ReleaseEditIn):
    """Edit the plan: rename, or move T0 (every phase, due time and gate moves with it)."""
    release = get_object_or_404(Release, pk=release_id)
    release = release_services.release_edit(
        release=release, user=request.user, **payload.dict(exclude_unset=True)
    )
    return _summary_out(release, selectors.release_state(release, selectors.clock.now()))


@api.post("/releases/{release_id}/items/{item_id}", response=ItemOut, tags=["checklists"])
def set_item_status(request, release_id: int, item_id: int, payload: ItemIn):
    """Tick (done), untick (todo), block (note = reason) or mark n/a an item."""
    get_object_or_404(Release, pk=release_id)
    item = get_object_or_404(
        ChecklistItem.objects.select_related("checklist__release"),
        pk=item_id,
        checklist__release_id=release_id,
    )
    item = checklist_services.item_set_status(
        item=item, status=payload.status, note=payload.note, user=request.user
    )
    item = ChecklistItem.objects.select_related("owner_role", "assignee").get(pk=item.pk)
    return _item_out(item)


class EventOut(Schema):
    seq: int
    kind: str
    at: datetime
    actor: str
    data: dict


@api.get("/releases/{release_id}/events", response=list[EventOut], tags=["audit"])
def list_events(request, release_id: int, after: int = 0, limit: int = 500):
    """The audit timeline after sequence number ``after`` (what a reconnecting client missed)."""
    release, _ = _release_for(request, release_id)
    rows = AuditEvent.objects.filter(release=release, seq__gt=after).order_by("seq")
    return [e.as_message() for e in rows[: max(1, min(limit, 5000))]]


# --- gates: sign-offs and decisions --------------------------------------------
class SignOffIn(Schema):
    role_id: int
    verdict: Literal["approve", "reject"]
    comment: str = ""


class DecisionIn(Schema):
    outcome: Literal["go", "conditional_go", "no_go"]
    rationale: str = ""
    mitigations: list[str] = []
    new_date: datetime | None = None
    supersedes: int | None = None


class DecisionOut(Schema):
    id: int
    gate_id: int
    outcome: str
    rationale: str
    mitigations: list[str]
    new_date: datetime | None
    decided_by: str
    at: datetime
    snapshot_hash: str
    snapshot: dict
    supersedes_id: int | None


def _gate(release_id: int, gate_id: int) -> Gate:
    get_object_or_404(Release, pk=release_id)
    return get_object_or_404(
        Gate.objects.select_related("release"), pk=gate_id, release_id=release_id
    )


@api.get("/releases/{release_id}/gates/{gate_id}", response=GateOut, tags=["gates"])
def get_gate(request, release_id: int, gate_id: int):
    gate = _gate(release_id, gate_id)
    _release_for(request, release_id)
    return _gate_out(gate_states(gate.release, [gate.pk])[0])


@api.post("/releases/{release_id}/gates/{gate_id}/signoffs", response=GateOut, tags=["gates"])
def sign_off(request, release_id: int, gate_id: int, payload: SignOffIn):
    gate = _gate(release_id, gate_id)
    role = get_object_or_404(Role, pk=payload.role_id, release_id=release_id)
    checklist_services.signoff_record(
        gate=gate, role=role, verdict=payload.verdict, comment=payload.comment, user=request.user
    )
    return _gate_out(gate_states(gate.release, [gate.pk])[0])


def _decision_out(d, gate) -> dict:
    return {
        "id": d.pk,
        "gate_id": gate.pk,
        "outcome": d.outcome,
        "rationale": d.rationale,
        "mitigations": d.mitigations,
        "new_date": d.new_date,
        "decided_by": d.decided_by.get_username(),
        "at": d.at,
        "snapshot_hash": d.snapshot_hash,
        "snapshot": d.snapshot,
        "supersedes_id": d.supersedes_id,
    }


@api.get(
    "/releases/{release_id}/gates/{gate_id}/decisions",
    response=list[DecisionOut],
    tags=["gates"],
)
def list_decisions(request, release_id: int, gate_id: int):
    """Every decision at the gate, oldest first, each with the snapshot it was made on."""
    gate = _gate(release_id, gate_id)
    _release_for(request, release_id)
    return [_decision_out(d, gate) for d in gate.decisions.select_related("decided_by")]


@api.post(
    "/releases/{release_id}/gates/{gate_id}/decisions", response={201: DecisionOut}, tags=["gates"]
)
def decide(request, release_id: int, gate_id: int, payload: DecisionIn):
    gate = _gate(release_id, gate_id)
    d = checklist_services.decision_record(
        gate=gate,
        outcome=payload.outcome,
        rationale=payload.rationale,
        mitigations=payload.mitigations,
        new_date=payload.new_date,
        supersedes=payload.supersedes,
        user=request.user,
    )
    return Status(201, _decision_out(d, gate))


# --- rollback calls --------------------------------------------------------------
class RollbackRaiseIn(Schema):
    reason: str


class RollbackDecideIn(Schema):
    choice: Literal["roll_back", "fix_forward", "continue"]
    rationale: str = ""


class RollbackCallOut(Schema):
    id: int
    reason: str
    raised_by: str
    raised_at: datetime
    decide_by: datetime
    seconds_left: int
    choice: str
    rationale: str
    decided_at: datetime | None


def _call_out(c: RollbackCall) -> dict:
    left = int((c.decide_by - selectors.clock.now()).total_seconds())
    return {
        "id": c.pk,
        "reason": c.reason,
        "raised_by": c.raised_by_label,
        "raised_at": c.raised_at,
        "decide_by": c.decide_by,
        "seconds_left": max(0, left) if c.decided_at is None else 0,
        "choice": c.choice,
        "rationale": c.rationale,
        "decided_at": c.decided_at,
    }


@api.post(
    "/releases/{release_id}/rollback-calls", response={201: RollbackCallOut}, tags=["rollback"]
)
def raise_rollback(request, release_id: int, payload: RollbackRaiseIn):
    release = get_object_or_404(Release, pk=release_id)
    call = checklist_services.rollback_raise(
        release=release, reason=payload.reason, user=request.user
    )
    return Status(201, _call_out(call))


@api.post(
    "/releases/{release_id}/rollback-calls/{call_id}/decision",
    response=RollbackCallOut,
    tags=["rollback"],
)
def decide_rollback(request, release_id: int, call_id: int, payload: RollbackDecideIn):
    get_object_or_404(Release, pk=release_id)
    call = get_object_or_404(
        RollbackCall.objects.select_related("release"), pk=call_id, release_id=release_id
    )
    call = checklist_services.rollback_decide(
        call=call, choice=payload.choice, rationale=payload.rationale, user=request.user
    )
    return _call_out(call)


# --- steps (the execution engine acts on these requests) ------------------------
class StepRunOut(Schema):
    id: int
    step_id: int
    attempt: int
    status: str


@api.post("/releases/{release_id}/steps/{step_id}/runs", response={202: StepRunOut}, tags=["steps"])
def request_step_run(request, release_id: int, step_id: int):
    """Ask for a step to run (stored; the execution engine picks it up)."""
    get_object_or_404(Release, pk=release_id)
    step = get_object_or_404(
        Step.objects.select_related("phase__release"), pk=step_id, phase__release_id=release_id
    )
    run = release_services.step_request_run(step=step, user=request.user)
    return Status(
        202, {"id": run.pk, "step_id": step.pk, "attempt": run.attempt, "status": run.status}
    )


# --- people ------------------------------------------------------------------------
class AssignmentIn(Schema):
    username: str
    kind: Literal["primary", "backup"] = "primary"


class AssignmentOut(Schema):
    role: str
    person: str
    kind: str


@api.post(
    "/releases/{release_id}/roles/{role_id}/assignments",
    response={201: AssignmentOut},
    tags=["people"],
)
def assign(request, release_id: int, role_id: int, payload: AssignmentIn):
    get_object_or_404(Release, pk=release_id)
    role = get_object_or_404(
        Role.objects.select_related("release"), pk=role_id, release_id=release_id
    )
    a = release_services.role_assign(
        role=role, username=payload.username, kind=payload.kind, user=request.user
    )
    return Status(201, {"role": role.name, "person": a.person.name, "kind": a.kind})


# --- audit ------------------------------------------------------------------------
class VerifyOut(Schema):
    ok: bool
    first_bad_seq: int | None
    message: str
    events: int


@api.get("/releases/{release_id}/audit/verify", response=VerifyOut, tags=["audit"])
def verify_audit(request, release_id: int):
    """Recompute the release's hash chain (administrators)."""
    release, _ = _release_for(request, release_id, policies.Action.ADMIN)
    problem = verify_chain(release.pk)
    return {
        "ok": problem is None,
        "first_bad_seq": problem.seq if problem else None,
        "message": problem.message if problem else "chain intact",
        "events": release.last_seq,
    }
