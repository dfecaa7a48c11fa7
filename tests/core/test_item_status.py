"""Ticking items: the service, its events and its refusals."""

import pytest

from checklists import services
from checklists.models import ChecklistItem
from warroom import policies
from warroom.audit import AuditEvent, verify_chain
from warroom.errors import FieldError

pytestmark = pytest.mark.django_db


def events(release, kind=None):
    qs = AuditEvent.objects.filter(release=release)
    return list(qs.filter(kind=kind) if kind else qs)


def test_the_dba_ticks_a_dba_item_and_the_tick_is_recorded_with_who_and_when(team):
    item = team.item("DBA")
    before = team.release.last_seq

    item = services.item_set_status(item=item, status="done", user=team["dba"])

    assert item.status == "done"
    assert item.changed_by == team["dba"]
    assert item.changed_by_label == "Dana Admin"
    assert item.changed_at is not None
    [event] = events(team.release, "item.status")
    assert event.seq == before + 1
    assert event.actor_label == "Dana Admin"
    assert event.data["status"] == "done" and event.data["from"] == "todo"
    assert event.data["item"] == item.pk
    assert verify_chain(team.release.pk) is None


def test_the_dba_backup_may_tick_for_the_dba(team):
    item = services.item_set_status(item=team.item("DBA"), status="done", user=team["dba_backup"])
    assert item.status == "done"


def test_the_release_manager_may_change_any_item(team):
    for owner in ("DBA", "QA Lead", "DevOps Lead", None):
        item = services.item_set_status(item=team.item(owner), status="na", user=team["rm"])
        assert item.status == "na"


def test_qa_may_not_tick_a_dba_item_and_the_refusal_is_audited_with_nothing_else_written(team):
    item = team.item("DBA")
    before = team.release.last_seq

    with pytest.raises(policies.Refused) as refused:
        services.item_set_status(item=item, status="done", user=team["qa"])

    assert "owner role" in refused.value.reason
    assert ChecklistItem.objects.get(pk=item.pk).status == "todo"
    [denied] = events(team.release, "access.denied")
    assert denied.seq == before + 1
    assert denied.actor == team["qa"]
    assert denied.data["action"] == "tick" and denied.data["item"] == item.pk
    assert not events(team.release, "item.status")


def test_any_team_member_may_tick_an_item_nobody_owns_but_a_stakeholder_may_not(team):
    item = team.item(None)
    services.item_set_status(item=item, status="done", user=team["devops"])
    with pytest.raises(policies.Refused):
        services.item_set_status(item=item, status="todo", user=team["pm"])


def test_blocking_needs_a_reason(team):
    with pytest.raises(FieldError) as err:
        services.item_set_status(item=team.item("DBA"), status="blocked", user=team["dba"])
    assert err.value.field == "note"
    item = services.item_set_status(
        item=team.item("DBA"), status="blocked", note="Replica lag 40s", user=team["dba"]
    )
    assert item.status == "blocked" and item.note == "Replica lag 40s"


def test_an_unknown_status_is_refused_naming_the_field(team):
    with pytest.raises(FieldError) as err:
        services.item_set_status(item=team.item("DBA"), status="finished", user=team["dba"])
    assert err.value.field == "status"
    assert not events(team.release, "item.status")


def test_ticking_an_item_twice_records_one_event(team):
    item = team.item("DBA")
    services.item_set_status(item=item, status="done", user=team["dba"])
    services.item_set_status(item=item, status="done", user=team["dba_backup"])
    assert len(events(team.release, "item.status")) == 1


def test_untick_then_tick_again_records_each_change(team):
    item = team.item("DBA")
    for status in ("done", "todo", "done"):
        services.item_set_status(item=item, status=status, user=team["dba"])
    assert [e.data["status"] for e in events(team.release, "item.status")] == [
        "done",
        "todo",
        "done",
    ]
