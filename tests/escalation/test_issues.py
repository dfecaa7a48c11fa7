"""Reporting an issue from the war room, the API and the engine; acknowledge, resolve;
response-time targets and their breaches on the board."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deployments import issues
from deployments.models import WarIssue
from warroom import clock
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


def kinds(release) -> list[str]:
    return list(
        AuditEvent.objects.filter(release=release, kind__startswith="issue.")
        .order_by("seq")
        .values_list("kind", flat=True)
    )


def test_reported_through_the_api_with_every_field_and_on_the_board(api, team, client):
    resp = api(team["dba"]).post(
        f"/api/releases/{team.release.pk}/issues",
        {
            "title": "Checkout returns 502",
            "severity": "P1",
            "component": "payments-api",
            "impact": "No one can pay",
            "error": "upstream connect error",
            "investigator": "Devi Ops",
        },
    )
    assert resp.status_code == 201, resp.content
    body = resp.json()
    assert body["severity"] == "critical" and body["priority"] == "P1"
    assert body["investigator"] == "Devi Ops" and body["state"] == "open"
    opened = WarIssue.objects.get()
    assert opened.respond_by - opened.opened_at == timedelta(minutes=15)
    event = AuditEvent.objects.get(release=team.release, kind="issue.reported")
    assert event.data["component"] == "payments-api" and event.actor_label == "Dana Admin"
    client.force_login(team["pm"])
    board = client.get(f"/releases/{team.release.pk}/board/").content.decode()
    assert "Checkout returns 502" in board and "P1 issue" in board


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "x", "severity": "catastrophic"}, "severity"),
        ({"title": " ", "severity": "high"}, "title"),
        ({"title": "x", "severity": "low", "investigator": "Nobody Known"}, "investigator"),
        ({"title": "x"}, "severity"),
        ({"title": "x", "severity": "high", "error": "bad\u0000"}, "error"),
    ],
)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(api, team, body, field):
    seq = team.release.last_seq
    resp = api(team["dba"]).post(f"/api/releases/{team.release.pk}/issues", body)
    assert resp.status_code == 400, resp.content
    assert resp.json()["errors"][0]["field"] == field
    assert not WarIssue.objects.exists()
    team.release.refresh_from_db()
    assert team.release.last_seq == seq


def test_acknowledge_and_resolve_are_audited_and_on_the_timeline(api, team):
    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title="Slow search", severity="high"
        )
    base = f"/api/releases/{team.release.pk}/issues/{issue.pk}"
    with clock.frozen_at(start + timedelta(minutes=40)):  # P2: 30 min target, missed
        ack = api(team["devops"]).post(f"{base}/acknowledge")
        assert ack.status_code == 200 and ack.json()["breached"] is True
        again = api(team["devops"]).post(f"{base}/acknowledge")
        assert again.status_code == 409 and again.json()["errors"][0]["field"] == "status"
        done = api(team["devops"]).post(f"{base}/resolve", {"resolution": "index rebuilt"})
    assert done.status_code == 200 and done.json()["state"] == "resolved"
    assert kinds(team.release) == ["issue.reported", "issue.acknowledged", "issue.resolved"]
    ev = AuditEvent.objects.get(release=team.release, kind="issue.acknowledged")
    assert ev.data["breached"] is True and ev.data["after_s"] == 2400
    # An outsider may neither report nor resolve: 403, audited.
    out = api(team["outsider"]).post(
        f"/api/releases/{team.release.pk}/issues", {"title": "x", "severity": "low"}
    )
    assert out.status_code == 403


def test_breaches_show_on_the_board_and_targets_are_editable_per_release(api, team, client):
    resp = api(team["rm"]).put(
        f"/api/releases/{team.release.pk}/issues/targets", {"targets": {"P3": 5}}
    )
    assert resp.status_code == 200 and resp.json()["medium"] == 5
    bad = api(team["rm"]).put(
        f"/api/releases/{team.release.pk}/issues/targets", {"targets": {"P9": 5}}
    )
    assert bad.status_code == 400 and bad.json()["errors"][0]["field"] == "targets.P9"
    team.release.refresh_from_db()
    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title="Stale cache", severity="medium"
        )
    assert issue.respond_by == start + timedelta(minutes=5)
    client.force_login(team["pm"])
    with clock.frozen_at(start + timedelta(minutes=4)):
        assert (
            "response target missed"
            not in client.get(f"/releases/{team.release.pk}/board/").content.decode()
        )
    with clock.frozen_at(start + timedelta(minutes=6)):
        board = client.get(f"/releases/{team.release.pk}/board/").content.decode()
        assert "Stale cache" in board and "response target missed" in board


def test_the_war_room_form_reports_and_refuses_an_unknown_severity(team, client):
    client.force_login(team["dba"])
    url = f"/releases/{team.release.pk}/issues/"
    bad = client.post(url, {"title": "DB lag", "severity": "urgent"})
    assert bad.status_code == 400 and 'data-field="severity"' in bad.content.decode()
    assert not WarIssue.objects.exists()
    ok = client.post(
        url,
        {
            "title": "DB lag",
            "severity": "critical",
            "component": "db",
            "investigator": "Dana Admin",
        },
    )
    assert ok.status_code == 302
    page = client.get(url).content.decode()
    assert "DB lag" in page and "Investigating: Dana Admin" in page
    issue = WarIssue.objects.get()
    assert client.post(f"{url}{issue.pk}/acknowledge").status_code == 302
    assert client.post(f"{url}{issue.pk}/resolve", {"resolution": "ok"}).status_code == 302
    issue.refresh_from_db()
    assert issue.status == "resolved" and issue.acknowledged_by == "Dana Admin"


def test_a_breached_metric_gate_opens_one_issue_until_it_is_resolved(team):
    first = issues.issue_from_breach(
        release=team.release, gate="Canary", metric="error rate", observed="3.2% > 1%"
    )
    again = issues.issue_from_breach(
        release=team.release, gate="Canary", metric="error rate", observed="4.0% > 1%"
    )
    assert first.pk == again.pk and first.severity == "critical" and first.opened_by is None
    ev = AuditEvent.objects.get(release=team.release, kind="issue.reported")
    assert ev.actor_label == "metric gate: Canary"


def test_the_board_rereads_itself_when_a_response_target_passes(team):
    from deployments.selectors import summary

    start = clock.now()
    with clock.frozen_at(start):
        issue = issues.issue_report(
            release=team.release, user=team["qa"], title="Lag", severity="critical"
        )
    s = summary(team.release, now=start + timedelta(minutes=1))
    assert s.next_change_at == issue.respond_by
    with clock.frozen_at(start + timedelta(minutes=2)):
        issues.issue_acknowledge(issue=issue, user=team["dba"])
    assert summary(team.release, now=start + timedelta(minutes=3)).next_change_at != (
        issue.respond_by
    )
