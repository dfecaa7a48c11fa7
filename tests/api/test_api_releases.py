"""The JSON API: releases, items, errors that name the field."""

import json

import pytest

from checklists.models import ChecklistItem
from warroom.audit import AuditEvent
from warroom.people.models import Assignment, Role

pytestmark = pytest.mark.django_db


def test_without_a_token_the_api_answers_401(client, team):
    assert client.get("/api/releases").status_code == 401
    bad = client.get("/api/releases", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401


def test_a_team_member_lists_the_releases_they_are_on(api, team):
    resp = api(team["dba"]).get("/api/releases")
    assert resp.status_code == 200
    [row] = resp.json()
    # T0 is in an hour and the window opened at T-2h: the go-live is under way.
    assert row["id"] == team.release.pk and row["state"] == "in_progress"
    assert api(team["outsider"]).get("/api/releases").json() == []


def test_a_release_has_phases_checklists_items_and_gates(api, team):
    resp = api(team["dba"]).get(f"/api/releases/{team.release.pk}")
    assert resp.status_code == 200
    body = resp.json()
    assert [p["name"] for p in body["phases"]] == [
        "Pre-Deployment",
        "Deployment Execution",
        "Validation",
    ]
    assert body["phases"][0]["start"] == "T-02:00"
    items = [i for c in body["checklists"] for i in c["items"]]
    assert len(items) == ChecklistItem.objects.filter(checklist__release=team.release).count()
    assert all({"id", "status", "owner_role", "text"} <= set(i) for i in items)
    assert {g["name"] for g in body["gates"]} == {"Go/No-Go", "Final go-live approval"}
    # T0 is an hour away and the T-1 Day list (three items) was due yesterday.
    assert (body["rag"], body["rag_reasons"]) == ("yellow", ["3 items overdue"])
    assert body["current_phase"] == "Pre-Deployment" and body["progress_percent"] == 0


def test_ticking_through_the_api_returns_the_item_and_records_one_event(api, team):
    item = team.item("DBA")
    resp = api(team["dba"]).post(
        f"/api/releases/{team.release.pk}/items/{item.pk}",
        {"status": "done", "note": "checksum ok"},
    )
    assert resp.status_code == 200, resp.content
    assert resp.json()["status"] == "done" and resp.json()["note"] == "checksum ok"
    assert resp.json()["changed_by"] == "Dana Admin"
    assert AuditEvent.objects.filter(release=team.release, kind="item.status").count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_ticks_answer_is_read_under_the_lock_so_nothing_is_queried_after_the_commit(
    api, team, monkeypatch
):
    """After the commit the hub in this process fans the event out; a query then would take
    turns with it at the interpreter lock. The answer (owner, assignee) is read before."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from warroom import live

    item = team.item("DBA")
    dba = api(team["dba"])
    queried_at_commit: list[int] = []
    with CaptureQueriesContext(connection) as queries:
        # where the committed batch is handed to the publisher
        monkeypatch.setattr(
            live.publisher, "submit", lambda batch: queried_at_commit.append(len(queries))
        )
        resp = dba.post(f"/api/releases/{team.release.pk}/items/{item.pk}", {"status": "done"})
    assert resp.status_code == 200, resp.content
    assert resp.json()["owner_role"] == "DBA" and resp.json()["status"] == "done"
    assert queried_at_commit == [len(queries)]


def test_unknown_release_or_item_is_404(api, team):
    dba = api(team["dba"])
    item = team.item("DBA")
    assert dba.get("/api/releases/999999").status_code == 404
    assert dba.post(f"/api/releases/999999/items/{item.pk}", {"status": "done"}).status_code == 404
    assert (
        dba.post(f"/api/releases/{team.release.pk}/items/999999", {"status": "done"}).status_code
        == 404
    )


def test_a_status_outside_the_four_is_400_naming_the_field_and_writes_nothing(api, team):
    item = team.item("DBA")
    before = team.release.last_seq
    resp = api(team["dba"]).post(
        f"/api/releases/{team.release.pk}/items/{item.pk}", {"status": "finished"}
    )
    assert resp.status_code == 400
    assert resp.json()["errors"][0]["field"] == "status"
    assert "status" in resp.json()["detail"]
    team.release.refresh_from_db()
    assert team.release.last_seq == before
    assert ChecklistItem.objects.get(pk=item.pk).status == "todo"


def test_a_malformed_body_is_400_not_500(client, team):
    from warroom.models import ApiToken

    token = ApiToken.issue(team["dba"])[1]
    item = team.item("DBA")
    resp = client.post(
        f"/api/releases/{team.release.pk}/items/{item.pk}",
        data="{not json",
        content_type="application/json",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 400


def test_a_user_outside_the_allowed_roles_gets_403_with_a_reason_and_an_audit_row(api, team):
    item = team.item("DBA")
    resp = api(team["qa"]).post(
        f"/api/releases/{team.release.pk}/items/{item.pk}", {"status": "done"}
    )
    assert resp.status_code == 403
    assert "owner role" in resp.json()["detail"]
    denied = AuditEvent.objects.get(release=team.release, kind="access.denied")
    assert denied.actor == team["qa"] and denied.data["item"] == item.pk
    assert ChecklistItem.objects.get(pk=item.pk).status == "todo"


def test_an_outsider_may_not_even_view_and_that_is_audited(api, team):
    resp = api(team["outsider"]).get(f"/api/releases/{team.release.pk}")
    assert resp.status_code == 403
    assert (
        AuditEvent.objects.filter(
            release=team.release, kind="access.denied", actor=team["outsider"]
        ).count()
        == 1
    )


def test_the_events_endpoint_returns_what_came_after_a_sequence_number(api, team):
    dba = api(team["dba"])
    for item in ChecklistItem.objects.filter(
        checklist__release=team.release, owner_role__name="DBA"
    ):
        dba.post(f"/api/releases/{team.release.pk}/items/{item.pk}", {"status": "done"})
    all_events = dba.get(f"/api/releases/{team.release.pk}/events").json()
    assert [e["seq"] for e in all_events] == list(range(1, len(all_events) + 1))
    after = dba.get(f"/api/releases/{team.release.pk}/events?after=2").json()
    assert [e["seq"] for e in after] == [e["seq"] for e in all_events[2:]]
    assert set(after[0]) == {"seq", "kind", "at", "actor", "data"}


def test_openapi_schema_is_published(client):
    resp = client.get("/api/openapi.json")
    assert resp.status_code == 200
    assert "/api/releases/{release_id}/items/{item_id}" in resp.json()["paths"]


def test_healthz_answers_200(client, db):
    resp = client.get("/healthz")
    assert resp.status_code == 200 and resp.json()["status"] == "ok"


def test_create_token_prints_a_working_token(client, team, capsys):
    from django.core.management import call_command

    call_command("create_token", "dba")
    token = capsys.readouterr().out.strip()
    assert token.startswith("wr_")
    resp = client.get("/api/releases", headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200


@pytest.mark.parametrize("body", [[None, None], "Orbit", 42, None])
def test_a_body_that_is_not_a_json_object_is_400_and_changes_nothing(api, team, body):
    name = team.release.name
    resp = api(team["rm"]).patch(f"/api/releases/{team.release.pk}", json.dumps(body))
    assert resp.status_code == 400
    assert resp.json()["errors"] == [{"field": "body", "message": "must be a JSON object"}]
    team.release.refresh_from_db()
    assert team.release.name == name


@pytest.mark.parametrize("when", ["9999-12-31T23:59:00Z", "0001-01-01T00:00:00Z"])
def test_a_go_live_time_out_of_any_sane_window_is_400_naming_the_field(api, team, when):
    t0 = team.release.go_live_at
    resp = api(team["rm"]).patch(f"/api/releases/{team.release.pk}", {"go_live_at": when})
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "go_live_at"
    team.release.refresh_from_db()
    assert team.release.go_live_at == t0
    assert not AuditEvent.objects.filter(release=team.release, kind="release.edited").exists()
    assert api(team["rm"]).get(f"/api/releases/{team.release.pk}").status_code == 200


def test_the_manager_takes_someone_off_a_role_through_the_api_and_it_is_recorded(api, team):
    role = Role.objects.get(release=team.release, name="DBA")
    path = f"/api/releases/{team.release.pk}/roles/{role.pk}/assignments/dba"
    # Only the manager: a team member is refused (and audited), nothing changes.
    assert api(team["qa"]).delete(path).status_code == 403
    assert Assignment.objects.filter(role=role, person__user=team["dba"]).exists()
    assert api(team["rm"]).delete(path).status_code == 204
    assert not Assignment.objects.filter(role=role, person__user=team["dba"]).exists()
    event = AuditEvent.objects.filter(release=team.release).order_by("-seq").first()
    assert event.kind == "people.unassigned" and event.data["person"] == "Dana Admin"
    # Taking off someone who does not hold the role names the field.
    again = api(team["rm"]).delete(path)
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "username"


def test_an_unstorable_username_in_the_path_is_400_not_a_database_error(api, team):
    role = Role.objects.get(release=team.release, name="DBA")
    resp = api(team["rm"]).delete(
        f"/api/releases/{team.release.pk}/roles/{role.pk}/assignments/d%00ba"
    )
    assert resp.status_code == 400 and resp.json()["errors"][0]["field"] == "username"
