"""The built-in public status page: a release is a scheduled maintenance on its product's
page; components go Operational → Scheduled Maintenance → Maintenance in Progress →
Degraded → Operational; subscribers get an email (real SMTP) when maintenance is
scheduled, starts, changes date and completes — once each."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from deployments import engine, issues
from deployments import services as release_services
from notifications.models import Delivery, Maintenance, StatusComponent, StatusSubscriber
from tests.notifications.conftest import drain
from tests.notifications.plans import H
from tests.notifications.plans import comms_release as make
from tests.notifications.test_email_and_page import smtp  # noqa: F401  (a fixture)
from warroom import clock, events

pytestmark = pytest.mark.django_db
NO_RULES: list = []


def states(page) -> list[str]:
    return list(StatusComponent.objects.filter(page=page).values_list("state", flat=True))


def subjects(inbox) -> list[str]:
    return [m["Subject"] for _, m in inbox.mails]


def test_subscribers_are_told_when_maintenance_is_scheduled_moves_starts_and_completes(
    smtp,  # noqa: F811
    client,
):
    first = make(go_live_at=clock.now() + 2 * H, rules=NO_RULES)
    page = Maintenance.objects.get(release=first.release).page
    assert (page.slug, page.name) == ("orbit-payments", "Orbit Payments")
    assert states(page) == ["scheduled_maintenance"]

    # Anyone subscribes on the public page, without logging in.
    answer = client.post(f"/status/{page.slug}/subscribe", {"email": "Ops@Customer.example"})
    assert answer.status_code == 200
    assert b"ops@customer.example will get an email" in answer.content
    bad = client.post(f"/status/{page.slug}/subscribe", {"email": "not an address"})
    assert bad.status_code == 400 and b"email: is not an email address" in bad.content
    assert list(StatusSubscriber.objects.values_list("email", flat=True)) == [
        "ops@customer.example"
    ]

    # The next release of the product is scheduled on the same page: subscribers hear.
    t0 = clock.now() + 3 * H
    team = make(go_live_at=t0, rules=NO_RULES)
    release = team.release
    m = Maintenance.objects.get(release=release)
    assert m.page == page and m.state == "scheduled"
    drain()
    assert subjects(smtp) == ["Orbit Payments: maintenance scheduled"]

    # T0 moves an hour later: the date changed.
    release_services.release_edit(release=release, user=team["rm"], go_live_at=t0 + H)
    drain()
    m.refresh_from_db()
    assert m.starts_at == t0 + H - timedelta(hours=2)  # the window opens at T-2h
    assert subjects(smtp)[-1] == "Orbit Payments: maintenance date changed"

    # The window opens, then T0 comes: started once.
    with clock.frozen_at(m.starts_at):
        events.record(release, "release.window_opened", actor_label="clock")
    with clock.frozen_at(t0 + H):
        events.record(release, "release.t0_reached", actor_label="clock")
    drain()
    assert states(page) == ["maintenance_in_progress"]
    assert subjects(smtp)[-1] == "Orbit Payments: maintenance in progress"

    # A high issue degrades the product (on the page; no email for it).
    with clock.frozen_at(t0 + 2 * H):
        issues.issue_report(
            release=release, user=team["dba"], title="Slow checkout", severity="high"
        )
    assert states(page) == ["degraded"]

    with clock.frozen_at(t0 + 3 * H):
        engine.release_close(release=release, outcome="done", note="", user=team["rm"])
    drain(t0 + 3 * H)
    assert states(page) == ["operational"]
    assert subjects(smtp) == [
        "Orbit Payments: maintenance scheduled",
        "Orbit Payments: maintenance date changed",
        "Orbit Payments: maintenance in progress",
        "Orbit Payments: maintenance completed",
    ]
    assert all(to == ["ops@customer.example"] for to, _ in smtp.mails)
    assert Delivery.objects.filter(state="sent").count() == 4  # once each, nothing else

    # The page tells the story, newest first, with no login.
    client.logout()
    page_html = client.get(f"/status/{page.slug}/").content.decode()
    past = page_html.split('id="past-h"', 1)[1]
    story = re.findall(r"<b>(Scheduled|Date changed|In progress|Degraded|Completed)</b>", past)
    assert story == ["Completed", "Degraded", "In progress", "Date changed", "Scheduled"]
    # The first release's maintenance is still ahead: the product shows it.
    assert "Scheduled Maintenance" in page_html.split('id="past-h"', 1)[0]


def test_the_email_unsubscribe_link_leaves_the_status_page(smtp, client):  # noqa: F811
    make(go_live_at=clock.now() + 2 * H, rules=NO_RULES)
    client.post("/status/orbit-payments/subscribe", {"email": "ops@customer.example"})
    make(go_live_at=clock.now() + 3 * H, rules=NO_RULES)
    drain()
    ((_, mail),) = smtp.mails
    link = re.search(r"<(http://testserver/comms/unsubscribe/[^>]+)>", mail["List-Unsubscribe"])
    path = link.group(1).removeprefix("http://testserver")
    assert client.post(path).status_code == 200
    assert not StatusSubscriber.objects.get().active
    make(go_live_at=clock.now() + 4 * H, rules=NO_RULES)
    drain()
    assert len(smtp.mails) == 1  # no more


def test_no_subscribers_no_messages_and_an_unknown_page_is_404(client):
    make(go_live_at=clock.now() + 2 * H, rules=NO_RULES)
    assert Delivery.objects.count() == 0
    assert client.get("/status/no-such-product/").status_code == 404
    shown = client.get("/status/orbit-payments/")
    assert shown.status_code == 200 and b"Scheduled Maintenance" in shown.content
