"""Runbook import (upload or paste -> preview -> create), export, and reuse as template."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from deployments import services
from deployments.models import Release
from deployments.runbooks.parse import RunbookError
from deployments.runbooks.plan import Plan
from deployments.runbooks.schema import stated_t0
from warroom import clock, policies
from warroom.errors import FieldError


def _go_live(value: str) -> datetime:
    value = (value or "").strip()
    if not value:
        raise FieldError("go_live_at", "choose the go-live time (T0)")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError("go_live_at", "is not a date and time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _seats(plan: Plan) -> dict[str, int]:
    """How many items each owner has, and how many have none: who will see "My items"."""
    counts: dict[str, int] = {}

    def walk(items) -> None:
        for i in items:
            counts[i.owner_role] = counts.get(i.owner_role, 0) + 1
            walk(i.children)

    for c in plan.all_checklists():
        walk(c.items)
    for g in plan.gates:
        walk(g.checklist)
    walk(plan.rollback_plan)
    return counts


@login_required
def import_runbook(request: HttpRequest) -> HttpResponse:
    """Upload or paste a runbook, preview what was recognised, then create the release."""
    max_bytes, max_items = services.runbook_limits()
    ctx: dict = {"max_mb": f"{max_bytes / 1024 / 1024:g}", "max_items": max_items}
    if request.method != "POST":
        return render(request, "deployments/import.html", ctx)
    upload = request.FILES.get("file")
    source_name = request.POST.get("source_name", "")
    if upload is not None:
        if (upload.size or 0) > max_bytes:
            ctx["error"] = (
                f"{upload.name}: the file is over the limit of {ctx['max_mb']} MB "
                "(setting RUNBOOK_MAX_BYTES)"
            )
            return render(request, "deployments/import.html", ctx, status=400)
        raw: bytes | str = upload.read()
        source_name = upload.name or ""
    else:
        raw = request.POST.get("markdown", "")
    ctx.update(
        source_name=source_name,
        name=request.POST.get("name", ""),
        go_live_value=request.POST.get("go_live_at", ""),
    )
    try:
        plan, text = services.runbook_preview(raw, source_name=source_name)
    except RunbookError as exc:
        ctx["error"] = str(exc)
        ctx["markdown"] = raw if isinstance(raw, str) else ""
        return render(request, "deployments/import.html", ctx, status=400)
    if not ctx["go_live_value"]:  # the go-live the runbook states prefills T0
        stated = stated_t0(plan.go_live_at, clock.now())
        ctx["go_live_value"] = stated.isoformat() if stated else ""
    ctx.update(plan=plan, markdown=text, summary=plan.summary(), seats=_seats(plan))
    if request.POST.get("action") != "create":
        return render(request, "deployments/import.html", ctx)
    try:
        release = services.release_import(
            plan=plan,
            go_live_at=_go_live(request.POST.get("go_live_at", "")),
            name=request.POST.get("name", ""),
            user=request.user,
            source_name=source_name,
        )
    except FieldError as exc:
        ctx["error"] = str(exc)
        return render(request, "deployments/import.html", ctx, status=400)
    return redirect("warroom", release.pk)


@login_required
def export(request: HttpRequest, release_id: int) -> HttpResponse:
    release = get_object_or_404(Release, pk=release_id)
    policies.require(
        policies.standing(request.user, release),
        policies.Action.VIEW,
        release,
        target={"page": request.path},
    )
    text = services.release_export(release=release)
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    slug = "".join(ch if ch.isalnum() else "-" for ch in str(release)).strip("-").lower()
    response["Content-Disposition"] = f'attachment; filename="{slug or "release"}.md"'
    return response
