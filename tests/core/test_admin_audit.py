"""An edit in the Django admin is an event like any other: audited, broadcast, or refused."""

from __future__ import annotations

from datetime import timedelta

import pytest

from checklists.models import ChecklistItem
from deployments.models import Phase, Release
from warroom import events, live
from warroom.audit import AuditEvent, verify_chain
from warroom.people.models import Role


def post_data(response) -> dict:
    """The change form's current values, inlines included, as the browser would post them."""
    data: dict = {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        forms.append(formset.management_form)
        forms.extend(formset.forms)
    for form in forms:
        for name, field in form.fields.items():
            value = form[name].value()
            if value is None:
                continue
            key = form.add_prefix(name)
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            elif isinstance(value, bool):
                if value:
                    data[key] = "on"
            elif isinstance(value, timedelta):
                data[key] = str(value)
            elif type(field.widget).__name__ == "AdminSplitDateTime":
                data[f"{key}_0"] = value.strftime("%Y-%m-%d")
                data[f"{key}_1"] = value.strftime("%H:%M:%S")
            else:
                data[key] = str(value)
    return data


@pytest.fixture
def admin_client(client, team, django_user_model):
    client.force_login(django_user_model.objects.get(username="admin"))
    return client


def events_of(release, kind):
    return AuditEvent.objects.filter(release=release, kind=kind).order_by("seq")


@pytest.mark.django_db
def test_moving_t0_in_the_admin_goes_through_the_service_and_is_audited(admin_client, team):
    release = team.release
    url = f"/admin/deployments/release/{release.pk}/change/"
    data = post_data(admin_client.get(url))
    new_t0 = (release.go_live_at + timedelta(hours=2)).replace(microsecond=0)
    data["go_live_at_0"], data["go_live_at_1"] = (
        new_t0.strftime("%Y-%m-%d"),
        new_t0.strftime("%H:%M:%S"),
    )
    data["timezone"] = "Europe/Berlin"
    resp = admin_client.post(url, data)
    assert resp.status_code == 302, resp.context["adminform"].form.errors if resp.context else ""
    release.refresh_from_db()
    assert release.go_live_at == new_t0 and release.timezone == "Europe/Berlin"
    [edited] = events_of(release, "release.edited")
    assert edited.data["go_live_at"]["to"] == new_t0.isoformat()
    [admin_edit] = events_of(release, "admin.changed")
    assert admin_edit.data["fields"] == {"timezone": {"from": "UTC", "to": "Europe/Berlin"}}
    assert verify_chain(release.pk) is None


@pytest.mark.django_db
def test_the_release_status_cannot_be_typed_in_the_admin(admin_client, team):
    release = team.release
    url = f"/admin/deployments/release/{release.pk}/change/"
    data = post_data(admin_client.get(url))
    data["status"] = "done"
    assert admin_client.post(url, data).status_code == 302
    release.refresh_from_db()
    assert release.status == Release.Status.PLANNED
    assert not events_of(release, "admin.changed").exists()


@pytest.mark.django_db
def test_ticking_in_the_admin_is_a_tick(admin_client, team):
    item = team.item("DBA")
    url = f"/admin/checklists/checklistitem/{item.pk}/change/"
    data = post_data(admin_client.get(url))
    data["status"], data["note"] = "done", "checked by the admin"
    assert admin_client.post(url, data).status_code == 302
    item.refresh_from_db()
    assert item.status == "done" and item.changed_by.username == "admin"
    [tick] = events_of(team.release, "item.status")
    assert tick.data["item"] == item.pk and tick.data["note"] == "checked by the admin"
    assert not events_of(team.release, "admin.changed").exists()


@pytest.mark.django_db
def test_inline_edits_are_recorded_one_event_each(admin_client, team):
    release = team.release
    url = f"/admin/deployments/release/{release.pk}/change/"
    data = post_data(admin_client.get(url))
    first = Phase.objects.filter(release=release).order_by("order").first()
    prefix = next(k for k, v in data.items() if k.endswith("-id") and v == str(first.pk))[:-3]
    data[f"{prefix}-name"] = "Pre-Deployment (extended)"
    assert admin_client.post(url, data).status_code == 302
    [change] = events_of(release, "admin.changed")
    assert change.data["model"] == "phase"
    assert change.data["fields"]["name"] == {
        "from": "Pre-Deployment",
        "to": "Pre-Deployment (extended)",
    }


@pytest.mark.django_db
def test_deleting_in_the_admin_is_recorded(admin_client, team):
    role = Role.objects.get(release=team.release, name="QA Lead")
    url = f"/admin/people/role/{role.pk}/delete/"
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    [change] = events_of(team.release, "admin.changed")
    assert change.data["action"] == "deleted" and change.data["object"] == "QA Lead"


@pytest.mark.django_db(transaction=True)
def test_an_admin_edit_is_broadcast_to_the_release_viewers(client, django_user_model, monkeypatch):
    from tests.factories import team_release

    team = team_release()
    client.force_login(django_user_model.objects.get(username="admin"))
    published: list = []
    monkeypatch.setattr(
        live.publisher,
        "submit",
        lambda batch: published.extend(events.kind_of(e.kind) for e in batch),
    )
    item = ChecklistItem.objects.filter(checklist__release=team.release).first()
    url = f"/admin/checklists/checklistitem/{item.pk}/change/"
    data = post_data(client.get(url))
    data["text"] = item.text + " (reworded)"
    assert client.post(url, data).status_code == 302
    assert [k.name for k in published] == ["admin.changed"]
    # An admin edit can change anything on the page: viewers get the whole state.
    assert "all" in published[0].regions
