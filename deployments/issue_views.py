"""The war room's issues page: report an issue ("ISSUE DETECTED"), acknowledge, resolve.

Per viewer (it carries the form and its CSRF token), so it is a page of its own, linked
from the war room's jump bar; the board shows open issues live.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from deployments import issues
from deployments.models import WarIssue
from warroom import clock, policies
from warroom.access import release_for
from warroom.errors import FieldError


def _page(request: HttpRequest, release, st, *, error: FieldError | None = None, status=200):
    return render(
        request,
        "deployments/issues.html",
        {
            "release": release,
            "rows": issues.issue_rows(release, clock.now()),
            "severities": WarIssue.Severity.choices,
            "targets": issues.response_targets(release),
            "people": issues.people_on(release),
            "can_report": bool(policies.check(st, policies.Action.REPORT_ISSUE)),
            "error": error,
            "form": request.POST if error else {},
        },
        status=status,
    )


@login_required
def issue_list(request: HttpRequest, release_id: int) -> HttpResponse:
    """Every issue of the release; the form to report one (POST)."""
    if request.method != "POST":
        release, st = release_for(request.user, release_id, target={"page": request.path})
        return _page(request, release, st)
    release, st = release_for(
        request.user, release_id, policies.Action.REPORT_ISSUE, target={"what": "issue"}
    )
    p = request.POST
    try:
        issues.issue_report(
            release=release,
            user=request.user,
            standing=st,
            title=p.get("title", ""),
            severity=p.get("severity", ""),
            component=p.get("component", ""),
            impact=p.get("impact", ""),
            error=p.get("error", ""),
            investigator=p.get("investigator", ""),
        )
    except FieldError as exc:
        return _page(request, release, st, error=exc, status=exc.status)
    return redirect("issues", release.pk)


@login_required
@require_POST
def issue_answer(request: HttpRequest, release_id: int, issue_id: int, verb: str) -> HttpResponse:
    """Acknowledge or resolve an issue."""
    if verb not in ("acknowledge", "resolve"):
        raise Http404("no such action")
    release, st = release_for(
        request.user, release_id, policies.Action.REPORT_ISSUE, target={"issue": issue_id}
    )
    issue = issues.issue_in(release, issue_id)
    try:
        if verb == "acknowledge":
            issues.issue_acknowledge(issue=issue, user=request.user, standing=st)
        else:
            issues.issue_resolve(
                issue=issue,
                user=request.user,
                standing=st,
                resolution=request.POST.get("resolution", ""),
            )
    except FieldError as exc:
        return _page(request, release, st, error=exc, status=exc.status)
    return redirect("issues", release.pk)
