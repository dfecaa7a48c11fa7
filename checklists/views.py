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
from warroom.htmx import announce, typed_text
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
    note = typed_text(request, "note")
    before = item.status
    try:
        changed = services.item_set_status(
            item=item,
            status=request.POST.get("status", ""),
            note=note,
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    row = selectors.item_row(release, item.pk)
    html = render_to_string("checklists/partials/item.html", {"item": row, "release": release})
    gate = Gate.objects.filter(checklist_id=item.checklist_id).first()
    if gate is not None:
        # A go/no-go item ticked inside its gate panel: the panel answers at once too.
        state = selectors.gate_states(release, [gate.pk])[0]
        html += render_to_string(
            "checklists/partials/gate.html", {"g": state, "release": release, "oob": True}
        )
    response = HttpResponse(html)
    response["HX-Trigger"] = announce(_item_words(changed, before, (note or "").strip()))
    return response


@login_required
def late(request: HttpRequest, release_id: int) -> HttpResponse:
    """Late and blocked items with who is on duty for each: call, Slack, nudge."""
    release, _ = release_for(request.user, release_id, target={"page": request.path})
    rows = selectors.late_work(release, clock.now())
    partial = request.headers.get("HX-Request") == "true"
    template = "checklists/partials/late_list.html" if partial else "checklists/late.html"
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


def _item_words(item: ChecklistItem, before: str, note: str) -> str:
    """What a screen reader hears after a change to an item ("Done: Verify backup 1")."""
    if item.status == before:
        return f"Note added to {item.text}" if note else f"{item.text}: unchanged"
    if item.status == ChecklistItem.Status.BLOCKED:
        return f"Blocked: {item.text}. Reason: {item.note}"
    words = {"done": "Done", "todo": "Reopened", "na": "Marked N/A"}
    return f"{words.get(item.status, item.get_status_display())}: {item.text}"


def _gate_panel(gate: Gate, words: str, confirming: dict | None = None) -> HttpResponse:
    state = selectors.gate_states(gate.release, [gate.pk])[0]
    ctx = {"g": state, "release": gate.release, "confirming": confirming}
    response = HttpResponse(render_to_string("checklists/partials/gate.html", ctx))
    response["HX-Trigger"] = announce(words)
    return response


@login_required
@require_POST
def signoff(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.SIGN_OFF, target={"gate": gate_id}
    )
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    comment = typed_text(request, "comment") or ""
    try:
        role = object_in(Role.objects.all(), _int_field(request, "role") or 0, release=release)
        signoff = services.signoff_record(
            gate=gate,
            role=role,
            verdict=request.POST.get("verdict", ""),
            comment=comment,
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    verb = "approved" if signoff.verdict == signoff.Verdict.APPROVE else "rejected"
    return _gate_panel(gate, f"You {verb} the {role.name} sign-off for {gate.name}")


@login_required
def gate_panel(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    """The gate's panel as it stands (after a cancelled confirmation, say)."""
    release, _ = release_for(request.user, release_id, target={"page": request.path})
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    return _gate_panel(gate, f"{gate.name} as it stands")


@login_required
@require_POST
def decide(request: HttpRequest, release_id: int, gate_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.DECIDE, target={"gate": gate_id}
    )
    gate = object_in(Gate.objects.select_related("release"), gate_id, release=release)
    try:
        decision = services.decision_record(
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
        if exc.field != "confirm_open":
            return _bad(exc)
        # Deciding over what stands open: show it, and ask once more.
        confirming = {"fields": request.POST, "blockers": exc.message.split(": ", 1)[-1]}
        return _gate_panel(gate, "Confirm: this decides over what stands open", confirming)
    state = selectors.decision_with_state(decision)
    label = decision.get_outcome_display()
    if state.state == selectors.PROPOSED:
        awaiting = " + ".join(r.name for r in state.awaiting)
        return _gate_panel(gate, f"{label} proposed for {gate.name}: awaiting {awaiting}")
    return _gate_panel(gate, f"{label} recorded for {gate.name}")


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
    verb = "confirmed" if request.POST.get("verdict") == "confirm" else "objected to"
    return _gate_panel(gate, f"You {verb} {decision.get_outcome_display()} at {gate.name}")


def _call_panel(release, call, words: str) -> HttpResponse:
    response = HttpResponse(
        render_to_string(
            "checklists/partials/rollback_call.html", {"call": call, "release": release}
        )
    )
    response["HX-Trigger"] = announce(words)
    return response


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
    return _call_panel(release, call, "Rollback trigger raised: the decision clock is running")


@login_required
@require_POST
def rollback_decide(request: HttpRequest, release_id: int, call_id: int) -> HttpResponse:
    release, st = release_for(
        request.user, release_id, policies.Action.ROLL_BACK, target={"call": call_id}
    )
    call = object_in(RollbackCall.objects.select_related("release"), call_id, release=release)
    try:
        call = services.rollback_decide(
            call=call,
            choice=request.POST.get("choice", ""),
            rationale=request.POST.get("rationale", ""),
            user=request.user,
            standing=st,
        )
    except FieldError as exc:
        return _bad(exc)
    return _call_panel(release, None, f"Rollback decided: {call.get_choice_display()}")
