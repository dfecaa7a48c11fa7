"""The per-viewer parts of the war room: "my next items", the board link, announcements.
They are fragments of their own, never part of the body every viewer shares."""

import json
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from checklists import services
from checklists.models import ChecklistItem
from tests.factories import crowd_release
from warroom.people.models import Person

pytestmark = pytest.mark.django_db


def test_my_next_items_are_the_viewers_own_open_items_due_soonest_first(client, team):
    release = team.release
    overdue = team.item("QA Lead", text="Regression suite green 2")
    ChecklistItem.objects.filter(pk=overdue.pk).update(
        assignee=Person.objects.get(user=team["dba"])
    )
    done = team.item("DBA")
    services.item_set_status(item=done, status="done", user=team["dba"])
    client.force_login(team["dba"])

    resp = client.get(f"/releases/{release.pk}/mine")

    assert resp.status_code == 200 and resp["Cache-Control"] == "private, no-store"
    rows = resp.context["rows"]
    assert [r["item"].text for r in rows] == [
        "Regression suite green 2",  # assigned, a day overdue
        "Verify backup 2",  # due at the end of Pre-Deployment (T0)
        "Verify backup 3",
    ]
    assert rows[0]["overdue"] and not rows[0]["can_tick"]  # the QA Lead ticks it
    assert all(r["can_tick"] for r in rows[1:])
    html = resp.content.decode()
    assert 'id="mine-tick-' in html and f'id="mine-tick-{overdue.pk}"' not in html
    # The war room's go/no-go items are due at their gate: the RM's come first.
    client.force_login(team["rm"])
    rows = client.get(f"/releases/{release.pk}/mine").context["rows"]
    assert [r["due"] for r in rows[:2]] == [timedelta(minutes=-30)] * 2


def test_a_stakeholder_has_no_next_items_and_an_outsider_is_refused(client, team):
    client.force_login(team["pm"])
    resp = client.get(f"/releases/{team.release.pk}/mine")
    assert resp.status_code == 200 and resp.context["show"] is False
    assert 'id="my-next"' in resp.content.decode() and " hidden" in resp.content.decode()
    client.force_login(team["outsider"])
    assert client.get(f"/releases/{team.release.pk}/mine").status_code == 403


def test_my_next_items_cost_the_same_queries_for_3_items_as_for_300(client):
    def queries(items):
        release, people = crowd_release(items=items, users=1)
        client.force_login(people[0])
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/releases/{release.pk}/mine").status_code == 200
        return len(ctx.captured_queries)

    assert queries(3) == queries(300)


def test_the_shared_body_holds_nothing_of_one_viewer_and_not_the_board_link(client, team):
    url = f"/releases/{team.release.pk}/"
    client.force_login(team["dba"])
    dba_body = client.get(url).context["body"]
    client.force_login(team["rm"])
    rm_body = client.get(url).context["body"]
    assert dba_body == rm_body
    assert team.release.board_token not in rm_body
    assert "Dana Admin" not in dba_body.split('id="main-column"')[0]


def test_the_board_link_is_shown_to_the_release_manager_only(client, team):
    url = f"/releases/{team.release.pk}/board/share"
    client.force_login(team["rm"])
    resp = client.get(url)
    assert resp.status_code == 200 and resp["Cache-Control"] == "private, no-store"
    assert f"/board/{team.release.board_token}/" in resp.content.decode()
    rotated = client.post(f"/releases/{team.release.pk}/board/rotate")
    team.release.refresh_from_db()
    assert f"/board/{team.release.board_token}/" in rotated.content.decode()
    assert "no longer works" in json.loads(rotated["HX-Trigger"])["warroom:announce"]
    client.force_login(team["dba"])
    assert client.get(url).status_code == 403
    css = client.get(f"/releases/{team.release.pk}/controls.css").content.decode()
    assert ".share-board" not in css
    client.force_login(team["rm"])
    assert (
        ".share-board" in client.get(f"/releases/{team.release.pk}/controls.css").content.decode()
    )


def test_a_change_answers_with_what_to_announce_in_plain_ascii_json(client, team):
    item = team.item("DBA")
    client.force_login(team["dba"])
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "blocked", "note": "Creds expired — Jonas’s on it"},  # noqa: RUF001
        headers={"HX-Request": "true"},
    )
    assert resp.status_code == 200
    header = resp["HX-Trigger"]
    assert header.isascii()
    assert json.loads(header) == {
        "warroom:announce": "Blocked: Verify backup 1. Reason: Creds expired — Jonas’s on it",  # noqa: RUF001
        "warroom:changed": True,
    }
    assert ChecklistItem.objects.get(pk=item.pk).note == "Creds expired — Jonas’s on it"  # noqa: RUF001


def test_a_note_from_a_page_still_using_the_prompt_is_decoded_as_htmx_encoded_it(client, team):
    item = team.item("DBA")
    client.force_login(team["dba"])
    resp = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status",
        {"status": "blocked"},
        headers={
            "HX-Request": "true",
            "HX-Prompt": "Canary%20creds%20expired%20%E2%80%94%20rotating",
            "HX-Prompt-URI-AutoEncoded": "true",
        },
    )
    assert resp.status_code == 200
    assert ChecklistItem.objects.get(pk=item.pk).note == "Canary creds expired — rotating"


def test_ticking_a_go_no_go_item_answers_with_its_gate_panel_too(client, team):
    gate = team.gate()
    item = team.item("Release Manager", text="Rollback plan ready")
    client.force_login(team["rm"])
    html = client.post(
        f"/releases/{team.release.pk}/items/{item.pk}/status", {"status": "done"}
    ).content.decode()
    assert f'id="item-{item.pk}"' in html
    assert f'<section id="gate-{gate.pk}"' in html and 'hx-swap-oob="true"' in html
    assert "1 go/no-go item unchecked" in html
