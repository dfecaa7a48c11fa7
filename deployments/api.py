"""The releases app's API: releases, their timeline of events, steps, people, audit."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.responses import Status

from checklists.api import ChecklistOut, GateOut
from deployments import selectors, services
from deployments.engine_api import router as engine_router
from deployments.issue_api import router as issue_router
from deployments.models import Phase, Step
from deployments.pipeline_api import router as pipeline_router
from warroom import clock, policies
from warroom.access import object_in, release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses
from warroom.audit import events_after, verify_chain
from warroom.clock import format_offset
from warroom.people.models import Role

router = Router()


class ReleaseSummaryOut(Schema):
    id: int = Field(validation_alias="release.pk")
    name: str = Field(validation_alias="release.name")
    version: str = Field(validation_alias="release.version")
    status: str = Field(validation_alias="release.status")
    state: str
    go_live_at: datetime = Field(validation_alias="release.go_live_at")
    window_starts_at: datetime | None = Field(validation_alias="release.window_starts_at")
    window_ends_at: datetime | None = Field(validation_alias="release.window_ends_at")
    last_seq: int = Field(validation_alias="release.last_seq")


class PhaseOut(Schema):
    id: int
    name: str
    start: str
    starts_at: datetime | None
    duration_minutes: int | None
    status: str

    @staticmethod
    def resolve_start(obj: Phase) -> str:
        return format_offset(obj.start_offset)

    @staticmethod
    def resolve_starts_at(obj: Phase) -> datetime | None:
        return obj.release.at(obj.start_offset)

    @staticmethod
    def resolve_duration_minutes(obj: Phase) -> int | None:
        return int(obj.duration.total_seconds() // 60) if obj.duration else None


class ReleaseOut(ReleaseSummaryOut):
    rag: str = Field(validation_alias="summary.rag")
    rag_reasons: list[str] = Field(validation_alias="summary.rag_reasons")
    progress_percent: int = Field(validation_alias="summary.progress.percent")
    current_phase: str | None = None
    phases: list[PhaseOut] = Field(validation_alias="summary.phases")
    checklists: list[ChecklistOut]
    gates: list[GateOut] = Field(validation_alias="summary.gate_summaries")

    @staticmethod
    def resolve_current_phase(obj) -> str | None:
        # Before the first phase starts (and after the last) there is none.
        current = obj.summary.current
        return current.name if current is not None else None


@router.get("/releases", response=responses({200: list[ReleaseSummaryOut]}), tags=["releases"])
def list_releases(request):
    """The releases you are on, in progress first, then upcoming, then done."""
    groups = selectors.releases_by_state(user=request.user)
    return [selectors.ReleaseRow(r, state) for state, rows in groups.items() for r in rows]


@router.get("/releases/{release_id}", response=responses({200: ReleaseOut}), tags=["releases"])
def get_release(request, release_id: int):
    """A release with its phases, checklists and items, gates, RAG and progress."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return selectors.release_detail(release)


class ReleaseEditIn(BodyIn):
    name: str | None = Field(None, max_length=200)
    go_live_at: datetime | None = None


@router.patch(
    "/releases/{release_id}",
    response=responses({200: ReleaseSummaryOut}, WRITE_ERRORS),
    tags=["releases"],
)
def edit_release(request, release_id: int, payload: ReleaseEditIn):
    """Edit the plan: rename, or move T0 (every phase, due time and gate moves with it)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "release"}
    )
    release = services.release_edit(
        release=release, user=request.user, standing=st, **payload.dict(exclude_unset=True)
    )
    return selectors.ReleaseRow(release, selectors.release_state(release, clock.now()))


class StatusLineIn(BodyIn):
    text: str = Field("", max_length=280, description="Empty unpins the status line")
    next_update_at: datetime | None = None


class StatusLineOut(Schema):
    text: str = Field(validation_alias="status_line")
    by: str = Field(validation_alias="status_line_by")
    at: datetime | None = Field(validation_alias="status_line_at")
    next_update_at: datetime | None


@router.put(
    "/releases/{release_id}/status-line",
    response=responses({200: StatusLineOut}, WRITE_ERRORS),
    tags=["releases"],
)
def pin_status(request, release_id: int, payload: StatusLineIn):
    """Pin the status line stakeholders read on the board (the release manager)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "status line"}
    )
    return services.release_pin_status(
        release=release,
        user=request.user,
        text=payload.text,
        next_update_at=payload.next_update_at,
        standing=st,
    )


