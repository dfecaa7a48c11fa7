"""War-room issues: reported from the war room, the API or by another app (a breached
metric gate), acknowledged and resolved — each step audited and on the timeline.

Every severity has a response-time target (P1 15 min, P2 30 min, P3 2 h, P4 24 h, or the
release's own): an issue's ``respond_by`` is fixed when it is reported, and the board
shows the issues that missed it. What happens when nobody answers (escalation, paging)
belongs to the notifications app, which follows these events.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction

from deployments.models import PRIORITY, RESPONSE_TARGETS, Release, WarIssue
from warroom import clock, events, policies
from warroom.access import object_in
from warroom.errors import Conflict, FieldError
from warroom.people.models import Person
from warroom.validation import clean_text

SEVERITIES = tuple(RESPONSE_TARGETS)
# "P1" is accepted wherever a severity is, as the runbooks write it.
_BY_PRIORITY = {p.lower(): s for s, p in PRIORITY.items()}


def parse_severity(value: str, *, field: str = "severity") -> str:
    key = (value or "").strip().lower()
    key = _BY_PRIORITY.get(key, key)
    if key not in RESPONSE_TARGETS:
        raise FieldError(
            field, f"unknown severity {value!r}: use one of critical, high, medium, low (P1-P4)"
        )
    return key


def response_targets(release: Release) -> dict[str, timedelta]:
    """The release's response-time target per severity."""
    own = release.response_targets or {}
    return {s: timedelta(seconds=own[s]) if s in own else t for s, t in RESPONSE_TARGETS.items()}


