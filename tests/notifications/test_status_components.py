"""The release manager edits the product's status page components on the comms page:
name, order, state, and whether this release's maintenance affects each; the public
page shows them; every change is on the release's timeline; others are refused."""

from __future__ import annotations

import pytest

from notifications.models import Maintenance, StatusComponent
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from warroom import clock, events
from warroom.audit import AuditEvent

pytestmark = pytest.mark.django_db


def shown(page) -> list[tuple[str, str]]:
    return list(StatusComponent.objects.filter(page=page).values_list("name", "state"))


def edits(release) -> list[dict]:
    return [
        e.data
        for e in AuditEvent.objects.filter(
            release=release, kind="status.component_edited"
        ).order_by("seq")
    ]


def test_the_release_manager_adds_orders_and_scopes_components_and_the_page_follows(client):
    team = make(go_live_at=clock.now() + 3 * H, rules=[])
    release = team.release
    m = Maintenance.objects.get(release=release)
    page = m.page
    client.force_login(team["rm"])
    base = f"/releases/{release.pk}/comms/status-components"
    html = client.get(f"/releases/{release.pk}/comms/").content.decode()
    assert "Status page components" in html and "Add component" in html

    # Added as affected: it shows the release's scheduled maintenance at once.
    assert (
        client.post(base, {"name": " Checkout  API ", "order": "2", "affected": "on"}).status_code
        == 302
    )
    # Added as not affected: operational, whatever the maintenance does.
    assert client.post(base, {"name": "Status emails", "order": "1"}).status_code == 302
    api = StatusComponent.objects.get(name="Checkout API")
    mail = StatusComponent.objects.get(name="Status emails")
    product = StatusComponent.objects.get(name="Orbit Payments")
    assert shown(page) == [
        ("Orbit Payments", "scheduled_maintenance"),
        ("Status emails", "operational"),
        ("Checkout API", "scheduled_maintenance"),
    ]
    assert set(m.components.values_list("name", flat=True)) == {"Orbit Payments", "Checkout API"}

    # The product itself is taken out of this release's scope: back to operational.
    client.post(
        f"{base}/{product.pk}", {"name": "Orbit Payments", "order": "0", "state": product.state}
    )
    # Bad input names the field and changes nothing.
    bad = client.post(f"{base}/{api.pk}", {"name": "Status emails", "order": "3", "affected": "on"})
    assert (
        bad.status_code == 400 and "“Status emails” is on this page already" in bad.content.decode()
    )
    assert client.post(base, {"name": "", "order": "1"}).status_code == 400
    assert client.post(base, {"name": "X", "order": "-1"}).status_code == 400

    # The window opens: only what the release affects is in maintenance.
    with clock.frozen_at(m.starts_at):
        events.record(release, "release.window_opened", actor_label="clock")
    assert dict(shown(page)) == {
        "Orbit Payments": "operational",
        "Status emails": "operational",
        "Checkout API": "maintenance_in_progress",
    }
    # A state chosen by hand is kept; a component is removed.
    client.post(f"{base}/{mail.pk}", {"name": "Status emails", "order": "1", "state": "degraded"})
    client.post(f"{base}/{product.pk}", {"do": "remove"})
    public = client.get(f"/status/{page.slug}/").content.decode()
    assert "Checkout API" in public and "Orbit Payments</span>" not in public
    assert dict(shown(page)) == {
        "Status emails": "degraded",
        "Checkout API": "maintenance_in_progress",
    }
    # The last component stays.
    client.post(f"{base}/{mail.pk}", {"do": "remove"})
    last = client.post(f"{base}/{api.pk}", {"do": "remove"})
    assert last.status_code == 400 and StatusComponent.objects.filter(page=page).count() == 1

    # Every change is on the timeline, once; a save that changes nothing is not.
    client.post(
        f"{base}/{api.pk}",
        {
            "name": "Checkout API",
            "order": "2",
            "state": "maintenance_in_progress",
            "affected": "on",
        },
    )
    assert [(d["change"], d["component"], d["fields"]) for d in edits(release)] == [
        ("added", "Checkout API", []),
        ("added", "Status emails", []),
        ("changed", "Orbit Payments", ["state", "affected"]),
        ("changed", "Status emails", ["state"]),
        ("removed", "Orbit Payments", []),
        ("removed", "Status emails", []),
    ]


def test_someone_who_may_not_edit_the_plan_sees_the_components_and_is_refused(client):
    team = make(go_live_at=clock.now() + 3 * H, rules=[])
    release = team.release
    client.force_login(team["dba"])
    html = client.get(f"/releases/{release.pk}/comms/").content.decode()
    assert "Orbit Payments" in html and "Add component" not in html
    base = f"/releases/{release.pk}/comms/status-components"
    assert client.post(base, {"name": "Sneaky"}).status_code == 403
    product = StatusComponent.objects.get()
    assert client.post(f"{base}/{product.pk}", {"do": "remove"}).status_code == 403
    assert StatusComponent.objects.count() == 1 and edits(release) == []