class EventOut(Schema):
    seq: int
    kind: str
    at: datetime
    actor: str = Field(validation_alias="actor_label")
    data: dict


@router.get(
    "/releases/{release_id}/events", response=responses({200: list[EventOut]}), tags=["audit"]
)
def list_events(request, release_id: int, after: int = 0, limit: int = 500):
    """The audit timeline after sequence number ``after`` (what a reconnecting client missed)."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return list(events_after(release.pk, max(0, after), limit=max(1, min(limit, 5000))))


class StepRunOut(Schema):
    id: int
    step_id: int
    attempt: int
    status: str


@router.post(
    "/releases/{release_id}/steps/{step_id}/runs",
    response=responses({202: StepRunOut}, WRITE_ERRORS),
    tags=["steps"],
)
def request_step_run(request, release_id: int, step_id: int):
    """Ask for a step to run (stored; the execution engine picks it up)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EXECUTE_STEP, target={"step": step_id}
    )
    step = object_in(
        Step.objects.select_related("phase__release", "owner_role"),
        step_id,
        phase__release=release,
    )
    return Status(202, services.step_request_run(step=step, user=request.user, standing=st))


class AssignmentIn(BodyIn):
    username: str = Field(pattern=FILLED, max_length=150)
    kind: str = Field("primary", pattern="^(primary|backup)$")


class AssignmentOut(Schema):
    role: str = Field(validation_alias="role.name")
    person: str = Field(validation_alias="person.name")
    kind: str


@router.post(
    "/releases/{release_id}/roles/{role_id}/assignments",
    response=responses({201: AssignmentOut}, WRITE_ERRORS),
    tags=["people"],
)
def assign(request, release_id: int, role_id: int, payload: AssignmentIn):
    """Put a user on a role of the release, as primary or backup."""
    release, st = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"role_id": role_id}
    )
    role = object_in(Role.objects.all(), role_id, release=release)
    assignment = services.role_assign(
        role=role, username=payload.username, kind=payload.kind, user=request.user, standing=st
    )
    return Status(201, assignment)


@router.delete(
    "/releases/{release_id}/roles/{role_id}/assignments/{username}",
    response=responses({204: None}, WRITE_ERRORS),
    tags=["people"],
)
def unassign(request, release_id: int, role_id: int, username: str):
    """Take a user off a role of the release; their open live pages close if they may no
    longer see it."""
    release, st = release_for(
        request.user, release_id, policies.Action.MANAGE_PEOPLE, target={"role_id": role_id}
    )
    role = object_in(Role.objects.all(), role_id, release=release)
    services.role_unassign(role=role, username=username, user=request.user, standing=st)
    return Status(204, None)


class VerifyOut(Schema):
    ok: bool
    first_bad_seq: int | None
    message: str
    events: int


@router.get(
    "/releases/{release_id}/audit/verify", response=responses({200: VerifyOut}), tags=["audit"]
)
def verify_audit(request, release_id: int):
    """Recompute the release's hash chain (administrators)."""
    release, _ = release_for(
        request.user, release_id, policies.Action.ADMIN, target={"api": request.path}
    )
    problem = verify_chain(release.pk)
    return {
        "ok": problem is None,
        "first_bad_seq": problem.seq if problem else None,
        "message": problem.message if problem else "chain intact",
        "events": release.last_seq,
    }


# The execution engine's endpoints (steps, runs, closing) live in their own module.
router.add_router("", engine_router)
router.add_router("", pipeline_router)
# War-room issues have a router of their own (deployments.issue_api).
router.add_router("", issue_router)
