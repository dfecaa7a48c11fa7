"""htmx endpoints for gates and rollback calls. Each answers with the re-rendered panel."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_POST

from checklists import services
from checklists.gates import gate_states
from checklists.models import Gate, RollbackCall
from warroom.errors import FieldError
from warroom.people.models import Role


def _gate_panel(gate: Gate) -> HttpResponse:
    state = gate_states(gate.release, [gate.pk])[0]
    return HttpResponse(
        render_to_string("checklists/partials/gate.html", {"g": state, "release": gate.release})
    )


def _bad(exc: FieldError) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain")


@login_required
@require_POST
def signoff(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(
        Gate.objects.select_related("release"), pk=gate_id, release_id=release_id
    )
    role = get_object_or_404(Role, pk=request.POST.get("role") or 0, release_id=release_id)
    comment = request.headers.get("HX-Prompt", request.POST.get("comment", ""))
    try:
        services.signoff_record(
            gate=gate,
            role=role,
            verdict=request.POST.get("verdict", ""),
            comment=comment,
            user=request.user,
        )
    except FieldError as exc:
        return _bad(exc)
    return _gate_panel(gate)


def parse_local_datetime(value: str, field: str) -> datetime | None:
    """A datetime from a form (``datetime-local`` is naive: read it as UTC)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(field, "is not a date and time (YYYY-MM-DDTHH:MM)") from None
    if timezone.is_naive(moment):
        raise FieldError(field, "needs a time zone (the page sends UTC, e.g. 2026-12-20T22:00Z)")
    return moment


@login_required
@require_POST
def decide(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    gate = get_object_or_404(
        Gate.objects.select_related("release"), pk=gate_id, release_id=release_id
    )
    try:
        services.decision_record(
            gate=gate,
            outcome=request.POST.get("outcome", ""),
            rationale=request.POST.get("rationale", ""),
            mitigations=request.POST.get("mitigations", "").splitlines(),
            new_date=parse_local_datetime(request.POST.get("new_date", ""), "new_date"),
            supersedes=int(request.POST["supersedes"]) if request.POST.get("supersedes") else None,
            user=request.user,
        )
    except FieldError as exc:
        return _bad(exc)
    return _gate_panel(gate)


def _call_panel(release, call) -> HttpResponse:
    return HttpResponse(
        render_to_string(
            "checklists/partials/rollback_call.html", {"call": call, "release": release}
        )
    )


@login_required
@require_POST
def rollback_raise(request: HttpRequest, release_id: int) -> HttpResponse:
    from deployments.models import Release

    release = get_object_or_404(Release, pk=release_id)
    try:
        call = services.rollback_raise(
            release=release, reason=request.POST.get("reason", ""), user=request.user
        )
    except FieldError as exc:
        return _bad(exc)
    return _call_panel(release, call)


@login_required
@require_POST
def rollback_decide(request: HttpRequest, release_id: int, call_id: int) -> HttpResponse:
    call = get_object_or_404(
        RollbackCall.objects.select_related("release"), pk=call_id, release_id=release_id
    )
    try:
        services.rollback_decide(
            call=call,
            choice=request.POST.get("choice", ""),
            rationale=request.POST.get("rationale", ""),
            user=request.user,
        )
    except FieldError as exc:
        return _bad(exc)
    return _call_panel(call.release, None)
