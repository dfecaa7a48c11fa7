"""Overdue is actionable: late and blocked items with who is on duty, and a nudge."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklists import selectors, services
from warroom import clock
from warroom.audit import AuditEvent
from warroom.errors import Conflict, FieldError

pytestmark = pytest.mark.django_db


def test_late_and_blocked_items_list_who_is_on_duty_primary_first(team):
    dba_item = team.item("DBA")
    services.item_set_status(item=dba_item, status="blocked", note="replica lag", user=team["dba"])
    rows = selectors.late_work(team.release, clock.now())
    # T0 is an hour away: the T-1 Day list (QA Lead) is 23 hours late; the DBA item is blocked.
    late = [r for r in rows if r.late_by]
    assert [r.item.text for r in late] == [f"Regression suite green {n}" for n in (1, 2, 3)]
    assert all(timedelta(hours=22) < r.late_by < timedelta(hours=24) for r in late)
    assert [(d.person.name, d.kind) for d in late[0].on_duty] == [("Quinn Tester", "primary")]
    [blocked] = [r for r in rows if r.blocked]
    assert blocked.item == dba_item and blocked.late_by is None
    assert [(d.person.name, d.kind) for d in blocked.on_duty] == [
        ("Dana Admin", "primary"),
        ("Derek Standby", "backup"),
    ]


def test_a_nudge_names_the_people_on_duty_and_is_not_repeated_within_two_minutes(team):
    item = team.release.checklists.get(name="T-1 Day").items.first()
    event = services.item_nudge(item=item, user=team["rm"])
    assert event.data["to"] == ["Quinn Tester"]
    assert event.data["to_person_ids"] == [team["qa"].person.pk]
    assert event.data["late_by_s"] > 22 * 3600
    with pytest.raises(Conflict):
        services.item_nudge(item=item, user=team["devops"])
    assert AuditEvent.objects.filter(release=team.release, kind="item.nudged").count() == 1
    with clock.frozen_at(clock.now() + timedelta(minutes=3)):
        services.item_nudge(item=item, user=team["devops"])
    assert AuditEvent.objects.filter(release=team.release, kind="item.nudged").count() == 2


def test_an_item_on_time_is_not_nudged(team):
    with pytest.raises(FieldError) as err:
        services.item_nudge(item=team.item("DevOps Lead"), user=team["rm"])
    assert err.value.field == "item"


def test_the_late_list_in_the_browser_has_tap_to_call_and_a_nudge(client, team):
    team["qa"].person.phone = "+49 170 555 0101"
    team["qa"].person.save()
    client.force_login(team["devops"])
    page = client.get(f"/releases/{team.release.pk}/late/").content.decode()
    assert 'href="tel:+491705550101"' in page and "Quinn Tester" in page
    item = team.release.checklists.get(name="T-1 Day").items.first()
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/nudge", headers={"HX-Request": "true"}
    )
    assert resp.status_code == 200 and 'id="late-work"' in resp.content.decode()
    again = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/nudge", headers={"HX-Request": "true"}
    )
    assert again.status_code == 409 and b"nudged them" in again.content


def test_the_api_lists_late_work(api, team):
    body = api(team["pm"]).get(f"/api/releases/{team.release.pk}/late").json()
    assert [row["item"]["text"] for row in body][:1] == ["Regression suite green 1"]
    assert body[0]["on_duty"][0]["name"] == "Quinn Tester" and body[0]["late_by_s"] > 0
