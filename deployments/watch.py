"""The rollback criteria, watched from T0 to the end of the deployment window.

At every tick each enabled criterion with a PromQL query is measured against
Prometheus (``deployments.executors.prometheus.measure``). The criterion's own
comparison is the *breach* condition ("error rate > 1 %"); it must hold for the
criterion's duration ("for 5 minutes": from the first breaching sample on, without a
sample in between that did not breach). No data or an error neither breaches nor
clears. A breach, once per criterion:

- turns the release red and joins the gates' blockers ("red metrics"), through a
  critical war-room issue naming the metric;
- raises the rollback trigger, which starts the decision clock on the board;
- and, where the criterion is ``automatic``, starts the rollback plan at once.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from checklists import services as checklist_services
from deployments import engine, issues
from deployments.executors.prometheus import ERROR, INCONCLUSIVE, SUCCESSFUL, measure
from deployments.models import Release, RollbackCriterion
from warroom import events
from warroom.errors import FieldError

logger = logging.getLogger(__name__)

WATCHER = "metric watch"


def watched(now: datetime):
    """Criteria to measure now: enabled, with a query, not yet breached, of a release
    that is open and between T0 and the end of its window."""
    closed = [Release.Status.DONE, Release.Status.ROLLED_BACK, Release.Status.CANCELLED]
    found = []
    criteria = (
        RollbackCriterion.objects.filter(
            enabled=True, breached_at=None, release__rollback_started_at=None
        )
        .exclude(query="")
        .exclude(release__status__in=closed)
        .filter(release__go_live_at__lte=now)
        .select_related("release")
        .order_by("release_id", "order", "id")
    )
    for c in criteria:
        end = c.release.window_ends_at
        if end is None or now <= end:
            found.append(c)
    return found


def watch_all(now: datetime) -> int:
    """The tick's job: measure every watched criterion; returns how many breached."""
    breached = 0
    for criterion in watched(now):
        try:
            breached += evaluate(criterion, now)
        except Exception:
            logger.exception(
                "criterion %s failed to evaluate; the next tick tries again", criterion.pk
            )
    return breached


def evaluate(criterion: RollbackCriterion, now: datetime) -> bool:
    """Measure ``criterion`` once; act on a breach. True when it breached now."""
    m = measure(
        settings.PROMETHEUS_URL,
        criterion.query,
        criterion.op,
        criterion.threshold,
        settings.ENGINE_CALL_TIMEOUT,
    )
    release = criterion.release
    with transaction.atomic():
        events.lock_head(release)
        c = RollbackCriterion.objects.get(pk=criterion.pk)
        if c.breached_at is not None:
            return False
        c.last_checked_at = now
        if m.phase in (ERROR, INCONCLUSIVE):
            c.save(update_fields=["last_checked_at"])
            return False
        c.last_value = m.value
        if m.phase != SUCCESSFUL:  # the breach condition does not hold: start over
            c.consecutive_breaches, c.breach_started_at = 0, None
            c.save(
                update_fields=[
                    "last_checked_at",
                    "last_value",
                    "consecutive_breaches",
                    "breach_started_at",
                ]
            )
            return False
        c.consecutive_breaches += 1
        c.breach_started_at = c.breach_started_at or now
        held = now - c.breach_started_at
        if c.for_s and held < timedelta(seconds=c.for_s):
            c.save(
                update_fields=[
                    "last_checked_at",
                    "last_value",
                    "consecutive_breaches",
                    "breach_started_at",
                ]
            )
            return False
        c.breached_at = now
        c.save()
        breach(c, release)
    return True


def breach(criterion: RollbackCriterion, release: Release) -> None:
    """Record the breach and act on it (inside the caller's transaction)."""
    what = f"{criterion.metric} {criterion.op} {criterion.threshold:g}{criterion.unit}"
    events.record(
        release,
        "metric.breached",
        actor_label=WATCHER,
        data={
            "criterion": criterion.pk,
            "metric": criterion.metric,
            "rule": what,
            "value": criterion.last_value,
            "automatic": criterion.automatic,
        },
    )
    # A critical issue: the release turns red, GO is blocked and escalation starts.
    issues.issue_from_breach(
        release=release,
        gate=criterion.text or what,
        metric=what,
        observed=f"now {criterion.last_value:g}",
    )
    reason = f"{criterion.text or what} — measured {criterion.last_value:g}"
    # A rollback decision already pending: the breach joins it.
    with contextlib.suppress(FieldError):
        checklist_services.rollback_raise(
            release=release, reason=reason, user=None, criterion=criterion, system=WATCHER
        )
    if criterion.automatic:
        engine.rollback_start(release, reason=reason, actor_label=WATCHER)