def set_response_targets(*, release: Release, user, targets: dict[str, int]) -> dict:
    """Edit the release's response-time targets (minutes by severity or P1-P4)."""
    st = policies.standing(user, release)
    policies.require(st, policies.Action.EDIT_PLAN, release, target={"what": "response targets"})
    own = dict(release.response_targets or {})
    for key, minutes in targets.items():
        severity = parse_severity(key, field=f"targets.{key}")
        if not isinstance(minutes, int) or isinstance(minutes, bool) or not 1 <= minutes <= 10080:
            raise FieldError(f"targets.{key}", "must be whole minutes between 1 and 10080")
        own[severity] = minutes * 60
    with transaction.atomic():
        release.response_targets = own
        release.save(update_fields=["response_targets"])
        events.record(
            release,
            "issue.targets_changed",
            actor=user,
            data={s: int(t.total_seconds() // 60) for s, t in response_targets(release).items()},
        )
    return release.response_targets


def _investigator(release: Release, name: str) -> Person | None:
    """The person on the release called ``name`` (or with that username)."""
    name = (name or "").strip()
    if not name:
        return None
    on_release = Person.objects.filter(assignments__role__release=release).distinct()
    found = (
        on_release.filter(name__iexact=name).first()
        or on_release.filter(user__username__iexact=name).first()
    )
    if found is None:
        raise FieldError("investigator", f"nobody called {name!r} is on this release")
    return found


def _text(value: str, field: str, max_length: int | None = None) -> str:
    return clean_text((value or "").strip(), field=field, max_length=max_length)


def issue_report(
    *,
    release: Release,
    user=None,
    title: str,
    severity: str,
    component: str = "",
    impact: str = "",
    error: str = "",
    investigator: str = "",
    source: str = "",
    standing: policies.Standing | None = None,
) -> WarIssue:
    """Report an issue ("ISSUE DETECTED"). ``user`` None is the system (``source`` says
    what: e.g. "metric gate: error rate"). Everything is checked before anything is written."""
    if user is not None:
        st = standing or policies.standing(user, release)
        policies.require(st, policies.Action.REPORT_ISSUE, release, target={"what": "issue"})
    sev = parse_severity(severity)
    title = _text(title, "title", 255)
    if not title:
        raise FieldError("title", "must not be empty")
    fields = {
        "component": _text(component, "component", 200),
        "impact": _text(impact, "impact"),
        "error": _text(error, "error"),
        "source": _text(source, "source", 200),
    }
    person = _investigator(release, investigator)
    now = clock.now()
    with transaction.atomic():
        issue = WarIssue.objects.create(
            release=release,
            title=title,
            severity=sev,
            investigator=person,
            opened_by=user if getattr(user, "is_authenticated", False) else None,
            opened_at=now,
            respond_by=now + response_targets(release)[sev],
            **fields,
        )
        events.record(
            release,
            "issue.reported",
            actor=user,
            actor_label=None if user is not None else (fields["source"] or "system"),
            data=issue_data(issue),
        )
    return issue


def issue_data(issue: WarIssue) -> dict:
    return {
        "issue": issue.pk,
        "title": issue.title,
        "severity": issue.severity,
        "priority": issue.priority,
        "component": issue.component,
        "impact": issue.impact,
        "error": issue.error,
        "investigator": issue.investigator.name if issue.investigator else "",
        "opened_at": issue.opened_at.isoformat(),
        "respond_by": issue.respond_by.isoformat() if issue.respond_by else None,
    }


def _locked(issue: WarIssue) -> WarIssue:
    events.lock_head(issue.release)
    return WarIssue.objects.select_related("release").get(pk=issue.pk)


def issue_acknowledge(
    *, issue: WarIssue, user, standing: policies.Standing | None = None
) -> WarIssue:
    """Someone is on it: stops the escalation clock at the level it reached."""
    release = issue.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.REPORT_ISSUE, release, target={"issue": issue.pk})
    with transaction.atomic():
        issue = _locked(issue)
        if issue.status == WarIssue.Status.RESOLVED:
            raise Conflict("status", "the issue is already resolved")
        if issue.acknowledged_at is not None:
            raise Conflict("status", f"already acknowledged by {issue.acknowledged_by}")
        now = clock.now()
        issue.acknowledged_at = now
        issue.acknowledged_by = events.actor_label_for(user)
        issue.save(update_fields=["acknowledged_at", "acknowledged_by"])
        events.record(
            release,
            "issue.acknowledged",
            actor=user,
            data={
                "issue": issue.pk,
                "title": issue.title,
                "priority": issue.priority,
                "after_s": int((now - issue.opened_at).total_seconds()),
                "breached": issue.response_breached(now),
            },
        )
    return issue


def issue_resolve(
    *, issue: WarIssue, user, resolution: str = "", standing: policies.Standing | None = None
) -> WarIssue:
    """The issue is over: its escalation closes (and any page raised for it resolves)."""
    release = issue.release
    st = standing or policies.standing(user, release)
    policies.require(st, policies.Action.REPORT_ISSUE, release, target={"issue": issue.pk})
    resolution = _text(resolution, "resolution")
    with transaction.atomic():
        issue = _locked(issue)
        if issue.status == WarIssue.Status.RESOLVED:
            raise Conflict("status", "the issue is already resolved")
        now = clock.now()
        issue.status = WarIssue.Status.RESOLVED
        issue.resolved_at = now
        issue.resolved_by = events.actor_label_for(user)
        issue.resolution = resolution
        issue.save(update_fields=["status", "resolved_at", "resolved_by", "resolution"])
        events.record(
            release,
            "issue.resolved",
            actor=user,
            data={
                "issue": issue.pk,
                "title": issue.title,
                "priority": issue.priority,
                "resolution": resolution,
                "after_s": int((now - issue.opened_at).total_seconds()),
            },
        )
    return issue


@dataclass(frozen=True)
class IssueRow:
    """An issue as the board and the war room show it."""

    issue: WarIssue
    breached: bool
    overdue_by_s: int  # how long past its response target it still waits (0 if answered)

    @property
    def waiting(self) -> bool:
        """Open and not yet acknowledged: its response target still runs."""
        return self.issue.acknowledged_at is None and self.issue.resolved_at is None

    @property
    def state(self) -> str:
        if self.issue.status == WarIssue.Status.RESOLVED:
            return "resolved"
        return "acknowledged" if self.issue.acknowledged_at else "open"


def issue_rows(release: Release, now: datetime, *, open_only: bool = False) -> list[IssueRow]:
    """The release's issues, open first, most severe first (one query)."""
    qs = WarIssue.objects.filter(release=release).select_related("investigator")
    if open_only:
        qs = qs.filter(status=WarIssue.Status.OPEN)
    order = {s: n for n, s in enumerate(SEVERITIES)}
    rows = []
    for issue in qs:
        waiting = (
            issue.respond_by is not None
            and issue.acknowledged_at is None
            and issue.resolved_at is None
        )
        late = int((now - issue.respond_by).total_seconds()) if waiting and issue.respond_by else 0
        rows.append(IssueRow(issue, issue.response_breached(now), max(0, late)))
    rows.sort(
        key=lambda r: (
            r.issue.status != WarIssue.Status.OPEN,
            order.get(r.issue.severity, 9),
            -r.issue.opened_at.timestamp(),
        )
    )
    return rows


def issue_in(release: Release, issue_id: int) -> WarIssue:
    """The release's issue ``issue_id`` (404 otherwise)."""
    return object_in(WarIssue.objects.select_related("release"), issue_id, release=release)


def open_issue_ids(release_ids) -> list[int]:
    return list(
        WarIssue.objects.filter(release_id__in=release_ids, status=WarIssue.Status.OPEN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def people_on(release: Release) -> list[str]:
    """Names of the people on the release (who may investigate)."""
    return list(
        Person.objects.filter(assignments__role__release=release)
        .distinct()
        .order_by("name")
        .values_list("name", flat=True)
    )


def issue_from_breach(
    *,
    release: Release,
    gate: str,
    metric: str,
    observed: str,
    severity: str = "critical",
    component: str = "",
    impact: str = "",
) -> WarIssue:
    """What the execution engine calls when a metric gate is breached: an issue reported by
    the system. While one for the same gate and metric is still open, that one is returned
    (a gate that keeps failing on every poll opens one issue, not one per poll)."""
    source = clean_text(f"metric gate: {gate}"[:200], field="gate")
    title = f"{metric} breached ({observed})"[:255]
    with transaction.atomic():
        events.lock_head(release)
        found = WarIssue.objects.filter(
            release=release, status=WarIssue.Status.OPEN, source=source, title__startswith=metric
        ).first()
        if found is not None:
            return found
        return issue_report(
            release=release,
            title=title,
            severity=severity,
            component=component,
            impact=impact,
            error=f"{metric}: {observed}",
            source=source,
        )
