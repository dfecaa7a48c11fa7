"""Escalation on the clock: level by level, once per (issue, level), stopped by an
acknowledgement, closed by resolving; pages and PagerDuty; the policy's bad input."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments import issues
from notifications import escalation
from notifications.escalation_models import Page, PagerDutyEvent
from notifications.pagerduty import deliver_pending
from notifications.transports.pagerduty import PagerDuty
from tests.escalation.helpers import ROUTING_KEY, escalation_release
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


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


def test_the_outbox_sends_outside_transactions_and_a_dead_senders_rows_land_on_the_open_alert(
    pd,
):
    """Rows are claimed (committed) before PagerDuty is asked and sent together; a sender
    that died after PagerDuty took its events leaves a lease that runs out: they are sent
    again and merge into the open alerts (one alert per issue and level). A resolve never
    goes before its trigger, and a refusal is recorded on the timeline."""
    from notifications import pagerduty

    team = escalation_release()
    escalation.pagerduty_connect(release=team.release, user=team["rm"], routing_key=ROUTING_KEY)
    start = clock.now()
    with clock.frozen_at(start):
        reported = [
            issues.issue_report(
                release=team.release, user=team["qa"], title=f"i{n}", severity="critical"
            )
            for n in range(5)
        ]
    with clock.frozen_at(start + timedelta(seconds=1)):
        escalation._fire_all(escalation._due_now(clock.now()), clock.now())  # written, unsent
        # A sender claims them, PagerDuty takes them, and the sender dies before recording.
        rows = pagerduty.claim(10)
        assert len(rows) == 5 and PagerDutyEvent.objects.filter(attempts=1).count() == 5
        PagerDuty(pd.url).send_many(
            [pagerduty.Event(r.routing_key, r.action, r.dedup_key, r.summary) for r in rows]
        )
        assert pagerduty.claim(10) == []  # still leased: no second sender takes them
        assert deliver_pending() == 0
    # Resolved meanwhile: its resolve waits for the trigger still pending under the lease.
    with clock.frozen_at(start + timedelta(seconds=2)):
        issues.issue_resolve(issue=reported[0], user=team["devops"])
    assert PagerDutyEvent.objects.filter(action="resolve", state="pending").count() == 1
    with clock.frozen_at(start + pagerduty.LEASE + timedelta(seconds=5)):
        assert deliver_pending() == 6  # 5 triggers again, then the resolve
    assert len(pd.triggers()) == 10 and len(pd.alerts()) == 5  # repeats merged
    assert [r.dedup_key for r in pd.resolves()] == [rows[0].dedup_key]
    assert pd.state.accepted[-1].action == "resolve"  # after every trigger
    assert set(PagerDutyEvent.objects.values_list("state", "attempts")) == {
        ("sent", 2),
        ("sent", 1),
    }
    # A key PagerDuty refuses for good: refused, on the timeline, not retried.
    PagerDutyEvent.objects.create(
        release=team.release,
        routing_key="x" * 31,
        dedup_key="bad",
        action="trigger",
        summary="s",
        created_at=clock.now(),
    )
    assert deliver_pending() == 0 and deliver_pending() == 0
    bad = PagerDutyEvent.objects.get(dedup_key="bad")
    assert (bad.state, bad.attempts, bad.lease_until) == ("refused", 1, None)
    assert "invalid event" in bad.last_error
    refused = AuditEvent.objects.get(release=team.release, kind="pagerduty.refused")
    assert refused.data["dedup_key"] == "bad" and pd.state.refused == 1


def test_the_policy_refuses_a_role_named_twice_or_a_contact_nobody_is_naming_the_field(api):
    team = escalation_release()
    url = f"/api/releases/{team.release.pk}/escalation/levels"
    before = api(team["rm"]).get(url).json()
    twice = [{"level": 1, "name": "DBAs", "after_minutes": 0, "roles": ["DBA", "dba"]}]
    r = api(team["rm"]).put(url, {"levels": twice})
    assert r.status_code == 400 and r.json()["errors"][0] == {
        "field": "levels.0.roles",
        "message": "names the role 'dba' twice",
    }
    stranger = [{"level": 1, "name": "VP", "after_minutes": 0, "contacts": ["Vic Nobody"]}]
    r = api(team["rm"]).put(url, {"levels": stranger})
    assert r.status_code == 400 and r.json()["errors"][0] == {
        "field": "levels.0.contacts",
        "message": "nobody called 'Vic Nobody' is on this release",
    }
    assert api(team["rm"]).get(url).json() == before
    assert not AuditEvent.objects.filter(kind="escalation.policy_changed").exists()


def test_a_refused_first_shift_of_a_role_leaves_no_empty_schedule_behind(api, client):
    from notifications.escalation_models import OnCallSchedule

    team = escalation_release()
    start = clock.now()
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=8)).isoformat(),
        "primary": "Nobody Known",
    }
    r = api(team["rm"]).post(f"/api/releases/{team.release.pk}/oncall/DBA/shifts", body)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "primary"
    r = api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/oncall/DBA/overrides",
        {**body, "ends_at": body["starts_at"], "person": "Dana Admin"},
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "ends_at"
    client.force_login(team["rm"])
    r = client.post(f"/releases/{team.release.pk}/oncall/shifts/", {**body, "role": "DBA"})
    assert r.status_code == 400 and "primary: nobody called" in r.content.decode()
    assert not OnCallSchedule.objects.exists()
