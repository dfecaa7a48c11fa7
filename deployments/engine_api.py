"""The execution engine's API: attach, order and run steps, confirm or skip them, close
the release. Thin: each endpoint checks the release and calls :mod:`deployments.engine`."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Router, Schema
from ninja.responses import Status

from deployments import engine, shapes
from deployments.models import EngineRequest, Phase, Release, Step, StepRun
from warroom import policies
from warroom.access import object_in, release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses
from warroom.errors import FieldError
from warroom.people.models import Role

router = Router()


class RunOut(Schema):
    id: int
    step_id: int
    attempt: int
    status: str
    dry_run: bool
    started_at: datetime | None
    finished_at: datetime | None
    takeovers: int
    error: str
    log: str


class StepOut(Schema):
    id: int
    phase_id: int
    order: int
    kind: str
    title: str
    config: dict[str, Any]
    requires_confirmation: bool
    timeout_s: float | None
    max_attempts: int
    is_rollback: bool
    dry_run: bool
    latest_run: RunOut | None

    @staticmethod
    def resolve_timeout_s(obj: Step) -> float | None:
        return obj.timeout.total_seconds() if obj.timeout else None

    @staticmethod
    def resolve_latest_run(obj: Step) -> StepRun | None:
        return obj.runs.order_by("-attempt").first()


class StepIn(BodyIn):
    kind: str = Field(pattern=FILLED, max_length=32)
    title: str = Field(pattern=FILLED, max_length=255)
    config: dict[str, Any] = Field(default_factory=dict)
    order: int | None = Field(None, ge=1, le=10000)
    requires_confirmation: bool = False
    timeout_s: float | None = Field(None, gt=0, le=86400)
    max_attempts: int = Field(1, ge=1, le=engine.MAX_ATTEMPTS)
    retry_delay_s: float | None = Field(None, gt=0, le=86400)
    is_rollback: bool = False
    dry_run: bool = Field(False, description="Always a dry run: contacts nothing.")
    owner_role: str = Field("", max_length=200)


class OrderIn(BodyIn):
    steps: list[int] = Field(max_length=500)


class RunPhaseIn(BodyIn):
    dry_run: bool = False


class NoteIn(BodyIn):
    note: str = Field("", max_length=2000)


class ReasonIn(BodyIn):
    reason: str = Field(pattern=FILLED, max_length=2000)


class CloseIn(BodyIn):
    outcome: str = Field(pattern="^(done|rolled_back|cancelled)$")
    note: str = Field("", max_length=2000)


class AbortIn(BodyIn):
    note: str = Field(pattern=FILLED, max_length=2000)


class EngineRequestOut(Schema):
    id: int
    action: str
    requested_by: str
    requested_at: datetime
    note: str
    acted_at: datetime | None
    outcome: str


class ClosedOut(Schema):
    id: int
    status: str
    finished_at: datetime | None
    close_note: str


def _phase(release: Release, phase_id: int) -> Phase:
    return object_in(Phase.objects.select_related("release"), phase_id, release=release)


def _run(release: Release, run_id: int) -> StepRun:
    return object_in(
        StepRun.objects.select_related("step__phase__release", "step__owner_role"),
        run_id,
        step__phase__release=release,
    )


@router.get(
    "/releases/{release_id}/steps", response=responses({200: list[StepOut]}), tags=["steps"]
)
def list_steps(request, release_id: int):
    """Every step of the release, phase by phase, with its latest run."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return list(Step.objects.filter(phase__release=release).order_by("phase__order", "order", "id"))


@router.post(
    "/releases/{release_id}/phases/{phase_id}/steps",
    response=responses({201: StepOut}, WRITE_ERRORS),
    tags=["steps"],
)
def attach_step(request, release_id: int, phase_id: int, payload: StepIn):
    """Attach a step to a phase; its config is checked by its kind (errors name the field)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"phase": phase_id}
    )
    role = None
    if payload.owner_role:
        role = Role.objects.filter(release=release, name=payload.owner_role).first()
        if role is None:
            raise FieldError("owner_role", f"no role called {payload.owner_role!r} in this release")
    step = engine.step_attach(
        phase=_phase(release, phase_id),
        user=request.user,
        standing=st,
        owner_role=role,
        **payload.dict(exclude={"owner_role"}),
    )
    return Status(201, step)


@router.post(
    "/releases/{release_id}/phases/{phase_id}/steps/order",
    response=responses({200: list[StepOut]}, WRITE_ERRORS),
    tags=["steps"],
)
def order_steps(request, release_id: int, phase_id: int, payload: OrderIn):
    """Put the phase's steps in this order (each of its steps, once)."""
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    return engine.step_reorder(
        phase=_phase(release, phase_id), step_ids=payload.steps, user=request.user, standing=st
    )


