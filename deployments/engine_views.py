"""The war room's engine controls (htmx): attach, move, run, confirm, skip, close.

Thin: each view checks the release, calls :mod:`deployments.engine` and answers 204
(the live update redraws the steps on every open page) or 400 with what to fix.
"""

from __future__ import annotations

import json

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from deployments import engine, pipelines, shapes
from deployments.models import Phase, PipelineToken, Step, StepRun
from warroom import policies
from warroom.access import object_in, release_for
from warroom.errors import FieldError
from warroom.htmx import announce


def _done(message: str) -> HttpResponse:
    response = HttpResponse(status=204)
    response["HX-Trigger"] = announce(message)
    return response


def _bad(exc: FieldError) -> HttpResponse:
    return HttpResponse(str(exc), status=exc.status, content_type="text/plain")


def _number(request: HttpRequest, name: str, kind=int):
    raw = request.POST.get(name, "").strip()
    if not raw:
        return None
    try:
        return kind(raw)
    except ValueError:
        raise FieldError(name, "must be a number") from None


def _json_object(request: HttpRequest, name: str) -> dict:
    raw = request.POST.get(name, "").strip() or "{}"
    try:
        found = json.loads(raw)
    except ValueError as exc:
        raise FieldError(name, f"is not JSON: {exc}") from None
    if not isinstance(found, dict):
        raise FieldError(name, "must be a JSON object")
    return found


@login_required
@require_POST
def attach(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    try:
        phase = object_in(
            Phase.objects.select_related("release"), _number(request, "phase") or 0, release=release
        )
        config = _json_object(request, "config")
        step = engine.step_attach(
            phase=phase,
            user=request.user,
            standing=st,
            kind=request.POST.get("kind", ""),
            title=request.POST.get("title", ""),
            config=config,
            max_attempts=_number(request, "max_attempts") or 1,
            timeout_s=_number(request, "timeout_s", float),
            requires_confirmation=bool(request.POST.get("requires_confirmation")),
            is_rollback=bool(request.POST.get("is_rollback")),
            dry_run=bool(request.POST.get("dry_run")),
        )
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Attached “{step.title}” to {phase.name}")


def _step(release, step_id: int) -> Step:
    return object_in(
        Step.objects.select_related("phase__release", "owner_role"), step_id, phase__release=release
    )


def _run(release, run_id: int) -> StepRun:
    return object_in(
        StepRun.objects.select_related("step__phase__release", "step__owner_role"),
        run_id,
        step__phase__release=release,
    )


@login_required
@require_POST
def move_up(request: HttpRequest, release_id: int, step_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    step = _step(release, step_id)
    ids = list(step.phase.steps.order_by("order", "id").values_list("pk", flat=True))
    at = ids.index(step.pk)
    if at:
        ids[at - 1], ids[at] = ids[at], ids[at - 1]
    engine.step_reorder(phase=step.phase, step_ids=ids, user=request.user, standing=st)
    return _done(f"Moved “{step.title}” up")


@login_required
@require_POST
def run_phase(request: HttpRequest, release_id: int, phase_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id, policies.Action.EXECUTE_STEP)
    phase = object_in(Phase.objects.select_related("release"), phase_id, release=release)
    dry = bool(request.POST.get("dry_run"))
    try:
        engine.phase_run(phase=phase, user=request.user, dry_run=dry, standing=st)
    except FieldError as exc:
        return _bad(exc)
    return _done(f"{phase.name}: steps started" + (" (dry run)" if dry else ""))


@login_required
@require_POST
def run_step(request: HttpRequest, release_id: int, step_id: int) -> HttpResponse:
    release, _ = release_for(request.user, release_id, target={"step": step_id})
    step = _step(release, step_id)
    try:
        engine.step_request_run(step=step, user=request.user)
    except FieldError as exc:
        return _bad(exc)
    return _done(f"“{step.title}” queued")


@login_required
@require_POST
def confirm(request: HttpRequest, release_id: int, run_id: int) -> HttpResponse:
    release, _ = release_for(request.user, release_id, target={"run": run_id})
    run = _run(release, run_id)
    try:
        engine.step_confirm(run=run, user=request.user, note=request.POST.get("note", ""))
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Confirmed “{run.step.title}”")


@login_required
@require_POST
def skip(request: HttpRequest, release_id: int, run_id: int) -> HttpResponse:
    release, _ = release_for(request.user, release_id, target={"run": run_id})
    run = _run(release, run_id)
    try:
        engine.step_skip(run=run, user=request.user, reason=request.POST.get("reason", ""))
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Skipped “{run.step.title}”")


@login_required
@require_POST
def close(request: HttpRequest, release_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    try:
        engine.release_close(
            release=release,
            outcome=request.POST.get("outcome", ""),
            note=request.POST.get("note", ""),
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Closed as {release.get_status_display().lower()}")


STEER = {"pause": engine.steps_pause, "resume": engine.steps_resume, "abort": engine.steps_abort}
STEERED = {"pause": "Paused the steps", "resume": "Resumed the steps", "abort": "Aborted the steps"}


@login_required
@require_POST
def steer(request: HttpRequest, release_id: int, action: str) -> HttpResponse:
    """Pause, resume or abort the release's steps (abort needs a note)."""
    if action not in STEER:
        raise Http404("no such request")
    release, st = release_for(
        request.user, release_id, policies.Action.STEER_STEPS, target={"request": action}
    )
    try:
        STEER[action](
            release=release, user=request.user, note=request.POST.get("note", ""), standing=st
        )
    except FieldError as exc:
        return _bad(exc)
    return _done(STEERED[action])


@login_required
@require_POST
def token_create(request: HttpRequest, release_id: int) -> HttpResponse:
    """Make a pipeline token; the answer shows its secret this once."""
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    try:
        token, secret = pipelines.token_issue(
            release=release, name=request.POST.get("name", ""), user=request.user, standing=st
        )
    except FieldError as exc:
        return _bad(exc)
    html = render_to_string(
        "deployments/partials/pipeline_secret.html",
        {"token": token, "secret": secret, "release": release},
        request=request,
    )
    response = HttpResponse(html)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, release_id: int, token_id: int) -> HttpResponse:
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    token = object_in(PipelineToken.objects.select_related("release"), token_id, release=release)
    try:
        pipelines.token_revoke(token=token, user=request.user, standing=st)
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Revoked the {token.name} pipeline's token")


@login_required
@require_POST
def insert_shape(request: HttpRequest, release_id: int) -> HttpResponse:
    """Append a canary or blue-green sequence to a phase (parameters as JSON)."""
    release, st = release_for(request.user, release_id, policies.Action.EDIT_PLAN)
    try:
        phase = object_in(
            Phase.objects.select_related("release"), _number(request, "phase") or 0, release=release
        )
        params = _json_object(request, "params")
        shape = request.POST.get("shape", "")
        steps = shapes.shape_insert(
            phase=phase, shape=shape, params=params, user=request.user, standing=st
        )
    except FieldError as exc:
        return _bad(exc)
    return _done(f"Added {len(steps)} steps to {phase.name}")
