"""Escalation with real processes: beat's tick, a Celery worker, a local PagerDuty.

Two Critical issues are reported at once. Nobody answers the first: it pages level 2 at
15 minutes and level 3 at 30, each within the tick interval of its due time. The second
is acknowledged at 20 minutes and stays at level 2. Beat and the worker are killed and
started again between the levels; the pages are counted at our Page rows and at the
PagerDuty-speaking server: none lost, none twice.

PagerDuty's outbox sends each event at least once (a worker killed between PagerDuty's
answer and our commit sends it again at the next tick); the dedup key per issue and level
makes the repeat land on the open alert, as PagerDuty's Events API v2 does. So the count
that must be exact at PagerDuty is the alerts it opened, one per issue and level.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from bench.pagerduty_server import EventsServer
from deployments import issues
from notifications import escalation
from notifications.escalation_models import EscalationStep, Page
from tests.escalation.helpers import ROUTING_KEY, escalation_release
from warroom import clock, health

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]
TICK = 1.0  # the celery_factory's TICK_SECONDS
LEAD = timedelta(seconds=2)  # the clock is set this long before each due time


def levels(issue) -> list[int]:
    return list(
        EscalationStep.objects.filter(escalation__issue=issue)
        .order_by("level")
        .values_list("level", flat=True)
    )


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return predicate()


def ticking_again() -> bool:
    """Wait until a worker started anew has run beat's tick (it may take seconds to boot)."""
    health._redis().delete(health.BEAT_KEY)
    return wait_for(lambda: health.last_tick() is not None, 60)


def just_before(moment: datetime) -> None:
    """Move every process's clock to ``LEAD`` before ``moment`` (it then comes by itself)."""
    clock.travel(moment - LEAD - timezone.now())


def test_unanswered_critical_issues_page_level_by_level_across_restarts(
    celery_factory, monkeypatch
):
    monkeypatch.setenv("WARROOM_SHARED_CLOCK", "1")
    clock.travel(timedelta(0))
    pd = EventsServer().start()
    try:
        team = escalation_release()
        escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
        unanswered = issues.issue_report(
            release=team.release, user=team["qa"], title="Checkout 502s", severity="critical"
        )
        answered = issues.issue_report(
            release=team.release, user=team["qa"], title="Refunds slow", severity="critical"
        )
        env = {"PAGERDUTY_EVENTS_URL": pd.url}
        worker = celery_factory("worker", **env)
        beat = celery_factory("beat", **env)
        # Level 1 (0-15 min) at once.
        assert wait_for(lambda: levels(unanswered) == [1] and levels(answered) == [1], 30)
        # 15 minutes: level 2 for both, on time.
        just_before(unanswered.opened_at + timedelta(minutes=15))
        time.sleep(LEAD.total_seconds() - 0.5)
        assert levels(unanswered) == [1], "level 2 fired early"
        assert wait_for(lambda: levels(unanswered) == [1, 2] and levels(answered) == [1, 2])
        # Beat and the worker die and come back: nothing is paged again.
        beat.kill()
        worker.kill()
        worker.start()
        beat.start()
        assert ticking_again()
        assert wait_for(lambda: len(pd.alerts()) == 4, 30), pd.alerts()  # what the dead worker left
        time.sleep(4 * TICK)
        assert Page.objects.count() == 4 and len(pd.alerts()) == 4
        # 20 minutes: the second is acknowledged.
        clock.travel(answered.opened_at + timedelta(minutes=20) - timezone.now())
        time.sleep(0.5)
        issues.issue_acknowledge(issue=answered, user=team["devops"])
        worker.kill()
        worker.start()
        assert ticking_again()
        # 30 minutes: level 3 for the unanswered one only.
        just_before(unanswered.opened_at + timedelta(minutes=30))
        assert wait_for(lambda: levels(unanswered) == [1, 2, 3], 30)
        time.sleep(4 * TICK)  # more ticks: still once each
        assert levels(answered) == [1, 2]
        # Resolving closes it, and PagerDuty's incidents with it.
        issues.issue_resolve(issue=unanswered, user=team["devops"])
        assert wait_for(lambda: len(pd.resolves()) == 3, 30)
    finally:
        clock.travel(timedelta(0))
        pd.stop()

    # Each level fired within the tick interval of its due time (plus the worker's work).
    for step in EscalationStep.objects.filter(level__gte=2, escalation__issue__isnull=False):
        late = (step.fired_at - step.due_at).total_seconds()
        assert 0 <= late <= TICK + 1.5, (step.level, late)
    # Pages: level 1 DevOps, level 2 the DBA, level 3 Release Manager + VP (unanswered).
    assert Page.objects.filter(step__escalation__issue=unanswered).count() == 4
    assert Page.objects.filter(step__escalation__issue=answered).count() == 2
    # (the Go/No-Go gate, at T-30m, fell due on the way and escalated on its own)
    keys = [k for k in pd.alerts() if "-issue:" in k]
    assert len(keys) == 5 and len(set(keys)) == 5, keys
    assert sorted(r.dedup_key for r in pd.resolves()) == sorted(
        k for k in keys if f"issue:{unanswered.pk}-" in k
    )
