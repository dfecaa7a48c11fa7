"""On-call schedules decide who "On-Call Engineer" is now; an ICS feed; the contacts page;
an unfilled decision or on-call seat stands between the team and GO."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklists.selectors import gate_states
from deployments import issues
from notifications import escalation, oncall
from notifications.escalation_models import OnCallShift
from tests.escalation.helpers import escalation_release
from warroom import clock
from warroom.audit import AuditEvent
from warroom.people.models import Assignment, Person, Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    team = escalation_release()
    role = Role.objects.create(release=team.release, name="On-Call Engineer")
    for name in ("Oscar Oncall", "Olga Oncall", "Omar Swap"):
        person = Person.objects.create(name=name, phone="+1 555 0100", slack_handle="@" + name[:4])
        Assignment.objects.create(role=role, person=person, kind="backup")
    escalation.policy_set(
        release=team.release,
        user=team["rm"],
        levels=[escalation.LevelIn(1, "On-call", 0, ("On-Call Engineer",))],
    )
    return team


def shift(api, team, start, hours, primary, backup=""):
    return api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/oncall/On-Call Engineer/shifts",
        {
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=hours)).isoformat(),
            "primary": primary,
            "backup": backup,
        },
    )


def test_shifts_and_a_swap_decide_who_is_paged(api, team):
    now = clock.now().replace(microsecond=0)
    assert (
        shift(api, team, now - timedelta(hours=2), 12, "Oscar Oncall", "Olga Oncall").status_code
        == 201
    )
    clash = shift(api, team, now + timedelta(hours=9), 12, "Olga Oncall")
    assert clash.status_code == 400 and clash.json()["errors"][0]["field"] == "starts_at"
    assert "Oscar Oncall" in clash.json()["detail"] and OnCallShift.objects.count() == 1
    role = Role.objects.get(release=team.release, name="On-Call Engineer")
    who = oncall.on_call_now([role.pk], now)[role.pk]
    assert (who[0].name, who[1].name) == ("Oscar Oncall", "Olga Oncall")
    swap = api(team["rm"]).post(
        f"/api/releases/{team.release.pk}/oncall/On-Call Engineer/overrides",
        {
            "starts_at": (now - timedelta(minutes=5)).isoformat(),
            "ends_at": (now + timedelta(hours=1)).isoformat(),
            "person": "Omar Swap",
        },
    )
    assert swap.status_code == 201
    with clock.frozen_at(now):
        issues.issue_report(release=team.release, user=team["qa"], title="x", severity="critical")
    escalation.escalate_due(now + timedelta(seconds=5))
    event = AuditEvent.objects.get(release=team.release, kind="issue.escalated")
    assert event.data["paged"] == [{"person": "Omar Swap", "channels": ["slack", "phone"]}]


def test_the_ics_feed_lists_each_shift(api, team, client):
    start = clock.now().replace(minute=0, second=0, microsecond=0)
    shift(api, team, start, 12, "Oscar Oncall", "Olga Oncall")
    shift(api, team, start + timedelta(hours=12), 12, "Olga Oncall")
    schedule = Role.objects.get(release=team.release, name="On-Call Engineer").schedules.get()
    client.force_login(team["devops"])
    resp = client.get(f"/releases/{team.release.pk}/oncall/{schedule.pk}.ics")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    text = resp.content.decode()
    assert text.startswith("BEGIN:VCALENDAR\r\n") and text.count("BEGIN:VEVENT") == 2
    assert f"DTSTART:{start:%Y%m%dT%H%M%SZ}" in text
    assert "SUMMARY:On call: Oscar Oncall" in text and "DESCRIPTION:Backup: Olga Oncall" in text


def test_the_contacts_page_and_the_gate_flag_an_unfilled_on_call_seat(api, team, client):
    Person.objects.filter(name="Dana Admin").update(phone="+44 20 7946 0000", slack_handle="@dana")
    client.force_login(team["pm"])
    page = client.get(f"/releases/{team.release.pk}/contacts/").content.decode()
    assert 'href="tel:+442079460000"' in page and "@dana" in page
    assert "Unfilled: On-Call Engineer" in page
    go = next(g for g in gate_states(team.release) if g.gate.kind == "go_no_go")
    assert "nobody holds: On-Call Engineer" in go.blockers
    shift(api, team, clock.now() - timedelta(hours=1), 12, "Oscar Oncall")
    go = next(g for g in gate_states(team.release) if g.gate.kind == "go_no_go")
    assert not any("nobody holds" in b for b in go.blockers)
    page = client.get(f"/releases/{team.release.pk}/contacts/").content.decode()
    assert "Unfilled" not in page and "On call now: Oscar Oncall" in page


def test_an_unfilled_decision_seat_blocks_go(team):
    Assignment.objects.filter(role__release=team.release, role__name="VP Engineering").delete()
    go = next(g for g in gate_states(team.release) if g.gate.kind == "go_no_go")
    assert any(b.startswith("nobody holds:") and "VP Engineering" in b for b in go.blockers)