@router.post(
    "/releases/{release_id}/phases/{phase_id}/run",
    response=responses({202: RunOut | None}, WRITE_ERRORS),
    tags=["steps"],
)
def run_phase(request, release_id: int, phase_id: int, payload: RunPhaseIn):
    """Start the phase's steps in order (``dry_run``: walk them without side effects)."""
    release, st = release_for(request.user, release_id, policies.Action.EXECUTE_STEP)
    run = engine.phase_run(
        phase=_phase(release, phase_id), user=request.user, dry_run=payload.dry_run, standing=st
    )
    return Status(202, run)


@router.post(
    "/releases/{release_id}/runs/{run_id}/confirm",
    response=responses({200: RunOut}, WRITE_ERRORS),
    tags=["steps"],
)
def confirm_run(request, release_id: int, run_id: int, payload: NoteIn):
    """Confirm a step that waits for a person (manual promote, or a manual step done)."""
    release, _ = release_for(request.user, release_id, target={"run": run_id})
    return engine.step_confirm(run=_run(release, run_id), user=request.user, note=payload.note)


@router.post(
    "/releases/{release_id}/runs/{run_id}/skip",
    response=responses({200: RunOut}, WRITE_ERRORS),
    tags=["steps"],
)
def skip_run(request, release_id: int, run_id: int, payload: ReasonIn):
    """Skip a waiting, queued or failed step, saying why; the phase moves on."""
    release, _ = release_for(request.user, release_id, target={"run": run_id})
    return engine.step_skip(run=_run(release, run_id), user=request.user, reason=payload.reason)


@router.post(
    "/releases/{release_id}/close",
    response=responses({200: ClosedOut}, WRITE_ERRORS),
    tags=["releases"],
)
def close_release(request, release_id: int, payload: CloseIn):
    """Close the release as done, rolled back or cancelled (audited; a note says why)."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"close": payload.outcome}
    )
    return engine.release_close(
        release=release, outcome=payload.outcome, note=payload.note, user=request.user, standing=st
    )


# --- pause, resume, abort: stored requests the engine acts on ----------------------------
STEER = {
    "pause": engine.steps_pause,
    "resume": engine.steps_resume,
    "abort": engine.steps_abort,
}


def _steer(request, release_id: int, action: str, note: str):
    release, st = release_for(
        request.user, release_id, policies.Action.STEER_STEPS, target={"request": action}
    )
    return STEER[action](release=release, user=request.user, note=note, standing=st)


@router.post(
    "/releases/{release_id}/steps/pause",
    response=responses({200: EngineRequestOut}, WRITE_ERRORS),
    tags=["steps"],
)
def pause_steps(request, release_id: int, payload: NoteIn):
    """Pause the release's steps: nothing further starts; a running step finishes."""
    return _steer(request, release_id, "pause", payload.note)


@router.post(
    "/releases/{release_id}/steps/resume",
    response=responses({200: EngineRequestOut}, WRITE_ERRORS),
    tags=["steps"],
)
def resume_steps(request, release_id: int, payload: NoteIn):
    """Resume paused steps: what waited is sent to the workers again."""
    return _steer(request, release_id, "resume", payload.note)


@router.post(
    "/releases/{release_id}/steps/abort",
    response=responses({200: EngineRequestOut}, WRITE_ERRORS),
    tags=["steps"],
)
def abort_steps(request, release_id: int, payload: AbortIn):
    """Abort the run (a note is required): queued steps are skipped, nothing more starts,
    and the release is closed as cancelled."""
    return _steer(request, release_id, "abort", payload.note)


@router.get(
    "/releases/{release_id}/steps/requests",
    response=responses({200: list[EngineRequestOut]}),
    tags=["steps"],
)
def list_requests(request, release_id: int):
    """Every pause, resume and abort asked of the engine for this release, oldest first."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return list(EngineRequest.objects.filter(release=release))


class ShapeIn(BodyIn):
    shape: str = Field(pattern="^(canary|blue_green)$")
    params: dict[str, Any] = Field(default_factory=dict)


@router.post(
    "/releases/{release_id}/phases/{phase_id}/shapes",
    response=responses({201: list[StepOut]}, WRITE_ERRORS),
    tags=["steps"],
)
def insert_shape(request, release_id: int, phase_id: int, payload: ShapeIn):
    """Append a ready-made canary (10 % → watch → 50 % → watch → 100 %) or blue-green
    (deploy green, health check, shift ALB weights, watch) sequence to the phase."""
    release, st = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"shape": payload.shape}
    )
    steps = shapes.shape_insert(
        phase=_phase(release, phase_id),
        shape=payload.shape,
        params=payload.params,
        user=request.user,
        standing=st,
    )
    return Status(201, steps)
