"""War-room issues in the API: report, list, acknowledge, resolve; response targets."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Router, Schema
from ninja.responses import Status

from deployments import issues
from warroom import clock, policies
from warroom.access import release_for
from warroom.api import FILLED, WRITE_ERRORS, BodyIn, responses

router = Router()


class IssueIn(BodyIn):
    title: str = Field(pattern=FILLED, max_length=255)
    severity: str = Field(description="critical, high, medium or low (or P1-P4)")
    component: str = ""
    impact: str = ""
    error: str = ""
    investigator: str = Field("", description="The name (or username) of a person on the release")


class IssueOut(Schema):
    id: int = Field(validation_alias="issue.pk")
    title: str = Field(validation_alias="issue.title")
    severity: str = Field(validation_alias="issue.severity")
    priority: str = Field(validation_alias="issue.priority")
    status: str = Field(validation_alias="issue.status")
    state: str
    component: str = Field(validation_alias="issue.component")
    impact: str = Field(validation_alias="issue.impact")
    error: str = Field(validation_alias="issue.error")
    investigator: str | None = Field(validation_alias="issue.investigator.name", default=None)
    source: str = Field(validation_alias="issue.source")
    opened_at: datetime = Field(validation_alias="issue.opened_at")
    respond_by: datetime | None = Field(validation_alias="issue.respond_by")
    acknowledged_at: datetime | None = Field(validation_alias="issue.acknowledged_at")
    acknowledged_by: str = Field(validation_alias="issue.acknowledged_by")
    resolved_at: datetime | None = Field(validation_alias="issue.resolved_at")
    resolved_by: str = Field(validation_alias="issue.resolved_by")
    breached: bool


def _row(issue) -> issues.IssueRow:
    now = clock.now()
    return next(r for r in issues.issue_rows(issue.release, now) if r.issue.pk == issue.pk)


@router.get(
    "/releases/{release_id}/issues", response=responses({200: list[IssueOut]}), tags=["issues"]
)
def list_issues(request, release_id: int):
    """The release's issues: open first, most severe first, with response-target breaches."""
    release, _ = release_for(request.user, release_id, target={"api": request.path})
    return issues.issue_rows(release, clock.now())


@router.post(
    "/releases/{release_id}/issues",
    response=responses({201: IssueOut}, WRITE_ERRORS),
    tags=["issues"],
)
def report_issue(request, release_id: int, payload: IssueIn):
    """Report an issue: severity, component, impact, error, investigator."""
    release, st = release_for(
        request.user, release_id, policies.Action.REPORT_ISSUE, target={"what": "issue"}
    )
    issue = issues.issue_report(release=release, user=request.user, standing=st, **payload.dict())
    return Status(201, _row(issue))


class ResolveIn(BodyIn):
    resolution: str = ""


@router.post(
    "/releases/{release_id}/issues/{issue_id}/acknowledge",
    response=responses({200: IssueOut}, WRITE_ERRORS),
    tags=["issues"],
)
def acknowledge_issue(request, release_id: int, issue_id: int):
    """Someone is on it: the escalation stops at the level it reached."""
    release, st = release_for(
        request.user, release_id, policies.Action.REPORT_ISSUE, target={"issue": issue_id}
    )
    issue = issues.issue_in(release, issue_id)
    return _row(issues.issue_acknowledge(issue=issue, user=request.user, standing=st))


@router.post(
    "/releases/{release_id}/issues/{issue_id}/resolve",
    response=responses({200: IssueOut}, WRITE_ERRORS),
    tags=["issues"],
)
def resolve_issue(request, release_id: int, issue_id: int, payload: ResolveIn):
    """The issue is over: its escalation closes, and its PagerDuty incidents resolve."""
    release, st = release_for(
        request.user, release_id, policies.Action.REPORT_ISSUE, target={"issue": issue_id}
    )
    issue = issues.issue_in(release, issue_id)
    return _row(
        issues.issue_resolve(
            issue=issue, user=request.user, standing=st, resolution=payload.resolution
        )
    )


class TargetsIn(BodyIn):
    targets: dict[str, int] = Field(description="Minutes by severity (or P1-P4)")


@router.put(
    "/releases/{release_id}/issues/targets",
    response=responses({200: dict[str, int]}, WRITE_ERRORS),
    tags=["issues"],
)
def set_targets(request, release_id: int, payload: TargetsIn):
    """Edit the response-time targets (minutes) of this release."""
    release, _ = release_for(
        request.user, release_id, policies.Action.EDIT_PLAN, target={"what": "response targets"}
    )
    issues.set_response_targets(release=release, user=request.user, targets=payload.targets)
    return {s: int(t.total_seconds() // 60) for s, t in issues.response_targets(release).items()}
