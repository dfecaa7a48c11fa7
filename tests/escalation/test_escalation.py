"""Escalation on the clock: level by level, once per (issue, level), stopped by an
acknowledgement, closed by resolving; pages and PagerDuty; the policy's bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bench.pagerduty_server import EventsServer
from deployments import issues
from notifications import escalation
from notifications.escalation_models import Page, PagerDutyEvent
from notifications.pagerduty import deliver_pending
from notifications.transports.pagerduty import PagerDuty
from tests.escalation.helpers import ROUTING_KEY, escalation_release
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def pd(settings):
    server = EventsServer().start()
    settings.PAGERDUTY_EVENTS_URL = server.url
    yield server
    server.stop()


def levels_paged(release) -> list[int]:
    return [
        e.data["level"]
        for e in AuditEvent.objects.filter(release=release, kind="issue.escalated").order_by("seq")
    ]


def test_an_unanswered_critical_issue_climbs_the_matrix_once_per_level(pd):
    team = escalation_release()
    escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title="502s", severity="critical"
        )
    for minute in (0, 1, 14, 15, 16, 29, 30, 31, 31):
        escalation.escalate_due(start + timedelta(minutes=minute, seconds=1))
    assert levels_paged(team.release) == [1, 2, 3]
    by_level = {
        e.data["level"]: e.data["paged"]
        for e in AuditEvent.objects.filter(release=team.release, kind="issue.escalated")
    }
    assert [p["person"] for p in by_level[2]] == ["Dana Admin"]
    assert {p["person"] for p in by_level[3]} == {"Rita Manager", "Victor President"}
    assert by_level[2][0]["channels"] == ["email"]
    assert Page.objects.filter(release=team.release).count() == 4
    assert [t.dedup_key for t in pd.triggers()] == [
        f"warroom-{team.release.pk}-issue:{issue.pk}-L{n}" for n in (1, 2, 3)
    ]
    with clock.frozen_at(start + timedelta(minutes=32)):
        issues.issue_resolve(issue=issue, user=team["devops"])
    escalation.escalate_due(start + timedelta(minutes=90))
    assert levels_paged(team.release) == [1, 2, 3]  # level 4 never comes: it is resolved
    assert sorted(r.dedup_key for r in pd.resolves()) == sorted(t.dedup_key for t in pd.triggers())
    assert set(pd.state.incidents.values()) == {"resolved"}


def test_acknowledged_at_twenty_minutes_it_stays_at_level_two():
    team = escalation_release()
    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title="Queue stuck", severity="critical"
        )
    escalation.escalate_due(start + timedelta(minutes=16))
    with clock.frozen_at(start + timedelta(minutes=20)):
        issues.issue_acknowledge(issue=issue, user=team["devops"])
    escalation.escalate_due(start + timedelta(minutes=45))
    escalation.escalate_due(start + timedelta(minutes=120))
    assert levels_paged(team.release) == [1, 2]


def test_a_high_issue_escalates_at_twice_the_time():
    team = escalation_release()
    start = clock.now()
    with clock.frozen_at(start):
        issues.issue_report(release=team.release, user=team["qa"], title="Slow", severity="P2")
    escalation.escalate_due(start + timedelta(minutes=29))
    assert levels_paged(team.release) == [1]
    escalation.escalate_due(start + timedelta(minutes=30, seconds=1))
    assert levels_paged(team.release) == [1, 2]


def test_a_page_is_recorded_once_per_dedup_key():
    team = escalation_release()
    person = team["dba"].person
    assert escalation.page(person, "hello", "k-1", release_id=team.release.pk)
    assert not escalation.page(person, "hello again", "k-1", release_id=team.release.pk)
    first = Page.objects.get()
    assert first.text == "hello" and first.channels == ["email"]


def test_the_policy_refuses_a_level_without_contacts_and_writes_nothing(api):
    team = escalation_release()
    url = f"/api/releases/{team.release.pk}/escalation/levels"
    before = api(team["rm"]).get(url).json()
    assert [lv["level"] for lv in before] == [1, 2, 3, 4]
    bad = api(team["rm"]).put(
        url,
        {
            "levels": [
                {"level": 1, "name": "On call", "after_minutes": 0, "roles": ["DevOps Lead"]},
                {"level": 2, "name": "Nobody", "after_minutes": 15, "roles": [], "contacts": []},
            ]
        },
    )
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "levels.1.contacts"
    assert api(team["rm"]).get(url).json() == before
    ok = api(team["rm"]).put(
        url,
        {
            "levels": [
                {"level": 1, "name": "On call", "after_minutes": 0, "roles": ["DevOps Lead"]},
                {"level": 2, "name": "VP", "after_minutes": 10, "contacts": ["Victor President"]},
            ]
        },
    )
    assert ok.status_code == 200, ok.content
    assert [(lv["level"], lv["after_minutes"]) for lv in ok.json()] == [(1, 0), (2, 10)]
    assert api(team["dba"]).put(url, {"levels": []}).status_code == 403


def test_a_malformed_routing_key_is_refused_naming_the_field(api):
    team = escalation_release()
    url = f"/api/releases/{team.release.pk}/escalation/pagerduty"
    bad = api(team["rm"]).put(url, {"routing_key": "short"})
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "routing_key"
    assert api(team["rm"]).put(url, {"routing_key": ROUTING_KEY}).status_code == 200


def test_pagerduty_refuses_a_bad_key_with_invalid_event_and_retries_429_and_5xx(pd):
    transport = PagerDuty(pd.url, max_wait=0.05)
    refused = transport.send(routing_key="x" * 31, action="trigger", dedup_key="k", summary="s")
    assert (refused.ok, refused.retry, refused.status) == (False, False, 400)
    assert "invalid event" in refused.message
    pd.fail_next(429, 1, retry_after="0")
    pd.fail_next(503, 1)
    ok = transport.send(routing_key=ROUTING_KEY, action="trigger", dedup_key="k", summary="s")
    assert ok.ok and pd.state.failed == 2 and len(pd.triggers()) == 1
    pd.fail_next(500, 5)
    down = transport.send(routing_key=ROUTING_KEY, action="resolve", dedup_key="k")
    assert (down.ok, down.retry, down.status) == (False, True, 500)


def test_the_outbox_keeps_what_pagerduty_could_not_take_and_sends_it_later(pd):
    team = escalation_release()
    escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
    start = clock.now()
    with clock.frozen_at(start):
        issues.issue_report(release=team.release, user=team["qa"], title="x", severity="critical")
    pd.fail_next(503, 3)
    escalation.escalate_due(start + timedelta(seconds=5))
    row = PagerDutyEvent.objects.get()
    assert row.state == "pending" and row.attempts == 1 and "503" in row.last_error
    assert deliver_pending() == 1
    assert len(pd.triggers()) == 1 and PagerDutyEvent.objects.get().state == "sent"
    assert deliver_pending() == 0 and len(pd.triggers()) == 1
