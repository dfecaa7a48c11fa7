"""htmx endpoints for items, gates and rollback calls. Each answers with the re-rendered
row or panel; bad input is a 400 naming the field, a refusal a 403 (audited)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_POST

from checklists import selectors, services
from checklists.models import ChecklistItem, Decision, Gate, RollbackCall
from warroom import clock, policies
from warroom.access import object_in, release_for
from warroom.errors import FieldError
from warroom.forms import parse_local_datetime
from warroom.people.models import Role


def _bad(exc: FieldError) -> HttpResponse:
    return HttpResponse(str(exc), status=400, content_type="text/plain")


def _int_field(request: HttpRequest, name: str) -> int | None:
    value = request.POST.get(name, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise FieldError(name, "is not a number") from None


@login_required
@require_POST
def item_status(request: HttpRequest, release_id: int, item_id: int) -> HttpResponse:
    """Change an item's status; answers with the re-rendered row."""
    release, st = release_for(
        request.user, release_id, policies.Action.TICK, target={"item": item_id}
    )
    item = object_in(
        ChecklistItem.objects.select_related("checklist__release"),
        item_id,
        checklist__release=release,
    )
    note = request.headers.get("HX-Prompt")
    if note is None:
        note = request.POST.get("note")
    try:
        services.item_set_status(
            item=item,
            status=request.POST.get("status", ""),
            note=note,
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return HttpResponse(
        render_to_string(
            "checklists/partials/item.html",
            {"item": selectors.item_row(release, item.pk), "release": release},
        )
    )


@login_required
def late(request: HttpRequest, release_id: int) -> HttpResponse:
    """Late and blocked items with who is on duty for each: call, Slack, nudge."""
    release, _ = release_for(request.user, release_id, target={"page": request.path})
    rows = selectors.late_work(release, clock.now())
    template = "checklists/partials/late_list.html" if request.htmx else "checklists/late.html"
    return render(request, template, {"release": release, "rows": rows})


@login_required
@require_POST
def item_nudge(request: HttpRequest, release_id: int, item_id: int) -> HttpResponse:
    """Nudge the people on duty for a late or blocked item; answers with the late list."""
    release, st = release_for(
        request.user, release_id, policies.Action.NUDGE, target={"item": item_id}
    )
    item = object_in(
        ChecklistItem.objects.select_related("checklist__release"),
        item_id,
        checklist__release=release,
    )
    try:
        services.item_nudge(item=item, user=request.user, standing=st)
    except FieldError as exc:
        return HttpResponse(str(exc), status=exc.status, content_type="text/plain")
    rows = selectors.late_work(release, clock.now())
    return render(request, "checklists/partials/late_list.html", {"release": release, "rows": rows})


def _gate_panel(gate: Gate) -> HttpResponse:
    state = selectors.gate_states(gate.release, [gate.pk])[0]
    return HttpResponse(
        render_to_string("checklists/partials/gate.html", {"g": state, "release": gate.release})
    )


@login_required
@require_POST
def signoff(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.SIGN_OFF, target={"gate": gate_id}
    )
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    comment = request.headers.get("HX-Prompt", request.POST.get("comment", ""))
    try:
        role = object_in(Role.objects.all(), _int_field(request, "role") or 0, release=release)
        services.signoff_record(
            gate=gate,
            role=role,
            verdict=request.POST.get("verdict", ""),
            comment=comment,
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return _gate_panel(gate)


@login_required
@require_POST
def decide(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.DECIDE, target={"gate": gate_id}
    )
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    try:
        services.decision_record(
            gate=gate,
            outcome=request.POST.get("outcome", ""),
            rationale=request.POST.get("rationale", ""),
            mitigations=request.POST.get("mitigations", "").splitlines(),
            new_date=parse_local_datetime(request.POST.get("new_date", ""), "new_date"),
            supersedes=_int_field(request, "supersedes"),
            confirm_open=request.POST.get("confirm_open") == "1",
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return _gate_panel(gate)


@login_required
@require_POST
def vote(request: HttpRequest, release_id: int, gate_id: int, decision_id: int) -> HttpResponse:
    """Confirm or object to a proposed decision; answers with the gate panel."""
    release, st = release_for(
        request.user, release_id, policies.Action.DECIDE, target={"gate": gate_id}
    )
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    decision = object_in(Decision.objects.select_related("gate__release"), decision_id, gate=gate)
    try:
        services.decision_vote_record(
            decision=decision,
            verdict=request.POST.get("verdict", ""),
            comment=request.POST.get("comment", ""),
            user=request.user,
            standing=st,
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
    release, st = release_for(
        request.user, release_id, policies.Action.RAISE_ROLLBACK, target={"page": request.path}
    )
    try:
        call = services.rollback_raise(
            release=release, reason=request.POST.get("reason", ""), user=request.user, standing=st
        )
    except FieldError as exc:
        return _bad(exc)
    return _call_panel(release, call)


@login_required
@require_POST
def rollback_decide(request: HttpRequest, release_id: int, call_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.ROLL_BACK, target={"call": call_id}
    )
    call = object_in(RollbackCall.objects.select_related("release"), call_id, release=release)
    try:
        services.rollback_decide(
            call=call,
            choice=request.POST.get("choice", ""),
            rationale=request.POST.get("rationale", ""),
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return _call_panel(release, None)
